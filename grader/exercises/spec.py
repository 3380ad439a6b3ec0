"""What an exercise declares: its checks, their points, inputs and verdicts.

Each course declares its exercises (`grader.exercises.registry`); the built-in course's live
in `reference/checks/exerciseN.py`, each exposing ``EXERCISE`` (see docs/AUTHORING.md).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from grader.exercises.diagnose import KnownError, KnownErrors
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
    known_errors: tuple[KnownError, ...] = ()  # bound by the registry: exercise's, then the course's
    # The random stream its cases come from (default: its own `test_name`). Checks that name the
    # same stream and make their cases with the same maker get equal inputs, and the judge runs
    # each equal task once for all of them (one training run, judged for its result and its time).
    inputs: str = ""

    @property
    def test_name(self) -> str:
        return f"{self.function}: {self.name}"

    def rng(self, seed: int) -> np.random.Generator:
        """A generator for this check (or its `inputs` stream), stable when other checks are added."""
        return np.random.default_rng([seed, zlib.crc32((self.inputs or self.test_name).encode())])


@dataclass(frozen=True)
class Exercise:
    """An exercise: its number, the reference module, and its checks in report order.

    `reference` is a module name; a leading dot makes it relative to the course's package
    (`".exercise1"`). `known_errors` adds the exercise's own to its course's."""

    number: int
    title: str
    reference: str
    checks: tuple[Check, ...]
    timeout: float = 60.0
    weights: dict[str, float] = field(default_factory=dict)
    # (planned, expected, outcomes) -> entries for GradeResult.extras (e.g. loss curves)
    extras: Callable[..., dict[str, Any]] | None = None
    # function name (or "*" for all) -> the PyTorch errors a TA recognises there, tried
    # before the course's (registry.Course.known_errors_of)
    known_errors: dict[str, KnownErrors] = field(default_factory=dict)

    @property
    def functions(self) -> list[str]:
        return list(dict.fromkeys(c.function for c in self.checks))

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)


def load_exercise(number: int) -> Exercise:
    """Exercise `number` of the active course (raises LookupError when there is none)."""
    from grader.exercises import registry

    return registry.load_exercise(number)
