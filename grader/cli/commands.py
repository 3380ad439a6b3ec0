"""Subcommands other than grading one file: each lives in its own module as `main(argv)`."""
from __future__ import annotations

import importlib
from typing import Sequence

from grader.errors import UsageError

# name -> module whose `main(argv: Sequence[str]) -> int` runs it
COMMANDS: dict[str, str] = {
    "batch": "grader.batch.run",
    "doctor": "grader.cli.doctor",
    "data": "grader.cli.datacmd",
    "init-ci": "grader.cli.initci",
    "bundle": "grader.distribution.bundle",
    "export": "grader.cli.export",
    "override": "grader.cli.override",
    "history": "grader.cli.history",
    "assign": "grader.cli.assign",
    "check-exercise": "grader.cli.check_exercise",
}


def run(name: str, argv: Sequence[str]) -> int:
    """Dispatch `grade NAME ...` to its module."""
    try:
        module = importlib.import_module(COMMANDS[name])
    except ModuleNotFoundError as exc:
        if exc.name != COMMANDS[name]:
            raise
        raise UsageError(f"`grade {name}` is not available in this installation") from None
    return int(module.main(list(argv)))
