"""A SIGKILLed grader leaves no worker, keeper or daemon behind.

The grader runs as a subprocess on a submission that names its processes (a worker that
sleeps at import, and a setsid daemon); the test kills the grader with SIGKILL once they
exist and then looks for any of them.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.containment import isolation

from hostile_harness import named

ROOT = Path(__file__).resolve().parents[2]
SOURCE = '''# exercise: 1
import ctypes, os, time
ctypes.CDLL(None).prctl(15, b"{token}", 0, 0, 0)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
    os._exit(0)
time.sleep(60)


def squared_loss(y_hat, y):
    return y_hat
'''

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")]


def survivors_after_kill(tmp_path: Path, disabled: str) -> list[int]:
    token = "killed" + secrets.token_hex(4)
    path = tmp_path / "exercise1.py"
    path.write_text(SOURCE.format(token=token))
    env = dict(os.environ, **{isolation.DISABLE_ENV: disabled})
    grader = subprocess.Popen([sys.executable, "-m", "grader", str(path), "--timeout", "120"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while len(named(token)) < 2 and time.monotonic() < end:
            time.sleep(0.05)
        assert len(named(token)) >= 2, "the worker and its daemon never started"
        grader.send_signal(signal.SIGKILL)
        grader.wait(10)
        end = time.monotonic() + 10
        while named(token) and time.monotonic() < end:
            time.sleep(0.05)
        return named(token)
    finally:
        grader.kill()
        for pid in named(token):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # gone between the listing and the kill
                pass


def test_a_killed_grader_leaves_nothing_behind(tmp_path: Path):
    assert survivors_after_kill(tmp_path, "") == []


@pytest.mark.parametrize("alone, backup", [("pdeathsig", "subreaper"), ("subreaper", "pdeathsig")])
def test_each_layer_alone_cleans_up(tmp_path: Path, alone: str, backup: str):
    assert survivors_after_kill(tmp_path, backup) == [], f"{alone} alone left processes behind"


def test_without_both_layers_processes_survive(tmp_path: Path):
    """Proves the two tests above test the layers: with neither, the worker outlives the grader."""
    assert survivors_after_kill(tmp_path, "pdeathsig,subreaper") != []
