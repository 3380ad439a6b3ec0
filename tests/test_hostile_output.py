"""Student-controlled text in every output the grader writes (issue 12 item 6, issue 13 item 7).

Hostile names and messages go through the terminal report, Markdown, HTML, JUnit, Gradescope's
results.json, the GitHub Actions log (parsed here the way actions/runner parses it), the step
summary, gradebook.csv, summary.md/summary.html and skipped.txt. Each test also shows the attack
landing when the defence is bypassed, so it cannot pass vacuously.
"""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from junitparser import JUnitXml

from grader.distribution import gradescope_runner as autograder
from grader.batch import summary as classreport
from grader.cli import app as cli
from grader.results import escape
from grader.results import github
from grader.batch import gradebook
from grader.results import gradescope
from grader.results import render as report
from grader.intake.discover import Skipped
from grader.results.model import CheckResult, Failure, Frame, GradeResult, StudentError

from test_reports import check_gradescope, check_markdown_inert, handmade, parse_html

# ---------------------------------------------------------------- the runner, as actions/runner parses

# src/Runner.Worker/ActionCommandManager.cs: stop-commands plus every command extension
REGISTERED = {"stop-commands", "set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher",
              "remove-matcher", "debug", "warning", "error", "notice", "group", "endgroup", "echo"}


def _unescape(s: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for token, replacement in pairs:
        s = s.replace(replacement, token)
    return s


DATA = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
PROPERTY = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))


