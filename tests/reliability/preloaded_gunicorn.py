"""A real gunicorn ``--preload`` server for the fork tests: two sync workers forked from a
master that imported the application (and so created its provider and evidence) first.

It listens on a Unix socket in ``folder``, which must be short (a socket path is limited to
about 100 bytes). The application is a module written into ``folder``; modelflags comes from
this checkout's ``src``, and no ``MODELFLAGS_*`` setting of the machine running the tests
reaches it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

import modelflags

SRC = Path(modelflags.__file__).resolve().parents[1]
WAIT = 15.0
"""Deadline of a request or of the shutdown, in seconds: only reached when a test fails."""


class PreloadedGunicorn:
    """gunicorn --preload serving the module ``module`` (its ``app``) with two sync workers
    on a Unix socket; ``client`` talks to it."""

    def __init__(
        self,
        folder: Path,
        module: str,
        source: str,
        env: Mapping[str, str],
        *,
        graceful_timeout: float,
    ) -> None:
        (folder / f"{module}.py").write_text(source)
        self.socket = folder / "gunicorn.sock"
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith("MODELFLAGS_")
        }
        environment.update(env, PYTHONPATH=f"{folder}:{SRC}")
        command = [
            sys.executable, "-m", "gunicorn", "--preload", "--workers", "2",
            "--bind", f"unix:{self.socket}", "--graceful-timeout", str(graceful_timeout),
            "--log-level", "warning", f"{module}:app",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=folder, env=environment, stderr=subprocess.PIPE
        )
        self.client = httpx.Client(transport=httpx.HTTPTransport(uds=str(self.socket)))

    def close(self) -> tuple[int | None, str]:
        """Graceful shutdown (SIGTERM); the exit code and what the server wrote to stderr."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, errors = self.process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, errors = self.process.communicate()
        return self.process.returncode, errors.decode(errors="replace")
