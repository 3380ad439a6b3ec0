"""The one grading API: `grade_path` (one file) and `grade_class` (a class folder).

The CLI, the batch, the Gradescope runner and the tests all grade through these. Imported
lazily by `grader/__init__.py`, so `import grader` stays cheap.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.grading.grade import Options
    from grader.results.model import GradeResult


def options(seed: int | None = None, **fields: Any) -> Options:
    """Grading options; without `seed`, the default one (a public seed of an installed answer store,
    else a fresh random one)."""
    from grader.judge import grade as grading

    return grading.Options(seed=grading.default_seed() if seed is None else seed, **fields)


def grade_path(path: Path | str, opts: Options | None = None, *, root: Path | None = None) -> GradeResult:
    """Grade one submission file (.py or .ipynb). `root`: the folder its real path must stay in.

    Raises UsageError for a file that cannot be graded (unreadable, no exercise, --device cuda
    without CUDA), GraderBug for the grader's own failure; a failing submission is a result."""
    from grader.errors import UsageError
    from grader.intake import load
    from grader.judge import grade as grading

    submission = load.read_submission(Path(path), root)  # the warm parent starts on first use if not yet
    try:
        return grading.grade(submission, opts or options())
    except LookupError as exc:  # an exercise number this grader does not have
        raise UsageError(str(exc)) from None


def grade_class(folder: Path | str, out: Path | str, **settings: Any) -> Any:
    """Grade a class folder into `out` (gradebook, reports, summary), as `grade batch`; returns
    the run's `batch.run.Counts`. `settings`: the keyword arguments of `batch.run.grade_class`."""
    from grader.batch import run as batch

    return batch.grade_class(Path(folder), Path(out), **settings)
