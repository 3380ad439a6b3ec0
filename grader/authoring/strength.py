"""How strong an exercise's checks are: the reference, the stub and mutants, graded as submissions.

Every submission here runs in the usual confined student worker against the reference
worker's expected answers (computed once per seed), through the batch machinery's executor.
A mutant is *killed* when some check fails on every seed, *equivalent* when its answer to
every task equals the reference's exactly, *free by the contract* when it survives and changes
only lines the reference marks `# mutation: free (why)`, and *seed-dependent* when seeds disagree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from grader.authoring.mutants import Mutant
from grader.exercises.spec import Exercise
from grader.intake.load import Unit
from grader.protocol import wire


@dataclass(frozen=True)
class Graded:
    """One submission graded on one seed: the failed checks, and whether its answers equal the reference's."""

    seed: int
    score: float
    failed: tuple[str, ...]  # test names
    differs: frozenset[int]  # tasks whose answer is not exactly the reference's

    @property
    def identical(self) -> bool:
        return not self.differs


@dataclass(frozen=True)
class Expected:
    """The plan and the reference's answers for one seed."""

    seed: int
    planned: tuple[Any, ...]
    answers: dict[int, wire.Message]


@dataclass(frozen=True)
class MutantVerdict:
    """A mutant graded on every seed. `unstable`: per seed, the tasks where the reference graded as
    a submission does not reproduce its own answers (timings, nondeterminism); `own`: per seed,
    the tasks of the mutated function."""

    mutant: Mutant
    graded: tuple[Graded, ...]
    unstable: tuple[frozenset[int], ...] = ()
    own: tuple[frozenset[int], ...] = ()

    @property
    def killed(self) -> bool:
        return all(g.failed for g in self.graded)

    @property
    def equivalent(self) -> bool:
        """Not killed, and the same answers as the reference on every task where the reference
        itself is reproducible (at least one of them the mutated function's own)."""
        if self.killed or any(g.failed for g in self.graded):
            return False
        unstable = self.unstable or tuple(frozenset() for _ in self.graded)
        own = self.own or tuple(frozenset([-1]) for _ in self.graded)
        return all(g.differs <= bad and (mine - bad) for g, bad, mine in zip(self.graded, unstable, own))

    @property
    def free(self) -> bool:
        """Not killed, not equivalent, and changed only lines the reference marks free."""
        return bool(self.mutant.free) and not self.killed and not self.equivalent

    @property
    def seed_dependent(self) -> bool:
        return len({bool(g.failed) for g in self.graded}) > 1

    @property
    def killed_by(self) -> tuple[str, ...]:
        return tuple(sorted(set().union(*(g.failed for g in self.graded)))) if self.graded else ()


@dataclass(frozen=True)
class FunctionScore:
    function: str
    verdicts: tuple[MutantVerdict, ...]

    @property
    def equivalent(self) -> list[MutantVerdict]:
        return [v for v in self.verdicts if v.equivalent]

    @property
    def killed(self) -> list[MutantVerdict]:
        return [v for v in self.verdicts if v.killed]

    @property
    def free(self) -> list[MutantVerdict]:
        return [v for v in self.verdicts if v.free]

    @property
    def survivors(self) -> list[MutantVerdict]:
        return [v for v in self.verdicts if not v.killed and not v.equivalent and not v.free]

    @property
    def counted(self) -> int:
        """The mutants the score counts: all but the equivalent and the free ones."""
        return len(self.verdicts) - len(self.equivalent) - len(self.free)

    @property
    def score(self) -> float | None:
        """Killed / counted mutants (None when none is counted)."""
        return len(self.killed) / self.counted if self.counted else None


@dataclass(frozen=True)
class Strength:
    """The whole validation of one exercise."""

    exercise: int
    title: str
    seeds: tuple[int, ...]
    checks: tuple[str, ...]
    reference: tuple[Graded, ...]
    stub: tuple[Graded, ...]
    stub_source: str
    functions: tuple[FunctionScore, ...]
    target: float
    max_score: float = 0.0
    problems: tuple[str, ...] = field(default=())
    unstable_checks: tuple[str, ...] = field(default=())  # whose answers the reference does not reproduce

    @property
    def ok(self) -> bool:
        return not self.problems and all(f.score is None or f.score >= self.target for f in self.functions)


