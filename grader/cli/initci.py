"""`grade init-ci`: write a GitHub Actions workflow that grades a submission repository.

The workflow installs the CPU build of PyTorch from the PyTorch index (a plain `torch`
pulls CUDA), installs the grader, grades each submission with JUnit, Markdown and HTML
reports, and uploads them as an artifact. Every run grades on the seed drawn (or given with
`--seed`) when the workflow is written, stored in it as GRADER_SEED and printed, so a push of
an unchanged file gets the same grade. Inside Actions, `grade` also writes the step
summary and annotates the failing functions.
"""
from __future__ import annotations

import argparse
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from grader.errors import UsageError
from grader.cli.options import Parser

WORKFLOW = Path(".github/workflows/grade.yml")
TEMPLATE = "github_workflow.yml.j2"
SUBMISSION = re.compile(r"exercise\s*_?\d+", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """One submission the workflow grades, and the stem of its report files."""

    path: str
    stem: str


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade init-ci", description="Write .github/workflows/grade.yml for a submission repository.")
    p.add_argument("files", nargs="*", help="submissions to grade, relative to the repository "
                   "(default: every exerciseN.py / .ipynb at its top level)")
    p.add_argument("--dir", default=".", type=Path, help="the repository's root (default: the current folder)")
    p.add_argument("--wheel", metavar="PATH", help="the course's grader wheel, committed in the repository "
                   "(default: the one honest_grader*.whl in it, else where this grader came from)")
    p.add_argument("--git", metavar="URL", help="the course's grader repository (https), installed with pip")
    p.add_argument("--install", metavar="SPEC", help="any pip requirement for the grader (instead of --wheel/--git)")
    p.add_argument("--python", default="3.11", help="Python version on the runner (default 3.11)")
    p.add_argument("--seed", type=int, help="the seed every run grades on (default: drawn now, and printed)")
    p.add_argument("--force", action="store_true", help="overwrite an existing workflow")
    p.add_argument("--templates", metavar="DIR", help="a folder whose github_workflow.yml.j2 replaces ours")
    return p


def discover(root: Path) -> list[str]:
    """exerciseN.py / .ipynb files at the top of the repository, in name order."""
    found = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in (".py", ".ipynb")
             and SUBMISSION.search(p.stem) and not p.name.startswith(".")]
    return sorted(found, key=str.lower)


DIST = "honest-grader"  # the distribution name (`grader` on the package index is another project)
NOT_FOUND = ("say where the runner gets the course's grader: --wheel PATH (a honest_grader wheel committed in "
             "the repository) or --git URL; it is not on the package index")


def install_spec(root: Path | None = None, wheel: str | None = None, git: str | None = None) -> str:
    """The pip requirement the runner installs: the course's own package, never a name from the index.

    `wheel` (a file in the repository), else `git`, else the one `honest_grader*.whl` in the
    repository, else the https git repository this grader was installed from (PEP 610).
    """
    if wheel:
        return "./" + _check_file(root or Path("."), wheel)
    if git:
        if not git.startswith("https://") or any(c in git for c in " \t\n\r\"'`$\\"):
            raise UsageError(f"--git wants an https:// URL, got {git!r}")
        return f"{DIST} @ git+{git}"
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("honest_grader*.whl")) if root else []
    if len(found) == 1:
        return "./" + _check_file(root, found[0])
    if len(found) > 1:
        raise UsageError(f"several grader wheels in the repository ({', '.join(found)}): choose one with --wheel")
    from importlib import metadata

    try:
        info = json.loads(metadata.distribution(DIST).read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        info = {}
    vcs = info.get("vcs_info") if isinstance(info, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and str(info.get("url", "")).startswith("https://"):
        return f"{DIST} @ git+{info['url']}@{vcs.get('commit_id') or vcs.get('requested_revision') or 'HEAD'}"
    raise UsageError(NOT_FOUND)


def _stem(path: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).stem).strip("._") or "submission"
    name, n = stem, 2
    while name in used:
        name, n = f"{stem}_{n}", n + 1
    used.add(name)
    return name


def render(files: Sequence[str], install: str, python: str, folder: str | None = None, seed: int = 0) -> str:
    """The workflow's YAML, grading every file on `seed`."""
    from grader.results import render as report

    used: set[str] = set()
    targets = [Target(f, _stem(f, used)) for f in files]
    env = report.environment(folder)
    return env.get_template(TEMPLATE).render(targets=targets, install=install, python=python,
                                                  seed=int(seed))


def _check_file(root: Path, name: str) -> str:
    if any(c in name for c in "\n\r\0\"'`$\\"):
        raise UsageError(f"unsupported character in file name {name!r}")
    path = Path(name)
    if path.is_absolute() or ".." in path.parts:
        raise UsageError(f"{name}: give the path relative to the repository root")
    if not (root / path).is_file():
        raise UsageError(f"no such file in the repository: {name}")
    return path.as_posix()


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    root: Path = args.dir
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    files = [_check_file(root, f) for f in args.files] or discover(root)
    if not files:
        raise UsageError(f"no exerciseN.py or exerciseN.ipynb in {root}: name the submissions to grade")
    for name in files:
        _check_file(root, name)
    out = root / WORKFLOW
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists (use --force to overwrite it)")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise UsageError("--seed must be a non-negative integer")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    text = render(files, args.install or install_spec(root, args.wheel, args.git), args.python, args.templates, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}: grades {', '.join(files)} on every push and pull request, on seed {seed}")
    print("commit it, push, and open the Actions tab to see the report")
    return 0
