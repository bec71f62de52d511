"""``modelflags validate`` through ``main()``: paths, errors with did-you-mean
hints, warnings, --strict, --ignore, JSON output and exit codes."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]

ROOT = Path(__file__).resolve().parents[2]

ROUTE_FLAG = """\
flags:
  route:
    owner: ai_platform
    default: control
    variations: {control: {modelRoute: support_model_a}, candidate: {modelRoute: support_model_b}}
    eligible: paid
    split: {control: 90, candidate: 10}
"""
CLEAN = "version: 1\nsegments:\n  paid: {plan: {$in: [pro, enterprise]}}\n" + ROUTE_FLAG

WARNED = """\
version: 1
segments:
  forgotten: {plan: trial}
flags:
  streaming:
    default: off
    variations: {on: true, off: false}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def test_without_paths_it_validates_flags_in_the_working_directory(
    cli: Cli, tmp_path: Path
) -> None:
    write(tmp_path / "flags", "route.yaml", CLEAN)
    result = cli("validate", cwd=tmp_path)
    assert (result.returncode, lines(result), result.stderr) == (
        0,
        ["flags/: 1 flag, 1 segment: ok"],
        "",
    )


def test_a_directory_is_merged_and_each_issue_names_its_file(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "flags", "a_segments.yaml", "version: 1\nsegments:\n  paid: {plan: pro}\n")
    write(tmp_path / "flags", "b_flags.yaml", "version: 1\n" + ROUTE_FLAG)
    write(tmp_path / "flags", "c_more.yaml", WARNED)
    result = cli("validate", tmp_path / "flags")
    folder = tmp_path / "flags"
    assert result.returncode == 0
    assert [line.split(";")[0] for line in lines(result)] == [
        f"{folder}/c_more.yaml:3:3: warning: [unused-segment] segment 'forgotten' is not used by "
        "any flag",
        f"{folder}/c_more.yaml:5:3: warning: [missing-owner] flag 'streaming' has no owner",
        f"{folder}/c_more.yaml:7:18: warning: [unserved-variation] variation 'on' is never "
        "served: it is not the default, not exclusions.serve, not served by a rule and has no "
        "split weight",
        f"{folder}: 2 flags, 2 segments: 3 warnings",
    ]


def test_each_path_is_its_own_source_with_its_own_summary(cli: Cli, tmp_path: Path) -> None:
    clean = write(tmp_path, "clean.yaml", CLEAN)
    warned = write(tmp_path, "warned.yaml", WARNED)
    result = cli("validate", clean, warned, clean)
    summaries = [line for line in lines(result) if ": warning: " not in line]
    assert summaries == [
        f"{clean}: 1 flag, 1 segment: ok",
        f"{warned}: 1 flag, 1 segment: 3 warnings",
        f"{clean}: 1 flag, 1 segment: ok",
    ]
    assert result.returncode == 0


DID_YOU_MEAN = """\
version: 1
segments:
  paid_support_chat: {plan: pro}
flags:
  route:
    owner: ai_platform
    default: contrl
    variations: {control: 1, candidate: 2}
    rules:
      - when: {plan: {$inn: [pro]}}
        serve: candidate
    eligible: paid_suport_chat
    split: {control: 1, candidate: 1}
"""


def test_errors_name_file_line_col_with_did_you_mean_for_variations_segments_operators(
    cli: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "route.yaml", DID_YOU_MEAN)
    result = cli("validate", path)
    assert result.returncode == 1
    # an unknown operator is placed at the operator, an unknown name at the name
    assert lines(result) == [
        f"{path}:7:14: [unknown-variation] variation 'contrl' is not defined "
        "(known: control, candidate); did you mean 'control'?",
        f"{path}:10:23: [unknown-operator] unknown operator '$inn' on an attribute; "
        "did you mean '$in'?",
        f"{path}:12:15: [unknown-segment] segment 'paid_suport_chat' is not defined "
        "(known: paid_support_chat); did you mean 'paid_support_chat'?",
        f"{path}: 3 errors (warnings are checked once it loads)",
    ]


def test_a_misspelt_key_gets_did_you_mean_from_the_format(cli: Cli, tmp_path: Path) -> None:
    text = CLEAN.replace("    eligible:", "    eligble:").replace(
        "version: 1", "version: 1\nflag: {}"
    )
    path = write(tmp_path, "route.yaml", text)
    result = cli("validate", path)
    assert result.returncode == 1
    assert lines(result) == [
        f"{path}:2:1: [unknown-key] unknown key 'flag'; did you mean 'flags'?",
        f"{path}:10:5: [unknown-key] unknown key 'eligble'; did you mean 'eligible'?",
        f"{path}: 2 errors (warnings are checked once it loads)",
    ]


