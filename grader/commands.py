"""Subcommands other than grading one file."""
from __future__ import annotations

from typing import Sequence

from .errors import UsageError


def run(name: str, argv: Sequence[str]) -> int:
    """Dispatch `grade NAME ...`."""
    raise UsageError(f"`grade {name}` is not available yet")
