"""``python -m modelflags``: the command line."""

from modelflags.cli import main

raise SystemExit(main())