def test_a_misspelt_key_holds_back_the_reference_errors_until_it_is_fixed(
    cli: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "route.yaml", DID_YOU_MEAN.replace("owner:", "ownr:"))
    result = cli("validate", path)
    assert (result.returncode, lines(result)) == (
        1,
        [
            f"{path}:6:5: [unknown-key] unknown key 'ownr'; did you mean 'owner'?",
            f"{path}: 1 error (warnings are checked once it loads)",
        ],
    )


def test_strict_turns_warnings_into_a_failure(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "warned.yaml", WARNED)
    relaxed, strict = cli("validate", path), cli("validate", "--strict", path)
    assert (relaxed.returncode, strict.returncode) == (0, 1)
    assert relaxed.stdout == strict.stdout


def test_strict_passes_a_clean_source(cli: Cli, tmp_path: Path) -> None:
    assert cli("validate", "--strict", write(tmp_path, "clean.yaml", CLEAN)).returncode == 0


def test_ignore_drops_a_warning_code(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "warned.yaml", WARNED)
    result = cli(
        "validate", "--strict", "--ignore", "missing-owner", "--ignore", "unused-segment", path
    )
    assert result.returncode == 1
    assert [line.split(": warning: ")[-1].split("]")[0] for line in lines(result)[:-1]] == [
        "[unserved-variation"
    ]


def test_an_ignore_comment_silences_one_warning(cli: Cli, tmp_path: Path) -> None:
    text = WARNED.replace(
        "{on: true, off: false}", "{on: true, off: false}  # modelflags: ignore[unserved-variation]"
    )
    path = write(tmp_path, "warned.yaml", text)
    assert f"{path}: 1 flag, 1 segment: 2 warnings" in lines(cli("validate", path))


def test_a_secret_is_reported_masked(cli: Cli, tmp_path: Path) -> None:
    key = "sk-" + "Zq7Rt2Lm9Xv4Bn8Kd3Hs6Wy1" * 2
    text = CLEAN.replace(
        "modelRoute: support_model_b}", f"modelRoute: support_model_b, apiKey: {key}}}"
    )
    path = write(tmp_path, "route.yaml", text)
    result = cli("validate", "--strict", path)
    assert result.returncode == 1
    assert key[4:12] not in result.stdout
    assert lines(result)[0].startswith(
        f"{path}:8:107: warning: [possible-secret] value looks like an OpenAI API key: 'sk-Z…' "
        "(51 characters); keep secrets out of flag files"
    )


