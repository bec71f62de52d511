"""The edit machinery that ``rollback``, ``ramp`` and ``promote`` share.

* :mod:`.flag_files`: where a flag is defined, among the files of its source;
* :mod:`.flag_text`: byte-preserving span edits of one flag in a file's text, checked by
  reading them back (:mod:`.yaml_nodes`, :mod:`.entry_removal`, :mod:`.read_back`);
* :mod:`.text_edit`: spans spliced into a text, and the unified diff of two versions;
* :mod:`.edited_source`: the edited file validated with the other files of its source;
* :mod:`.comparison`: the ``modelflags diff`` of before and after, blast radius included;
* :mod:`.file_edit`: one edit carried out: locate, edit, compare, write atomically
  (:mod:`.atomic_write`).
"""
