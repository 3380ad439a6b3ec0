"""Hidden checks stay behind: the student wheel's check modules without their source.

Each `Check(..., hidden=True)` keeps its function and points under a neutral name
(HIDDEN_NAME) with stub cases and verdict, so it is reported as pending; what only hidden
checks used is removed. The answer store's manifest names them the same way.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Sequence

from grader.errors import UsageError


HIDDEN_NAME = "hidden check {}"  # what the student package calls its k-th hidden check (1-based)
_STUBS = '''

def _hidden_cases(rng):
    """A hidden check's cases exist only in the instructor's package."""
    return []


def _hidden_verdict(case, expected, got):
    return None
'''


def strip_hidden_checks(checks_dir: Path) -> None:
    """Rewrite the staged check modules so that no hidden check's source ships.

    Each `Check(..., hidden=True)` keeps only its function and points, under the name
    HIDDEN_NAME, with stub cases and verdict (it is reported as pending); the top-level
    definitions that only hidden checks used (case makers, their helpers, verdicts, hints)
    are removed. Public checks are untouched: their inputs come from their own names' seeds.
    """
    paths = sorted(checks_dir.glob("*.py"))
    texts = {p: p.read_text(encoding="utf-8") for p in paths}
    for path in paths:
        kept = _imported_by_siblings(path.stem, [t for q, t in texts.items() if q != path])
        stripped = strip_hidden_source(texts[path], kept)
        if stripped != texts[path]:
            path.write_text(stripped, encoding="utf-8")


def _imported_by_siblings(module: str, siblings: Sequence[str]) -> set[str] | None:
    """The names other check modules import from `module`; None when one imports it whole."""
    names: set[str] = set()
    for text in siblings:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == module:
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and any(a.name == module for a in node.names):
                return None
            elif isinstance(node, ast.Import) and any(a.name.split(".")[-1] == module for a in node.names):
                return None
    return names


def strip_hidden_source(source: str, kept: set[str] | None = frozenset()) -> str:
    """`source` of a check module without its hidden checks' source (see strip_hidden_checks).

    Names in `kept` stay (other modules import them); `kept=None` keeps every definition.
    """
    tree = ast.parse(source)
    candidates: set[str] = set()
    count = 0
    for node in ast.walk(tree):
        if _is_hidden_check(node):
            count += 1
            candidates |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            _blank(node, count)
    if not count:
        return source
    if kept is not None:
        _drop_unused(tree, candidates, set(kept))
    tree.body[_after_imports(tree):_after_imports(tree)] = ast.parse(_STUBS).body
    return ast.unparse(tree) + "\n"


def _is_hidden_check(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Check"
            and any(k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords))


def _blank(call: ast.Call, k: int) -> None:
    """Check(function, name, points, cases, verdict, ...) -> Check(function, HIDDEN_NAME, points, stubs)."""
    given = {key: i for i, key in enumerate(("function", "name", "points"))}
    args = {key: call.args[i] for key, i in given.items() if i < len(call.args)}
    args.update({kw.arg: kw.value for kw in call.keywords if kw.arg in given})
    call.args = [args["function"], ast.Constant(HIDDEN_NAME.format(k)), args["points"],
                 ast.Name("_hidden_cases", ast.Load()), ast.Name("_hidden_verdict", ast.Load())]
    call.keywords = [ast.keyword("hidden", ast.Constant(True))]


def _defined(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        return names if names and all(isinstance(t, ast.Name) for t in targets) else set()
    return set()


def _drop_unused(tree: ast.Module, candidates: set[str], kept: set[str]) -> None:
    """Remove top-level definitions of `candidates` (never of `kept`) that nothing left uses,
    transitively."""
    candidates = candidates - kept
    while True:
        used: dict[int, set[str]] = {i: {n.id for n in ast.walk(s) if isinstance(n, ast.Name)}
                                     for i, s in enumerate(tree.body)}
        doomed = []
        for i, stmt in enumerate(tree.body):
            names = _defined(stmt)
            if not names or not names <= candidates:
                continue
            elsewhere = set().union(*(u for j, u in used.items() if j != i))
            if names & elsewhere:
                continue
            doomed.append(i)
            candidates |= used[i] - kept
        if not doomed:
            return
        tree.body = [s for i, s in enumerate(tree.body) if i not in doomed]


def _after_imports(tree: ast.Module) -> int:
    """The index just after the module docstring and the leading imports."""
    i = 0
    for i, stmt in enumerate(tree.body):
        docstring = i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        if not (docstring or isinstance(stmt, (ast.Import, ast.ImportFrom))):
            return i
    return len(tree.body)


def check_stripped(staged_course: Path, numbers: Sequence[int]) -> None:
    """UsageError unless every hidden check of the staged modules lost its cases (one that is
    declared in a form the transform does not know would ship)."""
    from grader.exercises import registry

    staged = registry.load_folder(staged_course)
    for n in numbers:
        exercise = staged.exercise(n)
        left = [c.test_name for c in exercise.checks if c.hidden and c.cases.__name__ != "_hidden_cases"]
        if left:
            raise UsageError(f"the student wheel would ship hidden checks' cases ({', '.join(left)}): "
                             "declare them as `Check(..., hidden=True)` in EXERCISE")


def rename_hidden_in_manifest(path: Path) -> None:
    """The store's manifest names hidden checks as the student package does (HIDDEN_NAME)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for table in data["exercises"].values():
        hidden = table.get("hidden", [])
        renamed = {name: f"{name.split(': ', 1)[0]}: {HIDDEN_NAME.format(k)}" for k, name in enumerate(hidden, 1)}
        table["checks"] = [renamed.get(n, n) for n in table.get("checks", [])]
        table["hidden"] = list(renamed.values())
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
