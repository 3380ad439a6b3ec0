"""The judge: inputs from a seed, the reference's answers, the worker's answers, verdicts.

It never imports the submission. It scores only from answers it has validated.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from grader.judge import answers
from grader.sandbox import run as sandbox
from grader.protocol import wire
from grader.protocol.jobs import Task
from grader.errors import UsageError
from grader.intake.load import Submission
from grader.results.model import CheckResult, Failure, Frame, GradeResult, StudentError
from grader.exercises.spec import Case, Check, Exercise, load_exercise

UNREADABLE = "the worker's answer could not be read"
NOT_IMPLEMENTED_HINT = "replace `raise NotImplementedError` with your code"
# Substrings of common error messages -> what a TA would say about them.
KNOWN_ERRORS: tuple[tuple[str, str], ...] = (
    ("a leaf Variable that requires grad is being used in an in-place operation",
     "autograd recorded an in-place update of a parameter: do the update inside `with torch.no_grad():`"),
    ("'NoneType'", "a value was None where a tensor was expected (a .grad that is None? skip those parameters)"),
    # Neutral: which tensor is on the wrong device is not known here (a batch? a counter made
    # on the CPU?); exercise 6's device check advises from what its probe saw.
    ("Expected all tensors to be on the same device",
     "two tensors on different devices met in one operation (the error names the devices); "
     "a tensor created without device= is on the CPU"),
    ("cannot be multiplied", "a matrix product with mismatched shapes: check the order of the operands and transposes"),
    ("must match the size of tensor", "shapes that do not broadcast: check the shapes of your operands"),
)


# (reference module, seed) -> (CUDA available, expected answers): a batch shares one seed,
# so the reference runs once per exercise, not once per student.
_EXPECTED: dict[tuple[str, int], tuple[bool, dict[int, wire.Message]]] = {}


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


@dataclass(frozen=True)
class Planned:
    """A check with its cases and the task that runs each case."""

    check: Check
    cases: tuple[Case, ...]
    tasks: tuple[Task, ...]


def plan(exercise: Exercise, seed: int) -> list[Planned]:
    """Make every check's inputs from the seed; number the tasks."""
    planned, next_id = [], 0
    for check in exercise.checks:
        cases = tuple(check.cases(check.rng(seed)))
        tasks = []
        for case in cases:
            tasks.append(Task(next_id, check.function, check.probe, case.arrays, case.params))
            next_id += 1
        planned.append(Planned(check, cases, tuple(tasks)))
    return planned


