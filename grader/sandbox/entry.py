"""Process entry points that the judge can name without importing torch.

The judge pickles a reference to these functions; in the forked child, the heavy modules
they import were already loaded by the warm parent.
"""
from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any


def student(job: Any, conn: Connection, tasks: Connection | None = None) -> None:
    from grader.worker.student import main

    main(job, conn, tasks)


def reference(module: str, tasks: Any, conn: Connection) -> None:
    from grader.worker.reference import main

    main(module, tasks, conn)
