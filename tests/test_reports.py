"""Reports: golden files for every format, format-aware parsing, escaping of student-controlled text,
the GitHub Actions summary and annotations, and the --report option.

Regenerate the golden files (after an intended change, then read the diff) with
`UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py`.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import html5lib
import pytest
from junitparser import Failure as JFailure, JUnitXml

from conftest import grade
from grader.cli import app as cli
# A process renders only after it has loaded its course (every grade does), which hands the
# course's report sections to the renderer; so does this test, run alone or first.
from grader.exercises import registry  # noqa: F401
from grader.results import definitions, github
from grader.results import gradescope
from grader.results import render as report
from grader.results.model import CheckResult, Failure, Frame, GradeResult, Mismatch, Row, StudentError

GOLDEN = Path(__file__).resolve().parent / "golden"
SEED = 20240611
FORMATS = ("txt", "md", "html", "xml", "json")

BUGGY_EX1 = '''# exercise: 1
def squared_loss(y_hat, y):
    """Forgets to reshape y and the 1/2."""
    return (y_hat - y) ** 2
'''

# Every kind of student-controlled text that could break a format.
HOSTILE_EX1 = '''# exercise: 1
print("<script>alert('printed')</script> & <img src=x onerror=alert(1)>")
print("ansi: \\x1b[5;45mBLINK\\x1b[0m osc: \\x1b]0;pwned\\x07 nul: \\x00 bell: \\x07 cr:\\rX")
print("fence: ``` and ```` and ]]> and <!-- and $x$ | [l](javascript:alert(1))")

def squared_loss(y_hat, y):
    if y_hat.shape[0] == 1:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    raise ValueError("bad ]]> <script>alert('raised')</script> \\x1b[5;45mBLINK\\x1b[0m nul\\x00 ```` ` | ## h")
'''


def handmade() -> GradeResult:
    """A result built by hand: every field a template reads, including the MNIST loss curve."""
    mismatch = Mismatch(shape=(4, 1), mismatched=4, total=4, max_abs=3.5, max_abs_index="(3, 0)", max_rel=1.0,
                        max_rel_index="(0, 0)", atol=1e-5, rtol=1.3e-6,
                        rows=(Row("(0, 0)", "2", "1"), Row("(3, 0)", "7", "3.75")), nonfinite=("(2, 0)",))
    error = StudentError("ValueError", "shapes (4,1) and (3,) do not align",
                         (Frame("exercise6.py", 12, "train_epoch", "loss = criterion(net(x), y)"),
                          Frame("exercise6.py", 30, "helper", "raise ValueError(...)")))
    checks = (
        CheckResult("transform", "scales to [-1, 1]", 2, 2),
        CheckResult("transform", "returns float32", 0, 1, Failure("the result has dtype float64, expected float32",
                    case="image: ndarray uint8 (28, 28)", hint="divide by 255.0 in float32")),
        CheckResult("sgd_update", "updates in place", 0, 3, Failure(
            "the parameters differ from the expected values in 4 of 4 elements", case="lr = 0.1",
            mismatch=mismatch, diagnosis="your result is 2× the expected one", hint="p -= lr * p.grad")),
        CheckResult("train_epoch", "matches the reference's weights", 0, 4, Failure(
            "`train_epoch` raised ValueError: shapes (4,1) and (3,) do not align", error=error,
            hint="move each batch to the net's device"), hidden=True),
        CheckResult("evaluate", "counts every example", 1, 1),
    )
    curves = {"student": [2.3, 1.9, 1.4, float("nan"), 0.9, 0.7], "reference": [2.3, 1.7, 1.2, 0.9, 0.6, 0.5]}
    cell = {"cell": "exercise6.ipynb [cell 4]", "error": StudentError("NameError", "name 'plt' is not defined")}
    return GradeResult(exercise=6, submission="exercise6.ipynb", seed=SEED, device="cpu", checks=checks,
                       isolation=("pid-namespace", "landlock"), output="epoch 1: loss 2.3\n", seconds=12.5,
                       extras={"loss_curve": curves, "cell_errors": [cell]})


def normalised(result: GradeResult) -> GradeResult:
    """What varies between machines and runs (timings, isolation layers) fixed."""
    return replace(result, seconds=0.0, isolation=("isolation-normalised",),
                   checks=tuple(replace(c, seconds=0.0) for c in result.checks))


def render_all(result: GradeResult) -> dict[str, str]:
    return {"txt": report.render("terminal.txt.j2", result), "md": report.render_format("md", result),
            "html": report.render_format("html", result), "xml": report.render_format("junit", result),
            "json": gradescope.dumps(gradescope.results(result))}


def graded(tmp_path: Path, source: str, name: str = "exercise1.py", seed: int = SEED) -> tuple[GradeResult, Path]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return grade(path, seed=seed), path


@pytest.fixture(scope="module")
def buggy(tmp_path_factory: pytest.TempPathFactory) -> GradeResult:
    return normalised(graded(tmp_path_factory.mktemp("buggy"), BUGGY_EX1)[0])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> GradeResult:
    return graded(tmp_path_factory.mktemp("hostile"), HOSTILE_EX1, name="exercise1_<i>&amp;.py")[0]


# ---------------------------------------------------------------- golden files

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", ["handmade", "buggy"])
def test_golden(which: str, fmt: str, request: pytest.FixtureRequest) -> None:
    result = handmade() if which == "handmade" else request.getfixturevalue("buggy")
    text = render_all(normalised(result))[fmt]
    path = GOLDEN / f"{which}.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path.name}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: rerun with UPDATE_GOLDEN=1 and read the diff"


def test_buggy_submission_loses_points_on_the_right_checks(buggy: GradeResult) -> None:
    failed = {c.name for c in buggy.checks if not c.passed}
    assert "reshapes y of shape (n,) to y_hat's shape" in failed
    assert buggy.score < buggy.max_score


# ---------------------------------------------------------------- JUnit

def test_junit_one_testcase_per_check_grouped_by_function(buggy: GradeResult) -> None:
    for result in (handmade(), buggy):
        xml = JUnitXml.fromstring(report.render_format("junit", result))
        suites = list(xml)
        assert [s.name for s in suites] == [f"exercise{result.exercise}.{f}" for f in result.functions()]
        cases = [case for suite in suites for case in suite]
        assert [c.name for c in cases] == [c.test_name for c in result.checks]
        for case, check, in zip(cases, result.checks):
            assert case.classname == f"exercise{result.exercise}.{check.function}"
            failures = [r for r in case.result if isinstance(r, JFailure)]
            assert bool(failures) == (not check.passed)
            if failures:
                assert failures[0].message == check.failure.summary
                assert check.failure.summary in failures[0].text
        assert sum(s.failures for s in suites) == sum(not c.passed for c in result.checks)
        assert sum(s.tests for s in suites) == len(result.checks)


# ---------------------------------------------------------------- Gradescope

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard", "max_score"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
               "tags", "visibility", "extra_data"}


def check_gradescope(data: dict) -> None:
    """Field by field against Gradescope's autograder specification (and our contract)."""
    assert set(data) <= TOP_LEVEL
    assert isinstance(data["score"], (int, float)) and isinstance(data["max_score"], (int, float))
    assert isinstance(data["tests"], list)
    assert math.isclose(data["score"], sum(t["score"] for t in data["tests"]), abs_tol=1e-9)
    assert math.isclose(data["max_score"], sum(t["max_score"] for t in data["tests"]), abs_tol=1e-9)
    assert isinstance(data.get("output", ""), str)
    assert data.get("output_format", "text") in gradescope.OUTPUT_FORMATS
    assert data.get("stdout_visibility", "hidden") in gradescope.VISIBILITIES
    if "execution_time" in data:
        assert isinstance(data["execution_time"], int) and data["execution_time"] >= 0
    for t in data["tests"]:
        assert set(t) <= TEST_FIELDS
        assert isinstance(t["name"], str) and re.match(r"^[A-Za-z_]\w*: ", t["name"])
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in ("passed", "failed")
        assert (t["status"] == "passed") == (t["score"] == t["max_score"] and t["output"] == "")
        assert isinstance(t["output"], str)
        assert t.get("output_format", "text") in gradescope.OUTPUT_FORMATS
        assert t.get("visibility", "visible") in gradescope.VISIBILITIES
        assert isinstance(t.get("number", ""), str)


