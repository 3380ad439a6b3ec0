"""A busy neighbour in the same batch costs a correct submission nothing: each worker's CPU
is its own cgroup's (capped at its share of --jobs), and the training-time budget counts the
worker tree's CPU time, not the wall clock.
"""
from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

import pytest

from grader.batch import run as batch
from grader.containment import isolation
from grader.sandbox import run as sandbox

ROOT = Path(__file__).resolve().parents[2]
HOG = Path(__file__).resolve().parent / "neighbours" / "cpu_hog.py"
CORRECT = ROOT / "tests" / "submissions" / "exercise6" / "correct_compact.py"
HOG_SECONDS = 200  # past the 150 s deadline: the hogs load until they are killed, so they burn
# through the whole of the correct one's grade however its tasks are timed (a hog that stopped at
# 60 s let a late timed run go fast)


HOGS = max(2, os.cpu_count() or 1)  # students, each with 25 busy processes


def _class(root: Path) -> None:
    for student in [f"a_hog{i}" for i in range(HOGS)]:
        (root / student).mkdir(parents=True)
        (root / student / "exercise6.py").write_text(HOG.read_text().replace("__SECONDS__", str(HOG_SECONDS)))
    (root / "z_correct").mkdir()
    shutil.copy(CORRECT, root / "z_correct" / "exercise6.py")


def _scores(out: Path) -> dict[str, tuple[float, float]]:
    with open(out / "gradebook.csv", newline="") as fh:
        return {r["student"]: (float(r["score"]), float(r["max_score"])) for r in csv.DictReader(fh)}


@pytest.mark.slow
@pytest.mark.parametrize("defended", [True, False], ids=["cgroup-cpu", "cgroup-cpu-off"])
def test_a_correct_exercise6_beside_cpu_hogs_gets_full_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             defended: bool):
    sandbox.warm_up()
    if "cgroup-cpu" not in sandbox.confined_layers():
        pytest.skip("no CPU cgroup here")
    if not defended:  # both defences off: no CPU share, and the judge times the worker by the wall
        # clock (cgroup v2 counts a group's CPU in cpu.stat even without the cpu controller, so
        # switching the layer off alone still leaves the CPU-time budget): the budget check fails
        from grader.containment import cgroups

        monkeypatch.setenv(isolation.DISABLE_ENV, "cgroup-cpu")
        monkeypatch.setattr(cgroups, "cpu_seconds", lambda group: None)
    _class(tmp_path / "class")
    out = tmp_path / "out"
    t0 = time.monotonic()
    batch.main([str(tmp_path / "class"), "--out", str(out), "--jobs", str(HOGS + 1), "--timeout", "150",
                "--seed", "5"])
    scores = _scores(out)
    got, full = scores["z_correct"]
    assert full > 0 and (got == full) == defended, (scores, (out / "summary.md").read_text()[:3000])
    assert all(scores[f"a_hog{i}"][0] == 0 for i in range(HOGS))
    assert time.monotonic() - t0 < 400
