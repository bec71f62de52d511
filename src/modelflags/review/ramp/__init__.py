"""``modelflags ramp``: the next step of a ramp as an edit of a flag's split.

* :mod:`.plan`: the new integer weights, and whether they move units out of the arm;
* :mod:`.edit`: the weights written into the file's text, validated, written;
* :mod:`.rendering`: what the command prints (the diff, the blast radius, the step in words).
"""
