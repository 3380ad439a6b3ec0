"""Fresh virtual environments for the slow tests of real wheels (bundles, the second course)."""
from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path


def make_venv(path: Path) -> Path:
    """A fresh virtual environment seeing this interpreter's packages; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def pip_install(python: Path, wheel: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)


def venv_env(**extra: str) -> dict[str, str]:
    """This environment without the variables that would point a venv's grader elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GRADER_", "GITHUB_"))}
    return {**env, **extra}
