"""``modelflags explain``: why a flag serves what it serves for a context, step by step.

* :mod:`.explanation`: the trace, from an evaluation by the engine itself;
* :mod:`.probe`: the recorder of every arm's draw; :mod:`.steps`: the trace's vocabulary;
* :mod:`.clauses`: conditions broken down clause by clause;
* :mod:`.rendering`: the text and JSON the command prints.
"""
