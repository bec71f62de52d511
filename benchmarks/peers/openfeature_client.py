"""The pieces every row measured through the real OpenFeature client shares.

The floors, modelflags and flagd rows all time ``client.get_object_details(key, default,
EvaluationContext)``; this module builds the contexts (``targeting_key`` = the conversation
id, attributes ``accountId``, ``locale``, ``userId``), binds a provider to a client of its own
domain, and names the variation a call returned (from the value, cross-checked against the
variant name the provider reports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from reference import CONTROL, FLAG_KEY, variation_of_value

__all__ = ["client_for", "evaluation_contexts", "object_details_case_parts"]


def evaluation_contexts(plain: list[dict[str, str]]) -> list[EvaluationContext]:
    """The plain contexts as OpenFeature ``EvaluationContext`` objects, built before timing."""
    return [
        EvaluationContext(
            targeting_key=c["targetingKey"],
            attributes={"accountId": c["accountId"], "locale": c["locale"], "userId": c["userId"]},
        )
        for c in plain
    ]


def client_for(domain: str, provider: Any) -> Any:
    """A client bound to ``provider`` under its own domain, once the provider is ready."""
    api.set_provider_and_wait(provider, domain=domain)
    return api.get_client(domain=domain)


def object_details_case_parts(
    client: Any,
) -> tuple[Callable[[EvaluationContext], Any], Callable[[EvaluationContext], str | None]]:
    """(the timed call, the variant check) for ``client.get_object_details`` on the flag."""
    get = client.get_object_details
    key, default = FLAG_KEY, CONTROL

    def evaluate(context: EvaluationContext) -> Any:
        return get(key, default, context)

    def variant_of(context: EvaluationContext) -> str | None:
        details = get(key, default, context)
        if details.error_code is not None:
            return f"error {details.error_code}: {details.error_message}"
        name = variation_of_value(details.value)
        if details.variant in (None, name):
            return name
        return f"variant {details.variant!r} but value of {name!r}"

    return evaluate, variant_of
