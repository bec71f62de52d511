"""``modelflags validate``: every error and warning of each flag source, located.

* :mod:`.lint`: warnings for valid configs that are likely mistakes (:mod:`.secrets`: values
  that look like keys; :mod:`.reachability`: what a flag can reach and serve);
* :mod:`.source_report`: one source read, loaded and linted, ignore comments applied;
* :mod:`.prices`: a price table checked against the flags (``--prices``);
* :mod:`.validation`: one run of the command: every source, and the price table;
* :mod:`.rendering`: the text and JSON the command prints.
"""
