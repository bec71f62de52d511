"""Pure evaluation: (compiled flags, context, time) → resolution. No I/O, no clock reads.

Conditions compile to closures and splits to precomputed arms once per load, so evaluation
is a handful of dict lookups and hashes.
"""

from modelflags.engine.bucketing import Split, in_coverage, unit_interval
from modelflags.engine.compiled import CompiledFlag, CompiledRule, compile_flags
from modelflags.engine.conditions import Predicate, compile_condition
from modelflags.engine.evaluation import decide, unit_id_of
from modelflags.engine.flagset import FlagSet
from modelflags.engine.resolution import ErrorCode, Reason, Resolution

__all__ = [
    "CompiledFlag",
    "CompiledRule",
    "ErrorCode",
    "FlagSet",
    "Predicate",
    "Reason",
    "Resolution",
    "Split",
    "compile_condition",
    "compile_flags",
    "decide",
    "in_coverage",
    "unit_id_of",
    "unit_interval",
]
