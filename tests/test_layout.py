"""The package's layout: the import graph follows the flow, the judge never imports torch,
modules stay small.

The graph is read from the source (every `import` statement, top level or inside a function),
between the subpackages of `grader` (see docs/ARCHITECTURE.md for the flow).
"""
from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import grader

PACKAGE = Path(grader.__file__).resolve().parent
ROOT = PACKAGE.parent

# subpackage -> the subpackages it may import (the flow: submission -> worker -> answers ->
# judge -> results -> report; commands on top). The top-level modules (grader.api,
# grader.__main__) may import anything.
ALLOWED: dict[str, set[str]] = {
    "protocol": set(),
    "containment": {"protocol"},
    "intake": {"protocol"},
    "data": set(),
    "results": {"intake"},  # reports read the submission again (executed notebooks, annotations)
    "exercises": {"protocol", "results"},
    "worker": {"protocol", "containment", "exercises"},
    "sandbox": {"protocol", "containment", "worker", "exercises"},  # the course's answer keys, to hide
    "judge": {"protocol", "exercises", "intake", "results", "sandbox"},
    "batch": {"protocol", "containment", "intake", "exercises", "results", "sandbox", "judge"},
    "distribution": {"protocol", "intake", "exercises", "results", "sandbox", "judge", "batch"},
    # authoring tools (grade assign, check-exercise): they grade mutants through the batch machinery
    "authoring": {"protocol", "intake", "exercises", "results", "sandbox", "judge", "batch"},
    # grader.check() inside Jupyter: it runs `grade` as a subprocess and shows its report
    "interactive": {"intake", "results"},
    "cli": {"protocol", "containment", "intake", "exercises", "results", "sandbox", "judge", "batch",
            "distribution", "data", "authoring", "interactive"},
}
# Modules any subpackage may import: they import nothing of the grader themselves.
BASE = {"grader.errors", "grader.results.escape", "grader.results.formats"}
# The commands that live beside their machinery (`grade batch`, `grade bundle`) share the CLI's parser.
SHARED = {"grader.cli.options": {"batch", "distribution"}}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        out[".".join(("grader",) + parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    """Every grader module that `path` imports (a `from X import Y` of a module Y counts as X.Y)."""
    found = set()
    known = _modules()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("grader")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("grader"):
            subs = {f"{node.module}.{a.name}" for a in node.names} & known.keys()
            found |= subs or {node.module}
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else ""


def test_import_graph_follows_the_flow() -> None:
    wrong = []
    for module, path in _modules().items():
        src = _package(module)
        if not src:
            continue  # grader.api, grader.__main__, grader.errors: top level
        for target in _imports(path):
            dst = _package(target)
            if not dst or dst == src or target in BASE or src in SHARED.get(target, ()):
                continue
            if dst not in ALLOWED[src]:
                wrong.append(f"{module} -> {target}")
    assert wrong == [], "imports against the flow (see ALLOWED):\n" + "\n".join(wrong)


def test_allowed_table_has_no_cycles_and_names_every_subpackage() -> None:
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert set(ALLOWED) == subpackages
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        assert state[node] != 1, "cycle: " + " -> ".join(path + [node])
        if state[node] == 0:
            state[node] = 1
            for nxt in ALLOWED[node]:
                visit(nxt, path + [node])
            state[node] = 2

    for name in ALLOWED:
        visit(name, [])


def test_base_modules_import_nothing_of_the_grader() -> None:
    modules = _modules()
    for name in BASE | set(SHARED):
        imported = {m for m in _imports(modules[name]) if m not in BASE}
        assert imported == set(), f"{name} imports {imported}"


# Modules that need an optional extra (`grader[dask]`): imported only where it is installed.
OPTIONAL = {"grader.batch.executors_dask": "distributed"}


def judge_side_modules() -> list[str]:
    """Everything but the worker (torch lives there), the `python -m grader` entry point, and
    modules whose optional extra is not installed here."""
    import importlib.util

    names = [m.name for m in pkgutil.walk_packages([str(PACKAGE)], "grader.")]
    return [n for n in names if not n.startswith("grader.worker") and n != "grader.__main__"
            and not (n in OPTIONAL and importlib.util.find_spec(OPTIONAL[n]) is None)]


def test_judge_side_modules_never_import_torch() -> None:
    modules = judge_side_modules() + [f"reference.checks.{p.stem}" for p in (ROOT / "reference/checks").glob("exercise*.py")]
    assert "grader.judge.grade" in modules and "grader.cli.app" in modules
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_import_grader_is_cheap_and_exposes_the_api_lazily() -> None:
    code = ("import sys, grader\n"
            "before = 'numpy' in sys.modules or 'grader.judge' in sys.modules\n"
            "api = grader.grade_path, grader.grade_class, grader.options, grader.Options, grader.GradeResult\n"
            "print(before, 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout.split() == ["False", "False"], proc.stderr[-2000:]


MAX_LINES = 300  # "no module over about 300 lines": split one by job rather than raise this


def test_modules_stay_small() -> None:
    big = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")
                 if len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES)
    assert big == [], f"split these by job: {big}"
