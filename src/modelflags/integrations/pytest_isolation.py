"""The global OpenFeature API saved before a test and put back after it.

The ``openfeature_isolated`` fixture of :mod:`modelflags.integrations.pytest_plugin` gives
each test a clean API: no provider, hooks, handlers, evaluation context or transaction context
propagator. The SDK keeps most of that state in module globals without accessors, so saving
and restoring it reads the SDK's internals, all of them here in one place: when a new SDK moves
them, this is the one module to change. Imported only when the fixture is used (it imports
openfeature), so the plugin module itself stays cheap for every pytest run.
"""

from __future__ import annotations

__all__ = ["SavedApi"]


class SavedApi:
    """The global OpenFeature API as it was before a test; the SDK keeps most of it in
    module globals without accessors, read here in one place (openfeature-sdk 0.10)."""

    def __init__(self) -> None:
        from openfeature import _event_support, api
        from openfeature import transaction_context as transaction
        from openfeature.provider import ProviderStatus
        from openfeature.provider._registry import provider_registry as registry
        from openfeature.provider.no_op_provider import NoOpProvider
        from openfeature.transaction_context import ContextVarsTransactionContextPropagator

        self._registry = registry
        with registry._lock:
            self.default = registry._default_provider
            self.providers = dict(registry._providers)
            self.status = dict(registry._provider_status)
            fresh = NoOpProvider()
            registry._default_provider = fresh
            registry._providers = {}
            registry._provider_status = {fresh: ProviderStatus.READY}
        with _event_support._global_lock:
            self.handlers = {event: list(h) for event, h in _event_support._global_handlers.items()}
            _event_support._global_handlers.clear()
        with _event_support._client_lock:
            self.client_handlers = dict(_event_support._client_handlers)
            _event_support._client_handlers.clear()
        self.hooks = list(api.get_hooks())
        api.clear_hooks()
        self.context = api.get_evaluation_context()
        api.set_evaluation_context(type(self.context)())
        self.propagator = transaction._evaluation_transaction_context_propagator
        transaction.clear_transaction_context_propagator()
        self._var = ContextVarsTransactionContextPropagator._transaction_context_var
        self._value = self._var.get()
        self._token = self._var.set(None)

    def restore(self) -> None:
        """Shut down the providers the test set, then put back everything saved."""
        from openfeature import _event_support, api
        from openfeature import transaction_context as transaction

        registry = self._registry
        saved = {id(p) for p in (self.default, *self.providers.values())}
        with registry._lock:
            current = [registry._default_provider, *registry._providers.values()]
        for provider in {id(p): p for p in current if id(p) not in saved}.values():
            registry._shutdown_provider(provider)  # the test's: shut down, synchronously
        with registry._lock:
            registry._default_provider = self.default
            registry._providers = self.providers
            registry._provider_status = self.status
        with _event_support._global_lock:
            _event_support._global_handlers.clear()
            _event_support._global_handlers.update(self.handlers)
        with _event_support._client_lock:
            _event_support._client_handlers.clear()
            _event_support._client_handlers.update(self.client_handlers)
        api.clear_hooks()
        api.add_hooks(self.hooks)
        api.set_evaluation_context(self.context)
        transaction.set_transaction_context_propagator(self.propagator)
        try:
            self._var.reset(self._token)
        except ValueError:  # the test ran in another context (an async plugin's loop)
            self._var.set(self._value)
