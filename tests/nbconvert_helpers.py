"""Turn a .py submission into an equivalent notebook: one code cell per top-level statement."""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def py_to_notebook(source: str) -> nbformat.NotebookNode:
    """Cells split at top-level statements (comments before a statement stay with it)."""
    lines = source.splitlines(keepends=True)
    try:
        starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) - 1
                  for n in ast.parse(source).body]
    except SyntaxError:
        starts = []
    if not starts or starts[0] != 0:
        starts = [0] + starts
    bounds = starts[1:] + [len(lines)]
    cells = [new_code_cell("".join(lines[a:b]).rstrip("\n")) for a, b in zip(starts, bounds)]
    cells = [c for c in cells if c.source.strip()]
    nb = new_notebook(cells=[cells[0], new_markdown_cell("Converted for the tests."), *cells[1:]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_notebook(py: Path, dest: Path) -> Path:
    nbformat.write(py_to_notebook(py.read_text()), str(dest))
    return dest
