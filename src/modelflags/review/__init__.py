"""Reviewing flag edits: lint warnings, evaluation traces, blast radius, rollback edits.

The library behind the ``modelflags`` command's ``validate``, ``explain``, ``diff`` and
``rollback``; the command line only parses arguments and renders what these return.
"""
