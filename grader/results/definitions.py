"""Where the submission defines each graded function: a line of its file (and the notebook cell).

Read from the submission's text in the judge with `ast`, which parses and never executes, or a
regex where the code does not parse; for a notebook, the line of the notebook file that holds
the `def`, and the cell's number.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.intake.notebook import SKIP_TAG


@dataclass(frozen=True)
class Location:
    """Where a function is defined: a line of the submission file, and the notebook cell if any."""

    line: int
    cell: int | None = None


def _def_regex(name: str) -> re.Pattern[str]:
    return re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", re.MULTILINE)


def _top_level_defs(tree: ast.AST) -> dict[str, int]:
    """name -> line of the last top-level `def` (also inside top-level if/try/with blocks)."""
    found: dict[str, int] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node.lineno
            elif not isinstance(node, ast.ClassDef):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit([n for n in inner if isinstance(n, ast.stmt)] +
                              [s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body])

    visit(getattr(tree, "body", []))
    return found


def source_definitions(source: str, names: list[str]) -> dict[str, int]:
    """name -> line of its definition in `source` (1-based); names not found are left out."""
    try:
        found = _top_level_defs(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        found = _regex_definitions(source, names)
    return {n: found[n] for n in names if n in found}


def _regex_definitions(source: str, names: list[str]) -> dict[str, int]:
    """Where the code does not parse (a syntax error, IPython magics): the last `def name(` line."""
    found: dict[str, int] = {}
    for name in names:
        matches = list(_def_regex(name).finditer(source))
        if matches:
            found[name] = source.count("\n", 0, matches[-1].start()) + 1
    return found


def _notebook_definitions(text: str, names: list[str]) -> dict[str, Location]:
    try:
        raw = json.loads(text)
        cells = [c for c in raw.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"
                 and SKIP_TAG not in ((c.get("metadata") or {}).get("tags") or [])]
    except (ValueError, AttributeError, TypeError):
        return {}
    file_lines = text.splitlines()
    numbers = {id(c): i for i, c in enumerate(raw.get("cells", []), start=1)}
    found: dict[str, Location] = {}
    for cell in cells:
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        for name, line in source_definitions(src, names).items():
            def_line = src.splitlines(True)[line - 1]
            found[name] = Location(_json_line(file_lines, def_line), numbers[id(cell)])
    return found


def _json_line(file_lines: list[str], source_line: str) -> int:
    """The line of the notebook file holding `source_line` as a JSON string (1 when not found)."""
    for form in (json.dumps(source_line), json.dumps(source_line, ensure_ascii=False),
                 json.dumps(source_line.rstrip("\n")), json.dumps(source_line.rstrip("\n"), ensure_ascii=False)):
        hits = [i for i, line in enumerate(file_lines, start=1) if form in line]
        if hits:
            return hits[-1]
    return 1


def definitions(path: Path, names: list[str]) -> dict[str, Location]:
    """Where each of `names` is defined in the submission at `path` (read, never run)."""
    from grader.errors import UsageError
    from grader.intake.load import read_bytes

    try:
        text = read_bytes(path).decode("utf-8-sig", "replace")  # the one safe read: no links, bounded
    except (OSError, UsageError):
        return {}
    if path.suffix.lower() == ".ipynb":
        return _notebook_definitions(text, names)
    return {n: Location(line) for n, line in source_definitions(text, names).items()}


# ---------------------------------------------------------------- annotations
