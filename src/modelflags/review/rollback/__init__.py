"""``modelflags rollback``: the kill switch as an edit of the flag's file.

* :mod:`.edit`: ``state: off`` and ``default`` set in the text, validated, written;
* :mod:`.rendering`: what the command prints.
"""
