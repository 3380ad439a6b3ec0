"""Shared fixtures: grade in-process (the warm forkserver is reused across tests)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import grader  # noqa: E402
from grader.sandbox import run as sandbox  # noqa: E402
from grader.results.model import GradeResult  # noqa: E402


def grade(path: Path | str, seed: int = 1234, device: str = "cpu", timeout: float | None = None) -> GradeResult:
    """Grade one file in this process, as `grade FILE --seed SEED` would (the one grading API)."""
    sandbox.warm_up()  # notebooks preloaded too, whichever file a session grades first
    return grader.grade_path(Path(path), grader.options(seed, device=device, timeout=timeout))


def failing_functions(result: GradeResult) -> set[str]:
    """The functions with at least one failed check."""
    return {c.function for c in result.checks if not c.passed}


def failing_checks(result: GradeResult) -> set[str]:
    return {c.test_name for c in result.checks if not c.passed}


@pytest.fixture(scope="session")
def grade_file():
    return grade
