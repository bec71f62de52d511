"""Values in a flag file that look like secrets or API keys (warning ``possible-secret``).

Flag files are read by every service that evaluates flags, copied to laptops and kept in git
history for good: a key written into one is leaked. Two detectors look at every string of the
raw YAML (variations, metadata, conditions, descriptions; mapping keys for known formats only),
tuned to stay quiet on the identifiers flag files are full of (``support_model_a``,
``support-route-2026-11``):

1. **Known key formats**, by provider prefix, alphabet and length (``sk-…``, ``AKIA…``,
   ``ghp_…``, ``xoxb-…``, ``AIza…``, ``hf_…``...), found anywhere inside a string. Prefixes
   that also start ordinary words (``sk-``, ``hf_``) must be followed by a body that mixes
   upper case, lower case (and digits), as generated keys do.
2. **Random-looking strings under a secret-sounding name** (``api_key``, ``token``,
   ``password``, ``Authorization``...): 20 or more characters of a base64 or hex alphabet,
   letters and digits mixed, with a Shannon entropy close to that of random text. The
   schema's own identifier fields (``assignment.key``, ``experiment.key``) are names, not
   secrets, and are left out.

A finding never repeats the secret: messages show its first four characters only.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modelflags.errors import Issue, Path
from modelflags.loader.yaml_document import Document

__all__ = [
    "CODE",
    "FORMATS",
    "MIN_LENGTH",
    "SecretMatch",
    "find_secret",
    "is_secret_name",
    "looks_random",
    "secret_issues",
    "shannon_entropy",
]

CODE = "possible-secret"

MIN_LENGTH = 20
"""Shortest string the entropy detector considers."""

_HINT = (
    "keep secrets out of flag files (every service and every clone of the repository reads "
    "them): revoke it and read it from the environment or a secret manager; if it is not a "
    f"secret, end the line with '# modelflags: ignore[{CODE}]'"
)


@dataclass(frozen=True)
class SecretMatch:
    """What a string looks like (``"an OpenAI API key"``) and the matched text (not for display)."""

    kind: str
    text: str

    @property
    def masked(self) -> str:
        """The first four characters and an ellipsis: enough to find it, too little to use it."""
        return self.text[:4] + "…"


@dataclass(frozen=True)
class _Format:
    kind: str
    regex: re.Pattern[str]
    body_ok: Callable[[str], bool]


def _any_body(body: str) -> bool:
    return True


def _cased(body: str) -> bool:
    return any(c.isupper() for c in body) and any(c.islower() for c in body)


def _mixed(body: str) -> bool:
    return _cased(body) and any(c.isdigit() for c in body)


def _format(
    kind: str,
    prefix: str,
    body: str,
    check: Callable[[str], bool] = _any_body,
    *,
    bounded: bool = True,
) -> _Format:
    """A key format: ``prefix`` then ``body`` (group 1), not inside a longer identifier."""
    core = f"{prefix}({body})"
    if bounded:
        core = rf"(?<![A-Za-z0-9_-]){core}(?![A-Za-z0-9_-])"
    return _Format(kind, re.compile(core), check)


# Formats from the providers' documentation and the rules of gitleaks and GitHub secret
# scanning; lengths are lower bounds where providers have lengthened keys over time. Every
# pattern starts at a fixed prefix or a bounded run after a token boundary, so scanning a
# long string stays linear (an unbounded URL scheme made a 200 kB string take 30 s).
FORMATS: tuple[_Format, ...] = (
    _format("an Anthropic API key", r"sk-ant-[a-z]+[0-9]*-", r"[A-Za-z0-9_-]{32,}", _mixed),
    _format("an OpenAI API key", r"sk-(?:proj-|svcacct-|admin-)?", r"[A-Za-z0-9_-]{20,}", _mixed),
    _format("a Stripe secret key", r"[sr]k_(?:live|test)_", r"[A-Za-z0-9]{16,}", _mixed),
    _format(
        "an AWS access key ID",
        r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)",
        r"[A-Z2-7]{16}",
    ),
    _format("a GitHub token", r"gh[pousr]_", r"[A-Za-z0-9]{36,255}"),
    _format("a GitHub token", r"github_pat_", r"[A-Za-z0-9_]{50,}"),
    _format("a GitLab token", r"glpat-", r"[A-Za-z0-9_-]{20,}"),
    _format("a Slack token", r"xox[abposr]-", r"[0-9]{8,}-[A-Za-z0-9-]{8,}"),
    _format(
        "a Slack webhook URL",
        r"https://hooks\.slack\.com/(?:services|workflows)/",
        r"[A-Za-z0-9_/-]{20,}",
    ),
    _format("a Google API key", r"AIza", r"[A-Za-z0-9_-]{35}"),
    _format("a Google OAuth token", r"ya29\.", r"[A-Za-z0-9_-]{30,}"),
    _format("a Hugging Face token", r"hf_", r"[A-Za-z0-9]{30,}", _cased),
    _format("a Groq API key", r"gsk_", r"[A-Za-z0-9]{48,}"),
    _format("a Replicate API token", r"r8_", r"[A-Za-z0-9]{37}", _mixed),
    _format("an xAI API key", r"xai-", r"[A-Za-z0-9]{70,}"),
    _format("a Perplexity API key", r"pplx-", r"[A-Za-z0-9]{40,}"),
    _format("an npm token", r"npm_", r"[A-Za-z0-9]{36}"),
    _format(
        "a JSON Web Token", r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.", r"[A-Za-z0-9_-]{10,}"
    ),
    _format("a private key", r"-----BEGIN[A-Z ]{0,40} PRIVATE KEY", r"-----", bounded=False),
    _format(
        "a password in a URL",
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s/:@]{1,256}:",
        r"[^\s/:@${}<>*]{1,256}(?=@)",
        bounded=False,
    ),
)

_ANY_FORMAT = re.compile("|".join(f"(?:{f.regex.pattern})" for f in FORMATS))
"""One pass over a string first: almost no string matches, and then nothing else runs."""

_SECRET_WORDS = frozenset(
    {"key", "keys", "token", "tokens", "secret", "secrets", "password", "passwords", "passwd"}
    | {"pwd", "passphrase", "apikey", "credential", "credentials", "auth", "authorization"}
    | {"bearer", "private", "privatekey"}
)
_SECRET_PARTS = ("token", "secret", "password", "passwd", "apikey", "credential", "privatekey")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SCHEME = re.compile(r"^(?:bearer|basic|token)\s+", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]+")
_HEX = re.compile(r"[0-9a-fA-F]+")
_IDENTIFIER_FIELDS = (("assignment", "key"), ("experiment", "key"))


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character distribution (0 for a repeated char).

    >>> round(shannon_entropy("aabb"), 2)
    1.0
    """
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


