"""Statistical and structural properties of assignment (docs/assignment.md).

The statistical tests are deterministic: unit ids come from fixed sequences or seeded RNGs and
hypothesis runs derandomized, so a run that passes keeps passing. Each chi-square test rejects
at p = 0.001 by comparing the statistic with a hardcoded critical value.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from modelflags.engine import bucketing
from modelflags.engine.bucketing import Split, in_coverage, unit_interval

# Critical values of the chi-square distribution at p = 0.001, by degrees of freedom:
# scipy.stats.chi2.ppf(0.999, df) (scipy 1.x), recorded here so the tests need no scipy.
CHI2_CRITICAL_0_001 = {
    1: 10.827566170662733,  # scipy.stats.chi2.ppf(0.999, 1)
    2: 13.815510557964274,  # scipy.stats.chi2.ppf(0.999, 2)
    4: 18.46682695290317,  # scipy.stats.chi2.ppf(0.999, 4)
}

SEQUENTIAL_IDS = [f"user-{i}" for i in range(100_000)]
_rng = random.Random(20261101)
RANDOM_IDS = [str(uuid.UUID(int=_rng.getrandbits(128), version=4)) for _ in range(100_000)]

# The directory holding the modelflags package these tests imported, for a child process.
SRC = Path(bucketing.__file__).resolve().parents[2]

# Bounded, reproducible hypothesis runs: the whole file should stay well under 20 s.
FAST = settings(max_examples=200, deadline=None, derandomize=True)
# Each HEAVY example assigns 100k units, so a failure is reported as found, not shrunk.
HEAVY = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

salts = st.text(min_size=1, max_size=30)
unit_ids = st.text(min_size=1, max_size=40)
unit_id_lists = st.lists(unit_ids, min_size=1, max_size=30, unique=True)
weight_lists = st.lists(st.integers(min_value=0, max_value=100), min_size=2, max_size=6).filter(any)


def _names(n: int) -> list[str]:
    return [f"v{i}" for i in range(n)]


def _split(salt: str, weights: Sequence[int | float]) -> Split:
    return Split(salt, dict(zip(_names(len(weights)), weights, strict=True)))


def _goodness_of_fit(counts: Counter[str], weights: dict[str, int], n: int) -> float:
    total = sum(weights.values())
    return sum((counts[name] - n * w / total) ** 2 / (n * w / total) for name, w in weights.items())


def _contingency_chi2(pairs: Sequence[tuple[object, object]]) -> tuple[float, int]:
    """Pearson's chi-square statistic of the r x c table of ``pairs`` and its df."""
    table = Counter(pairs)
    rows = Counter(a for a, _ in pairs)
    cols = Counter(b for _, b in pairs)
    n = len(pairs)
    stat = sum(
        (table[(r, c)] - rows[r] * cols[c] / n) ** 2 / (rows[r] * cols[c] / n)
        for r in rows
        for c in cols
    )
    return stat, (len(rows) - 1) * (len(cols) - 1)


# -- (a) shares match weights -----------------------------------------------------------------


def test_shares_match_weights_for_sequential_unit_ids() -> None:
    weights = {"control": 50, "candidate": 30, "fallback": 20}
    split = Split("support_answer_model_route", weights)
    counts = Counter(split.choose(unit) for unit in SEQUENTIAL_IDS)
    assert _goodness_of_fit(counts, weights, len(SEQUENTIAL_IDS)) < CHI2_CRITICAL_0_001[2]


def test_shares_match_weights_for_random_unit_ids() -> None:
    weights = {"control": 90, "candidate": 5, "fallback": 5}
    split = Split("support_answer_model_route", weights)
    counts = Counter(split.choose(unit) for unit in RANDOM_IDS)
    assert _goodness_of_fit(counts, weights, len(RANDOM_IDS)) < CHI2_CRITICAL_0_001[2]


@HEAVY
@given(
    weights=st.tuples(*[st.integers(min_value=1, max_value=100)] * 3),
    salt=salts,
    sequential=st.booleans(),
)
def test_shares_match_any_three_weights(
    weights: tuple[int, int, int], salt: str, sequential: bool
) -> None:
    named = dict(zip(_names(3), weights, strict=True))
    split = Split(salt, named)
    units = SEQUENTIAL_IDS if sequential else RANDOM_IDS
    counts = Counter(split.choose(unit) for unit in units)
    assert _goodness_of_fit(counts, named, len(units)) < CHI2_CRITICAL_0_001[2]


