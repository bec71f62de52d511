"""``modelflags diff``: per flag, what an edit changes and which share of units moves where.

* :mod:`.loading`: the two sides, files or directories, or a git revision
  (:mod:`.git_revision`) against the working tree;
* :mod:`.changes`: the fields that changed; :mod:`.blast_radius`: who moves between which
  variations (:mod:`.rendezvous`: the closed form for weighted splits);
* :mod:`.report`: the report of every flag added, removed or changed;
* :mod:`.rendering`: the review comment (Markdown) and the JSON the command prints (``ramp``
  and ``promote`` print their blast radius with it too).
"""
