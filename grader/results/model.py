"""Results as plain data: frozen dataclasses that convert to JSON-ready dicts."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    def score(self) -> float:
        return round(sum(c.points for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_points for c in self.checks), 6)

    @property
    def passed(self) -> bool:
        return self.submission_error is None and all(c.passed for c in self.checks)

    def functions(self) -> list[str]:
        """Function names in check order, each once."""
        return list(dict.fromkeys(c.function for c in self.checks))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score, passed=self.passed)
        for check, raw in zip(self.checks, data["checks"]):
            raw.update(passed=check.passed, test_name=check.test_name)
        return data