def test_coverage_admits_its_share_of_units() -> None:
    inside = sum(in_coverage("ramp", unit, 25) for unit in SEQUENTIAL_IDS)
    counts = Counter({"in": inside, "out": len(SEQUENTIAL_IDS) - inside})
    stat = _goodness_of_fit(counts, {"in": 25, "out": 75}, len(SEQUENTIAL_IDS))
    assert stat < CHI2_CRITICAL_0_001[1]


# -- (b) monotone ramps -----------------------------------------------------------------------


@FAST
@given(
    salt=salts,
    weights=weight_lists,
    data=st.data(),
    increase=st.integers(min_value=1, max_value=1000),
    units=unit_id_lists,
)
def test_raising_one_weight_only_moves_units_into_it(
    salt: str, weights: list[int], data: st.DataObject, increase: int, units: list[str]
) -> None:
    arm = data.draw(st.integers(min_value=0, max_value=len(weights) - 1))
    raised = list(weights)
    raised[arm] += increase
    before, after = _split(salt, weights), _split(salt, raised)
    target = f"v{arm}"
    for unit in [*units, *SEQUENTIAL_IDS[:300]]:
        old, new = before.choose(unit), after.choose(unit)
        assert new in (old, target)


@FAST
@given(
    salt=salts,
    weights=weight_lists,
    data=st.data(),
    units=unit_id_lists,
)
def test_lowering_one_weight_only_moves_units_out_of_it(
    salt: str, weights: list[int], data: st.DataObject, units: list[str]
) -> None:
    arm = data.draw(st.sampled_from([i for i, w in enumerate(weights) if w > 0]))
    lowered = list(weights)
    lowered[arm] = data.draw(st.integers(min_value=0, max_value=weights[arm] - 1))
    if not any(lowered):
        lowered[(arm + 1) % len(lowered)] = 1  # keep the split valid; that arm is not `arm`
    before, after = _split(salt, weights), _split(salt, lowered)
    source = f"v{arm}"
    for unit in [*units, *SEQUENTIAL_IDS[:300]]:
        old, new = before.choose(unit), after.choose(unit)
        assert old in (new, source)  # stayed, or left `source`


@FAST
@given(
    salt=salts,
    weights=weight_lists,
    data=st.data(),
    factor=st.integers(min_value=2, max_value=10),
    units=unit_id_lists,
)
def test_scaling_up_all_other_weights_only_moves_units_out_of_the_one_left_alone(
    salt: str, weights: list[int], data: st.DataObject, factor: int, units: list[str]
) -> None:
    # Only weight ratios matter, so this is the same as lowering that one weight.
    arm = data.draw(st.integers(min_value=0, max_value=len(weights) - 1))
    scaled = [w if i == arm else w * factor for i, w in enumerate(weights)]
    before, after = _split(salt, weights), _split(salt, scaled)
    source = f"v{arm}"
    for unit in [*units, *SEQUENTIAL_IDS[:300]]:
        old, new = before.choose(unit), after.choose(unit)
        assert old in (new, source)  # stayed, or left `source`


@FAST
@given(
    salt=salts,
    before_weights=st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(any),
    after_weights=st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(any),
    units=unit_id_lists,
)
def test_with_two_arms_units_only_move_toward_the_arm_whose_share_rose(
    salt: str,
    before_weights: tuple[int, int],
    after_weights: tuple[int, int],
    units: list[str],
) -> None:
    before, after = _split(salt, before_weights), _split(salt, after_weights)
    share_before = Fraction(before_weights[0], sum(before_weights))
    share_after = Fraction(after_weights[0], sum(after_weights))
    moves = set()
    for unit in [*units, *SEQUENTIAL_IDS[:300]]:
        old, new = before.choose(unit), after.choose(unit)
        if old != new:
            moves.add((old, new))
    if share_after > share_before:
        assert moves <= {("v1", "v0")}
    elif share_after < share_before:
        assert moves <= {("v0", "v1")}
    else:
        assert not moves


@FAST
@given(
    salt=salts,
    low=st.floats(min_value=0, max_value=100),
    high=st.floats(min_value=0, max_value=100),
    units=unit_id_lists,
)
def test_raising_coverage_never_removes_a_unit(
    salt: str, low: float, high: float, units: list[str]
) -> None:
    low, high = sorted((low, high))
    for unit in [*units, *SEQUENTIAL_IDS[:300]]:
        if in_coverage(salt, unit, low):
            assert in_coverage(salt, unit, high)


