"""pytest fixtures for code that evaluates modelflags flags (registered through ``pytest11``)."""
