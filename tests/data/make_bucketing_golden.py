"""Regenerate ``bucketing_golden.json``, the cross-language assignment vectors.

Run from the project root::

    python tests/data/make_bucketing_golden.py

The vectors are computed independently of ``modelflags`` and of the ``mmh3`` package: the hash
is the pure-Python MurmurHash3 x86_32 below, written from the reference C (Austin Appleby's
``MurmurHash3.cpp``, public domain), and the split is a plain "score every arm, keep the first
minimum" loop. The cases come from a seeded ``random.Random``, so the output is reproducible
byte for byte; ``tests/engine/test_bucketing.py`` checks that the committed file is exactly what
this script writes.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("bucketing_golden.json")
SEED = 20261101

_MASK = 0xFFFFFFFF


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 of ``data``, as an unsigned 32-bit integer."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _MASK
    n_blocks = len(data) // 4
    for i in range(n_blocks):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (k * c1) & _MASK
        k = _rotl32(k, 15)
        k = (k * c2) & _MASK
        h ^= k
        h = _rotl32(h, 13)
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[4 * n_blocks :]
    k = 0
    if len(tail) == 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & _MASK
        k = _rotl32(k, 15)
        k = (k * c2) & _MASK
        h ^= k
    h ^= len(data)
    return _fmix32(h)


# Published MurmurHash3_x86_32 values (seed 0 unless given), checked before anything is written.
_KNOWN = [
    (b"", 0, 0),
    (b"", 1, 0x514E28B7),
    (b"", 0xFFFFFFFF, 0x81F16F39),
    (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
    (b"aaaa", 0x9747B28C, 0x5A97808A),
    (b"abc", 0, 0xB3DD93FA),
    (b"Hello, world!", 0x9747B28C, 0x24884CBA),
    (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
]


def key(salt: str, tag: str, unit_id: str) -> bytes:
    return f"{salt}/{tag}/{unit_id}".encode()


def u_of(hash32: int) -> float:
    return (hash32 + 0.5) / 2**32


def case(unit_id: str, salt: str, weights: dict[str, Any], coverage: float) -> dict[str, Any]:
    tags = ["coverage", *weights]
    hashes = {tag: murmur3_x86_32(key(salt, tag, unit_id)) for tag in tags}
    us = {tag: u_of(h) for tag, h in hashes.items()}
    best, best_score = None, math.inf
    for name, weight in weights.items():
        if weight <= 0:
            continue
        score = -math.log(us[name]) / weight
        if best is None or score < best_score:
            best, best_score = name, score
    return {
        "unitId": unit_id,
        "salt": salt,
        "weights": weights,
        "coverage": coverage,
        "expectedHash": hashes,
        "expectedU": us,
        "inCoverage": us["coverage"] < coverage / 100,
        "variation": best,
    }


def cases(rng: random.Random) -> list[dict[str, Any]]:
    two = {"control": 90, "candidate": 10}
    three = {"control": 80, "candidate": 10, "fallback": 10}
    out: list[dict[str, Any]] = []

    # Hand-picked edge cases.
    unit_ids = [
        "a",
        "0",
        "42",
        "-7",
        "18446744073709551616",
        " ",
        "/",
        "a/b",
        "user-1",
        "User-1",
        "é",  # U+00E9, NFC
        "e\u0301",  # the same text in NFD: a different unit id
        "日本語ユーザー",
        "😀",
        "user\u00a0with\u00a0nbsp",
        "tab\tnewline\n",
        "x" * 257,
        "conv-" + "0123456789abcdef" * 16,
    ]
    for unit_id in unit_ids:
        for coverage in (0, 33.3, 100):
            out.append(case(unit_id, "support_answer_model_route", two, coverage))
    for unit_id in unit_ids[:6]:
        out.append(case(unit_id, "ünïcode-salt", three, 50))
        out.append(case(unit_id, "s", {"only": 1}, 100))
        out.append(case(unit_id, "zero-weights", {"off": 0, "on": 1, "also_off": 0}, 100))
        out.append(case(unit_id, "float-weights", {"a": 0.5, "b": 1.5, "c": 2.25}, 99.9))
        out.append(case(unit_id, "equal", {"a": 1, "b": 1, "c": 1, "d": 1}, 5))

    # Many arms, including zero weights.
    many = {f"arm_{i:02d}": (0 if i % 7 == 3 else rng.randint(1, 100)) for i in range(24)}
    for i in range(20):
        out.append(case(f"unit-{i}", "many-arms", many, rng.choice([0, 33.3, 100, 12.5])))

    # Random cases.
    alphabet = "abcxyz0189-_.:/@ ÄéßЖж中文😀"
    for i in range(120):
        length = rng.choice([1, 2, 8, 16, 36, 64, 200])
        unit_id = "".join(rng.choice(alphabet) for _ in range(length))
        salt = rng.choice(["exp-1", "support_answer_model_route", "checkout/button", "ß", f"s{i}"])
        n_arms = rng.randint(1, 6)
        weights = {f"v{j}": rng.choice([0, 1, 5, 10, 50, 90, 100]) for j in range(n_arms)}
        if not any(weights.values()):
            weights["v0"] = 1
        coverage = rng.choice([0, 1, 10, 33.3, 50, 66.7, 99.9, 100])
        out.append(case(unit_id, salt, weights, coverage))
    return out


def build() -> dict[str, Any]:
    for data, seed, expected in _KNOWN:
        got = murmur3_x86_32(data, seed)
        assert got == expected, (data, seed, hex(got), hex(expected))
    vectors = cases(random.Random(SEED))
    return {
        "about": (
            "Golden vectors for modelflags assignment (docs/assignment.md). Computed by "
            "tests/data/make_bucketing_golden.py with a pure-Python MurmurHash3_x86_32 "
            "(seed 0, unsigned) on the UTF-8 bytes of f'{salt}/{tag}/{unitId}', independent of "
            "the mmh3 package and of modelflags; u = (hash + 0.5) / 2**32; inCoverage = "
            "u['coverage'] < coverage / 100; variation = the positive-weight variation with the "
            "lowest -ln(u[v]) / weight, first declared on a tie. 'variation' is the split's "
            "choice whether or not the unit is inCoverage (the engine serves the flag's "
            "default to units outside coverage). Floats are IEEE-754 doubles printed in "
            "shortest round-trip form; expectedHash is the raw unsigned 32-bit hash per tag."
        ),
        "hash": "MurmurHash3_x86_32",
        "seed": 0,
        "generator": "tests/data/make_bucketing_golden.py",
        "vectors": vectors,
    }


def render() -> str:
    """The file's text: header fields, then one vector per line so diffs stay readable."""
    data = build()
    vectors = data.pop("vectors")
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in data.items()]
    body = ",\n".join(f"    {json.dumps(v, ensure_ascii=False)}" for v in vectors)
    return "{\n" + "\n".join(lines) + '\n  "vectors": [\n' + body + "\n  ]\n}\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