def test_a_ten_to_fifty_percent_ramp_moves_only_control_units_to_candidate() -> None:
    # The worked example in docs/assignment.md, at scale.
    before = Split("checkout", {"control": 90, "candidate": 10})
    after = Split("checkout", {"control": 50, "candidate": 50})
    moves = Counter((before.choose(unit), after.choose(unit)) for unit in SEQUENTIAL_IDS[:20_000])
    assert set(moves) == {
        ("control", "control"),
        ("candidate", "candidate"),
        ("control", "candidate"),
    }


# -- (c) independence across salts ------------------------------------------------------------


def test_two_salts_assign_three_arm_splits_independently() -> None:
    weights = {"control": 1, "candidate": 1, "fallback": 1}
    first, second = Split("flag-a", weights), Split("flag-b", weights)
    units = SEQUENTIAL_IDS[:50_000]
    stat, df = _contingency_chi2([(first.choose(u), second.choose(u)) for u in units])
    assert df == 4
    assert stat < CHI2_CRITICAL_0_001[4]


def test_salts_one_character_apart_assign_independently() -> None:
    weights = {"control": 50, "candidate": 50}
    first, second = Split("exp-1", weights), Split("exp-2", weights)
    units = RANDOM_IDS[:50_000]
    stat, df = _contingency_chi2([(first.choose(u), second.choose(u)) for u in units])
    assert df == 1
    assert stat < CHI2_CRITICAL_0_001[1]


def test_coverage_and_split_of_one_salt_are_independent() -> None:
    split = Split("flag-a", {"control": 1, "candidate": 1, "fallback": 1})
    units = SEQUENTIAL_IDS[:50_000]
    pairs = [(in_coverage("flag-a", u, 50), split.choose(u)) for u in units]
    stat, df = _contingency_chi2(pairs)
    assert df == 2
    assert stat < CHI2_CRITICAL_0_001[2]


def test_coverage_of_two_salts_is_independent() -> None:
    units = RANDOM_IDS[:50_000]
    pairs = [(in_coverage("flag-a", u, 30), in_coverage("flag-b", u, 30)) for u in units]
    stat, df = _contingency_chi2(pairs)
    assert df == 1
    assert stat < CHI2_CRITICAL_0_001[1]


# -- (d) determinism --------------------------------------------------------------------------


@FAST
@given(salt=salts, weights=weight_lists, units=unit_id_lists)
def test_same_inputs_give_the_same_assignment(
    salt: str, weights: list[int], units: list[str]
) -> None:
    first, second = _split(salt, weights), _split(salt, weights)
    for unit in units:
        assert first.choose(unit) == second.choose(unit) == first.choose(unit)
        assert unit_interval(salt, "coverage", unit) == unit_interval(salt, "coverage", unit)


def test_assignment_does_not_depend_on_the_process_or_its_hash_seed() -> None:
    code = (
        "from modelflags.engine.bucketing import Split, in_coverage\n"
        "s = Split('flag', {'control': 3, 'candidate': 2, 'fallback': 1})\n"
        "print(' '.join(s.choose(f'u{i}') + str(in_coverage('flag', f'u{i}', 40))"
        " for i in range(300)))\n"
    )
    split = Split("flag", {"control": 3, "candidate": 2, "fallback": 1})
    here = " ".join(
        split.choose(f"u{i}") + str(in_coverage("flag", f"u{i}", 40)) for i in range(300)
    )
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(SRC)}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == here


# -- (e) scores agree with choose -------------------------------------------------------------


@FAST
@given(salt=salts, weights=weight_lists, units=unit_id_lists)
def test_choose_is_the_first_positive_weight_arm_with_the_lowest_score(
    salt: str, weights: list[int], units: list[str]
) -> None:
    split = _split(salt, weights)
    for unit in units:
        scores = split.scores(unit)
        assert [arm.variation for arm in scores] == _names(len(weights))
        for arm in scores:
            assert arm.u == unit_interval(salt, arm.variation, unit)
        positive = [arm for arm, w in zip(scores, weights, strict=True) if w > 0]
        best = min(arm.score for arm in positive)
        assert split.choose(unit) == next(arm.variation for arm in positive if arm.score == best)