def expected_answers(exercise: Exercise, seed: int) -> Expected:
    """Plan the exercise on `seed` and let the reference worker answer every task."""
    from grader.judge import grade as judge
    from grader.sandbox import run as sandbox

    planned = judge.plan(exercise, seed)
    tasks = [t for p in planned for t in p.tasks]
    worker = sandbox.start_reference(exercise.reference, tasks)
    sandbox.reference_ready(worker)
    answers = sandbox.collect_reference(worker, tasks, timeout=max(120.0, 2 * exercise.timeout))
    return Expected(seed, tuple(planned), answers)


def grade_source(exercise: Exercise, expected: Expected, source: str, name: str, timeout: float) -> Graded:
    """Grade `source` (a .py submission) in the confined worker, on the CPU, against `expected`."""
    from grader.judge import expected as sources, grade as judge
    from grader.sandbox import run as sandbox

    tasks = [t for p in expected.planned for t in p.tasks]
    run = sandbox.run((Unit(name, source),), tasks, timeout=timeout, device="cpu", seed=expected.seed,
                      weights=exercise.weights, stop_on_unit_error=True, caps=sources.answer_caps(expected.answers))
    checks = [judge.decide(p, expected.answers, run, timeout) for p in expected.planned]
    failed = tuple(c.test_name for c in checks if not c.passed)
    if judge.submission_failure(run, timeout) is not None:
        failed = failed or ("submission",)
    differs = frozenset(t.id for t in tasks if not _same(run.outcomes.get(t.id), expected.answers[t.id]))
    return Graded(expected.seed, sum(c.points for c in checks), failed, differs)


def _same(outcome: Any, expected: wire.Message) -> bool:
    """The worker's answer is exactly the reference's: same facts, bit-identical arrays."""
    if outcome is None or outcome.message is None:
        return False
    got = outcome.message
    if got.header.get("type") != expected.header.get("type") or got.header.get("info") != expected.header.get("info"):
        return False
    if set(got.arrays) != set(expected.arrays):
        return False
    return all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
               for a, b in ((got.arrays[k], expected.arrays[k]) for k in got.arrays))


def measure(exercise: Exercise, reference_source: str, stub_source: str, mutants: Sequence[Mutant],
            seeds: Sequence[int], *, jobs: int | None = None, timeout: float | None = None, target: float = 0.9,
            on_done: Callable[[str], None] = lambda what: None) -> Strength:
    """Grade the reference and the stub on every seed, and every mutant on every seed, in parallel."""
    from grader.batch.executors import LocalExecutor

    timeout = timeout or exercise.timeout
    expected = {seed: expected_answers(exercise, seed) for seed in seeds}
    name = f"exercise{exercise.number}.py"
    items: list[tuple[str, int, str]] = []  # (what, seed, source)
    for seed in seeds:
        items += [("reference", seed, reference_source), ("stub", seed, stub_source)]
        items += [(f"mutant:{m.function}:{m.index}", seed, m.source) for m in mutants]
    executor = LocalExecutor(jobs or max(1, min(4, os.cpu_count() or 1)))
    done: dict[tuple[str, int], Graded] = {}

    def one(item: tuple[str, int, str]) -> Graded:
        return grade_source(exercise, expected[item[1]], item[2], name, timeout)

    for item, graded in executor.map_unordered(one, items):
        done[(item[0], item[1])] = graded
        on_done(item[0])
    reference = tuple(done[("reference", s)] for s in seeds)
    stub = tuple(done[("stub", s)] for s in seeds)
    unstable = tuple(g.differs for g in reference)
    functions = []
    for function in exercise.functions:
        own = tuple(frozenset(t.id for p in expected[s].planned if p.check.function == function for t in p.tasks)
                    for s in seeds)
        verdicts = tuple(MutantVerdict(m, tuple(done[(f"mutant:{m.function}:{m.index}", s)] for s in seeds),
                                       unstable, own)
                         for m in mutants if m.function == function)
        functions.append(FunctionScore(function, verdicts))
    checks = tuple(c.test_name for c in exercise.checks)
    shaky = tuple(p.check.test_name for s, g in zip(seeds, reference) for p in expected[s].planned
                  if any(t.id in g.differs for t in p.tasks))
    return Strength(exercise.number, exercise.title, tuple(seeds), checks, reference, stub, stub_source,
                    tuple(functions), target, exercise.max_score, tuple(problems(exercise, reference, stub, functions)),
                    tuple(dict.fromkeys(shaky)))


