"""Modules in the folder `grade` runs from are not imported by the judge's own processes.

The warm parent and multiprocessing's resource tracker are interpreters of their own started
with `python -c`, which puts the current directory first on sys.path: without `-P`
(`warm.safe_spawns`) a `numpy.py` or `socket.py` beside a student's submission, or in a class
folder, ran unconfined in the warm parent.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SHADOWS = ("numpy", "torch", "socket", "selectors", "struct", "multiprocessing")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX start methods")


def shadowing_folder(folder: Path, marks: Path) -> None:
    """A folder whose modules, when imported, leave a mark and fail."""
    folder.mkdir(parents=True)
    for name in SHADOWS:
        code = (f"open({str(marks / name)!r}, 'w').write('ran')\n"
                f"raise ImportError('shadowed {name}')\n")
        if name == "multiprocessing":
            (folder / name).mkdir()
            (folder / name / "__init__.py").write_text(code)
        else:
            (folder / f"{name}.py").write_text(code)


def grade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180)


def test_a_grade_imports_nothing_from_the_current_folder(tmp_path: Path) -> None:
    folder, marks = tmp_path / "student", tmp_path / "marks"
    marks.mkdir()
    shadowing_folder(folder, marks)
    shutil.copy(ROOT / "reference/exercise1.py", folder / "exercise1.py")
    proc = grade("exercise1.py", "--seed", "3", cwd=folder)
    assert sorted(p.name for p in marks.iterdir()) == []
    assert proc.returncode == 0, proc.stderr
    assert "Score: 10 / 10" in proc.stdout


def test_a_batch_imports_nothing_from_the_current_folder(tmp_path: Path) -> None:
    here, marks, klass = tmp_path / "here", tmp_path / "marks", tmp_path / "class"
    marks.mkdir()
    shadowing_folder(here, marks)
    (klass / "ada").mkdir(parents=True)
    shutil.copy(ROOT / "reference/exercise1.py", klass / "ada" / "exercise1.py")
    proc = grade("batch", str(klass), "--out", str(tmp_path / "out"), "--seed", "3", cwd=here)
    assert sorted(p.name for p in marks.iterdir()) == []
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_a_dask_batch_imports_nothing_from_the_current_folder(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    here, marks, klass = tmp_path / "here", tmp_path / "marks", tmp_path / "class"
    marks.mkdir()
    shadowing_folder(here, marks)
    (klass / "ada").mkdir(parents=True)
    shutil.copy(ROOT / "reference/exercise1.py", klass / "ada" / "exercise1.py")
    proc = grade("batch", str(klass), "--out", str(tmp_path / "out"), "--seed", "3", "--scheduler", "local:1",
                 cwd=here)
    assert sorted(p.name for p in marks.iterdir()) == []
    assert proc.returncode == 0, proc.stderr
