"""Grading one submission of a batch: on this machine, or shipped to a Dask worker as bytes.

With `--scheduler` each Dask task carries the submission's bytes (a `Shipment`), so workers
need no shared filesystem; a worker whose grader differs from the coordinator's refuses.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterator

from grader import __version__
from grader.batch.cache import Settings, spec_hash
from grader.errors import UsageError
from grader.intake import discover, load


@dataclass(frozen=True)
class Outcome:
    """What grading one entry produced: a result, or why there is none."""

    status: str  # "passed", "failed" or "error"
    result: Any = None  # GradeResult
    message: str = ""
    final: bool = True  # False: the grading machinery failed, not the submission; a rerun retries it


@dataclass(frozen=True)
class Shipment:
    """A submission as it travels to a Dask worker: its bytes, not its path.

    `spec` and `version` are what the coordinator's content key assumed; a worker whose
    grader differs refuses to grade rather than store a result under the wrong key.
    """

    student: str
    exercise: int
    filename: str
    data: bytes
    spec: str
    version: str


def grade_entry(entry: discover.Entry, settings: Settings) -> Outcome:
    """Grade one submission; anything that stops it becomes an 'error' outcome."""
    from grader import api

    try:
        result = api.grade_path(entry.path, api.options(settings.seed, device=settings.device,
                                                         timeout=settings.timeout), root=entry.root)
    except (UsageError, LookupError) as exc:
        return Outcome("error", message=str(exc))
    except Exception as exc:  # a grader bug must not stop the batch
        return Outcome("error", message=f"internal error: {type(exc).__name__}: {exc}")
    return Outcome("passed" if result.passed else "failed", result)


def ship(entry: discover.Entry, spec: str) -> Shipment | Outcome:
    """The entry's bytes for a remote worker, or an 'error' outcome if it cannot be sent."""
    try:
        data = load.read_bytes(entry.path, entry.root)
    except UsageError as exc:
        return Outcome("error", message=str(exc))
    return Shipment(entry.student, entry.exercise, entry.path.name, data, spec, __version__)


def grade_shipment(shipment: Shipment, settings: Settings) -> Outcome:
    """Runs on a Dask worker: grade the shipped bytes with the same sandbox and protocol."""
    from grader.batch.executors_dask import prepare_worker

    if shipment.version != __version__ or shipment.spec != spec_hash(shipment.exercise):
        return Outcome("error", message=f"a Dask worker runs grader {__version__} with other checks for "
                       f"exercise {shipment.exercise}: install the same grader on every worker", final=False)
    prepare_worker()
    with tempfile.TemporaryDirectory(prefix="grader-shipped-") as folder:
        path = Path(folder) / Path(shipment.filename).name
        path.write_bytes(shipment.data)
        return grade_entry(discover.Entry(shipment.student, shipment.exercise, path), settings)


def local(todo: list[tuple[discover.Entry, str]], settings: Settings,
          jobs: int) -> Iterator[tuple[tuple[discover.Entry, str], Outcome]]:
    from grader.containment import cgroups
    from grader.batch.executors import LocalExecutor

    cgroups.share_cpus(jobs)  # each worker's CPU is capped at its share of the machine
    return LocalExecutor(jobs).map_unordered(lambda item: grade_entry(item[0], settings), todo)


def remote(todo: list[tuple[discover.Entry, str]], settings: Settings,
           executor: Any) -> Iterator[tuple[tuple[discover.Entry, str], Outcome]]:
    """Ship each entry's bytes to the cluster; one that cannot be sent is an 'error' outcome here."""
    items = {(e.student, e.exercise): (e, k) for e, k in todo}
    refused: list[tuple[tuple[discover.Entry, str], Outcome]] = []

    def shipments() -> Iterator[Shipment]:
        for entry, key in todo:
            shipped = ship(entry, spec_hash(entry.exercise))
            if isinstance(shipped, Shipment):
                yield shipped
            else:
                refused.append(((entry, key), shipped))

    def lost(shipment: Shipment, exc: BaseException) -> Outcome:
        return Outcome("error", message=f"the Dask task failed: {type(exc).__name__}: {exc}", final=False)

    for shipment, outcome in executor.map_unordered(partial(grade_shipment, settings=settings), shipments(),
                                                    on_error=lost):
        while refused:
            yield refused.pop(0)
        yield items[(shipment.student, shipment.exercise)], outcome
    yield from refused
