"""The process behind a kernel's warm `grader.check()`: one judge that grades on request.

Started by `grader.interactive.session` as `python -c "...serve import run; run()"`. Each
request is one line on stdin, a JSON list of `grade`'s arguments; it is graded exactly as
`grade ARGS` would grade it (`grader.cli.app.main`; without `--seed`, the session's seed: a
public one in the student bundle, drawn once, as `grade --watch` keeps one). The answer is one
JSON line, {"status", "stdout", "stderr"}, on a descriptor of its own: fd 1 is moved to
/dev/null first, so nothing else the process (or anything it starts) writes can pass for an
answer. Between requests the warm parent stays up and a confined spare worker waits
(`grader.cli.watch.spare_worker`), so a re-grade costs tens of milliseconds. It leaves when
stdin closes (the kernel is gone) or after `IDLE_SECONDS` without a request, stopping the warm
parent and every worker on the way out.
"""
from __future__ import annotations

import io
import json
import os
import select
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import IO



def _idle_seconds(default: float = 1800.0) -> float:
    """GRADER_CHECK_IDLE (seconds), else 30 minutes."""
    try:
        value = float(os.environ.get("GRADER_CHECK_IDLE", default))
    except ValueError:
        return default
    return value if 0 < value < 1e7 else default


IDLE_SECONDS = _idle_seconds()
MAX_REQUEST = 1 << 20  # bytes in one request line


def _reply_channel() -> IO[str]:
    """The answers' descriptor: a copy of fd 1, which then points at /dev/null."""
    reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # a stray print between requests: nowhere
    return reply


def _request(line: bytes) -> list[str] | None:
    """`grade`'s arguments from one request line, or None for a line that is not a list of strings."""
    try:
        argv = json.loads(line)
    except ValueError:
        return None
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None
    return argv


def with_seed(argv: list[str], seed: int) -> list[str]:
    """`argv` with the session's `--seed` where it gives none."""
    if any(a == "--seed" or a.startswith("--seed=") for a in argv):
        return argv
    return [*argv, "--seed", str(seed)]


def grade_one(argv: list[str]) -> dict[str, object]:
    """One `grade ARGV`, its printed output captured: the answer's fields."""
    from grader.cli import app

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = app.main(argv)
    return {"status": status, "stdout": out.getvalue(), "stderr": err.getvalue()}


def _next_line(stdin: IO[bytes]) -> bytes | None:
    """The next request line; None at end of input or after IDLE_SECONDS without one."""
    ready, _, _ = select.select([stdin], [], [], IDLE_SECONDS)
    if not ready:
        return None
    line = stdin.readline(MAX_REQUEST + 1)
    return line if line.endswith(b"\n") else None  # end of input, or a line too long to trust


def main() -> int:
    """Serve requests until stdin closes or stays idle; 0."""
    from grader.judge import grade as grading
    from grader.sandbox import process

    reply = _reply_channel()
    seed = grading.default_seed()
    process.hold_cleanup()  # each grade's workers are stopped once its answer is out
    try:
        _serve(reply, seed, sys.stdin.buffer)
    except KeyboardInterrupt:  # between grades (a grade itself answers 130)
        pass
    from grader.sandbox import warm

    warm.shut_down()
    return 0


def _serve(reply: IO[str], seed: int, stdin: IO[bytes]) -> None:
    from grader.cli import watch

    while (line := _next_line(stdin)) is not None:
        argv = _request(line)
        answer = grade_one(with_seed(argv, seed)) if argv is not None and "--watch" not in argv else \
            {"status": 2, "stdout": "", "stderr": "grade: error: a request the warm check does not take\n"}
        try:
            reply.write(json.dumps(answer) + "\n")
            reply.flush()
        except (OSError, ValueError):  # the kernel went away mid-grade
            return
        watch.spare_worker()


def run() -> None:
    """The server's entry: `main`, then `grader.cli.app.run`'s quick exit."""
    from grader.cli import app

    app.run(main)
