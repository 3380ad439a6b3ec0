"""`grade assign SOLUTION.(py|ipynb) --out DIR`: the student's stub, as .py and .ipynb.

The solution's code between `### BEGIN SOLUTION` and `### END SOLUTION` (and lines ending in
`# SOLUTION`) becomes a placeholder, cells tagged `solution-only` are dropped (see
`grader.authoring.markers`); the notebook is built from the stub by `grader.authoring.notebooks`.
Exit 0 when both files are written, 2 with one line otherwise.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from grader.authoring import course as courses
from grader.cli.options import Parser as _Parser, add_course
from grader.authoring import markers, notebooks
from grader.errors import UsageError
from grader.results.escape import shown


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade assign", description="Make the student's stub (.py and .ipynb) from a solution.")
    p.add_argument("solution", type=Path, help="the solution: exerciseN.py (percent format) or exerciseN.ipynb")
    p.add_argument("--out", type=Path, required=True, help="folder for the stub's .py and .ipynb")
    add_course(p)
    return p


@dataclass(frozen=True)
class Assigned:
    """The stub made from one solution: its exercise, the script and the notebook text."""

    exercise: int
    script: str
    notebook: str


def percent_source(path: Path) -> str:
    """The solution at `path` as a percent-format script (a notebook is converted)."""
    from grader.intake import load

    text = load.read_text(path)
    if path.suffix.lower() == ".ipynb":
        try:
            return notebooks.to_percent(text)
        except UsageError:
            raise
        except Exception as exc:  # nbformat's reader: not JSON, not a notebook
            raise UsageError(f"{shown(path.name)} is not a readable notebook ({type(exc).__name__})") from None
    return text


def make(path: Path) -> Assigned:
    """The stub of the solution at `path`; UsageError (one line) when it cannot be made."""
    from grader.intake import load

    source = percent_source(path)
    name = shown(path.name)
    try:
        stub = markers.assign(source)
        number = load.exercise_number(path, _first_code(source))
        graded = courses.exercise(number).functions
        markers.check_functions(source, stub, graded)
    except markers.MarkerError as exc:
        raise UsageError(f"{name}: {exc}") from None
    return Assigned(number, stub, notebooks.render(notebooks.build(stub, path.stem)))


def _first_code(script: str) -> str:
    """The script's first lines that are code (past a leading `# %%` header, if any)."""
    lines = script.splitlines()
    while lines and (not lines[0].strip() or lines[0].startswith("# %%")):
        lines = lines[1:]
    return "\n".join(lines[:5])


def write(assigned: Assigned, out: Path, stem: str) -> list[Path]:
    """Write `stem`.py and `stem`.ipynb into `out`; their paths."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / f"{stem}.py", out / f"{stem}.ipynb"]
        for target, text in zip(paths, (assigned.script, assigned.notebook)):
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write into {shown(str(out))}: {exc.strerror or exc}") from None
    return paths


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    for suffix in (".py", ".ipynb"):
        target = args.out / f"{args.solution.stem}{suffix}"
        if target.exists() and args.solution.exists() and target.resolve() == args.solution.resolve():
            raise UsageError(f"--out {shown(str(args.out))} would overwrite the solution {shown(args.solution.name)}: "
                             "write the stub into another folder")
    assigned = make(args.solution)
    for path in write(assigned, args.out, args.solution.stem):
        print(f"wrote {shown(str(path))}")
    return 0
