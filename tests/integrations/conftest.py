"""Fixtures of the OpenAI router's tests, defined in ``openai_cases.py``: a fake
OpenAI-compatible server on 127.0.0.1, the real ``openai`` clients pointed at it, a flag file,
evidence kept in memory and router factories. A test module that defines a fixture of the same
name (``server``, ``evidence``, ...) uses its own."""

from openai_cases import (  # noqa: F401 -- fixtures, found by name
    async_client_fixture,
    client_fixture,
    evidence_fixture,
    flag_file_fixture,
    flags_fixture,
    make_async_router_fixture,
    make_router_fixture,
    memory_fixture,
    prices_fixture,
    recorded_fixture,
    server_fixture,
    spy_fixture,
    units_fixture,
)
