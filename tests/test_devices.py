"""Whether the installed torch can use a GPU, read from its version.py without importing it."""
from __future__ import annotations

import importlib.machinery
from pathlib import Path

import pytest

from grader.judge import devices


@pytest.mark.parametrize("text, built", [
    ("cuda: Optional[str] = None\nhip: Optional[str] = None\n", False),
    ("cuda = None\nhip = None\n", False),
    ("cuda: Optional[str] = '12.4'\nhip: Optional[str] = None\n", True),
    ("cuda = None\nhip = '6.2'\n", True),
    ("cuda = get_cuda()\nhip = None\n", True),  # not a constant: assume it may
    ("hip = None\n", True),  # no answer: assume it may (the reference is asked, as before)
    ("cuda = (\n", True),  # unreadable
])
def test_cuda_built_from_version_py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, built: bool) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("")
    (tmp_path / "torch" / "version.py").write_text(text)
    spec = importlib.machinery.ModuleSpec("torch", None, origin=str(tmp_path / "torch" / "__init__.py"))
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: spec)
    devices.cuda_built.cache_clear()
    try:
        assert devices.cuda_built() is built
    finally:
        devices.cuda_built.cache_clear()


def test_the_judge_reads_it_without_importing_torch() -> None:
    import subprocess
    import sys

    code = "import sys; from grader.judge import devices; devices.cuda_built(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
