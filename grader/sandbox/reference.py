"""The trusted reference worker: forked beside the student's, its answers are the expected ones.

Any failure of the reference is the grader's bug (GraderBug), never the student's.
"""
from __future__ import annotations

import sys
import time

from grader.errors import GraderBug
from grader.protocol import wire
from grader.protocol.jobs import Task

from grader.sandbox import same_tasks
from grader.sandbox.process import Worker, launch
from grader.sandbox.warm import context


def start_reference(module: str, tasks: list[Task]) -> Worker:
    """Fork the trusted reference worker (it runs while the student's worker does); equal
    tasks run once (`same_tasks`: `collect_reference` gives each its answer)."""
    from grader.sandbox import entry

    tasks, same = same_tasks.merged(tasks)
    ctx = context()
    recv, send = ctx.Pipe(duplex=False)
    widen(recv.fileno())
    proc = ctx.Process(target=entry.reference, args=(module, tuple(tasks), send), daemon=True)
    launch(proc)
    send.close()
    return Worker(proc, recv, same=same)


F_SETPIPE_SZ = 1031  # Linux
REFERENCE_PIPE_BYTES = 1024 * 1024  # the unprivileged maximum (/proc/sys/fs/pipe-max-size) by default


def widen(fd: int) -> None:
    """Let the reference write all its answers while the judge still waits for the student's.

    With the default 64 KiB it blocks mid-way in exercise 5 (92 ms where 24 do). Linux only;
    elsewhere, or past the system's maximum, the pipe keeps its size."""
    if sys.platform.startswith("linux"):
        import fcntl

        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, REFERENCE_PIPE_BYTES)
        except OSError:
            pass


def reference_ready(worker: Worker, timeout: float = 120.0) -> bool:
    """Wait for the reference worker's first message; True when CUDA is available."""
    msg, problem, detail = worker.receive(time.monotonic() + timeout)
    if msg is None or msg.header.get("type") != "ready":
        worker.kill()
        raise GraderBug(f"the reference worker did not start ({problem} {detail})".strip())
    return bool(msg.header.get("cuda"))


def collect_reference(worker: Worker, tasks: list[Task], timeout: float) -> dict[int, wire.Message]:
    """The reference's answer to every task; any failure is the grader's bug."""
    answers: dict[int, wire.Message] = {}
    deadline = time.monotonic() + timeout
    try:
        for task in [t for t in tasks if t.id not in worker.same]:  # what `start_reference` sent it
            msg, problem, detail = worker.receive(deadline)
            if msg is None:
                raise GraderBug(f"the reference worker failed on `{task.function}` ({problem} {detail})".strip())
            if msg.header.get("type") != "answer" or msg.header.get("task") != task.id:
                raise GraderBug(f"the reference failed on `{task.function}`:\n{msg.header.get('trace', '')}")
            answers[task.id] = msg
    finally:
        worker.kill()
    return same_tasks.spread(answers, worker.same)
