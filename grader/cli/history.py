"""`grade history`: see grader.batch.history."""
from __future__ import annotations

from grader.batch.history import main

__all__ = ["main"]