def test_gradescope_results_follow_the_spec(buggy: GradeResult) -> None:
    for result in (handmade(), buggy):
        data = json.loads(gradescope.dumps(gradescope.results(result)))
        check_gradescope(data)
        assert [t["name"] for t in data["tests"]] == [c.test_name for c in result.checks]
        assert data["output_format"] == "md" and data["stdout_visibility"] == "hidden"
    data = gradescope.results(handmade())
    hidden = [t for t in data["tests"] if t["name"].startswith("train_epoch:")]
    assert hidden[0]["visibility"] == "after_published"
    assert data["execution_time"] == 13  # 12.5 s, rounded up
    check_gradescope(gradescope.failure_results("Could not grade: no such file"))


# ---------------------------------------------------------------- HTML

def parse_html(text: str):
    """Parse strictly: any HTML5 parse error fails the test."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def test_html_is_valid_self_contained_and_complete() -> None:
    text = report.render_format("html", handmade())
    doc = parse_html(text)
    assert doc.find(".//script") is None
    for el in doc.iter():
        for attr in ("src", "href"):
            value = el.get(attr)
            assert value is None or value.startswith("#"), f"external reference {attr}={value}"
    assert "@import" not in text and "url(" not in text
    body = "".join(doc.find("body").itertext())
    assert "Expected versus got" in body and "3.75" in body  # expected-vs-got table
    assert "4 of 4 elements" in body  # mismatch summary
    assert "train_epoch" in body and "line 30" in body and "ValueError" in body  # traceback
    assert "move each batch to the net's device" in body  # hint
    assert "✓" in body and "✗" in body
    svg = doc.find(".//{http://www.w3.org/2000/svg}svg")
    assert svg is not None, "no inline SVG loss curve"
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert {line.get("class") for line in lines} == {"ref", "stu"}
    assert all(len(line.get("points").split()) >= 5 for line in lines)
    assert "1 non-finite values not drawn" in body
    for anchor in doc.iterfind(".//a"):
        assert doc.find(f".//*[@id='{anchor.get('href')[1:]}']") is not None


def test_html_colours_are_colour_blind_safe() -> None:
    css = report.render_format("html", handmade())
    assert "#0072B2" in css and "#D55E00" in css  # Okabe–Ito blue and vermillion
    assert not re.search(r"#(?:0f0|00ff00|f00|ff0000)\b", css, re.IGNORECASE)


def test_hidden_checks_never_show_expected_values() -> None:
    result = handmade()
    checks = tuple(replace(c, hidden=True) if c.function == "sgd_update" else c for c in result.checks)
    for fmt, text in render_all(replace(result, checks=checks)).items():
        assert "(hidden)" in text, fmt
        assert "3.75" not in text, fmt  # the expected value of row (3, 0)


def test_loss_curve_is_optional_and_tolerates_junk() -> None:
    plain = replace(handmade(), extras={})
    assert "<svg" not in report.render_format("html", plain)
    for junk in ({"student": "x"}, {"student": [None, "a"]}, [], {"student": [float("inf")]}):
        result = replace(handmade(), extras={"loss_curve": junk})
        parse_html(report.render_format("html", result))


# ---------------------------------------------------------------- escaping (real graded submissions)

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def test_hostile_text_is_inert_in_every_format(hostile: GradeResult) -> None:
    assert hostile.output and "<script>" in hostile.output and "\x1b" in hostile.output  # the attack got through
    raised = [c for c in hostile.checks if c.failure and c.failure.error]
    assert raised and "]]>" in raised[0].failure.error.message and "\x00" in raised[0].failure.error.message
    out = render_all(hostile)
    for fmt, text in out.items():
        assert not CONTROL.search(text), f"control character in {fmt}"
        assert "BLINK" in text or fmt == "json" or fmt == "txt", fmt

    doc = parse_html(out["html"])
    assert doc.find(".//script") is None and doc.find(".//img") is None and doc.find(".//i") is None
    body = "".join(doc.find("body").itertext())
    assert "<script>alert('raised')</script>" in body and "<script>alert('printed')</script>" in body
    assert "exercise1_<i>&amp;.py" in body

    root = ET.fromstring(out["xml"].encode("utf-8"))
    text = "".join(root.itertext())
    assert "]]>" in text and "<script>" in text
    JUnitXml.fromstring(out["xml"])

    data = json.loads(out["json"])
    check_gradescope(data)
    for t in data["tests"]:
        check_markdown_inert(t["output"])
    check_markdown_inert(out["md"])


def check_markdown_inert(md: str) -> None:
    """Outside fenced code blocks: no raw HTML but our <details>, no unescaped link syntax."""
    fence = ""
    for line in md.splitlines():
        stripped = line.strip()
        if fence:
            if re.fullmatch(r"`{%d,}" % len(fence), stripped):
                fence = ""
            continue
        m = re.match(r"^(`{3,})", stripped)
        if m:
            fence = m.group(1)
            continue
        without_ours = re.sub(r"</?details>|<summary>|</summary>", "", line)
        assert "<" not in without_ours, line
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", line), line
        assert not re.search(r"(?<!\\)`", line), line  # no code span the student could open
    assert not fence, "a code fence was left open"


def test_terminal_colour_rules(hostile: GradeResult, monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    tty, pipe = Tty(), io.StringIO()
    report.print_terminal(hostile, tty)
    report.print_terminal(hostile, pipe)
    assert "\x1b[" in tty.getvalue() and "\x1b" not in pipe.getvalue()
    assert "\x1b[5;45m" not in tty.getvalue() and "\x1b]" not in tty.getvalue()  # never the student's codes
    monkeypatch.setenv("NO_COLOR", "1")
    colourless = Tty()
    report.print_terminal(hostile, colourless)
    assert "\x1b" not in colourless.getvalue()


def test_markdown_helpers() -> None:
    assert report.md_inline("a <b> & [x](y) | `c` *d* _e_ snake_case") == \
        r"a &lt;b&gt; &amp; \[x\](y) \| \`c\` \*d\* \_e\_ snake_case"
    assert report.md_inline("# not a heading\nsecond line") == r"\# not a heading second line"
    block = report.md_fence("x ```` y", "text")
    assert block.startswith("`````text\n") and block.endswith("\n`````")
    assert report.clean("a\x1b[31mb\x1b[0m\x00c\r\nd\x1b]0;t\x07e") == "abc\nde"


# ---------------------------------------------------------------- GitHub Actions

def test_workflow_command_escaping() -> None:
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0Anext"
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    note = github.Annotation("dir/ex,1.py", 3, "f: x", "line1\nline2", 1.0)
    assert note.command() == "::error file=dir/ex%2C1.py,line=3,title=f%3A x::line1%0Aline2"


def test_definitions_from_source_text(tmp_path: Path) -> None:
    src = "import x\n\n@decorator\ndef f(a):\n    def g():\n        pass\n\nif True:\n    def h(): pass\n\ndef f(b):\n    pass\n"
    assert definitions.source_definitions(src, ["f", "g", "h", "missing"]) == {"f": 11, "h": 9}
    broken = "def f(:\n    pass\n\n  def g(x):\n"
    assert definitions.source_definitions(broken, ["f", "g"]) == {"f": 1, "g": 4}


def test_notebook_definitions_point_at_the_cell(tmp_path: Path) -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["%matplotlib inline\n", "import torch\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["!pip list\n", "def sgd(params, lr, batch_size):\n", "    pass\n"]},
        {"cell_type": "code", "metadata": {"tags": ["skip-grading"]}, "outputs": [], "execution_count": None,
         "source": ["def other(params, lr, batch_size):\n", "    pass\n"]}]}
    path = tmp_path / "exercise2.ipynb"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    where = definitions.definitions(path, ["sgd", "other"])
    assert set(where) == {"sgd"} and where["sgd"].cell == 3
    assert '"def sgd(params, lr, batch_size):\\n"' in path.read_text().splitlines()[where["sgd"].line - 1]


def test_annotations_are_ranked_and_capped(tmp_path: Path) -> None:
    names = [f"f{i}" for i in range(12)]
    path = tmp_path / "exercise9.py"
    path.write_text("".join(f"def {n}():\n    pass\n" for n in names[:-1]), encoding="utf-8")
    checks = tuple(CheckResult(n, "works", 0.0, float(i % 5 + 1), Failure(f"{n} is wrong: 100%\nreally"))
                   for i, n in enumerate(names))
    result = GradeResult(9, path.name, 1, "cpu", checks + (CheckResult("f0", "ok", 1, 1),))
    notes = github.annotations(result, path, env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert len(notes) == github.MAX_ANNOTATIONS
    assert [n.lost for n in notes] == sorted((n.lost for n in notes), reverse=True)
    assert [n.title.split(":")[0] for n in notes[:3]] == ["f4", "f9", "f3"]  # 5, 5, 4 points; ties in check order
    assert all(n.file == "exercise9.py" for n in notes)
    assert notes[0].line == 9  # `def f4` is on line 9
    missing = github.annotations(replace(result, checks=checks[-1:]), path, env={})
    assert missing[0].line == 1 and "not defined" in missing[0].message
    assert "%0A" in notes[0].command() and "\n" not in notes[0].command()


def test_step_summary_stays_under_the_cap(tmp_path: Path) -> None:
    md = "# big\n\n" + "".join(f"line {i} " + "x" * 100 + "\n" for i in range(50)) + "````text\n" + \
         "".join(f"code {i}\n" for i in range(10_000)) + "````\n\nafter\n"
    cut = github.fit_summary(md, 20_000)
    assert len(cut.encode()) <= 20_000 and "1 MiB" in cut
    check_markdown_inert(cut.replace("<", ""))  # the open fence was closed
    assert github.fit_summary("small\n", 20_000) == "small\n"
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 1000)
    github.append_summary(md, summary, cap=5000)
    assert len(summary.read_bytes()) < 5000 and summary.read_text().startswith("x" * 1000)


def test_cli_reports_and_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exercise1.py"
    path.write_text(BUGGY_EX1, encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    out = tmp_path / "out"
    rc = cli.main([str(path), "--seed", str(SEED), "--device", "cpu", "--report", f"html={out}/r.html",
                   "--report", f"md={out}/r.md", "--report", f"junit={out}/r.xml", "--json", str(out / "results.json")])
    assert rc == cli.EXIT_FAILED
    stdout = capsys.readouterr().out
    errors = [line for line in stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1 and errors[0].startswith("::error file=exercise1.py,line=2,title=squared_loss%3A ")
    assert summary.read_text().startswith("## Exercise 1:")
    assert {p.name for p in out.iterdir()} == {"r.html", "r.md", "r.xml", "results.json"}
    check_gradescope(json.loads((out / "results.json").read_text()))

    rc = cli.main([str(tmp_path / "exercise1_missing.py"), "--report", f"gradescope={out}/fail.json"])
    assert rc == cli.EXIT_USAGE
    assert json.loads((out / "fail.json").read_text())["score"] == 0
    assert "::error title=grade::Could not grade" in capsys.readouterr().out
    assert cli.main([str(path), "--report", "pdf=x.pdf"]) == cli.EXIT_USAGE
    assert cli.main([str(path), "--report", "html"]) == cli.EXIT_USAGE


def test_instructor_templates_override_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("custom {{ r.score|points }} {{ r.submission|md }}\n")
    assert report.render_format("md", handmade(), folder=str(tmp_path)) == "custom 3 exercise6.ipynb\n"
    assert report.render_format("junit", handmade(), folder=str(tmp_path)).startswith("<?xml")
