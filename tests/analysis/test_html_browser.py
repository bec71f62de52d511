"""The HTML report loaded in a real browser: headless Chromium paints it and serialises it.

Two runs of Chromium on one rendered page (a rollback whose candidate arm is named like a
script tag): a screenshot, read back with the standard library (zlib), and ``--dump-dom``,
the document as the browser built it. Skipped, saying why, when no Chromium is installed
(Debian: ``apt-get install chromium``); the test installs nothing itself. CI installs it and
sets ``MODELFLAGS_REQUIRE_BROWSER=1``, which turns a missing browser into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelflags.analysis.rendering import render

DATA = Path(__file__).resolve().parent.parent / "data" / "report"
WIDTH, HEIGHT = 1280, 2000
SCRIPT_NAME = "<script>document.documentElement.dataset.ran = 'yes'</script>"
BROWSER = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))),
    None,
)

MISSING = "headless Chromium is not installed (Debian: apt-get install chromium)"
if BROWSER is None and os.environ.get("MODELFLAGS_REQUIRE_BROWSER"):
    raise RuntimeError(f"MODELFLAGS_REQUIRE_BROWSER is set but {MISSING}")
pytestmark = pytest.mark.skipif(BROWSER is None, reason=MISSING)


@dataclass(frozen=True)
class Screenshot:
    """A decoded PNG: its size and its rows of RGB pixels."""

    width: int
    height: int
    rows: list[bytes]

    def pixels(self, top: int = 0, bottom: int | None = None) -> Iterator[tuple[int, ...]]:
        for row in self.rows[top:bottom]:
            yield from zip(row[0::3], row[1::3], row[2::3], strict=True)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "sample_rollback.json").read_text())
    text = json.dumps(loaded).replace('"candidate"', json.dumps(SCRIPT_NAME))
    renamed: dict[str, Any] = json.loads(text)
    return renamed


@pytest.fixture(scope="module")
def page(report: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render(report, "html"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def screenshot(page: Path, tmp_path_factory: pytest.TempPathFactory) -> Screenshot:
    png = page.with_suffix(".png")
    chromium(page, tmp_path_factory, f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}")
    return read_png(png.read_bytes())


@pytest.fixture(scope="module")
def dom(page: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return chromium(page, tmp_path_factory, "--dump-dom")


def chromium(page: Path, tmp: pytest.TempPathFactory, *args: str) -> str:
    """Run headless Chromium on ``page``, offline and with a throwaway profile."""
    assert BROWSER is not None
    command = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp.mktemp('profile')}",
        *args, page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def read_png(data: bytes) -> Screenshot:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) into RGB rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, compressed, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        compressed += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0
    channels = 3 if color == 2 else 4
    raw, stride = zlib.decompress(compressed), width * channels
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        rows.append(line if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        previous = line
    return Screenshot(width, height, rows)


def _unfilter(kind: int, line: bytes, prior: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:
        return bytes([(a + b) & 255 for a, b in zip(line, prior, strict=True)])
    out = bytearray(line)
    for x in range(len(out)):
        left = out[x - bpp] if x >= bpp else 0
        if kind == 1:
            out[x] = (out[x] + left) & 255
            continue
        up, corner = prior[x], (prior[x - bpp] if x >= bpp else 0)
        if kind == 3:
            out[x] = (out[x] + ((left + up) >> 1)) & 255
            continue
        p = left + up - corner
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
        out[x] = (out[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
    return bytes(out)


def css_colour_of(selector: str) -> tuple[int, int, int]:
    """The background colour the page's own stylesheet gives ``selector``."""
    css = render({}, "html")
    found = re.search(re.escape(selector) + r"\{[^}]*background:#([0-9a-f]{6})", css)
    assert found, selector
    value = found.group(1)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def test_the_screenshot_is_the_requested_size(screenshot: Screenshot) -> None:
    assert (screenshot.width, screenshot.height) == (WIDTH, HEIGHT)


def test_the_page_is_painted_not_blank(screenshot: Screenshot) -> None:
    colours = Counter(screenshot.pixels())
    total = WIDTH * HEIGHT
    assert colours.most_common(1)[0][1] < 0.7 * total  # no colour fills the page
    assert colours[css_colour_of("body")] > 0.05 * total  # the page's background, between cards
    assert len(colours) > 200  # text, charts and tints, not a flat fill


def test_the_verdict_banner_is_painted_in_the_rollback_colour_at_the_top(
    screenshot: Screenshot,
) -> None:
    red = css_colour_of(".verdict.tone-bad")
    top = Counter(screenshot.pixels(0, 300))
    rest = Counter(screenshot.pixels(300, None))
    assert top[red] > 0.25 * top.total()  # the banner
    assert rest[red] < 0.01 * rest.total()  # a pill or two: the banner is the red block


def test_the_browser_builds_both_charts(dom: str, report: dict[str, Any]) -> None:
    assert re.search(r'<svg class="latency-chart"[^>]*>', dom)
    assert re.search(r'<svg class="primary-chart"[^>]*>', dom)
    assert dom.count("<circle") == len(report["arms"])
    assert dom.count("<rect") >= 3 * len(report["arms"])


def test_the_verdict_is_the_first_heading_of_the_document(dom: str) -> None:
    assert re.search(r"<main><header[^>]*><p[^>]*>Verdict</p><h1>ROLLBACK</h1>", dom)


def test_a_variation_named_like_a_script_is_shown_as_text_and_never_runs(dom: str) -> None:
    assert "&lt;script&gt;document.documentElement.dataset.ran" in dom
    assert "data-ran" not in dom
    assert "<script" not in dom
