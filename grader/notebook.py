"""Notebook reading: nbformat 4 code cells in order, minus those tagged skip-grading."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UsageError

SKIP_TAG = "skip-grading"


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def code_cells(path: Path, raw: Any) -> list[tuple[int, str]]:
    """(1-based cell number, source) for each code cell to run; outputs are never read."""
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise UsageError(f"{path.name} is not a notebook: no list of cells")
    major = raw.get("nbformat")
    if major != 4:
        raise UsageError(f"{path.name} has nbformat {major!r}; only nbformat 4 notebooks are supported")
    cells = []
    for number, cell in enumerate(raw["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if isinstance(tags, list) and SKIP_TAG in tags:
            continue
        cells.append((number, _source(cell)))
    return cells
