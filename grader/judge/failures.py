"""Why a case failed, as a `Failure`: from the worker's outcome, never from its exit code.

Everything read here came from the untrusted worker: every field is type-checked and
truncated (`parse_error`, `_text`). A verdict or case maker that raises is the grader's own
failure (`grader_failure`), reported apart from the student's.
"""
from __future__ import annotations

from typing import Any

from grader.exercises import diagnose
from grader.exercises.diagnose import KnownErrors
from grader.protocol import wire
from grader.results.model import Failure, Frame, StudentError
from grader.sandbox.run import RunOutcome, TaskOutcome

UNREADABLE = "the worker's answer could not be read"
NOT_IMPLEMENTED_HINT = "replace `raise NotImplementedError` with your code"
GRADER_FAILED = "the grader failed on this check (not your code)"


def grader_failure(where: str, exc: BaseException) -> Failure:
    """The grader's own bug in one check (its `where`: verdict or case maker raised `exc`)."""
    return Failure(f"{GRADER_FAILED}: its {where} raised {type(exc).__name__}: {str(exc)[:300]}",
                   hint="tell your instructor: this check could not be decided, the other checks were")


def submission_failure(run: RunOutcome, timeout: float) -> Failure | None:
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


def cell_errors(run: RunOutcome) -> list[dict[str, Any]]:
    """The notebook cells that raised while loading, for the report."""
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


def outcome_failure(fn: str, expected: wire.Message, outcome: TaskOutcome | None,
                    timeout: float, known: KnownErrors = ()) -> Failure | wire.Message:
    """Why this task's answer fails before any verdict, or the answer (with the judge's clock) to judge."""
    if outcome is None:
        return Failure("no answer was received")
    if outcome.message is None:
        return _problem_failure(fn, outcome, timeout)
    header = outcome.message.header
    if header.get("type") == "error":
        return _error_failure(fn, header, known)
    if header.get("type") != "answer" or not isinstance(header.get("info"), dict):
        return Failure(UNREADABLE)
    problem = wire.unlike(expected.header.get("info"), header["info"])
    if problem:
        return Failure(f"{UNREADABLE} ({problem})")
    return wire.Message({**header, "judge_seconds": outcome.seconds}, outcome.message.arrays)


def _problem_failure(fn: str, outcome: TaskOutcome, timeout: float) -> Failure:
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


def _error_failure(fn: str, header: dict[str, Any], known: KnownErrors = ()) -> Failure:
    """`known`: the check's known errors, most specific first (the registry binds them)."""
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
        diagnosis = diagnose.known_error(error, known)
        return Failure(f"`{fn}` raised {error.type}: {error.message}", error=error, diagnosis=diagnosis)
    return Failure(f"`{fn}` gave an answer that could not be used ({_text(header.get('message'), 200) or _text(kind, 40)})")