def problems(exercise: Exercise, reference: Sequence[Graded], stub: Sequence[Graded],
             functions: Sequence[FunctionScore]) -> list[str]:
    """What is wrong with the exercise itself, one line each."""
    found = []
    full = exercise.max_score
    for g in reference:
        if g.failed or g.score != full:
            found.append(f"the reference scores {g.score:g}/{full:g} on seed {g.seed} "
                         f"(fails {', '.join(g.failed)})")
    for g in stub:
        if g.score != 0:
            found.append(f"the stub scores {g.score:g} on seed {g.seed} (it must score 0)")
    unfailed = [c.test_name for c in exercise.checks if not c.hidden and all(c.test_name not in g.failed for g in stub)]
    if unfailed:
        found.append(f"the stub passes {', '.join(unfailed)}")
    for f in functions:
        for v in f.verdicts:
            if v.seed_dependent:
                found.append(f"{f.function} mutant {v.mutant.index} ({v.mutant.operator}) is killed on some seeds "
                             "only: a verdict depends on the seed")
    return found


def never_failed(strength: Strength) -> list[str]:
    """Checks that no mutant of their function fails (only the stub does)."""
    failing = set()
    for f in strength.functions:
        for v in f.verdicts:
            failing.update(v.killed_by)
    return [c for c in strength.checks if c not in failing]


def to_json(strength: Strength) -> dict[str, Any]:
    """The report as JSON-ready data (per function: mutants, killed, survivors with their diff)."""
    def mutant(v: MutantVerdict) -> dict[str, Any]:
        return {"index": v.mutant.index, "operator": v.mutant.operator, "line": v.mutant.line,
                "diff": v.mutant.diff, "killed_by": list(v.killed_by), "seed_dependent": v.seed_dependent}

    def free(v: MutantVerdict) -> dict[str, Any]:
        return mutant(v) | {"reason": v.mutant.free}

    return {
        "exercise": strength.exercise, "title": strength.title, "seeds": list(strength.seeds),
        "ok": strength.ok, "target": strength.target, "max_score": strength.max_score, "problems": list(strength.problems),
        "reference": [{"seed": g.seed, "score": g.score, "failed": list(g.failed)} for g in strength.reference],
        "stub": [{"seed": g.seed, "score": g.score} for g in strength.stub],
        "checks_no_mutant_fails": never_failed(strength),
        "unstable_checks": list(strength.unstable_checks),
        "functions": {f.function: {"mutants": len(f.verdicts), "killed": len(f.killed),
                                   "equivalent": len(f.equivalent), "free": len(f.free), "score": f.score,
                                   "survivors": [mutant(v) for v in f.survivors],
                                   "equivalents": [mutant(v) for v in f.equivalent],
                                   "free_by_the_contract": [free(v) for v in f.free]}
                      for f in strength.functions},
    }


def stub_for(reference_source: str, functions: Sequence[str]) -> str:
    """A stub made from the reference: each graded function's body becomes the placeholder."""
    import ast

    tree = ast.parse(reference_source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions:
            node.body = ast.parse(f'raise NotImplementedError("{node.name}: write your code here")').body
    return ast.unparse(tree) + "\n"


def reference_path(exercise: Exercise) -> Path:
    """The file of the exercise's reference module."""
    import importlib.util

    spec = importlib.util.find_spec(exercise.reference)
    if spec is None or spec.origin is None:
        raise LookupError(f"cannot find the reference module {exercise.reference}")
    return Path(spec.origin)
