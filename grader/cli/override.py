"""`grade override`: see grader.batch.overrides."""
from __future__ import annotations

from grader.batch.overrides import main

__all__ = ["main"]
