"""`grade export`: see grader.batch.export."""
from __future__ import annotations

from grader.batch.export import main

__all__ = ["main"]