def grade(submission: Submission, options: Options) -> GradeResult:
    """Grade one submission end to end."""
    t0 = time.monotonic()
    exercise = load_exercise(submission.exercise)
    planned = plan(exercise, options.seed)
    store = options.answers or answers.installed()
    if store is not None:
        return _grade_precomputed(submission, options, exercise, planned, store, t0)
    tasks = [t for p in planned for t in p.tasks]
    timeout = options.timeout or exercise.timeout
    cached = _EXPECTED.get((exercise.reference, options.seed))
    reference = None if cached else sandbox.start_reference(exercise.reference, tasks)
    cuda = cached[0] if cached else sandbox.reference_ready(reference)
    device = resolve_device(options.device, cuda)
    try:
        run = sandbox.run(submission.units, tasks, timeout=timeout, device=device, seed=options.seed,
                          weights=exercise.weights, stop_on_unit_error=not submission.notebook,
                          isolation_mode=options.isolation, caps=answer_caps(cached[1]) if cached else None)
    except BaseException:
        if reference is not None:
            reference.kill()  # e.g. --isolation strict refused this machine
        raise
    if cached:
        expected = cached[1]
    else:
        expected = sandbox.collect_reference(reference, tasks, timeout=max(120.0, 2 * timeout))
        _EXPECTED[(exercise.reference, options.seed)] = (cuda, expected)
    checks = [decide(p, expected, run, timeout) for p in planned]
    return _result(submission, options, exercise, device, checks, run, timeout, t0, planned, expected)


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
        extras={"cell_errors": _cell_errors(run) if submission.notebook else [],
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


# --- the student bundle: expected answers from a precomputed store (grader/judge/answers.py) ---

def _grade_precomputed(submission: Submission, options: Options, exercise: Exercise, planned: list[Planned],
                       store: answers.Store, t0: float) -> GradeResult:
    """Grade the public checks against stored answers; hidden checks are left pending.

    The same tasks, probes and verdicts as above: only where `expected` comes from differs.
    """
    public = [p for p in planned if not p.check.hidden]
    tasks = [t for p in public for t in p.tasks]
    names = [p.check.test_name for p in public for _ in p.tasks]
    expected = store.expected(exercise.number, options.seed, names, tasks)
    timeout = options.timeout or exercise.timeout
    device = resolve_device(options.device, options.device != "cpu" and _cuda_available())
    run = sandbox.run(submission.units, tasks, timeout=timeout, device=device, seed=options.seed,
                      weights=exercise.weights, stop_on_unit_error=not submission.notebook,
                      isolation_mode=options.isolation, caps=answer_caps(expected))
    checks = [pending(p.check) if p.check.hidden else decide(p, expected, run, timeout) for p in planned]
    return _result(submission, options, exercise, device, checks, run, timeout, t0, public, expected)


def pending(check: Check) -> CheckResult:
    """A hidden check that is not run here: it runs at submission, on fresh inputs."""
    return CheckResult(check.function, check.name, 0.0, check.points, None, True, pending=True)


def _cuda_available() -> bool:
    """Ask a trusted worker (no reference module, no tasks) whether CUDA is available."""
    worker = sandbox.start_reference("grader.protocol.wire", [])
    try:
        return sandbox.reference_ready(worker)
    finally:
        worker.kill()


def default_seed() -> int:
    """A seed for a run without --seed: one of the public seeds where answers are precomputed."""
    import secrets

    store = answers.installed()
    return store.random_seed() if store is not None else secrets.randbelow(2**31)


def resolve_device(wanted: str, cuda: bool) -> str:
    """`cpu`, `cuda` or `auto` -> the device the student's code runs on."""
    if wanted == "cuda" and not cuda:
        raise UsageError("--device cuda was asked for, but no CUDA device is available")
    if wanted == "auto":
        return "cuda" if cuda else "cpu"
    return wanted


def _short(failure: Failure) -> str:
    return failure.summary.split(":")[0]


def submission_failure(run: sandbox.RunOutcome, timeout: float) -> Failure | None:
    """A failure for the submission as a whole (.py import failed, timed out, crashed)."""
    if run.load_problem:
        hint = ("top-level code runs when the grader loads your file: move slow work into functions"
                if "timed out" in run.load_problem else "")
        return Failure(run.load_problem, hint=hint)
    if not run.load_errors or any(o.problem != "load" for o in run.outcomes.values()):
        return None
    error = parse_error(run.load_errors[0].get("error"))
    if error.type in ("SyntaxError", "IndentationError", "TabError"):
        return Failure(f"syntax error: {error.message} ({error.where})", error=error,
                       hint="fix the syntax error; the grader cannot run a file that does not parse")
    if error.type == "SystemExit":
        return Failure("exited while loading: your file called sys.exit() or exit() at top level", error=error,
                       hint="remove sys.exit()/exit() calls outside functions")
    if error.type in ("ImportError", "ModuleNotFoundError"):
        return Failure(f"failed to import: {error.message}", error=error,
                       hint="use only numpy, torch and the standard library")
    return Failure(f"failed to import: loading your file raised {error.type}: {error.message}", error=error,
                   hint="code outside functions runs when the file is loaded; make sure it runs cleanly")


ANSWER_SLACK = 4 * 1024 * 1024


def answer_caps(expected: dict[int, wire.Message]) -> dict[int, int]:
    """The most bytes the judge reads for each task: well above the reference's answer, far
    below the wire's cap, so an answer much larger than the expected shapes is refused as it arrives."""
    return {tid: 16 * (sum(a.nbytes for a in msg.arrays.values()) + len(repr(msg.header))) + ANSWER_SLACK
            for tid, msg in expected.items()}


def _cell_errors(run: sandbox.RunOutcome) -> list[dict[str, Any]]:
    return [{"cell": str(e.get("unit", ""))[:100], "error": parse_error(e.get("error"))} for e in run.load_errors]


def parse_error(raw: Any) -> StudentError:
    """A StudentError from the worker's untrusted JSON, type-checked and truncated."""
    if not isinstance(raw, dict):
        return StudentError("Error", "no details")
    frames = []
    listed = raw.get("frames")
    for f in listed[-8:] if isinstance(listed, list) else ():
        line = f.get("line") if isinstance(f, dict) else None
        if type(line) is int and 0 <= line < 10**9:
            frames.append(Frame(_text(f.get("file"), 200), line, _text(f.get("function"), 100), _text(f.get("code"), 200)))
    return StudentError(_text(raw.get("type"), 80) or "Error", _text(raw.get("message"), 2000), tuple(frames))


def _text(value: Any, cap: int) -> str:
    """A string field of the worker's JSON, or "" for anything else (numbers, lists, objects)."""
    return value[:cap] if isinstance(value, str) else ""


def decide(p: Planned, expected: dict[int, wire.Message], run: sandbox.RunOutcome, timeout: float) -> CheckResult:
    """All cases must pass; the first failing case is the one reported."""
    check = p.check
    for case, task in zip(p.cases, p.tasks):
        failure = case_failure(check, case, expected[task.id], run.outcomes.get(task.id), timeout)
        if failure is not None:
            failure = _with_defaults(failure, case, check)
            return CheckResult(check.function, check.name, 0.0, check.points, failure, check.hidden)
    return CheckResult(check.function, check.name, check.points, check.points, None, check.hidden)


def _with_defaults(failure: Failure, case: Case, check: Check) -> Failure:
    from dataclasses import replace

    return replace(failure, case=failure.case or case.label, hint=failure.hint or check.hint)


def case_failure(check: Check, case: Case, expected: wire.Message, outcome: sandbox.TaskOutcome | None,
                 timeout: float) -> Failure | None:
    """Why this case failed, from the outcome of its task (None: it passed)."""
    fn = check.function
    if outcome is None:
        return Failure("no answer was received")
    if outcome.message is None:
        return _problem_failure(fn, outcome, timeout)
    header = outcome.message.header
    if header.get("type") == "error":
        return _error_failure(fn, header)
    if header.get("type") != "answer" or not isinstance(header.get("info"), dict):
        return Failure(UNREADABLE)
    problem = wire.unlike(expected.header.get("info"), header["info"])
    if problem:
        return Failure(f"{UNREADABLE} ({problem})")
    got = wire.Message({**header, "judge_seconds": outcome.seconds}, outcome.message.arrays)  # judge's clock
    try:
        return check.verdict(case, expected, got)
    except Exception as exc:  # an answer of the right shape whose values the verdict cannot use
        return Failure(f"{UNREADABLE} ({exc.__class__.__name__})")


def _problem_failure(fn: str, outcome: sandbox.TaskOutcome, timeout: float) -> Failure:
    if outcome.problem == "load":
        return Failure(f"not graded: {outcome.detail}")
    if outcome.problem == "timeout":
        return Failure(f"`{fn}` did not finish in time (the whole file has {timeout:g} s)",
                       hint="look for an infinite loop or work that grows too fast with the input")
    if outcome.problem == "skipped":
        return Failure(f"not run: {outcome.detail}")
    if outcome.problem == "crash":
        return Failure(f"`{fn}` crashed the process running it: {outcome.detail}",
                       hint="do not call os._exit(), and check for out-of-memory work")
    return Failure(f"the answer from `{fn}` could not be read: {outcome.detail}")


def _error_failure(fn: str, header: dict[str, Any]) -> Failure:
    kind = header.get("kind")
    if kind == "missing":
        return Failure(_text(header.get("message"), 300) or f"`{fn}` is missing",
                       hint=f"define `{fn}` with exactly this name, at the top level of your file")
    if kind == "signature":
        return Failure(_text(header.get("message"), 500), hint="keep the parameters the exercise asks for")
    if kind == "raised":
        error = parse_error(header.get("error"))
        if error.type == "NotImplementedError":
            return Failure(f"`{fn}` is not implemented yet", hint=NOT_IMPLEMENTED_HINT, error=error)
        diagnosis = next((d for pattern, d in KNOWN_ERRORS if pattern in error.message), "")
        return Failure(f"`{fn}` raised {error.type}: {error.message}", error=error, diagnosis=diagnosis)
    return Failure(f"`{fn}` gave an answer that could not be used ({_text(header.get('message'), 200) or _text(kind, 40)})")