def test_json_output_has_a_stable_shape(cli: Cli, tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.yaml", DID_YOU_MEAN)
    warned = write(tmp_path, "warned.yaml", WARNED)
    result = cli("validate", "--format", "json", broken, warned)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert list(data) == ["ok", "sources"]
    assert data["ok"] is False
    first, second = data["sources"]
    assert list(first) == ["path", "flags", "segments", "errors", "warnings"]
    assert (first["path"], first["flags"], first["segments"]) == (str(broken), None, None)
    assert [error["code"] for error in first["errors"]] == [
        "unknown-variation",
        "unknown-operator",
        "unknown-segment",
    ]
    assert first["errors"][0] == {
        "file": str(broken),
        "line": 7,
        "col": 14,
        "code": "unknown-variation",
        "severity": "error",
        "message": "variation 'contrl' is not defined (known: control, candidate)",
        "hint": "did you mean 'control'?",
    }
    assert (second["flags"], second["segments"], second["errors"]) == (1, 1, [])
    assert [warning["severity"] for warning in second["warnings"]] == ["warning"] * 3
    assert second["warnings"][0]["line"] == 3


def test_json_ok_follows_strict(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "warned.yaml", WARNED)
    relaxed = json.loads(cli("validate", "--format", "json", path).stdout)
    strict = cli("validate", "--format", "json", "--strict", path)
    assert relaxed["ok"] is True
    assert (json.loads(strict.stdout)["ok"], strict.returncode) == (False, 1)


@pytest.fixture
def served_flags() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving WARNED at /flags.yaml; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = WARNED.encode()
            self.send_response(200 if self.path == "/flags.yaml" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_url_is_a_source_too(cli: Cli, served_flags: str) -> None:
    good, missing = f"{served_flags}/flags.yaml", f"{served_flags}/gone.yaml"
    result = cli("validate", good, missing)
    assert result.returncode == 1
    assert lines(result)[0].startswith(f"{good}:3:3: warning: [unused-segment]")
    assert lines(result)[-3:] == [
        f"{good}: 1 flag, 1 segment: 3 warnings",
        f"{missing}: [unreadable-source] HTTP 404; "
        "give a flag file, a directory of them or an http(s):// URL",
        f"{missing}: 1 error (warnings are checked once it loads)",
    ]


def test_a_path_that_does_not_exist_is_an_error(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = cli("validate", missing)
    assert result.returncode == 1
    assert lines(result) == [
        f"{missing}: [unreadable-source] no such file or directory; "
        "give a flag file, a directory of them or an http(s):// URL",
        f"{missing}: 1 error (warnings are checked once it loads)",
    ]


@pytest.mark.parametrize(
    "args",
    [("--format", "xml"), ("--ignore", "no-such-code"), ("--no-such-option",)],
    ids=["bad-format", "bad-ignore-code", "unknown-option"],
)
def test_usage_errors_exit_2(cli: Cli, args: tuple[str, ...], tmp_path: Path) -> None:
    result = cli("validate", *args, write(tmp_path, "clean.yaml", CLEAN))
    assert result.returncode == 2
    assert result.stderr.startswith("usage: modelflags")
    assert result.stdout == ""


def test_the_repository_flags_pass_strict(cli: Cli) -> None:
    result = cli("validate", "--strict", cwd=ROOT)
    assert (result.returncode, result.stdout.splitlines()[:-1]) == (0, [])


def test_now_fixes_the_day_schedules_are_judged_on(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path, "flags.yaml",
        "version: 1\nflags:\n  f:\n    owner: team\n    default: a\n"
        "    variations: {a: 1}\n    schedule: {end: 2026-12-01T00:00:00Z}\n",
    )  # fmt: skip
    before = cli("validate", "--strict", "--now", "2026-11-30T23:59:59Z", path)
    after = cli("validate", "--strict", "--now", "2026-12-01T00:00:00Z", path)
    assert before.returncode == 0, before.stdout
    assert after.returncode == 1
    assert "warning: [schedule-over]" in after.stdout
    assert cli("validate", "--now", "tomorrow", path).returncode == 2


# -- --prices: a price table checked with the flags --------------------------------------------

PRICES = """\
version: 1
currency: USD
prices:
  support_model_a: {input_per_million: 0.50, output_per_million: 1.50}
"""


def test_prices_warn_at_each_variation_whose_route_has_no_price(cli: Cli, tmp_path: Path) -> None:
    flags = write(tmp_path, "route.yaml", CLEAN)
    prices = write(tmp_path, "prices.yaml", PRICES)
    result = cli("validate", flags, "--prices", prices)
    assert result.returncode == 0
    assert lines(result) == [
        f"{flags}: 1 flag, 1 segment: ok",
        f"{flags}:8:82: warning: [unpriced-route] variation 'candidate' serves model route "
        f"'support_model_b', which {prices} does not price: its calls are recorded with "
        f"estimatedCost null; add 'support_model_b' under prices in {prices}",
        f"{prices}: price table: 1 warning",
    ]


def test_an_unpriced_route_fails_strict(cli: Cli, tmp_path: Path) -> None:
    flags = write(tmp_path, "route.yaml", CLEAN)
    prices = write(tmp_path, "prices.yaml", PRICES)
    assert cli("validate", "--strict", flags, "--prices", prices).returncode == 1


def test_ignore_unpriced_route_drops_the_warning(cli: Cli, tmp_path: Path) -> None:
    flags = write(tmp_path, "route.yaml", CLEAN)
    prices = write(tmp_path, "prices.yaml", PRICES)
    result = cli("validate", "--strict", "--ignore", "unpriced-route", flags, "--prices", prices)
    assert (result.returncode, lines(result)[-1]) == (0, f"{prices}: price table: ok")


def test_an_ignore_comment_silences_an_unpriced_route(cli: Cli, tmp_path: Path) -> None:
    text = CLEAN.replace(
        "support_model_b}}\n", "support_model_b}}  # modelflags: ignore[unpriced-route]\n"
    )
    flags = write(tmp_path, "route.yaml", text)
    prices = write(tmp_path, "prices.yaml", PRICES)
    result = cli("validate", "--strict", flags, "--prices", prices)
    assert (result.returncode, lines(result)[-1]) == (0, f"{prices}: price table: ok")


def test_an_invalid_price_table_is_exit_1_with_its_located_errors(cli: Cli, tmp_path: Path) -> None:
    flags = write(tmp_path, "route.yaml", CLEAN)
    prices = write(tmp_path, "prices.yaml", PRICES.replace("0.50", "-1"))
    result = cli("validate", flags, "--prices", prices)
    assert result.returncode == 1
    assert lines(result)[1:] == [
        f"{prices}:4:40: [negative-price] a price must be zero or more, not -1; prices are per "
        "million tokens",
        f"{prices}: price table: 1 error",
    ]


def test_json_output_gets_the_price_table(cli: Cli, tmp_path: Path) -> None:
    flags = write(tmp_path, "route.yaml", CLEAN)
    missing = tmp_path / "no-prices.yaml"
    result = cli("validate", "--format", "json", flags, "--prices", missing)
    data = json.loads(result.stdout)
    assert (result.returncode, list(data), data["ok"]) == (1, ["ok", "sources", "prices"], False)
    assert data["prices"] == {
        "path": str(missing),
        "errors": [
            {
                "file": str(missing),
                "line": 0,
                "col": 0,
                "code": "unreadable-prices",
                "severity": "error",
                "message": "cannot read the price table: No such file or directory",
                "hint": "",
            }
        ],
        "warnings": [],
    }