@functools.lru_cache(maxsize=4096)  # a file repeats its attribute names many times
def is_secret_name(name: str) -> bool:
    """Whether an attribute name says its value is a credential: ``api_key``, ``authToken``...

    >>> is_secret_name("OPENAI_API_KEY"), is_secret_name("clientSecret"), is_secret_name("monkey")
    (True, True, False)
    """
    words = {word.lower() for word in _WORDS.findall(name)}
    if words & _SECRET_WORDS:
        return True
    flat = re.sub(r"[^a-z]", "", name.lower())
    return any(part in flat for part in _SECRET_PARTS)


def looks_random(text: str) -> bool:
    """Whether ``text`` reads as a generated credential rather than a name.

    At least :data:`MIN_LENGTH` characters of a base64/hex alphabet with letters and digits,
    and an entropy near random text's: hex (32+ digits, dashes ignored, so UUIDs count) at 3.0
    bits a character, anything else at ``min(4.0, log2(length) - 0.6)``. About 96% of random
    20-character base62 strings and all 32-character ones reach it; readable identifiers stay
    below (``support_answer_model_route_v2``: 3.8 bits at 29 characters, threshold 4.0;
    ``acct_1234567890123456``: 3.7 bits at 21 characters, threshold 3.8).
    """
    if len(text) < MIN_LENGTH or not _TOKEN.fullmatch(text):
        return False
    if not any(c.isdigit() for c in text) or not any(c.isalpha() for c in text):
        return False
    bare = text.replace("-", "")
    if len(bare) >= 32 and _HEX.fullmatch(bare):
        return shannon_entropy(bare) >= 3.0
    return shannon_entropy(text) >= min(4.0, math.log2(len(text)) - 0.6)


def find_secret(value: str, name: str | None = None) -> SecretMatch | None:
    """What ``value`` (held under the attribute ``name``, if any) looks like, or ``None``.

    >>> find_secret("support_model_a", "modelRoute") is None
    True
    >>> find_secret("Bearer sk-" + "Ab3" * 16).kind
    'an OpenAI API key'
    """
    if _ANY_FORMAT.search(value):
        for known in FORMATS:
            for match in known.regex.finditer(value):
                if known.body_ok(match.group(1)):
                    return SecretMatch(known.kind, match.group(0))
    if name is not None and is_secret_name(name):
        bare = _SCHEME.sub("", value.strip())
        if looks_random(bare):
            return SecretMatch(f"a secret (a random-looking value of '{name}')", bare)
    return None


def secret_issues(document: Document) -> list[Issue]:
    """A ``possible-secret`` warning for every string of ``document`` that looks like one.

    Each is placed at the value (or, for a key that looks like a secret, at the key).
    """
    issues: list[Issue] = []
    for path, text, name, at_key in _strings(document.data, (), None):
        found = find_secret(text, None if at_key else name)
        if found is None:
            continue
        marks = document.keys if at_key else document.values
        line, col = marks.get(path, (1, 1))
        message = f"value looks like {found.kind}: '{found.masked}' ({len(found.text)} characters)"
        issue = Issue(CODE, message, _HINT, path, severity="warning")
        issues.append(issue.at(document.file, line, col))
    return issues


def _strings(
    data: Any, path: Path, name: str | None
) -> Iterator[tuple[Path, str, str | None, bool]]:
    """(path, text, nearest attribute name, whether the text is a mapping key) for each string.

    The nearest name skips operators (``{apiKey: {$in: [...]}}``: the items are under
    ``apiKey``) and is dropped for the schema's identifier fields.
    """
    if isinstance(data, str):
        yield path, data, name, False
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _strings(item, (*path, i), name)
    elif isinstance(data, dict):
        for key, value in data.items():
            child = (*path, key)
            if isinstance(key, str):
                yield child, key, None, True
            yield from _strings(value, child, _name_below(child, key, name))


def _name_below(path: Path, key: object, name: str | None) -> str | None:
    if not isinstance(key, str) or key.startswith("$"):
        return name
    if len(path) == 4 and path[0] == "flags" and tuple(path[2:]) in _IDENTIFIER_FIELDS:
        return None
    return key