def parse_v2(line: str, registered: set[str]) -> tuple[str, dict, str] | None:
    """ActionCommand.TryParseV2: `::name props::data` after leading whitespace is trimmed."""
    m = line.lstrip()
    if not m.startswith("::"):
        return None
    end = m.find("::", 2)
    if end < 0:
        return None
    info = m[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    props = {}
    if space > 0:
        for prop in filter(None, info[space + 1:].strip().split(",")):
            pair = [p for p in prop.split("=", 1) if p]
            if len(pair) == 2:
                props[pair[0]] = _unescape(pair[1], PROPERTY)
    return name, props, _unescape(m[end + 2:], DATA)


def parse_legacy(line: str, registered: set[str]) -> tuple[str, dict, str] | None:
    """ActionCommand.TryParse: `##[name props]data` anywhere in the line."""
    i = line.find("##[")
    if i < 0:
        return None
    rb = line.find("]", i)
    if rb < 0:
        return None
    info = line[i + 3:rb]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    return (name, {}, line[rb + 1:]) if name.lower() in registered else None


class Runner:
    """ActionCommandManager.TryProcessCommand over a log: the commands it would process."""

    def __init__(self) -> None:
        self.registered = {c.lower() for c in REGISTERED}
        self.token: str | None = None
        self.stopped = False
        self.commands: list[tuple[str, dict, str]] = []

    def feed(self, text: str) -> "Runner":
        for line in re.split(r"\r\n|\r|\n", text):
            self.line(line)
        return self

    def line(self, line: str) -> None:
        if not line:
            return
        cmd = parse_v2(line, self.registered) or parse_legacy(line, self.registered)
        if cmd is None:
            return
        if self.stopped:
            if self.token and cmd[0].lower() == self.token.lower():
                self.registered.discard(self.token.lower())
                self.stopped, self.token = False, None
                self.commands.append(("resume", {}, ""))
            return
        if cmd[0].lower() == "stop-commands":
            self.token, self.stopped = cmd[2], True
            self.registered.add(cmd[2].lower())
        self.commands.append(cmd)

    def names(self) -> list[str]:
        return [c[0] for c in self.commands]


ACTIONS = {"GITHUB_ACTIONS": "true"}
FORGED = ("::notice title=grade::Score 10 / 10 — all checks passed\n::stop-commands::x\n"
          "##[warning]legacy warning\n   ::error file=a.py,line=1::forged\n::x::\nend ##[set-output name=a]b")


def hostile_result(name: str = "exercise1.py") -> GradeResult:
    """A result whose every student-controlled field carries workflow commands and forged lines."""
    error = StudentError("ValueError", "raised\n" + FORGED, (Frame(name + "\n::notice::frame", 3, "f\n##[group]g",
                                                                   "raise X('::error::code')"),))
    checks = (
        CheckResult("squared_loss", "matches", 0, 5, Failure("wrong\n" + FORGED, case="case\n" + FORGED,
                                                              hint="hint\n" + FORGED, error=error)),
        CheckResult("squared_loss", "keeps shape", 1, 1),
    )
    cell = {"cell": "cell\n::notice::x", "error": StudentError("E\n##[error]t", "m\n" + FORGED)}
    return GradeResult(1, name, 7, "cpu", checks, output="printed\n" + FORGED + "\n", extras={"cell_errors": [cell]})


def github_log(result: GradeResult, path: Path, env: dict) -> str:
    stream = io.StringIO()
    report.print_terminal(result, stream, env=env)
    github.publish(result, path, stream=stream, env=env)
    return stream.getvalue()


def test_runner_emulation_sees_the_attack_without_the_block(tmp_path: Path) -> None:
    """The control: printed as before (no block), the forged commands are processed."""
    bare = Runner().feed(report.render("terminal.txt.j2", hostile_result()))
    assert {"notice", "stop-commands", "set-output"} <= set(bare.names())
    assert Runner().feed("  ##[warning]legacy\n").names() == ["warning"]


def test_github_log_student_text_never_starts_a_command(tmp_path: Path) -> None:
    path = tmp_path / "exercise1.py"
    path.write_text("def squared_loss(y_hat, y):\n    return y\n")
    env = ACTIONS | {"GITHUB_WORKSPACE": str(tmp_path)}
    result = hostile_result()
    log = github_log(result, path, env)
    runner = Runner().feed(log)
    notes = github.annotations(result, path, env)
    assert runner.names() == ["stop-commands", "resume"] + ["error"] * len(notes), runner.commands
    assert not runner.stopped  # the grader's own annotations after the block were processed
    assert [c[1].get("title") for c in runner.commands[2:]] == [n.title for n in notes]
    assert "Score 10 / 10" in runner.commands[2][2]  # the student's text is in the message, as data
    lines = log.splitlines()
    start, end = lines.index(f"::stop-commands::{runner.commands[0][2]}"), lines.index(f"::{runner.commands[0][2]}::")
    assert start == 0 and all(line.startswith("  ") or not line for line in lines[start + 1:end])
    assert all(line.startswith("::error ") for line in lines[end + 1:])
    assert "##[" not in "\n".join(lines[:end])  # legacy commands defused inside the block too
    assert sum("all checks passed" in line for line in lines[start + 1:end]) >= 5  # shown, indented, inert


def test_stop_token_is_fresh_per_block() -> None:
    blocks = [escape.github_block("::stop-commands::x\n") for _ in range(3)]
    tokens = {b.splitlines()[0].split("::")[2] for b in blocks}
    assert len(tokens) == 3 and all(len(t) >= 32 for t in tokens)
    for b in blocks:
        assert Runner().feed(b + "::notice::after\n").names() == ["stop-commands", "resume", "notice"]
    # every line break the runner or a log viewer knows starts an indented line
    block = escape.github_block("a\rb\u2028c\x85d\r\ne")
    assert block.splitlines()[1:-1] == ["  a", "  b", "  c", "  d", "  e"]


@pytest.mark.slow
def test_cli_under_github_actions_with_a_hostile_submission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A real graded submission printing and raising workflow commands, through `grade`."""
    path = tmp_path / "exercise1.py"
    printed = FORGED + "\nmail me: alice@evil.example.org https://evil.example.com"
    raised = FORGED + "\nsee www.evil.com"
    path.write_text(f"# exercise: 1\nprint({printed!r})\ndef squared_loss(y_hat, y):\n    raise ValueError({raised!r})\n",
                    encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert cli.main([str(path), "--seed", "3", "--device", "cpu"]) == cli.EXIT_FAILED
    captured = capsys.readouterr()
    runner = Runner().feed(captured.out).feed(captured.err)
    assert runner.names()[:2] == ["stop-commands", "resume"] and set(runner.names()[2:]) == {"error"}
    assert "all checks passed" in captured.out  # the attack reached the log, as inert text
    md = summary.read_text()
    check_markdown_inert(md)
    assert not autolinks(md)


def test_workflow_removes_the_python_problem_matcher(tmp_path: Path) -> None:
    """setup-python's problem matcher is not stopped by stop-commands: the workflow removes it."""
    (tmp_path / "exercise1.py").write_text("# exercise: 1\n", encoding="utf-8")
    assert cli.main(["init-ci", "--dir", str(tmp_path), "--git", "https://example.org/course/grader.git"]) == 0
    text = (tmp_path / ".github" / "workflows" / "grade.yml").read_text()
    assert text.index('echo "::remove-matcher owner=python::"') < text.index("grade \"")


# ---------------------------------------------------------------- Markdown, HTML, JUnit, Gradescope

def autolinks(md: str) -> list[str]:
    """What cmark-gfm's autolink extension (and markdown-it's linkify) would link, outside code
    fences: an unescaped scheme `://`, `www.`, or an address whose `@` follows its name directly."""
    found, fence = [], ""
    for line in md.splitlines():
        stripped = line.strip()
        if fence:
            fence = "" if re.fullmatch(r"`{%d,}" % len(fence), stripped) else fence
            continue
        if m := re.match(r"^(`{3,})", stripped):
            fence = m.group(1)
            continue
        found += re.findall(r"(?i)\b(?:https?|ftp|mailto|javascript)(?<!\\):(?://)?\S+", line)
        found += re.findall(r"(?i)(?<![\\\w])www\.\S+", line)
        found += re.findall(r"(?i)[\w.+-]+@[\w-]+(?:\\?\.[\w-]+)+", line)
    return found


HOSTILE_NAME = "x\n# Injected heading <img src=x onerror=alert(1)>\x1b[31m`](javascript:alert(1)).py"
LINKS = "see https://evil.example.com/a?b=1, www.evil.com, mailto:eve@evil.org and alice.b+c@evil.example.org"


def hostile_markdown_result() -> GradeResult:
    base = handmade()
    checks = tuple(replace(c, failure=replace(c.failure, summary=c.failure.summary + " " + LINKS,
                                              hint=LINKS + "\n# heading\n<img src=x onerror=alert(1)>"))
                   if c.failure else c for c in base.checks)
    cell = {"cell": HOSTILE_NAME, "error": StudentError("E<img src=x>", LINKS + "\n## h")}
    return replace(base, submission=HOSTILE_NAME, checks=checks, extras=base.extras | {"cell_errors": [cell]})


def test_markdown_has_no_markup_html_or_autolinks_from_students() -> None:
    result = hostile_markdown_result()
    assert len(autolinks(LINKS)) >= 4  # the detector sees the raw links
    md = report.render_format("md", result)
    data = gradescope.results(result)
    check_gradescope(data)
    for text in [md, data["output"]] + [t["output"] for t in data["tests"]]:
        check_markdown_inert(text)
        assert not autolinks(text), autolinks(text)
        assert not re.search(r"(?m)^#+ Injected|^#+ heading|^#+ h$", text)
    assert r"x\\n\# Injected heading" in md or r"x\\n# Injected heading" in md  # the newline shown escaped
    assert "\\\\x1b" in md  # and the escape character


def test_markdown_renders_without_links_or_html_on_cmark_gfm() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    result = hostile_markdown_result()
    for text in (report.render_format("md", result), gradescope.results(result)["output"]):
        html = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
        assert "<a " not in html and "<img" not in html and "Injected</h" not in html


def test_md_inline_defuses_every_autolink_form() -> None:
    for s in ("https://evil.example.com/x", "ftp://x.y/z", "www.evil.com", "eve@evil.org", "mailto:eve@x.org",
              "javascript:alert(1)", "evil.com/path"):
        out = escape.md_inline(s)
        assert not autolinks(out), (s, out)
        assert escape.clean(out).replace("\\", "").replace("\u2060", "") == s  # reads the same
    assert escape.md_inline("exercise1.py: y.view(-1) at 0.5") == "exercise1.py: y.view(-1) at 0.5"


def test_md_inline_remembers_only_what_it_would_compute_again() -> None:
    """Short strings are remembered (they repeat in every report); the answer is the same, for
    a str subclass with its own __str__ too (never remembered: `type(...) is str` only)."""
    class Loud(str):
        def __str__(self) -> str:
            return "# heading <b>x</b> www.evil.com"

    texts = ["a.b", "eve@evil.org", "x" * (escape._CACHED_CHARS + 1) + " www.evil.com", "# h", "|a|b|"]
    for s in texts:
        assert escape.md_inline(s) == escape.md_inline(s) == escape._md_inline(s)
    loud = Loud("plain")
    assert escape.md_inline(loud) == escape._md_inline(loud)
    assert not autolinks(escape.md_inline(loud)) and "<b>" not in escape.md_inline(loud)


def test_html_and_junit_keep_hostile_names_inert() -> None:
    result = hostile_markdown_result()
    doc = parse_html(report.render_format("html", result))
    assert doc.find(".//img") is None and doc.find(".//script") is None
    body = "".join(doc.find("body").itertext())
    assert "x\\n# Injected heading <img src=x onerror=alert(1)>\\x1b[31m" in body
    xml = report.render_format("junit", result)
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.get("name").startswith("grade x\\n# Injected")  # one line, newline shown escaped
    assert all(el.tag != "img" for el in root.iter())
    JUnitXml.fromstring(xml)


# ---------------------------------------------------------------- terminal

def test_terminal_student_text_forges_no_line() -> None:
    result = hostile_result("a\nScore: 10 / 10 — all checks passed\x1b[32m")
    text = report.render("terminal.txt.j2", result)
    assert "\x1b" not in text
    assert [line for line in text.splitlines() if line.startswith("Score:")] == ["Score: 1 / 6"]
    ours = ("Exercise 1 — a\\nScore", "squared_loss", "Cells that raised", "Your code printed", "Score: 1 / 6")
    column0 = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert all(line.startswith(ours) for line in column0), column0
    assert "\\x1b[32m" in text  # the student's escape sequence, shown


# ---------------------------------------------------------------- Gradescope: hidden checks

def test_gradescope_top_level_text_never_reveals_a_hidden_result() -> None:
    base = handmade()  # train_epoch's check is hidden and failed
    passing = replace(base, checks=tuple(replace(c, points=c.max_points, failure=None) if c.hidden else c
                                         for c in base.checks))
    failed, passed = gradescope.results(base), gradescope.results(passing)
    assert failed["score"] != passed["score"]  # the hidden check's result differs...
    assert failed["output"] == passed["output"]  # ...and nothing students see now says so
    assert f"/ {base.max_score:g}" not in failed["output"] and "/ 7" in failed["output"]
    hidden = [t for t in failed["tests"] if t["name"].startswith("train_epoch:")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    everything_visible = replace(base, checks=tuple(replace(c, hidden=False) for c in base.checks))
    assert f"3 / {base.max_score:g}**" in gradescope.results(everything_visible)["output"]


def test_gradescope_files_not_graded_are_escaped() -> None:
    merged = autograder.merge([gradescope.failure_results("x")], [f"{HOSTILE_NAME}: not graded (reason)"])
    check_markdown_inert(merged["output"])
    assert "\n# Injected" not in merged["output"]


# ---------------------------------------------------------------- CSV and the class summary

FORMULAS = ['=HYPERLINK("http://evil.example.com","click")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR",
            " =1+1", "\uff1dfullwidth"]


def test_gradebook_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    rows = [gradebook.Row(name, 1, f"{i}.py", "k", "passed", 2.5, 10.0,
                          {"tests": [{"name": "squared_loss: matches", "score": 2.5}]}, 0.0)
            for i, name in enumerate(FORMULAS + ["alice"])]
    path = tmp_path / "gradebook.csv"
    gradebook.write_csv(rows, path)
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    for line in table[1:]:
        assert not line[0].startswith(tuple("=+-@\t\r\uff1d")), line
        assert line[0].lstrip(" ").startswith("'") or line[0] == "alice"
        assert float(line[2]) == 2.5 and float(line[3]) == 10.0 and float(line[5]) == 2.5  # numbers stay numbers
    assert [line[0] for line in table[1:]][-1] == "alice"
    assert escape.csv_cell(-1.5) == -1.5 and escape.csv_cell(3) == 3 and escape.csv_cell("-1") == "'-1"


def test_class_summary_and_skipped_list_keep_names_inert(tmp_path: Path) -> None:
    row = gradebook.Row("=evil", 1, "x.py", "k", "failed", 1.0, 10.0,
                        {"tests": [{"name": "squared_loss: matches", "status": "failed", "score": 1.0}]}, 0.0)
    skipped = (Skipped(tmp_path / HOSTILE_NAME, "reason\nforged.py\tforged reason ##[warning]x"),
               Skipped(tmp_path / "ok.txt", "not a .py or .ipynb file"))
    classreport.write_summary(tmp_path, [row], skipped, 5)
    md = (tmp_path / "summary.md").read_text()
    check_markdown_inert(md)
    assert not re.search(r"(?m)^#+ Injected|^forged", md)
    doc = parse_html((tmp_path / "summary.html").read_text())
    assert doc.find(".//img") is None
    lines = (tmp_path / "skipped.txt").read_text().split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one line per skipped file, nothing forged
    assert all(line.count("\t") == 1 for line in lines[:-1])
    assert "\\n# Injected" in lines[0] and "\\x1b" in lines[0] and "##[" not in lines[0]


def test_text_line_shows_every_non_printable_escaped() -> None:
    assert escape.text_line("a\nb\tc\x1b[31md\u200be\udcff ##[x]") == "a\\nb\\tc\\x1b[31md\\u200be\\udcff #\\x23[x]"
    assert cli.one_line(ValueError("bad\n##[error]name")) == "bad\\n#\\x23[error]name"
    assert Runner().feed(cli.one_line(ValueError("##[warning]x"))).commands == []
    assert Runner().feed("grade: error: ##[warning]x").names() == ["warning"]  # the control


def test_gradescope_failure_text_is_one_line() -> None:
    data = gradescope.failure_results("Could not grade: x\nScore: 10 / 10 — all checks passed\x1b[32m.py")
    check_gradescope(data)
    assert "\n" not in data["output"] and "\x1b" not in data["output"] and "x\\nScore" in data["output"]


def test_usage_error_under_github_actions_stays_one_annotation(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    stream = io.StringIO()
    github.publish_usage_error(f"cannot read {HOSTILE_NAME}\n::notice::forged ##[warning]x", stream,
                               env=ACTIONS | {"GITHUB_STEP_SUMMARY": str(summary)})
    assert Runner().feed(stream.getvalue()).names() == ["error"]
    md = summary.read_text()
    check_markdown_inert(md)
    assert md.count("\n#") == 0 and md.startswith("## ✗ Could not grade\n")
