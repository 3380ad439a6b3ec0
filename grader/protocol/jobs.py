"""What the judge hands to a worker: plain frozen dataclasses (judge -> worker only)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only named in annotations: the judge reads files before it imports numpy
    import numpy as np


@dataclass(frozen=True)
class Unit:
    """A piece of submission source run in order: a whole .py file or one notebook cell."""

    filename: str
    source: str
    kind: str = "python"  # "python" (a .py file), "cell" (a notebook cell of plain Python), "ipython"


@dataclass(frozen=True)
class Task:
    """One call of one student function by one probe, on judge-made inputs."""

    id: int
    function: str
    probe: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Resource limits applied inside the worker before any student code runs."""

    cpu_seconds: int = 120
    memory_bytes: int = 6 * 1024**3
    file_bytes: int = 64 * 1024**2
    processes: int = 64
    threads: int = 1


@dataclass(frozen=True)
class WorkerJob:
    """Everything a worker needs: the source, the tasks, where to run and with what limits."""

    units: tuple[Unit, ...] | None  # None: a spare; they follow on the task pipe once it is confined
    tasks: tuple[Task, ...]  # always empty: each task's inputs follow on a pipe after loading
    box: str
    log: str
    device: str
    seed: int
    limits: Limits = Limits()
    isolate: bool = True
    stop_on_unit_error: bool = True
    request: Any = None  # isolation.Request: the layers to apply (None: all available)
