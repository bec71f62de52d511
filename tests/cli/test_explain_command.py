"""``modelflags explain`` through ``main()`` over the repository's flag files."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from modelflags import load_flags

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = "support_answer_model_route"
Cli = Callable[..., subprocess.CompletedProcess[str]]
PAID = {"conversationId": "conv-7", "plan": "pro", "channel": "chat", "email": "a@corp.io"}


def test_text_walks_every_step_to_the_result(cli: Cli, repo_flags: Path) -> None:
    result = cli("explain", SUPPORT, "--context", json.dumps(PAID), "--flags", repo_flags)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    expected = load_flags(repo_flags).evaluate(SUPPORT, PAID)
    for line in (
        f"{SUPPORT} ({repo_flags}/support.yaml:12:3",
        " 1. state: passed",
        ' 2. unit (conversationId): passed\n      conversation id conversationId = "conv-7"',
        " 3. exclusions (incident_accounts): no match",
        "miss   accountId {$in: [\"acct_17\", \"acct_42\"]}    (not set)",
        " 4. rule 'internal_traffic': no match",
        '(email = "a@corp.io")',
        " 5. eligible (paid_support_chat): passed",
        'match  plan {$in: ["pro", "enterprise"]}    (plan = "pro")',
        " 6. split (control: 90, candidate: 10): decided",
        "<- lowest",
        f"result: {expected.variant} (reason SPLIT, rule split)",
        "unitId=conv-7",
    ):  # fmt: skip
        assert line in out, line


def test_a_missed_eligibility_says_which_attribute(cli: Cli, repo_flags: Path) -> None:
    context = {**PAID, "channel": "email"}
    result = cli("explain", SUPPORT, "--context", json.dumps(context), "--flags", repo_flags)
    assert result.returncode == 0, result.stderr
    assert "5. eligible (paid_support_chat): decided" in result.stdout
    assert 'not eligible: failed: channel "chat" (channel = "email")' in result.stdout
    assert "6. split (control: 90, candidate: 10): not reached" in result.stdout
    assert "result: control (reason DEFAULT, rule not-eligible)" in result.stdout


def test_json_has_the_documented_shape(cli: Cli, repo_flags: Path) -> None:
    result = cli(
        "explain", SUPPORT, "--context", json.dumps(PAID), "--flags", repo_flags,
        "--now", "2026-11-15T12:00:00Z", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["flag", "location", "configVersion", "now", "context", "steps", "result"]
    assert data["now"] == "2026-11-15T12:00:00Z" and data["context"] == PAID
    assert [step["step"] for step in data["steps"]] == [
        "state", "unit", "exclusions", "rule", "eligible", "split",
    ]  # fmt: skip
    assert [step["decided"] for step in data["steps"]] == [False] * 5 + [True]
    clause = data["steps"][3]["clauses"][0]
    assert clause == {
        "test": 'email {$regex: "@example\\\\.com$"}', "matched": False, "attribute": "email",
        "present": True, "value": "a@corp.io", "clauses": [],
    }  # fmt: skip
    scores = data["steps"][5]["scores"]
    assert [arm["variation"] for arm in scores] == ["control", "candidate"]
    expected = load_flags(repo_flags).evaluate(SUPPORT, PAID)
    assert data["result"] == {
        "variant": expected.variant, "value": expected.value, "reason": "SPLIT", "rule": "split",
        "unitId": "conv-7", "errorCode": None, "errorMessage": None,
        "metadata": expected.metadata,
    }  # fmt: skip


def test_context_from_a_file_and_from_stdin(cli: Cli, repo_flags: Path, tmp_path: Path) -> None:
    path = tmp_path / "context.json"
    path.write_text(json.dumps(PAID))
    from_file = cli("explain", SUPPORT, "--context", f"@{path}", "--flags", repo_flags)
    from_stdin = cli(
        "explain", SUPPORT, "--context", "-", "--flags", repo_flags, input=json.dumps(PAID)
    )
    assert from_file.returncode == from_stdin.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout
    assert "unitId=conv-7" in from_file.stdout


def test_a_context_that_is_not_a_json_object_is_a_usage_error(cli: Cli, repo_flags: Path) -> None:
    for context, message in (
        ("{not json", "argument --context: not valid JSON"),
        ("[1, 2]", "argument --context: must be a JSON object"),
        ("[" * 100_000, "argument --context: not valid JSON"),
        ("@/nonexistent/context.json", "argument --context: cannot read /nonexistent/context.json"),
    ):
        result = cli("explain", SUPPORT, "--context", context, "--flags", repo_flags)
        assert result.returncode == 2, context
        assert message in result.stderr
        assert result.stdout == ""


def test_now_needs_an_rfc3339_time_with_a_zone(cli: Cli, repo_flags: Path) -> None:
    for now in ("yesterday", "2026-11-15T12:00:00"):
        result = cli("explain", SUPPORT, "--flags", repo_flags, "--now", now)
        assert result.returncode == 2 and "--now" in result.stderr


def test_an_unknown_flag_fails_with_a_suggestion(cli: Cli, repo_flags: Path) -> None:
    result = cli("explain", "support_answer_model_rout", "--flags", repo_flags)
    assert result.returncode == 1
    assert "no flag 'support_answer_model_rout'; did you mean 'support_answer_model_route'?" in (
        result.stderr
    )


def test_an_invalid_flag_file_fails_with_its_location(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text("version: 1\nflags:\n  f:\n    default: a\n    variations: {b: 1}\n")
    result = cli("explain", "f", "--flags", path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:4:14: [unknown-variation]")


def test_a_missing_unit_id_is_explained_not_failed(cli: Cli, repo_flags: Path) -> None:
    result = cli("explain", SUPPORT, "--context", '{"plan": "pro"}', "--flags", repo_flags)
    assert result.returncode == 0, result.stderr
    assert "2. unit (conversationId): decided" in result.stdout
    assert "error TARGETING_KEY_MISSING" in result.stdout


def test_help_describes_the_options(cli: Cli) -> None:
    result = cli("explain", "--help")
    assert result.returncode == 0
    for option in ("--context", "--flags", "--now", "--format"):
        assert option in result.stdout


def test_the_documented_example_is_real_output(cli: Cli) -> None:
    """docs/review-workflow.md shows a trace: it must be what the command prints today."""
    doc = (ROOT / "docs" / "review-workflow.md").read_text()
    section = doc.split("## explain", 1)[1]
    command, output = re.findall(r"```(?:sh|text)\n(.*?)```", section, re.S)[:2]
    args = shlex.split(command.replace("\\\n", " "))
    assert args[:2] == ["modelflags", "explain"]
    result = cli(*args[1:], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == output


def test_text_that_cannot_be_printed_is_escaped_not_fatal(cli: Cli, repo_flags: Path) -> None:
    context = '{"targetingKey": "\\ud800"}'  # a lone surrogate, valid JSON
    for format_ in ("text", "json"):
        result = cli(
            "explain", "summarizer_streaming", "--context", context, "--flags", repo_flags,
            "--format", format_,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert "INVALID_CONTEXT" in result.stdout


def test_a_value_yaml_reads_as_a_date_is_a_located_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(
        "version: 1\nflags:\n  f:\n    default: a\n    variations: {a: {since: 2026-01-01}}\n"
    )
    result = cli("explain", "f", "--flags", path)
    assert result.returncode == 1
    assert f"{path}:5:" in result.stdout + result.stderr
    assert "[not-json]" in result.stdout + result.stderr
