"""The worker: runs in a forked, confined process; loads the submission, runs the tasks.

Imported (with numpy and torch) by the warm forkserver parent, which does nothing else.
Everything it sends back goes through `wire.encode`: JSON facts and numeric arrays.
"""
from __future__ import annotations

import linecache
import os
import pickle
import random
import sys
import traceback
import types
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import torch

from grader.containment import confine, isolation
from grader.worker import cells as ipython_cells
from grader.worker import probes
from grader.protocol import wire
from grader.protocol.jobs import Task, Unit, WorkerJob

MAX_TEXT = 2000
MAX_UNIT_ERRORS = 20  # errors listed in the "loaded" message; the rest are counted
probes.load_extensions(strict=False)


def student_error(exc: BaseException, filenames: set[str]) -> dict[str, Any]:
    """An exception as JSON, keeping only frames from the student's own files."""
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "<unprintable message>"
    frames = [
        {"file": f.filename, "line": f.lineno or 0, "function": f.name, "code": (f.line or "")[:200]}
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename in filenames
    ]
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        frames.append({"file": exc.filename, "line": exc.lineno or 0, "function": "<module>",
                       "code": (exc.text or "").rstrip()[:200]})
        message = exc.msg
    return {"type": type(exc).__name__[:80], "message": message[:MAX_TEXT], "frames": frames[-8:]}


def compile_unit(unit: Unit) -> types.CodeType:
    """Compile a unit under its display name, with its lines known to linecache."""
    source = unit.source
    if unit.kind == "ipython":
        source = ipython_cells.transform_cell(source)
    linecache.cache[unit.filename] = (len(source), None, source.splitlines(True), unit.filename)
    return compile(source, unit.filename, "exec", dont_inherit=True)


def load(units: tuple[Unit, ...], stop_on_error: bool) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Run the submission's units in a fresh module namespace; collect their errors.

    Returns the namespace, the first MAX_UNIT_ERRORS errors and how many more there were.
    """
    if any(u.kind == "ipython" for u in units):
        ns = ipython_cells.namespace()  # Jupyter semantics: __name__ == "__main__"
    elif any(u.kind == "cell" for u in units):
        ns = ipython_cells.plain_namespace()  # the same namespace, for cells that need no IPython
    else:
        module = types.ModuleType("submission")
        module.__file__ = units[0].filename if units else "submission.py"
        sys.modules["submission"] = module
        ns = module.__dict__
    names = {u.filename for u in units}
    errors, more = [], 0
    for unit in units:
        try:
            exec(compile_unit(unit), ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            if len(errors) < MAX_UNIT_ERRORS:
                errors.append({"unit": unit.filename, "error": student_error(exc, names)})
            else:
                more += 1
            if stop_on_error:
                break
        finally:
            OFFSETS.append(_output_offset())
    return ns, errors, more


OFFSETS: list[int] = []  # where each unit's printed output ends in the output log


def _output_offset() -> int:
    """The output log's position now (each unit's output is the slice up to here)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        return os.lseek(1, 0, os.SEEK_CUR)
    except (OSError, ValueError):
        return -1


def run_task(ns: dict[str, Any], task: Task, env: probes.ProbeEnv, names: set[str]) -> bytes:
    """Run one probe; turn what happened into a message."""
    head: dict[str, Any] = {"type": "answer", "task": task.id}
    try:
        answer = probes.get(task.probe)(ns, task.function, task.arrays, task.params, env)
    except probes.MissingFunction as exc:
        return wire.encode({"type": "error", "task": task.id, "kind": "missing", "message": str(exc)})
    except probes.SignatureMismatch as exc:
        return wire.encode({"type": "error", "task": task.id, "kind": "signature", "message": str(exc)[:MAX_TEXT]})
    except BaseException as exc:  # noqa: BLE001 - the student's code raised
        return wire.encode({"type": "error", "task": task.id, "kind": "raised", "error": student_error(exc, names)})
    head["info"] = answer.info
    try:
        data = wire.encode(head, answer.arrays)
    except Exception as exc:  # unencodable facts
        return wire.encode({"type": "error", "task": task.id, "kind": "unencodable", "message": repr(exc)[:200]})
    if len(data) > wire.MAX_MESSAGE_BYTES:
        return wire.encode({"type": "error", "task": task.id, "kind": "oversized",
                            "message": f"the answer is too large to check: {len(data) / 1e6:.0f} MB"})
    return data


def next_task(tasks: Connection | None) -> Task | None:
    """The next task from the judge (sent when it starts, or while the one before runs); None: no more."""
    if tasks is None:
        return None
    try:
        data = tasks.recv_bytes()
    except (EOFError, OSError):
        return None
    return pickle.loads(data) if data else None  # judge -> worker: the judge's own objects


def next_units(tasks: Connection | None) -> tuple[Unit, ...] | None:
    """A spare worker's submission, sent by the judge once it has one (None: it was not needed)."""
    if tasks is None:
        return None
    try:
        units = pickle.loads(tasks.recv_bytes())  # judge -> worker: the judge's own objects
    except (EOFError, OSError):
        return None
    return units if isinstance(units, tuple) and all(isinstance(u, Unit) for u in units) else None


def _answer(conn: Connection, data: bytes) -> None:
    """Flush what the task printed (the judge may stop us once it has the answer), then answer."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a student's replacement stream
        pass
    conn.send_bytes(data)


def main(job: WorkerJob, conn: Connection, tasks: Connection | None = None) -> None:
    """Entry point in the forked worker. Never returns: ends with os._exit.

    Task inputs arrive on `tasks` after the submission has loaded, at most one ahead of the one running.
    """
    try:
        layers = confine.enter(job.box, job.log, job.limits, job.request) if job.isolate else []
        if job.request is not None:
            isolation.guard_imports(job.request.hide)  # the course's answer keys: no import reaches them
        missing = confine.missing(layers, job.request) if job.request is not None else []
        # Sent before any student code runs: the judge's record of what confined this worker.
        conn.send_bytes(wire.encode({"type": "confined", "layers": layers, "missing": missing}))
        if missing:
            return
        units = job.units if job.units is not None else next_units(tasks)
        if units is None:
            return
        torch.set_num_threads(job.limits.threads)
        random.seed(job.seed)
        np.random.seed(job.seed % 2**32)
        probes.manual_seed(job.seed)
        ns, errors, more = load(units, job.stop_on_unit_error)
        names = {u.filename for u in units}
        conn.send_bytes(wire.encode({"type": "loaded", "errors": errors, "more_errors": more,
                                     "offsets": OFFSETS[:10_000]}))
        env = probes.ProbeEnv(device=job.device)
        while (task := next_task(tasks)) is not None:
            _answer(conn, run_task(ns, task, env, names))
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)
