"""Pure evaluation: (compiled flags, context, time) → resolution. No I/O, no clock reads.

Conditions compile to closures, splits to precomputed arms and every decision a flag can
return to a shared value, once per load, so evaluation is a handful of dict lookups and hashes.
"""

from modelflags.engine.bucketing import Split, in_coverage, unit_interval
from modelflags.engine.compiled import CompiledFlag, CompiledRule, compile_flags
from modelflags.engine.conditions import Predicate, compile_condition
from modelflags.engine.decision import Decision
from modelflags.engine.evaluation import decide, failure
from modelflags.engine.flagset import FlagSet
from modelflags.engine.resolution import ErrorCode, Reason, Resolution
from modelflags.engine.unit_ids import unit_id_of
from modelflags.schema.steps import StepName

__all__ = [
    "CompiledFlag",
    "CompiledRule",
    "Decision",
    "ErrorCode",
    "FlagSet",
    "Predicate",
    "Reason",
    "Resolution",
    "Split",
    "StepName",
    "compile_condition",
    "compile_flags",
    "decide",
    "failure",
    "in_coverage",
    "unit_id_of",
    "unit_interval",
]
