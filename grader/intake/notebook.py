"""Notebook reading: nbformat 4 code cells in order, minus those tagged skip-grading.

Read with nbformat (older formats are converted, validation problems tolerated); saved
outputs and the kernelspec are never used.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.intake.load import shown

SKIP_TAG = "skip-grading"


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def parse(path: Path, text: str) -> Any:
    """The notebook as nbformat 4, repaired where nbformat can; UsageError if it is not one."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4, capture_validation_error={})
    except nbformat.reader.NotJSONError:
        raise UsageError(f"{shown(path.name)} is not a notebook: invalid JSON") from None
    except Exception as exc:  # unknown nbformat, missing keys, wrong types
        raise UsageError(f"{shown(path.name)} is not a notebook ({type(exc).__name__}: {str(exc)[:120]})") from None


def code_cells(path: Path, nb: Any) -> list[tuple[int, str]]:
    """(1-based cell number, source) for each code cell to run; outputs are never read."""
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise UsageError(f"{shown(path.name)} is not a notebook: no list of cells")
    out = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if isinstance(tags, list) and SKIP_TAG in tags:
            continue
        out.append((number, _source(cell)))
    return out
