"""``modelflags promote``: end a flag's experiment with the winning variation as its default.

* :mod:`.edit`: the default set and the experiment's parts removed in the file's text;
* :mod:`.rendering`: what the command prints (the diff, the blast radius, what was removed).
"""
