"""Whether a notebook's cells need IPython at all, decided without importing it.

Cells run under IPython's transformation and namespace (`grader/worker/cells.py`). IPython only
changes what plain Python cannot compile (magics, `!` and `?` lines, prompts, an indented
cell), except in three ways: it drops a cell's leading blank lines (the worker does the same),
it runs a one-line cell whose first word is an unbound name as a magic when one has that name
(automagic: `ls -la`, `pwd`), and it puts names in the notebook's namespace (`display`, `In`,
`Out`, `_`, ...). Cells that compile, are not such a one-liner and read none of those names
unless they bind them first mean the same without IPython: the worker then runs them in a
plain `__main__` namespace, and the warm parent need not import IPython for them.
Anything in doubt counts as needing IPython.
"""
from __future__ import annotations

import ast
import builtins
import keyword
import re
from typing import Iterable

# what IPython's shell puts in a notebook's namespace or builtins
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___",
                           "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "__IPYTHON__"})
HISTORY = re.compile(r"_i?\d+")  # _3, _i3: outputs and inputs by number
FIRST_WORD = re.compile(r"[A-Za-z_]\w*")


def without_leading_blank_lines(source: str) -> str:
    """The cell as IPython runs it: its leading blank lines dropped (IPython's
    `leading_empty_lines`), so line numbers in tracebacks agree."""
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line and not line.isspace():
            return "".join(lines[i:])
    return source


def need_ipython(sources: Iterable[str]) -> bool:
    """True unless every cell means the same in plain Python as under IPython (module docstring)."""
    bound = set(dir(builtins)) - IPYTHON_NAMES  # exit and quit are IPython's own there
    for source in sources:
        body = without_leading_blank_lines(source)
        if body[:1].isspace():  # an indented first line: IPython dedents the cell
            return True
        try:
            tree = ast.parse(body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return True
        binds, loaded = _names(tree)
        here = bound | binds
        if _automagic(body, here):
            return True
        if any(name in IPYTHON_NAMES or HISTORY.fullmatch(name) for name in loaded - here):
            return True
        bound = here
    return False


def _automagic(body: str, bound: set[str]) -> bool:
    """A one-line cell starting with an unbound name: IPython may run it as a magic."""
    if len(body.splitlines()) != 1:
        return False
    word = FIRST_WORD.match(body)
    if word is None:
        return False
    name = word.group()
    return not (keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in bound)


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Every name the cell binds anywhere (assignments, loops, imports, defs, `as` targets), and
    every name it reads, in one walk."""
    names: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else names).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names |= set(node.names)
    return names, loaded


def notebook_needs_ipython(path: str) -> bool:
    """For the warm parent's preloads, before anything heavy is imported: whether the notebook
    at `path` needs IPython. True whenever that cannot be told cheaply (the grade reads the
    notebook properly later, and a worker makes its shell itself if need be)."""
    import json
    from pathlib import Path

    from grader.intake.load import read_text
    from grader.intake.notebook import code_cells

    try:  # the same cells the grade runs, from the JSON as it is (nbformat is not imported yet)
        return need_ipython(source for _, source in code_cells(Path(path), json.loads(read_text(Path(path)))))
    except Exception:  # noqa: BLE001 - anything odd: preload IPython, as for any notebook
        return True
