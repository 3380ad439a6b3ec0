"""A spare worker (`grade --watch`): confined before the save, given the submission after it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT, grade
from grader.sandbox import spare

REFERENCE = ROOT / "reference" / "exercise1.py"
STUB = ROOT / "exercises" / "exercise1.py"


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.fixture(autouse=True)
def no_spare_left():
    spare.discard()
    yield
    spare.discard()


def test_a_spare_grades_the_next_run_like_a_fresh_worker() -> None:
    fresh = grade(REFERENCE, seed=7)
    spare.prepare()
    waiting = spare._SPARE
    assert waiting is not None and waiting.layers == fresh.isolation
    again = grade(REFERENCE, seed=7)
    assert spare._SPARE is None and _gone(waiting.worker.process.pid) and not waiting.work.exists()
    assert again.score == fresh.score == fresh.max_score
    assert [c.passed for c in again.checks] == [c.passed for c in fresh.checks] and again.isolation == fresh.isolation


def test_a_spare_made_for_other_parameters_is_killed_not_used() -> None:
    grade(REFERENCE, seed=7)
    spare.prepare()
    waiting = spare._SPARE
    assert waiting is not None
    result = grade(STUB, seed=8)  # another seed: its worker must be made for it
    assert result.score == 0 and _gone(waiting.worker.process.pid) and not waiting.work.exists()
    assert spare._SPARE is None


def test_the_stub_after_the_reference_through_one_spare() -> None:
    grade(REFERENCE, seed=9)
    spare.prepare()
    assert grade(STUB, seed=9).score == 0  # the spare knows nothing of the run before
    spare.prepare()
    assert grade(REFERENCE, seed=9).passed


def test_discard_leaves_nothing() -> None:
    grade(REFERENCE, seed=7)
    spare.prepare()
    waiting = spare._SPARE
    assert waiting is not None and not _gone(waiting.worker.process.pid)
    spare.discard()
    assert _gone(waiting.worker.process.pid) and not waiting.work.exists()
    assert not os.path.exists(waiting.work)
