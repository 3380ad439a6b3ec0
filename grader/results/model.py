"""Results as plain data (frozen dataclasses), and the one scorer every output uses."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass(frozen=True)
class Frame:
    """One frame of a student's traceback (only the student's own frames are kept)."""

    file: str
    line: int
    function: str
    code: str = ""


@dataclass(frozen=True)
class StudentError:
    """An exception raised by the student's code, as the worker reported it."""

    type: str
    message: str
    frames: tuple[Frame, ...] = ()

    @property
    def where(self) -> str:
        """`file, line N` of the innermost student frame, or ''."""
        if not self.frames:
            return ""
        last = self.frames[-1]
        return f"{last.file}, line {last.line}"


@dataclass(frozen=True)
class Row:
    """One (index, got, expected) line of a mismatch table."""

    index: str
    got: str
    expected: str


@dataclass(frozen=True)
class Mismatch:
    """How two arrays of the same shape differ (torch.testing.assert_close style)."""

    shape: tuple[int, ...]
    mismatched: int
    total: int
    max_abs: float | None  # over the mismatched finite elements; None when there are none
    max_abs_index: str
    max_rel: float | None  # over those with a non-zero expected value; None when there are none
    max_rel_index: str
    atol: float
    rtol: float
    rows: tuple[Row, ...] = ()
    nonfinite: tuple[str, ...] = ()  # where the result is NaN/Inf and the expected value is not (first few)
    nonfinite_count: int = 0


@dataclass(frozen=True)
class Failure:
    """Why one check failed, in data: a summary line plus optional evidence."""

    summary: str
    case: str = ""
    mismatch: Mismatch | None = None
    diagnosis: str = ""
    hint: str = ""
    error: StudentError | None = None


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one check of one function."""

    function: str
    name: str
    points: float
    max_points: float
    failure: Failure | None = None
    hidden: bool = False
    seconds: float = 0.0
    pending: bool = False  # not run here: a hidden check of the student bundle, run at submission
    grader_error: bool = False  # the grader failed on this check (its verdict or case maker raised), not the code

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def test_name(self) -> str:
        """The Gradescope/JUnit name: `function: what is checked`."""
        return f"{self.function}: {self.name}"


@dataclass(frozen=True)
class GradeResult:
    """Everything known about grading one submission."""

    exercise: int
    submission: str
    seed: int
    device: str
    checks: tuple[CheckResult, ...]
    submission_error: Failure | None = None
    isolation: tuple[str, ...] = ()
    output: str = ""
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def totals(self) -> Totals:
        """The score of every check (what the terminal, reports, results.json and the gradebook show)."""
        return totals(self.checks)

    @property
    def visible_totals(self) -> Totals:
        """The score without hidden checks (what students see before grades are published)."""
        return totals(c for c in self.checks if not c.hidden)

    @property
    def score(self) -> float:
        return self.totals.score

    @property
    def max_score(self) -> float:
        """Points of the checks graded here (a student bundle's pending checks are in `totals.pending`)."""
        return self.totals.max_score

    @property
    def passed(self) -> bool:
        return self.submission_error is None and all(c.passed for c in self.checks)

    @property
    def grader_errors(self) -> tuple[CheckResult, ...]:
        """The checks the grader itself failed on ("the grader failed", apart from "your code failed")."""
        return tuple(c for c in self.checks if c.grader_error)

    def functions(self) -> list[str]:
        """Function names in check order, each once."""
        return list(dict.fromkeys(c.function for c in self.checks))


@dataclass(frozen=True)
class Totals:
    """Points earned and possible over the checks graded here, and the points of checks left
    pending (a student bundle's hidden checks, which run at submission)."""

    score: float
    max_score: float
    pending: float = 0.0

    @property
    def full_max_score(self) -> float:
        """What the checks are worth once the pending ones have run too."""
        return round(self.max_score + self.pending, 6)


def totals(checks: Iterable[CheckResult]) -> Totals:
    """The one scorer: sums over `checks`, pending checks counted apart."""
    listed = list(checks)
    ran = [c for c in listed if not c.pending]
    return Totals(round(sum(c.points for c in ran), 6), round(sum(c.max_points for c in ran), 6),
                  round(sum(c.max_points for c in listed if c.pending), 6))
