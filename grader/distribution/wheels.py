"""Wheels from staging folders: the grader's source tree, its packages, packaging/ templates,
and `python -m build`."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grader.errors import UsageError

SOURCE = Path(__file__).resolve().parents[2]  # the source tree: pyproject.toml, grader/, reference/
PACKAGING = SOURCE / "packaging"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def build_wheel(staging: Path, out: Path) -> Path:
    """`python -m build --wheel` on a staging folder (no isolation: offline, same setuptools)."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(staging)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise UsageError("cannot run the Python interpreter to build the wheel") from None
    if proc.returncode != 0:
        if "No module named build" in proc.stderr:
            raise UsageError("`grade bundle` needs the `build` package: pip install build")
        raise UsageError(f"building the wheel failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    made = sorted(set(out.glob("*.whl")) - before) or sorted(out.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    return made[-1]


def dependencies() -> list[str]:
    """The grader's runtime dependencies, as pyproject.toml lists them."""
    import tomllib

    return list(tomllib.loads((SOURCE / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])


def grader_packages(root: Path = SOURCE) -> list[str]:
    """The `grader` package and its subpackages (templates, a data-only folder, included)."""
    top = root / "grader"
    found = ["grader"] + sorted("grader." + ".".join(d.relative_to(top).parts) for d in top.rglob("*")
                                if d.is_dir() and ((d / "__init__.py").exists() or d.name == "templates")
                                and "__pycache__" not in d.parts)
    return found


def template(name: str, fill: dict[str, object]) -> str:
    """packaging/NAME with each `{key}` of `fill` replaced (other braces, as in shell, stay)."""
    text = (PACKAGING / name).read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{" + key + "}", str(value))
    return text
