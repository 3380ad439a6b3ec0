"""The command line: exit codes, one-line errors, results.json in every case."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_reference_exits_0_and_writes_results_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = run(str(ROOT / "reference/exercise1.py"), "--seed", "7", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "seed 7" in proc.stdout and "Score: 10 / 10" in proc.stdout
    data = json.loads(out.read_text())
    assert data["score"] == data["max_score"] == sum(t["max_score"] for t in data["tests"]) == 10
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output"}
        assert test["name"].startswith("squared_loss: ") and test["status"] == "passed"


def test_stub_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run(str(ROOT / "exercises/exercise2.py"), "--json", str(out))
    assert proc.returncode == 1
    data = json.loads(out.read_text())
    assert data["score"] == 0 and data["max_score"] == 10
    assert {t["status"] for t in data["tests"]} == {"failed"}


def test_syntax_error_is_graded_with_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run(str(SUBMISSIONS / "basics/syntax_error.py"), "--json", str(out))
    assert proc.returncode == 1
    data = json.loads(out.read_text())
    assert data["tests"][0]["name"].startswith("submission: ") and data["tests"][0]["max_score"] == 0
    assert data["max_score"] == 10 and data["score"] == 0


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.py", "no such file"),
    (lambda d: _write(d / "exercise1.txt", b"x = 1\n"), "expected a .py file or a .ipynb notebook"),
    (lambda d: _write(d / "exercise1.py", b"# \xff\xfe latin-1 \xe9\n"), "not UTF-8"),
    (lambda d: _write(d / "exercise1.ipynb", b"{not json"), "not a notebook"),
    (lambda d: _write(d / "exercise1.ipynb", b'{"cells": 3}'), "not a notebook"),
    (lambda d: _write(d / "homework.py", b"def f():\n    pass\n"), "cannot tell which exercise"),
    (lambda d: _write(d / "exercise9.py", b"x = 1\n"), "there is no exercise 9"),
    (lambda d: d, "not a file"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, make, words: str) -> None:
    target = make(tmp_path)
    out = tmp_path / "out" / "results.json"
    proc = run(str(target), "--json", str(out))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error: ") and words in lines[0], proc.stderr
    data = json.loads(out.read_text())
    assert data["score"] == 0 and words in data["output"]


@pytest.mark.parametrize("args", [[], ["--seed", "x", "a.py"], ["a.py", "--device", "tpu"], ["a.py", "--timeout", "-1"],
                                  ["a.py", "--frobnicate"]])
def test_bad_options_are_one_line_and_exit_2(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_marker_beats_file_name(tmp_path: Path) -> None:
    src = (ROOT / "reference/exercise2.py").read_text()
    path = _write(tmp_path / "Exercise1 (1).py", src.encode())
    proc = run(str(path), "--seed", "3")
    assert proc.returncode == 0 and "Exercise 2" in proc.stdout


def test_name_rule_ignores_case(tmp_path: Path) -> None:
    src = (ROOT / "reference/exercise1.py").read_text().replace("# exercise: 1\n", "")
    path = _write(tmp_path / "EXERCISE1_v2.py", src.encode())
    assert run(str(path)).returncode == 0


def test_seed_reproduces_the_inputs() -> None:
    a = run(str(SUBMISSIONS / "exercise1/bug_no_half.py"), "--seed", "11").stdout
    b = run(str(SUBMISSIONS / "exercise1/bug_no_half.py"), "--seed", "11").stdout
    c = run(str(SUBMISSIONS / "exercise1/bug_no_half.py"), "--seed", "12").stdout
    assert a == b and a != c


def test_gradescope_runner_grades_on_the_bundles_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from grader.distribution import gradescope_runner as autograder

    (tmp_path / "submission").mkdir()
    shutil.copy(SUBMISSIONS / "exercise1/bug_mean.py", tmp_path / "submission" / "exercise1.py")
    monkeypatch.setenv("AUTOGRADER_ROOT", str(tmp_path))
    results = []
    for _ in range(2):  # a resubmission of the same file
        assert autograder.main(["--seed", "9"]) == 0
        data = json.loads((tmp_path / "results" / "results.json").read_text())
        data.pop("execution_time")
        results.append(data)
    assert "seed 9" in capsys.readouterr().out
    assert results[0] == results[1] and "seed 9" in results[0]["output"]


def test_gradescope_bundle_stores_its_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import re
    import zipfile

    from grader.distribution import bundle
    from grader.cli import app as cli

    def fake_wheel(out: Path) -> Path:
        wheel = out / "grader-0-py3-none-any.whl"
        wheel.write_bytes(b"not a wheel")
        return wheel

    monkeypatch.setattr(bundle, "build_instructor_wheel", fake_wheel)
    for extra in (["--seed", "31"], []):
        out = tmp_path / "autograder.zip"
        assert cli.main(["bundle", "gradescope", "--out", str(out), *extra]) == 0
        printed = re.search(r"seed (\d+)", capsys.readouterr().out)
        assert printed and (not extra or printed.group(1) == "31")
        with zipfile.ZipFile(out) as zf:
            assert f"--seed {printed.group(1)}" in zf.read("run_autograder").decode()


def test_json_is_written_when_the_arguments_do_not_parse(tmp_path: Path) -> None:
    from grader.cli import app as cli

    out = tmp_path / "r.json"
    assert cli.main([str(ROOT / "reference/exercise1.py"), "--json", str(out), "--seed", "abc"]) == 2
    assert "--seed" in json.loads(out.read_text())["output"]
