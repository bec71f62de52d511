"""The ``possible-secret`` warning: known key formats, random values under secret-sounding
names, no alarms on the identifiers flag files are full of, and never the secret in a message.

Fake keys are assembled at run time, so no string in this repository looks like a live key
to a secret scanner.
"""

from __future__ import annotations

import random
import string

import pytest

from modelflags.loader import InlineSource, load
from modelflags.review.validate.lint import lint
from modelflags.review.validate.secrets import (
    find_secret,
    is_secret_name,
    looks_random,
    shannon_entropy,
)


def fake(alphabet: str, length: int, seed: int = 7) -> str:
    """A deterministic string that uses ``alphabet`` evenly, like a generated key."""
    step = 7 + seed % 5 if len(alphabet) % 7 else 11
    return "".join(alphabet[(i * step + seed) % len(alphabet)] for i in range(length))


B62 = string.ascii_letters + string.digits
URLSAFE = B62 + "-_"
UPPER32 = string.ascii_uppercase + "234567"

KEYS = [
    ("an OpenAI API key", "sk-" + fake(B62, 48)),
    ("an OpenAI API key", "sk-proj-" + fake(URLSAFE, 120)),
    ("an Anthropic API key", "sk-ant-api03-" + fake(URLSAFE, 93) + "AA"),
    ("a Stripe secret key", "sk_" + "live_" + fake(B62, 24)),
    ("an AWS access key ID", "AKIA" + fake(UPPER32, 16)),
    ("an AWS access key ID", "ASIA" + fake(UPPER32, 16, seed=3)),
    ("a GitHub token", "ghp_" + fake(B62, 36)),
    ("a GitHub token", "ghs_" + fake(B62, 36, seed=2)),
    ("a GitHub token", "github_pat_" + fake(B62 + "_", 82)),
    ("a GitLab token", "glpat-" + fake(URLSAFE, 20)),
    ("a Slack token", "xoxb-" + "1234567890" + "12-" + "1234567890123-" + fake(B62, 24)),
    ("a Slack webhook URL", "https://hooks.slack.com/services/T0000/B0000/" + fake(B62, 24)),
    ("a Google API key", "AIza" + fake(URLSAFE, 35)),
    ("a Google OAuth token", "ya29." + fake(URLSAFE, 60)),
    ("a Hugging Face token", "hf_" + fake(string.ascii_letters, 34)),
    ("a Groq API key", "gsk_" + fake(B62, 52)),
    ("a Replicate API token", "r8_" + fake(B62, 37)),
    ("an xAI API key", "xai-" + fake(B62, 80)),
    ("a Perplexity API key", "pplx-" + fake(B62, 48)),
    ("an npm token", "npm_" + fake(B62, 36)),
    ("a JSON Web Token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0." + fake(URLSAFE, 43)),
    ("a private key", "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"),
    ("a private key", "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n"),
    ("a password in a URL", "postgres://router:" + "hunter2" + "@db.internal:5432/flags"),
]


@pytest.mark.parametrize(("kind", "key"), KEYS, ids=[f"{k}-{v[:5]}" for k, v in KEYS])
def test_known_key_formats_are_found(kind: str, key: str) -> None:
    found = find_secret(key)
    assert found is not None
    assert found.kind == kind


@pytest.mark.parametrize(("kind", "key"), KEYS[:3], ids=["openai", "openai-project", "anthropic"])
def test_a_key_inside_a_longer_value_is_found(kind: str, key: str) -> None:
    found = find_secret(f"Authorization: Bearer {key} (rotated monthly)")
    assert found is not None
    assert (found.kind, found.text) == (kind, key)


NOT_SECRETS = [
    "support_model_a",
    "support-route-2026-11",
    "support_answer_model_route",
    "summarizer_large_v1",
    "resolvedWithoutEscalation",
    "claude-3-5-sonnet-20241022",
    "gpt-4o-mini-2024-07-18",
    "meta-llama/Llama-3.1-70B-Instruct",
    "text-embedding-3-large",
    "2026-11-01T00:00:00Z",
    "acct_1234567890123456",
    "https://api.openai.com/v1/chat/completions",
    "https://user:${DB_PASSWORD}@db.example.com/flags",
    "OPENAI_API_KEY",
    "sk-learn-model-route-2026",  # sk- with an all-lowercase body: a name
]
NEAR_MISSES = [
    "sk-" + "a" * 40,  # no mix of cases and digits
    "task-" + fake(B62, 40),  # 'sk-' inside a word
    "my_hf_" + fake(string.ascii_letters, 34),  # 'hf_' inside an identifier
    "AKIA" + "abcdefghijklmnop",  # lower case is not an AWS key id
    "AKIA" + fake(UPPER32, 16) + "X",  # too long for one
    "ghp_" + fake(B62, 20),  # too short for a GitHub token
    "AIza" + fake(B62, 20),  # too short for a Google key
    "xoxb-notatoken",
    "eyJhbGciOiJIUzI1NiJ9",  # a JWT header alone
]


@pytest.mark.parametrize("value", NOT_SECRETS)
def test_ordinary_values_are_not_secrets_even_under_a_secret_name(value: str) -> None:
    assert find_secret(value) is None
    assert find_secret(value, "api_key") is None


