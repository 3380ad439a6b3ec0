"""What an exercise declares: its checks, their points, inputs and verdicts.

Exercises live in `reference/checks/exerciseN.py`, each exposing ``EXERCISE``; an
instructor reads and extends them there.
"""
from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from grader.exercises.diagnose import KnownErrors
from grader.results.model import Failure
from grader.protocol.wire import Message


@dataclass(frozen=True)
class Case:
    """One input for one check: arrays and probe params go to the worker; context stays."""

    label: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


class Verdict(Protocol):
    """Judge-side decision for one case: None when it passes, else why not."""

    def __call__(self, case: Case, expected: Message, got: Message) -> Failure | None: ...


CaseMaker = Callable[[np.random.Generator], list[Case]]


@dataclass(frozen=True)
class Check:
    """One scored check of one function."""

    function: str
    name: str
    points: float
    cases: CaseMaker
    verdict: Verdict
    probe: str = "call"
    hint: str = ""
    hidden: bool = False
    # The check judges a property of a call that returned (inputs unchanged, leaves kept):
    # when the function raised, it says it could not check and why, without its own hint.
    needs_result: bool = False

    @property
    def test_name(self) -> str:
        return f"{self.function}: {self.name}"

    def rng(self, seed: int) -> np.random.Generator:
        """A generator for this check alone, stable when other checks are added."""
        return np.random.default_rng([seed, zlib.crc32(self.test_name.encode())])


@dataclass(frozen=True)
class Exercise:
    """An exercise: its number, the reference module, and its checks in report order."""

    number: int
    title: str
    reference: str
    checks: tuple[Check, ...]
    timeout: float = 60.0
    weights: dict[str, float] = field(default_factory=dict)
    # (planned, expected, outcomes) -> entries for GradeResult.extras (e.g. loss curves)
    extras: Callable[..., dict[str, Any]] | None = None
    # function name (or "*" for all) -> the PyTorch errors a TA recognises there, tried
    # before diagnose.KNOWN_ERRORS
    known_errors: dict[str, KnownErrors] = field(default_factory=dict)

    @property
    def functions(self) -> list[str]:
        return list(dict.fromkeys(c.function for c in self.checks))

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)


EXERCISES = (1, 2, 3, 4, 5, 6)


def load_exercise(number: int) -> Exercise:
    """The declared exercise `number` (raises LookupError when there is none)."""
    if number not in EXERCISES:
        raise LookupError(f"there is no exercise {number} (known: {', '.join(map(str, EXERCISES))})")
    try:
        module = importlib.import_module(f"reference.checks.exercise{number}")
    except ModuleNotFoundError as exc:
        raise LookupError(f"exercise {number} is not available in this installation ({exc.name})") from None
    return module.EXERCISE
