"""Optional integrations: each module needs its own extra and imports it only when used.

- :mod:`modelflags.integrations.openai`: route, call, price and record an OpenAI-compatible
  chat completion in one call (``modelflags[openai]``).
- :mod:`modelflags.integrations.otel`: OpenTelemetry span events for flag evaluations
  (``modelflags[otel]``).
- :mod:`modelflags.integrations.assignments`: an opt-in assignment logger (an OpenFeature
  hook) for code whose model calls cannot be wrapped.
- :mod:`modelflags.integrations.starlette` and :mod:`modelflags.integrations.django`: put the
  request's unit into OpenFeature's transaction context.
- :mod:`modelflags.integrations.pytest_plugin`: fixtures for tests of code that uses flags.
"""
