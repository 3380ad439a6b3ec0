"""A spare student worker, forked and confined ahead of need (`grade --watch`, between saves).

`prepare()` starts one with the parameters of the last run (`remember`) and reads its
confirmation; the next run with the same parameters `take`s it and sends it the submission on
its task pipe, so a re-grade skips the fork and the confinement (about 30 ms). The spare runs
no student code until then, under the same layers as any worker. One spare at most; any other
run kills it (`discard`, also at exit).
"""
from __future__ import annotations

import atexit
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.containment import isolation
from grader.protocol.jobs import Limits

from grader.sandbox.process import Worker
from grader.sandbox.student import confirmation, start_student
from grader.sandbox.workdir import remove

CONFIRM_SECONDS = 30.0


@dataclass(frozen=True)
class Key:
    """What a worker is started with, besides the submission itself."""

    device: str
    seed: int
    limits: Limits
    stop_on_unit_error: bool
    request: isolation.Request


@dataclass
class Spare:
    key: Key
    worker: Worker
    work: Path  # its folder: box/ (its working directory) and output.log
    layers: tuple[str, ...]  # what it confirmed


_LAST: Key | None = None
_SPARE: Spare | None = None


def remember(key: Key) -> None:
    """The parameters of the run starting now (what `prepare` makes a spare for)."""
    global _LAST
    _LAST = key


def prepare() -> None:
    """Have a confined spare waiting for the next run like the last one (no-op if one is)."""
    global _SPARE
    key = _LAST
    if key is None or (_SPARE is not None and _SPARE.key == key and _SPARE.worker.process.is_alive()):
        return
    discard()
    work = Path(tempfile.mkdtemp(prefix="grader-"))
    (work / "box").mkdir()
    worker = start_student(None, str(work / "box"), str(work / "output.log"), key.device, key.seed, key.limits,
                           key.stop_on_unit_error, key.request)
    try:
        layers = confirmation(worker, time.monotonic() + CONFIRM_SECONDS, key.request)
    except BaseException:
        worker.kill()
        remove(work)
        raise
    _SPARE = Spare(key, worker, work, layers)


def take(key: Key) -> Spare | None:
    """The spare, if it was made for `key` and still waits; any other spare is killed."""
    global _SPARE
    spare, _SPARE = _SPARE, None
    if spare is not None and spare.key == key and spare.worker.process.is_alive():
        return spare
    if spare is not None:
        _discard(spare)
    return None


def discard() -> None:
    """Kill the spare, if there is one, and remove its folder."""
    global _SPARE
    spare, _SPARE = _SPARE, None
    if spare is not None:
        _discard(spare)


def _discard(spare: Spare) -> None:
    spare.worker.kill()
    remove(spare.work)


atexit.register(discard)
