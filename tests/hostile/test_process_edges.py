"""Edges of the grader's own processes: a terminal the judge runs on, a long TMPDIR, and
what is left when `grade` returns. Each runs the real `grade` command in a subprocess.
"""
from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.containment import isolation

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
CORRECT = ROOT / "tests" / "submissions" / "exercise1" / "ok_helper.py"
LINUX = sys.platform.startswith("linux")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra)
    env.pop(isolation.DISABLE_ENV, None)
    return env


def _grade_on_terminal(path: Path, disabled: str) -> tuple[int, str]:
    """`grade PATH` with a pseudo-terminal as stdin, stdout and stderr, as an instructor runs it."""
    master, slave = os.openpty()
    env = _env(**({isolation.DISABLE_ENV: disabled} if disabled else {}))
    proc = subprocess.Popen([sys.executable, "-m", "grader", str(path)], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=path.parent)
    os.close(slave)
    out = b""
    end = time.monotonic() + 120
    while time.monotonic() < end:
        ready = select.select([master], [], [], 0.5)[0]
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the slave side closed
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(30)
    os.close(master)
    return proc.returncode, out.decode("utf-8", "replace")


@pytest.mark.skipif(not LINUX, reason="terminals and namespaces: Linux")
def test_no_terminal_reaches_the_submission(tmp_path: Path):
    """Graded from a terminal, as an instructor does: the submission finds none to write to.
    (fds 0-2 are replaced by the worker's setup anyway; `no-tty` covers any other inherited
    descriptor, proved in tests/test_sandbox.py.)"""
    sub = tmp_path / "exercise1.py"
    sub.write_text((CASES / "terminal.py").read_text())
    code, out = _grade_on_terminal(sub, "")
    assert "forged by the submission" not in out, out
    assert "Score: 10 / 10" in out, out


@pytest.mark.skipif(not LINUX, reason="AF_UNIX socket paths")
def test_grades_with_a_200_character_tmpdir(tmp_path: Path):
    long = tmp_path / ("t" * max(1, 200 - len(str(tmp_path)) - 1))
    long.mkdir()
    assert len(str(long)) >= 200
    proc = subprocess.run([sys.executable, "-m", "grader", str(CORRECT)], env=_env(TMPDIR=str(long)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Score: 10 / 10" in proc.stdout
    assert "AF_UNIX" not in proc.stdout + proc.stderr


WRAPPER = r"""
import ctypes, os, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0  # a subreaper: whatever grade leaves is re-parented here
code = subprocess.call(sys.argv[1:])
time.sleep(0.05)
left = []
for name in os.listdir("/proc"):
    if name.isdigit():
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] not in ("Z", "X"):
            left.append(name)
print("LEFT", ",".join(left))
for pid in left:
    try:
        os.kill(int(pid), 9)
    except OSError:
        pass
sys.exit(code)
"""


DAEMON = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\n    os._exit(0)\n"


# with its PID namespace and cgroups off, only the forkserver's subreaper keeps track of a daemon
TRACKED_BY_THE_SUBREAPER = "pidns,cgroup-pids,cgroup-memory,cgroup-cpu"


@pytest.mark.skipif(not LINUX, reason="PR_SET_CHILD_SUBREAPER")
@pytest.mark.parametrize("prefix, disabled", [("", ""), (DAEMON, ""), (DAEMON, TRACKED_BY_THE_SUBREAPER)],
                         ids=["plain", "a daemon that setsid", "a daemon, only the subreaper on its trail"])
def test_nothing_is_left_when_grade_returns(tmp_path: Path, prefix: str, disabled: str):
    """`grade FILE` lets its workers and warm parent go before it reports (`warm.one_shot`):
    still, when it returns, nothing it started is left, a daemon of the submission included."""
    sub = tmp_path / "exercise1.py"
    sub.write_text(prefix + CORRECT.read_text())
    env = {**_env(), **({isolation.DISABLE_ENV: disabled} if disabled else {})}
    proc = subprocess.run([sys.executable, "-c", WRAPPER, sys.executable, "-m", "grader", str(sub)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    left = [line for line in proc.stdout.splitlines() if line.startswith("LEFT")]
    assert left == ["LEFT "], f"processes outlived grade: {left}"
