"""The Django middleware through django.test's real clients: WSGI (sync) and ASGI (async)
requests carry their unit into flag evaluations, the path parameter is read after URL
resolution, and nothing outlives the request. Settings are configured here (no
pytest-django); this module is also the URLconf."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.transaction_context import ContextVarsTransactionContextPropagator
from web_cases import FLAGS

from modelflags.integrations.web import MAX_VALUE, UnitFrom, UnitReader
from modelflags.testing import provider_from_yaml

ROOT = Path(__file__).resolve().parents[2]
MIDDLEWARE = ["modelflags.integrations.django.ModelFlagsMiddleware"]
UNIT = {
    "path_param": "conversation_id",
    "header": "X-Conversation-Id",
    "cookie": "conversation",
    "attribute": "conversationId",
    "headers": {"plan": "X-Plan"},
}


def seen() -> dict[str, Any]:
    context = api.get_transaction_context()
    details = api.get_client().get_object_details("answer_route", {})
    return {
        "attributes": dict(context.attributes),
        "unitId": details.flag_metadata.get("unitId"),
        "errorCode": details.error_code,
    }


def leaky(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    api.set_transaction_context(EvaluationContext("set-by-the-view"))  # must not leak
    return JsonResponse(seen())


def show(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    return JsonResponse(seen())


async def show_async(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    return JsonResponse(seen())


urlpatterns = [
    path("answer", show),
    path("leaky", leaky),
    path("conversations/<str:conversation_id>", show),
    path("numbered/<int:conversation_id>", show),
    path("async/answer", show_async),
    path("async/conversations/<str:conversation_id>", show_async),
]


@pytest.fixture(scope="module", autouse=True)
def _django() -> None:
    if not settings.configured:
        settings.configure(
            SECRET_KEY="tests-only",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            USE_TZ=True,
        )
        django.setup()


@pytest.fixture(autouse=True)
def _flags(openfeature_isolated: None) -> Iterator[None]:  # the API restored after each test
    api.set_provider_and_wait(provider_from_yaml(FLAGS))
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE, MODELFLAGS={"UNIT": UNIT}):
        yield


def test_a_header_unit_keys_the_evaluations_of_a_wsgi_request() -> None:
    body = Client().get("/answer", headers={"X-Conversation-Id": "conv-7"}).json()
    assert body == {
        "attributes": {"conversationId": "conv-7"},
        "unitId": "conv-7",
        "errorCode": None,
    }


def test_a_cookie_gives_the_unit_when_no_header_does() -> None:
    client = Client()
    client.cookies["conversation"] = "conv-c"
    assert client.get("/answer").json()["unitId"] == "conv-c"


def test_a_path_parameter_read_in_process_view_wins_over_a_header() -> None:
    body = Client().get("/conversations/conv-p", headers={"X-Conversation-Id": "conv-h"}).json()
    assert body["unitId"] == "conv-p"


def test_an_integer_path_parameter_becomes_its_decimal_text() -> None:
    assert Client().get("/numbered/42").json()["attributes"] == {"conversationId": "42"}


def test_extra_attributes_come_from_their_headers() -> None:
    headers = {"X-Conversation-Id": "c1", "X-Plan": "pro"}
    body = Client().get("/answer", headers=headers).json()
    assert body["attributes"] == {"conversationId": "c1", "plan": "pro"}


def test_an_over_long_header_is_left_out_and_counted() -> None:
    reader = UnitReader(UnitFrom(header="X-Conversation-Id", attribute="conversationId"))
    with override_settings(MODELFLAGS={"UNIT": reader}):
        response = Client().get("/answer", headers={"X-Conversation-Id": "x" * (MAX_VALUE * 50)})
    assert response.status_code == 200
    assert response.json()["errorCode"] == "TARGETING_KEY_MISSING"
    assert reader.counters == {"rejected": 1}


def test_the_previous_transaction_context_is_restored_after_a_wsgi_request() -> None:
    api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
    outer = EvaluationContext(attributes={"region": "eu"})
    api.set_transaction_context(outer)
    Client().get("/leaky", headers={"X-Conversation-Id": "conv-1"})
    assert api.get_transaction_context() is outer


def test_an_async_view_under_asgi_sees_the_header_unit() -> None:
    async def request() -> Any:
        return await AsyncClient().get("/async/answer", headers={"X-Conversation-Id": "conv-a"})

    assert asyncio.run(request()).json()["unitId"] == "conv-a"


def test_an_async_view_under_asgi_sees_the_path_unit() -> None:
    async def request() -> Any:
        return await AsyncClient().get(
            "/async/conversations/conv-ap", headers={"X-Conversation-Id": "h"}
        )

    assert asyncio.run(request()).json()["unitId"] == "conv-ap"


def test_a_sync_view_under_asgi_sees_the_path_unit() -> None:
    async def request() -> Any:
        return await AsyncClient().get("/conversations/conv-sp")

    assert asyncio.run(request()).json()["unitId"] == "conv-sp"


def test_the_previous_transaction_context_is_restored_after_an_asgi_request() -> None:
    api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
    outer = EvaluationContext(attributes={"region": "eu"})

    async def request() -> EvaluationContext:
        api.set_transaction_context(outer)
        await AsyncClient().get("/async/conversations/conv-1")
        return api.get_transaction_context()

    assert asyncio.run(request()) is outer


def test_missing_settings_say_what_to_add() -> None:
    with (
        override_settings(MODELFLAGS=None),
        pytest.raises(ImproperlyConfigured, match='"UNIT" entry'),
    ):
        Client().get("/answer")


def test_an_unknown_unit_setting_is_named() -> None:
    with (
        override_settings(MODELFLAGS={"UNIT": {"heder": "X-Conversation-Id"}}),
        pytest.raises(ImproperlyConfigured, match=r"\['heder'\]"),
    ):
        Client().get("/answer")


def test_evidence_recorded_under_django_is_delivered_when_the_process_exits(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    program = textwrap.dedent(
        f"""
        import django
        from django.conf import settings
        from django.http import JsonResponse
        from django.urls import path
        from openfeature import api
        from modelflags import Evidence, JsonlTracker
        from modelflags.testing import provider_from_yaml

        evidence = Evidence(JsonlTracker({str(events)!r}))
        api.set_provider_and_wait(provider_from_yaml({FLAGS!r}, evidence=evidence))

        def view(request):
            details = api.get_client().get_object_details("answer_route", {{}})
            evidence.exposure(details, api.get_transaction_context()).record(latency_ms=3)
            return JsonResponse({{}})

        urlpatterns = [path("answer", view)]
        settings.configure(SECRET_KEY="x", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__,
                           MIDDLEWARE={MIDDLEWARE!r}, MODELFLAGS={{"UNIT": {UNIT!r}}})
        django.setup()
        from django.test import Client
        assert Client().get("/answer", headers={{"X-Conversation-Id": "conv-x"}}).status_code == 200
        # no flush, no close: the process ends here
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"unitId":"conv-x"' in events.read_text().replace(" ", "")
