"""The one grading API, a check whose verdict raises, and the command line a newcomer meets."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import grader
from conftest import ROOT, SUBMISSIONS
from grader.batch import run as batch
from grader.cli import app as cli
from grader.errors import UsageError
from grader.exercises.spec import load_exercise
from grader.judge import grade as judge

REFERENCE = ROOT / "reference/exercise1.py"
BROKEN = "squared_loss: reshapes y of shape (n,) to y_hat's shape"


def _breaking(monkeypatch: pytest.MonkeyPatch, test_name: str, part: str) -> None:
    """Exercise 1 with one check whose verdict (or case maker) raises: a bug in the check."""
    def raises(*args, **kwargs):
        raise ZeroDivisionError("a bug in this check")

    exercise = load_exercise(1)
    assert test_name in {c.test_name for c in exercise.checks}
    checks = tuple(replace(c, **{part: raises}) if c.test_name == test_name else c for c in exercise.checks)
    monkeypatch.setattr(judge, "load_exercise", lambda n: replace(exercise, checks=checks) if n == 1 else load_exercise(n))


def test_grade_path_is_the_api() -> None:
    result = grader.grade_path(REFERENCE, grader.options(7, device="cpu"))
    assert isinstance(result, grader.GradeResult) and result.passed and result.seed == 7
    assert result.score == result.max_score == load_exercise(1).max_score
    with pytest.raises(UsageError, match="no such file"):
        grader.grade_path(ROOT / "no-such-file.py", grader.options(7, device="cpu"))


@pytest.mark.parametrize("part", ["verdict", "cases"])
def test_a_check_that_raises_costs_only_itself(part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _breaking(monkeypatch, BROKEN, part)
    out = tmp_path / "results.json"
    assert cli.main([str(REFERENCE), "--seed", "3", "--device", "cpu", "--json", str(out)]) == 1
    text = capsys.readouterr().out
    assert "✗ ERROR" in text and f"The grader failed on 1 check (not your code; tell your instructor): {BROKEN}" in text
    data = json.loads(out.read_text())
    tests = {t["name"]: t for t in data["tests"]}
    broken = tests.pop(BROKEN)
    assert broken["score"] == 0 and broken["status"] == "failed"
    assert "the grader failed on this check (not your code)" in broken["output"]
    assert "ZeroDivisionError" in broken["output"] and ("verdict" if part == "verdict" else "case maker") in broken["output"]
    assert tests and all(t["status"] == "passed" and t["score"] == t["max_score"] for t in tests.values())
    assert data["score"] == load_exercise(1).max_score - broken["max_score"]


def test_a_grader_error_is_kept_apart_from_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.results import render as report

    _breaking(monkeypatch, BROKEN, "verdict")
    result = grader.grade_path(SUBMISSIONS / "exercise1/bug_no_half.py", grader.options(3, device="cpu"))
    assert [c.test_name for c in result.grader_errors] == [BROKEN]
    assert any(not c.passed and not c.grader_error for c in result.checks)  # the student's own failures
    junit = report.render_format("junit", result)
    assert junit.count("<error ") == 1 and 'errors="1"' in junit and "<failure " in junit
    assert "✗ grader error" in report.render_format("md", result)


# ------------------------------------------------------------------ the command line (issue 17.5)

def test_version_names_the_versions_without_importing_torch() -> None:
    from importlib import metadata

    code = "import sys; from grader.cli import app; app.main(['--version']); print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    first, last = proc.stdout.splitlines()[0], proc.stdout.splitlines()[-1]
    assert last == "False" and proc.returncode == 0
    assert f"torch {metadata.version('torch')}" in first and f"numpy {metadata.version('numpy')}" in first
    assert grader.__version__ in first and f"python {sys.version.split()[0]}" in first


def test_unknown_command_suggests_the_nearest(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.main(["bach", "class", "--json", str(tmp_path / "r.json")]) == 2
    assert capsys.readouterr().err.strip() == "grade: error: unknown command 'bach' (did you mean batch?)"
    assert "unknown command 'bach'" in json.loads((tmp_path / "r.json").read_text())["output"]
    assert cli.main(["bach.py"]) == 2  # a file name is graded as a file
    assert "no such file: bach.py" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bach").write_text("x = 1\n")
    assert cli.main(["bach"]) == 2  # an existing file is a file, whatever its name
    assert "cannot grade bach: expected a .py file" in capsys.readouterr().err


def test_unwritable_out_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "class" / "amy").mkdir(parents=True)
    (tmp_path / "class" / "amy" / "exercise1.py").write_text("x = 1\n")
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "out"
    assert cli.main(["batch", str(tmp_path / "class"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write to --out {out}" in err and "internal error" not in err


def test_empty_class_folder_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "notes.txt").write_text("")
    assert batch.main([str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "no submissions found in" in err and "1 file passed over" in err


def test_batch_lines_read_as_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "class" / "amy").mkdir(parents=True)
    (tmp_path / "class" / "amy" / "exercise1.py").write_bytes(REFERENCE.read_bytes())
    (tmp_path / "class" / "amy" / "notes.txt").write_text("")
    assert batch.main([str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--seed", "5", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "1 submission (0 already graded), 1 file skipped" in err and "every submission was graded" in err
    assert "(s)" not in err and "1 files" not in err
    run = grader.grade_class(tmp_path / "class", tmp_path / "out", seed=5, device="cpu")
    assert (run.counts.reused, run.counts.graded, run.not_graded) == (1, 0, 0)
    assert [(r.student, r.score, r.max_score) for r in run.rows] == [("amy", 10, 10)]


def test_one_rule_chooses_between_two_files_of_one_exercise(tmp_path: Path) -> None:
    import os
    import time

    from grader.intake import discover

    exact, other, flat = tmp_path / "exercise1.py", tmp_path / "sub" / "Exercise1 (1).py", tmp_path / "amy_exercise1.py"
    other.parent.mkdir()
    t0 = time.time() - 100
    for i, path in enumerate((exact, other, flat)):
        path.write_text("x = 1\n")
        os.utime(path, (t0 + i, t0 + i))
    notebook = tmp_path / "exercise1.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (t0, t0))  # as old as exercise1.py
    assert discover.preferred([other, exact], 1) == [exact, other]  # the exact name wins over a newer copy
    assert discover.preferred([exact, flat], 1, root=tmp_path) == [flat, exact]  # both exact: the newest
    assert discover.preferred([notebook, exact], 1)[0] == exact  # same age: the .py