@pytest.mark.parametrize("value", NEAR_MISSES)
def test_near_misses_of_key_formats_are_not_keys(value: str) -> None:
    assert find_secret(value) is None


SECRET_NAMES = ["api_key", "apiKey", "OPENAI_API_KEY", "token", "accessToken", "client_secret"]
SECRET_NAMES += ["password", "db-passwd", "credentials", "Authorization", "bearer", "private_key"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_sounding_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["modelRoute", "monkey", "author", "keyboard", "description"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


RANDOM_VALUES = [
    fake(B62, 32),
    fake(URLSAFE, 40),
    fake("0123456789abcdef", 40),  # hex: a SHA-1 sized token
    "0e2b6bfd-8c57-45c9-b649-34b2e594ad71",  # a UUID used as a token
    "Bearer " + fake(B62, 32),
]


@pytest.mark.parametrize("value", RANDOM_VALUES)
def test_random_values_under_a_secret_name_are_secrets(value: str) -> None:
    found = find_secret(value, "api_key")
    assert found is not None
    assert found.kind == "a secret (a random-looking value of 'api_key')"
    assert find_secret(value, "modelRoute") is None


def test_random_tokens_with_digits_look_random_from_twenty_characters_on() -> None:
    rng = random.Random(1)
    tokens = ["".join(rng.choice(B62) for _ in range(n)) for n in (20, 32) for _ in range(2000)]
    with_digits = [token for token in tokens if any(c.isdigit() for c in token)]
    short = [token for token in with_digits if len(token) == 20]
    long = [token for token in with_digits if len(token) == 32]
    assert sum(map(looks_random, short)) >= 0.93 * len(short)
    assert all(map(looks_random, long))


@pytest.mark.parametrize(
    "value",
    [
        "oauth2_client_credentials_flow",
        "support_answer_model_route_v2",
        "x-api-key-header-name-v1",
        "hunter2",  # short: a weak password is out of reach of an entropy test
        "a" * 19 + "1",
        fake(B62, 19),
        "abcdefghijklmnopqrstuvwxyz",  # no digits
    ],
)
def test_names_and_short_values_do_not_look_random(value: str) -> None:
    assert not looks_random(value)


def test_entropy_is_bits_per_character() -> None:
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2


FILE = """\
version: 1
segments:
  vip: {apiKey: {$in: [SECRET_A]}}
flags:
  route:
    description: "calls the gateway with SECRET_B"
    owner: ai_platform
    default: control
    variations:
      control: {modelRoute: support_model_a, headers: {Authorization: "Bearer SECRET_C"}}
      candidate: {modelRoute: support_model_b}
    assignment: {key: conversationId, salt: SECRET_D}
    eligible: vip
    split: {control: 1, candidate: 1}
    experiment: {key: SECRET_D, control: control}
    metadata: {ticket: AI-123, token: SECRET_E}
"""


def test_every_string_of_the_document_is_scanned_and_each_finding_is_placed() -> None:
    values = {
        "SECRET_A": "sk-" + fake(B62, 48),
        "SECRET_B": "AKIA" + fake(UPPER32, 16),
        "SECRET_C": fake(B62, 40, seed=1),
        "SECRET_D": fake(B62, 32, seed=2),  # under salt and experiment.key: identifiers
        "SECRET_E": fake(URLSAFE, 36, seed=3),
    }
    text = FILE
    for marker, value in values.items():
        text = text.replace(marker, value)
    issues = lint(load(InlineSource(text, name="f.yaml")), now=0)
    assert [(i.code, i.line, i.col) for i in issues] == [
        ("possible-secret", 3, 24),
        ("possible-secret", 6, 18),
        ("possible-secret", 10, 71),
        ("possible-secret", 16, 39),
    ]
    assert issues[0].message == "value looks like an OpenAI API key: 'sk-h…' (51 characters)"
    assert issues[2].message == (
        "value looks like a secret (a random-looking value of 'Authorization'): 'bjrz…' "
        "(40 characters)"
    )
    assert "secret manager" in issues[0].hint
    assert "# modelflags: ignore[possible-secret]" in issues[0].hint


def test_a_message_never_contains_the_secret() -> None:
    key = "ghp_" + fake(B62, 36)
    text = f"version: 1\nflags:\n  f:\n    owner: o\n    default: a\n    variations: {{a: {key}}}\n"
    (issue,) = lint(load(InlineSource(text)), now=0)
    assert key[4:] not in str(issue)
    assert "'ghp_…' (40 characters)" in issue.message


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "value",
    [
        "a" * 200_000,
        "sk-" * 70_000,
        "ab://" * 40_000,
        "https://u:p" * 20_000,
        "-----BEGIN " * 20_000,
        "gsk_" + "a" * 200_000 + "-",
    ],
    ids=["letters", "sk-repeated", "schemes", "url-users", "begin-repeated", "long-body"],
)
@pytest.mark.timeout(10)
def test_scanning_a_long_string_stays_linear(value: str) -> None:
    """Hostile files are bounded (docs/security.md): no pattern backtracks quadratically.
    An unbounded URL scheme once took 30 s on 200,000 letters; a linear scan takes
    milliseconds, so the generous timeout only trips on a quadratic pattern."""
    assert find_secret(value, "api_key") is None
