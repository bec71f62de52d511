"""Reference values for the report's segment readouts: per-segment p-values and their Holm
adjustment, computed by statsmodels directly (not by modelflags).

Each segment value has a control and a candidate arm with a binary primary metric (units and
units that converted). For each segment the fixed-horizon p-value is statsmodels'
``proportions_ztest`` (pooled two-proportion z-test, two-sided), and the adjusted values are
``multipletests(method="holm")`` over all segments' p-values together.
``tests/analysis/test_segments.py`` builds an aggregate table from the same counts and checks
that ``modelflags report --by ... --fixed-horizon`` gives these values.

Run from the repository root (rewrites ``holm_reference.json`` beside this script)::

    .venv/bin/python tests/data/report/make_holm_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path

import statsmodels
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

HERE = Path(__file__).resolve().parent

# segment value: (control units, control conversions, candidate units, candidate conversions),
# listed by total units, most first (the order the report shows them in).
SEGMENTS = {
    "enterprise": (4200, 2940, 1450, 1083),
    "pro": (3100, 2170, 1020, 739),
    "team": (2300, 1564, 790, 570),
    "free": (1700, 1122, 560, 352),
    "startup": (1100, 748, 380, 287),
    "education": (640, 430, 210, 141),
    "(missing)": (300, 198, 95, 70),
    "nonprofit": (150, 99, 52, 31),
}


def main() -> None:
    rows = []
    for value, (n_c, x_c, n_t, x_t) in SEGMENTS.items():
        _, p = proportions_ztest([x_t, x_c], [n_t, n_c], alternative="two-sided")
        rows.append(
            {"value": value, "control": [n_c, x_c], "candidate": [n_t, x_t], "pValue": float(p)}
        )
    _, adjusted, _, _ = multipletests([row["pValue"] for row in rows], method="holm")
    for row, p_holm in zip(rows, adjusted, strict=True):
        row["pValueHolm"] = float(p_holm)
    data = {
        "computedBy": "statsmodels proportions_ztest (pooled, two-sided) and "
        "multipletests(method='holm')",
        "statsmodels": statsmodels.__version__,
        "segments": rows,
    }
    (HERE / "holm_reference.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
