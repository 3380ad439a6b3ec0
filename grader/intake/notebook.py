"""Notebook reading: nbformat 4 code cells in order, minus those tagged skip-grading.

Read with nbformat (older formats are converted, validation problems tolerated); saved
outputs and the kernelspec are never used. A plain nbformat 4 notebook (it and every cell an
object with a metadata object, every source a string or a list of strings) is read from its
JSON as it is: nbformat would give the same cells, after turning the whole notebook, outputs
included, into its own objects and validating it (about 1 ms a notebook, more with outputs).
Its saved outputs are not even looked at, so malformed ones no longer refuse it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.intake.load import shown

SKIP_TAG = "skip-grading"


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _plain_v4(nb: Any) -> bool:
    """Whether nbformat would read `nb` (parsed JSON) into the same cells and sources unchanged."""
    plain = isinstance(nb, dict) and nb.get("nbformat") == 4 and isinstance(nb.get("metadata"), dict)
    cells = nb.get("cells") if plain else None
    if not isinstance(cells, list):
        return False
    for cell in cells:
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata"), dict):
            return False
        src = cell.get("source", "")
        if not isinstance(src, str) and not (isinstance(src, list) and all(isinstance(s, str) for s in src)):
            return False
    return True


def parse(path: Path, text: str) -> Any:
    """The notebook as nbformat 4, repaired where nbformat can; UsageError if it is not one."""
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError):
        nb = None  # nbformat says what is wrong
    if _plain_v4(nb):
        return nb
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
