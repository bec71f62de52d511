"""Reviewing flag edits: one package per ``modelflags`` command, each with its rendering.

* :mod:`.validate`: errors and lint warnings of flag sources (and a price table);
* :mod:`.explain`: the evaluation trace of one flag for one context;
* :mod:`.diff`: what an edit changes, and its blast radius;
* :mod:`.rollback`, :mod:`.ramp`, :mod:`.promote`: edits of a flag file, made with the
  shared machinery of :mod:`.editing`;
* :mod:`.timestamps`: times as the commands print them.

The command line only parses arguments, calls these and prints what they render; each
command imports only its own package.
"""
