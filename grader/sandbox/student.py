"""Starting a confined student worker: what it is asked to apply, its limits, the layers it confirms."""
from __future__ import annotations

import glob
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from grader.containment import cgroups
from grader.containment import isolation
from grader.errors import GraderBug, UsageError
from grader.protocol.jobs import Limits, Unit, WorkerJob

from grader.sandbox.process import Worker, launch
from grader.sandbox.warm import context
from grader.sandbox.workdir import remove


def start_student(units: tuple[Unit, ...] | None, box: str, log: str, device: str, seed: int,
                  limits: Limits, stop_on_unit_error: bool, request: isolation.Request) -> Worker:
    """Fork a student worker. It gets no task inputs here: each follows on its own pipe once the
    submission has loaded (`Worker.send`, or `send_ahead` while the one before runs), so nothing
    the submission runs at import can read them.
    `units=None` makes a spare: the submission follows on that pipe too, once it is confined."""
    from grader.sandbox import entry

    ctx = context()
    group = None
    wanted = tuple(x for x in ("cgroup-pids", "cgroup-memory", "cgroup-cpu") if request.on(x))
    if wanted:
        group = cgroups.create(limits.processes, memory_cap(limits), wanted)
    if group is not None:
        request = replace(request, cgroup_dirs=group.dirs, cgroup_layers=group.layers)
    if device.startswith("cuda"):  # the private /dev and Landlock then let the GPU's nodes through
        request = replace(request, devices=tuple(sorted(glob.glob("/dev/nvidia*"))))
    recv, send = ctx.Pipe(duplex=False)
    task_recv, task_send = ctx.Pipe(duplex=False)
    job = WorkerJob(units, (), box, log, device, seed, limits, True, stop_on_unit_error, request)
    proc = ctx.Process(target=entry.student, args=(job, send, task_recv), daemon=True)
    launch(proc)
    send.close()
    task_recv.close()
    return Worker(proc, recv, group, reap=request.on("subreaper"), tasks=task_send)


def memory_cap(limits: Limits) -> int:
    """The cgroup's memory bound: above RLIMIT_DATA, to catch what that limit does not count."""
    return int(limits.memory_bytes * 1.25) + 256 * 1024**2


def make_request(mode: str = "best-effort") -> isolation.Request:
    """What every worker of this run is asked to apply."""
    from grader.exercises import answer_keys

    hide = answer_keys.answer_key_dirs()
    fs_dir = isolation.forkserver_dir()
    if fs_dir:
        hide += (fs_dir,)
    return isolation.Request(disabled=isolation.disabled_by_test(), required=isolation.required(mode), hide=hide)


def default_limits(timeout: float) -> Limits:
    """The resource limits of a run with this time limit."""
    return Limits(cpu_seconds=int(timeout) + 5)


def confirmation(worker: Worker, deadline: float, request: isolation.Request) -> tuple[str, ...]:
    """The layers the worker confirmed before running any student code.

    It is the worker's first message, sent before the submission is loaded, so student code
    cannot forge it. A worker that cannot confirm the required layers is refused.
    """
    msg, problem, detail = worker.receive(deadline)
    if msg is None or msg.header.get("type") != "confined":
        worker.kill()
        raise GraderBug(f"the worker did not start ({problem} {detail})".strip())
    raw = msg.header.get("layers")
    layers = tuple(str(x)[:40] for x in raw[:40] if isinstance(x, str)) if isinstance(raw, list) else ()
    missing = [r for r in request.required if r not in layers]
    if missing:
        worker.kill()
        raise UsageError(f"--isolation strict: this machine cannot give {', '.join(missing)} "
                         f"(see `grade doctor`)")
    return layers


def confined_layers(mode: str = "best-effort", timeout: float = 120.0) -> tuple[str, ...]:
    """Start a worker with nothing to run; return the layers it confirmed (`grade doctor`)."""
    work = Path(tempfile.mkdtemp(prefix="grader-"))
    (work / "box").mkdir()
    request = make_request(mode)
    worker = start_student((), str(work / "box"), str(work / "output.log"), "cpu", 0, default_limits(timeout),
                           True, request)
    try:
        return confirmation(worker, time.monotonic() + timeout, request)
    finally:
        worker.kill()
        remove(work)

