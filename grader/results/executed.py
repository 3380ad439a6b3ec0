"""An executed copy of a student's notebook, for the instructor: what each graded cell printed
and raised, written into a copy of the notebook (the original's saved outputs are dropped)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from grader.results.model import GradeResult

CELL = re.compile(r"\[cell (\d+)\]$")


def _cell_number(unit: str) -> int | None:
    match = CELL.search(unit)
    return int(match.group(1)) if match else None


def executed_copy(path: Path, result: GradeResult) -> Any:
    """The notebook at `path` with the outputs recorded while grading it."""
    import nbformat
    from nbformat.v4 import new_output

    from grader.intake.load import read_text

    nb = nbformat.reads(read_text(path), as_version=4)  # the one safe read: no links, bounded
    printed = {_cell_number(u): text for u, text in result.extras.get("cell_outputs", [])}
    raised = {_cell_number(e["cell"]): e["error"] for e in result.extras.get("cell_errors", [])}
    count = 0
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        if number not in printed:
            continue
        count += 1
        cell.execution_count = count
        if printed[number]:
            cell.outputs.append(new_output("stream", name="stdout", text=printed[number]))
        if number in raised:
            err = raised[number]
            cell.outputs.append(new_output("error", ename=err.type, evalue=err.message, traceback=[
                f"{f.file}, line {f.line}, in {f.function}: {f.code}" for f in err.frames]))
    nb.metadata["grader"] = {"seed": result.seed, "score": result.score, "max_score": result.max_score}
    return nb


def write_executed(path: Path, result: GradeResult, dest: Path) -> None:
    """Write the executed copy of notebook `path` to `dest`."""
    import nbformat

    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(executed_copy(path, result), str(dest))
