"""`grade batch`: a generated class matches single-file grading; resuming; bad input never stops it."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS, failing_checks, grade
from grader.batch import cache, run as batch
from nbconvert_helpers import write_notebook

SEED = 77


def _sources() -> list[Path]:
    files = [ROOT / "reference/exercise1.py", ROOT / "reference/exercise2.py", ROOT / "exercises/exercise1.py"]
    return files + sorted(SUBMISSIONS.glob("exercise1/*.py")) + sorted(SUBMISSIONS.glob("exercise2/*.py"))


def make_class(root: Path) -> dict[tuple[str, int], Path]:
    """≥30 students, nested and flat layouts, .py and .ipynb; returns (student, exercise) -> file."""
    made = {}
    for i, src in enumerate(_sources()):
        ex = 1 if "exercise1" in str(src) else 2
        student = f"s{i:02d}"
        if i % 3 == 0:
            dest = write_notebook(src, (root / student).mkdir(parents=True) or root / student / f"exercise{ex}.ipynb")
        elif i % 3 == 1:
            (root / student).mkdir(parents=True)
            dest = root / student / f"Exercise{ex} (1).py"
            shutil.copy(src, dest)
        else:
            dest = root / f"{student}_exercise{ex}.py"
            shutil.copy(src, dest)
        made[(student, ex)] = dest
    for i in range(30 - len(made)):
        student = f"t{i:02d}"
        (root / student).mkdir()
        dest = root / student / "exercise1.py"
        shutil.copy(ROOT / "reference/exercise1.py" if i % 2 else SUBMISSIONS / "exercise1/bug_mean.py", dest)
        made[(student, 1)] = dest
    return made


def read_csv(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        return {(r["student"], r["exercise"]): r for r in csv.DictReader(fh)}


def db_rows(out: Path) -> dict[tuple[str, int], float]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return {(s, e): t for s, e, t in db.execute("select student, exercise, graded_at from results")}


def test_a_class_matches_single_file_grading(tmp_path: Path) -> None:
    made = make_class(tmp_path / "class")
    (tmp_path / "class" / "s00" / "notes.txt").write_text("not an exercise")
    out = tmp_path / "out"
    assert batch.main([str(tmp_path / "class"), "--out", str(out), "--seed", str(SEED), "--jobs", "2"]) == 0
    rows = read_csv(out)
    assert len(rows) == len(made) >= 30
    for (student, ex), path in made.items():
        single = grade(path, seed=SEED)
        row = rows[(student, f"exercise{ex}")]
        assert float(row["score"]) == single.score and float(row["max_score"]) == single.max_score
        stored = json.loads((out / "reports" / student / f"exercise{ex}.json").read_text())
        assert {t["name"] for t in stored["tests"] if t["status"] == "failed"} == failing_checks(single)
        assert (out / "reports" / student / f"exercise{ex}.html").exists()
    assert "notes.txt" in (out / "skipped.txt").read_text()
    summary = (out / "summary.md").read_text()
    assert "Checks the class fails most" in summary and f"seed {SEED}" in summary


def test_rerun_grades_only_what_changed(tmp_path: Path) -> None:
    made = make_class(tmp_path / "class")
    out = tmp_path / "out"
    args = [str(tmp_path / "class"), "--out", str(out), "--jobs", "2"]
    assert batch.main(args) == 0
    first = db_rows(out)
    report = out / "reports" / "s01" / "exercise2.json"
    seed = json.loads(report.read_text())["output"]
    changed = made[("s04", 1)] if ("s04", 1) in made else next(iter(made.values()))
    changed.write_text(changed.read_text() + "\n# edited\n")
    assert batch.main(args) == 0
    second = db_rows(out)
    regraded = {k for k in first if second[k] != first[k]}
    assert regraded == {k for k, v in made.items() if v == changed}
    assert json.loads(report.read_text())["output"] == seed  # one seed per batch
    assert batch.main(args + ["--only", "s01"]) == 0 and db_rows(out) == second
    assert batch.main(args + ["--only", "s01", "--force"]) == 0
    assert {k for k, t in db_rows(out).items() if t != second[k]} == {k for k in made if k[0] == "s01"}


def test_newest_of_two_submissions_is_graded(tmp_path: Path) -> None:
    root = tmp_path / "class"
    (root / "amy").mkdir(parents=True)
    old = root / "amy" / "exercise1.py"
    shutil.copy(SUBMISSIONS / "exercise1/bug_no_half.py", old)
    os.utime(old, (time.time() - 100, time.time() - 100))
    shutil.copy(ROOT / "reference/exercise1.py", root / "amy_exercise1.py")
    out = tmp_path / "out"
    assert batch.main([str(root), "--out", str(out)]) == 0
    assert read_csv(out)[("amy", "exercise1")]["score"] == "10"
    assert "older submission" in (out / "skipped.txt").read_text()


def _bad_class(root: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    def nb(student: str, *cells: str, name: str = "exercise1.ipynb") -> Path:
        (root / student).mkdir(parents=True, exist_ok=True)
        path = root / student / name
        nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), str(path))
        return path

    (root / "bad_json").mkdir(parents=True)
    (root / "bad_json" / "exercise1.ipynb").write_text("{oops")
    (root / "not_nb").mkdir()
    (root / "not_nb" / "exercise1.ipynb").write_text('{"hello": "world"}')
    (root / "future").mkdir()
    (root / "future" / "exercise1.ipynb").write_text('{"nbformat": 9, "nbformat_minor": 0, "cells": [], "metadata": {}}')
    nb("waits", "# exercise: 1", "name = input('name? ')", (ROOT / "reference/exercise1.py").read_text())
    big = nb("huge", (ROOT / "reference/exercise1.py").read_text())
    data = json.loads(big.read_text())
    data["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (60 * 2**20)}]
    big.write_text(json.dumps(data))
    nb("trains", "# exercise: 1\nimport time\ntime.sleep(3600)")
    (root / "unrelated").mkdir()
    (root / "unrelated" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "unrelated" / "notes.md").write_text("# notes")
    (root / "ok").mkdir()
    shutil.copy(ROOT / "reference/exercise1.py", root / "ok" / "exercise1.py")


def test_bad_input_gets_its_own_status_and_the_batch_goes_on(tmp_path: Path) -> None:
    _bad_class(tmp_path / "class")
    out = tmp_path / "out"
    code = batch.main([str(tmp_path / "class"), "--out", str(out), "--jobs", "2", "--timeout", "4"])
    assert code == 1  # some could not be graded
    rows = read_csv(out)
    status = {s: rows[(s, "exercise1")]["status"] for s, _ in rows}
    assert status == {"bad_json": "error", "not_nb": "error", "future": "error",
                      "waits": "passed", "trains": "failed", "ok": "passed"}
    assert all(rows[(s, "exercise1")]["max_score"] == "10" for s in status)
    reasons = {s: json.loads((out / "reports" / s / "exercise1.json").read_text())["output"] for s in status}
    assert "invalid JSON" in reasons["bad_json"] and "nbformat" in reasons["future"]
    trains = (out / "reports" / "trains" / "exercise1.txt").read_text()
    assert "timed out" in trains
    skipped = (out / "skipped.txt").read_text()
    assert "photo.jpg" in skipped
    assert "huge/exercise1.ipynb" in skipped and "clear its outputs" in skipped  # never read (issue 12.2)


@pytest.mark.slow
def test_sigkill_mid_batch_then_rerun_grades_each_exactly_once(tmp_path: Path) -> None:
    root = tmp_path / "class"
    for i in range(12):
        (root / f"k{i:02d}").mkdir(parents=True)
        src = "# exercise: 1\nimport time\ntime.sleep(0.4)\n" + (ROOT / "reference/exercise1.py").read_text()
        (root / f"k{i:02d}" / "exercise1.py").write_text(src)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--jobs", "1", "--seed", "5"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not (out / "gradebook.sqlite").exists() or len(db_rows(out)) < 3):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = db_rows(out)
    assert 3 <= len(before) < 12
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode == 0
    after = db_rows(out)
    assert len(after) == 12
    assert all(after[k] == t for k, t in before.items())  # nothing graded twice
    rows = read_csv(out)
    assert len(rows) == 12 and {r["score"] for r in rows.values()} == {"10"}


def _small_class(root: Path) -> None:
    for student, src, name in (("amy", ROOT / "reference/exercise1.py", "exercise1.py"),
                               ("bob", SUBMISSIONS / "exercise1/bug_mean.py", "exercise1.py"),
                               ("cat", ROOT / "reference/exercise2.py", "exercise2.py")):
        (root / student).mkdir(parents=True)
        shutil.copy(src, root / student / name)


def counts(out: Path) -> dict[str, int]:
    data = json.loads((out / "batch.json").read_text())
    return {k: data[k] for k in ("graded", "reused", "regraded", "failed", "skipped", "seed")}


def test_batch_json_counts_and_the_whole_gradebook_after_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    _small_class(root)
    (root / "amy" / "notes.txt").write_text("not an exercise")
    args = [str(root), "--out", str(out), "--seed", "3", "--jobs", "2"]
    assert batch.main(args) == 0
    assert counts(out) == {"graded": 3, "reused": 0, "regraded": 0, "failed": 0, "skipped": 1, "seed": 3}
    assert "graded 3, reused 0, regraded 0, failed 0, skipped 1; seed 3" in capsys.readouterr().err
    full = read_csv(out)
    assert batch.main(args) == 0
    assert counts(out)["reused"] == 3 and counts(out)["graded"] == counts(out)["regraded"] == 0
    assert batch.main(args + ["--only", "bob", "--force"]) == 0
    assert counts(out) | {"skipped": 0} == {"graded": 0, "reused": 0, "regraded": 1, "failed": 0, "skipped": 0,
                                            "seed": 3}
    assert read_csv(out) == full  # regenerated from the whole gradebook, not bob alone
    assert len(read_csv(out)) == 3
    assert batch.main(args + ["--only", "nobody"]) == 0
    assert read_csv(out) == full
    assert batch.main(args + ["--timeout", "50"]) == 0  # an option that can change a verdict
    assert counts(out)["regraded"] == 3


def test_a_change_in_the_graders_own_code_regrades(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    _small_class(root)
    args = [str(root), "--out", str(out), "--seed", "3", "--jobs", "2"]
    assert batch.main(args) == 0
    copy = tmp_path / "grader"
    shutil.copytree(Path(batch.__file__).parents[1], copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "__file__", str(copy / "batch" / "cache.py"))
    cache.grader_hash.cache_clear()
    cache.spec_hash.cache_clear()
    try:
        assert batch.main(args) == 0
        assert counts(out)["reused"] == 3  # the same files: the same key
        compare = copy / "exercises" / "compare.py"  # shared code, e.g. a tolerance
        compare.write_text(compare.read_text() + "\n# a tolerance changed\n")
        cache.grader_hash.cache_clear()
        cache.spec_hash.cache_clear()
        assert batch.main(args) == 0
        assert counts(out)["regraded"] == 3 and counts(out)["reused"] == 0
    finally:
        cache.grader_hash.cache_clear()
        cache.spec_hash.cache_clear()


def test_spec_hash_covers_this_exercises_files_and_the_shared_ones(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from grader.exercises import registry

    course = registry.active()
    copy = tmp_path / "reference"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(registry, "_ACTIVE", {os.environ.get(registry.ENV, "").strip(): replace(course, root=str(copy))})

    def fresh() -> str:
        cache.spec_hash.cache_clear()
        return cache.spec_hash(1)

    try:
        first = fresh()
        (copy / "exercise2.py").write_text("# another exercise changed\n")
        (copy / "checks" / "exercise3.py").write_text("# another exercise changed\n")
        assert fresh() == first
        for rel in ("checks/exercise1.py", "exercise1.py", "numpy_solutions.py", "checks/__init__.py", "course.py"):
            before = fresh()
            (copy / rel).write_text((copy / rel).read_text() + "\n# changed\n")
            assert fresh() != before, rel
    finally:
        cache.spec_hash.cache_clear()
