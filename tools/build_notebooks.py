"""Generate the exercise notebooks from their percent-format .py stubs.

Each exercises/exerciseN.ipynb is generated from exercises/exerciseN.py so the two cannot
drift apart (the stub itself is generated from exercises/solutions/exerciseN.py by
`grade assign`, which writes both; the conversion lives in grader/authoring/notebooks.py).

    python tools/build_notebooks.py           # (re)write every notebook
    python tools/build_notebooks.py --check   # exit 1 if a committed notebook is stale

Output is deterministic: nbformat 4.5, no outputs, no execution counts, cell ids numbered
in order, a python3 kernelspec, and no jupytext metadata, so regenerating from an unchanged
.py is byte-identical. Importable: build(py_path) returns the notebook node.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from grader.authoring import notebooks  # noqa: E402  (the one home of the conversion)

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"


def stubs(folder: Path = EXERCISES) -> list[Path]:
    """Every `exerciseN.py` stub in `folder`, by number (a course's own stubs: pass its folder)."""
    found = [p for p in folder.glob("exercise*.py") if p.stem[len("exercise"):].isdigit()]
    return sorted(found, key=lambda p: int(p.stem[len("exercise"):]))


STUBS = stubs()


def build(py_path: str | Path):
    """The nbformat 4 notebook generated from the percent-format script at py_path."""
    py_path = Path(py_path)
    return notebooks.build(py_path.read_text(encoding="utf-8"), py_path.stem)


render = notebooks.render


def notebook_path(py_path: str | Path) -> Path:
    return Path(py_path).with_suffix(".ipynb")


def stale(py_path: str | Path) -> bool:
    """True when the committed notebook is missing or differs from a fresh build."""
    target = notebook_path(py_path)
    if not target.exists():
        return True
    return target.read_text(encoding="utf-8") != render(build(py_path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a notebook differs from a fresh build")
    parser.add_argument("stubs", nargs="*", type=Path, default=STUBS,
                        help="percent-format .py files (default: exercises/exercise1..6.py)")
    args = parser.parse_args(argv)
    status = 0
    for py_path in args.stubs:
        target = notebook_path(py_path)
        if args.check:
            if stale(py_path):
                print(f"stale: {target} differs from what {py_path.name} generates; "
                      "run python tools/build_notebooks.py", file=sys.stderr)
                status = 1
            else:
                print(f"ok: {target}")
        else:
            text = render(build(py_path))
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            print(f"wrote {target}")
    return status


if __name__ == "__main__":
    sys.exit(main())
