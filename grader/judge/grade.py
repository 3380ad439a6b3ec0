"""The judge: inputs from a seed, the expected answers, the worker's answers, verdicts.

It never imports the submission. It scores only from answers it has validated. Where the
expected answers come from (the reference worker or a stored answer key) is `expected.Source`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from grader.errors import UsageError
from grader.exercises.spec import Case, Check, Exercise, load_exercise
from grader.intake.load import Submission
from grader.judge import answers, expected as answer_sources
from grader.judge.failures import UNREADABLE, cell_errors, grader_failure, outcome_failure, submission_failure
from grader.judge.plan import Planned, plan, tasks_of
from grader.protocol import wire
from grader.results.model import CheckResult, Failure, GradeResult
from grader.sandbox import run as sandbox


@dataclass(frozen=True)
class Options:
    """How to grade: the seed, where the student's code runs, and the time limit."""

    seed: int
    device: str = "auto"
    timeout: float | None = None
    # Precomputed expected answers (the student bundle); None: the installed store, if any,
    # else the reference worker on fresh inputs.
    answers: answers.Store | None = None
    isolation: str = "best-effort"  # or "strict": refuse to grade below isolation.STRICT


def grade(submission: Submission, options: Options) -> GradeResult:
    """Grade one submission end to end."""
    t0 = time.monotonic()
    exercise = load_exercise(submission.exercise)
    planned = plan(exercise, options.seed)
    source = answer_sources.source(options.answers)
    graded = source.graded(planned)
    tasks = tasks_of(graded)
    timeout = options.timeout or exercise.timeout
    session = source.open(exercise, options.seed, graded, options.device, timeout)
    try:
        device = resolve_device(options.device, lambda: session.cuda)
        run = sandbox.run(submission.units, tasks, timeout=timeout, device=device, seed=options.seed,
                          weights=exercise.weights, stop_on_unit_error=not submission.notebook,
                          isolation_mode=options.isolation, caps=session.caps())
    except BaseException:
        session.abort()
        raise
    expected = session.collect(timeout)
    sandbox.finished()  # no worker is needed past this point
    ran = {id(p) for p in graded}
    checks = [decide(p, expected, run, timeout) if id(p) in ran else pending(p.check) for p in planned]
    return _result(submission, options, exercise, device, checks, run, timeout, t0, graded, expected)


def _result(submission: Submission, options: Options, exercise: Exercise, device: str,
            checks: list[CheckResult], run: sandbox.RunOutcome, timeout: float, t0: float,
            planned: list[Planned], expected: dict[int, wire.Message]) -> GradeResult:
    load_failure = submission_failure(run, timeout)
    if load_failure is not None:
        checks.insert(0, CheckResult("submission", _short(load_failure), 0.0, 0.0, load_failure))
    return GradeResult(
        exercise=exercise.number,
        submission=submission.name,
        seed=options.seed,
        device=device,
        checks=tuple(checks),
        submission_error=load_failure,
        isolation=run.layers,
        output=run.output,
        seconds=time.monotonic() - t0,
        extras={"cell_errors": cell_errors(run) if submission.notebook else [],
                **({"cell_errors_more": run.load_errors_more} if submission.notebook and run.load_errors_more else {}),
                "cell_outputs": list(zip((u.filename for u in submission.units), run.unit_outputs))
                if submission.notebook else [],
                **(_extras(exercise, planned, expected, run) if exercise.extras else {})},
    )


def _extras(exercise: Exercise, planned: list[Planned], expected: dict[int, wire.Message],
            run: sandbox.RunOutcome) -> dict[str, Any]:
    """The exercise's report extras, from answers of the expected structure only."""
    usable = {tid: o if o.message is None or _readable(o.message, expected.get(tid)) else
              sandbox.TaskOutcome(problem="protocol", detail=UNREADABLE) for tid, o in run.outcomes.items()}
    try:
        return exercise.extras(planned, expected, usable)
    except Exception:  # values the figures cannot use: the report goes without them
        return {}


def _readable(msg: wire.Message, expected: wire.Message | None) -> bool:
    info = msg.header.get("info")
    return (expected is not None and isinstance(info, dict)
            and not wire.unlike(expected.header.get("info"), info))


def pending(check: Check) -> CheckResult:
    """A hidden check that is not run here: it runs at submission, on fresh inputs."""
    return CheckResult(check.function, check.name, 0.0, check.points, None, True, pending=True)


def default_seed() -> int:
    """A seed for a run without --seed: one of the public seeds where answers are precomputed."""
    import secrets

    store = answers.installed()
    return store.random_seed() if store is not None else secrets.randbelow(2**31)


def resolve_device(wanted: str, cuda: Callable[[], bool]) -> str:
    """`cpu`, `cuda` or `auto` -> the device the student's code runs on (`cuda()`, whether a
    CUDA device is available, is asked only when it matters: it may wait for the reference)."""
    if wanted == "cuda" and not cuda():
        raise UsageError("--device cuda was asked for, but no CUDA device is available")
    if wanted == "auto":
        return "cuda" if cuda() else "cpu"
    return wanted


def _short(failure: Failure) -> str:
    return failure.summary.split(":")[0]


def decide(p: Planned, expected: dict[int, wire.Message], run: sandbox.RunOutcome, timeout: float) -> CheckResult:
    """All cases must pass; the first failing case is the one reported. A check whose case maker
    or verdict raised is the grader's failure: it scores 0 and says so; the others are unaffected."""
    check = p.check
    if p.broken is not None:
        return CheckResult(check.function, check.name, 0.0, check.points, p.broken, check.hidden, grader_error=True)
    for case, task in zip(p.cases, p.tasks):
        failure = outcome_failure(check.function, expected[task.id], run.outcomes.get(task.id), timeout,
                                  check.known_errors)
        if isinstance(failure, wire.Message):
            try:
                failure = check.verdict(case, expected[task.id], failure)
            except Exception as exc:  # an answer of the expected structure: the verdict's own bug
                return CheckResult(check.function, check.name, 0.0, check.points,
                                   replace(grader_failure("verdict", exc), case=case.label), check.hidden,
                                   grader_error=True)
        if failure is not None:
            failure = _with_defaults(failure, case, check)
            return CheckResult(check.function, check.name, 0.0, check.points, failure, check.hidden)
    return CheckResult(check.function, check.name, check.points, check.points, None, check.hidden)


def _with_defaults(failure: Failure, case: Case, check: Check) -> Failure:
    raised = failure.error is not None and failure.error.type != "NotImplementedError"
    if raised and check.needs_result:  # what it checks could not be observed: say so, without its hint
        return replace(failure, summary=f"could not check this: {failure.summary}", case=failure.case or case.label)
    if raised and failure.diagnosis:  # the recognised error is the advice; the check's hint may be the very line
        return replace(failure, case=failure.case or case.label)
    return replace(failure, case=failure.case or case.label, hint=failure.hint or check.hint)
