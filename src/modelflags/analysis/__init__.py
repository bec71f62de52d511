"""Analysis: evidence events → mergeable per-arm aggregates → statistics → a report.

Needs the ``report`` extra (``pip install 'modelflags[report]'``: DuckDB and SciPy). Imports
nothing from the engine: an event is data, not an evaluation.
"""
