"""`grade FILE` forks its warm parent and the resource tracker from itself at its start
(`warm_fork.start_server`, `warm_fork.start_tracker`): they must be what spawned ones are (only their own
descriptors, gone with the judge, the warm parent given what the judge asks for later), used
only where nothing decided later would change them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.cli import app
from grader.sandbox import warm, warm_fork

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# a judge that forks its warm parent, asks for IPython after (a notebook read later), and starts
# one plain process from it that reports what it inherited
JUDGE = """
import json, os, sys
from multiprocessing import forkserver
from grader.sandbox import warm
extra = os.open(sys.argv[1] + ".judge", os.O_WRONLY | os.O_CREAT)  # the judge's own descriptor
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # a caller's redirection is not the warm parent's
    warm.warm_up(notebooks=False, fork=sys.argv[2] == "fork")
warm.warm_up(notebooks=True)
report = sys.argv[1]
code = ("import sys, json; json.dump({'ipython': 'IPython.core.interactiveshell' in sys.modules, "
        "'stdout': type(sys.stdout).__name__}, open(%r, 'w'))" % report)
worker = warm.context().Process(target=exec, args=(code,))
worker.start()
worker.join(60)
pid = forkserver._forkserver._forkserver_pid
from multiprocessing import resource_tracker
tracker = resource_tracker._resource_tracker._pid
fds = sorted(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))
print(json.dumps({"pid": pid, "cmdline": open(f"/proc/{pid}/cmdline").read().split(chr(0))[:2],
                  "tracker": tracker, "tracker_cmdline": open(f"/proc/{tracker}/cmdline").read().split(chr(0))[:2],
                  "tracker_fds": sorted(os.readlink(f"/proc/{tracker}/fd/{fd}") for fd in os.listdir(f"/proc/{tracker}/fd")),
                  "ppid": open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1], "me": os.getpid(),
                  "fds": fds, "extra": os.readlink(f"/proc/self/fd/{extra}"), "exitcode": worker.exitcode}))
sys.stdout.flush()
if "--die" in sys.argv:
    os.kill(os.getpid(), 9)
"""


def _judge(tmp_path: Path, how: str, *args: str) -> tuple[dict, dict, subprocess.CompletedProcess]:
    report = tmp_path / f"worker-{how}.json"
    proc = subprocess.run([sys.executable, "-c", JUDGE, str(report), how, *args], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path)
    facts = json.loads(proc.stdout.splitlines()[0])
    return facts, json.loads(report.read_text()), proc


def _gone(pid: int, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_a_forked_warm_parent_is_what_a_spawned_one_is(tmp_path: Path) -> None:
    forked, worker, proc = _judge(tmp_path, "fork")
    assert proc.returncode == 0, proc.stderr
    spawned, spawned_worker, proc = _judge(tmp_path, "spawn")
    assert proc.returncode == 0, proc.stderr
    assert forked["cmdline"] == [sys.executable, "-c"]  # the judge's own command line: a fork
    assert int(forked["ppid"]) == forked["me"]
    # the same kinds of descriptors (its streams at /dev/null, its socket, pipes and poller), not the judge's
    kinds = [{fd.split(":[")[0] for fd in facts["fds"]} for facts in (forked, spawned)]
    assert kinds[0] == kinds[1] == {"/dev/null", "anon_inode", "pipe", "socket"}, (forked, spawned)
    assert not [fd for fd in forked["fds"] if fd.endswith(".judge")] and forked["extra"].endswith(".judge")
    assert forked["exitcode"] == spawned["exitcode"] == 0
    # IPython asked for after the warm parent started: preloaded by hint, as from the start when spawned
    assert worker == spawned_worker == {"ipython": True, "stdout": "TextIOWrapper"}
    assert _gone(forked["pid"]) and _gone(spawned["pid"])  # the judge's exit handler stopped them
    # the resource tracker too is a fork, holding only its own pipe (no alive pipe, no socket)
    assert forked["tracker_cmdline"] == forked["cmdline"] and spawned["tracker_cmdline"][1] != "-c"
    assert {fd.split(":[")[0] for fd in forked["tracker_fds"]} <= {"/dev/null", "pipe"}, forked
    assert len(forked["tracker_fds"]) == len(spawned["tracker_fds"]), (forked, spawned)
    assert _gone(forked["tracker"]) and _gone(spawned["tracker"])


def test_a_forked_warm_parent_goes_with_a_killed_judge(tmp_path: Path) -> None:
    facts, _, proc = _judge(tmp_path, "fork", "--die")
    assert proc.returncode == -signal.SIGKILL
    assert _gone(facts["pid"])  # its alive pipe's end: it leaves by itself


def test_no_fork_where_a_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from multiprocessing import forkserver

    monkeypatch.setattr(warm_fork.threading, "active_count", lambda: 2)
    forked = []
    monkeypatch.setattr(os, "fork", lambda: forked.append(True) or 0)
    assert warm_fork.start_server(forkserver._forkserver) is False and forked == []


@pytest.mark.parametrize("argv, forks", [
    (["exercise1.py", "--seed", "3"], True),
    (["work/Exercise2.IPYNB"], True),
    (["exercise1.py", "--course", "other"], False),  # a second --course (main takes the first out): refused later
    (["exercise1.py", "--watch"], False),
    (["exercise1.py", "--help"], False),
    (["batch", "class", "--out", "o"], False),
    (["--version"], False),
    (["notes.txt"], False),
    ([], False),
])
def test_only_a_one_shot_grade_forks_its_warm_parent_first(argv, forks, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(warm, "warm_up", lambda **kw: calls.append(kw))
    app._warm_parent_first(argv)
    assert calls == ([{"notebooks": False, "fork": True}] if forks else [])


def test_the_course_is_selected_before_the_warm_parent_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def warm_up(**kw):
        seen.append((kw, os.environ.get("GRADER_COURSE")))
        raise KeyboardInterrupt  # stop here: nothing is graded

    monkeypatch.setattr(app, "_COMMAND_LINE", [True])  # as `grade` itself (app.run)
    monkeypatch.setattr(warm, "warm_up", warm_up)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    assert app.main(["exercise1.py", "--course", "dlbasics", "--seed", "2"]) == 130
    assert seen == [({"notebooks": False, "fork": True}, "dlbasics")]
    seen.clear()
    monkeypatch.setattr(app, "_COMMAND_LINE", [])  # a caller of main() (the kernel's server): never forks itself
    app.main(["exercise1.py", "--course", "dlbasics"])
    assert not [call for call in seen if call[0].get("fork")]


def test_closing_all_but_keeps_exactly_those() -> None:
    code = ("import os\nfrom grader.sandbox import warm_fork\n"
            "fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(4)]\n"
            "warm_fork.close_all_but({0, 1, 2, fds[1], fds[3]})\n"
            "def is_open(fd):\n    try:\n        os.fstat(fd)\n        return True\n"
            "    except OSError:\n        return False\n"
            "print([is_open(fd) for fd in (0, 1, 2, *fds)])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["[True,", "True,", "True,", "False,", "True,", "False,", "True]"], out.stderr


# a worker's count of numpy's BLAS threads (OpenBLAS's own answer; None where numpy has another BLAS)
BLAS_JUDGE = """
import json, sys
from grader.sandbox import warm
warm.warm_up(notebooks=False, fork=sys.argv[2] == "fork")
code = '''
import ctypes, json, sys, numpy
found = [line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line]
get = getattr(ctypes.CDLL(found[0]), "scipy_openblas_get_num_threads64_", None) if found else None
json.dump({"threads": get() if get else None}, open(%r, "w"))
''' % sys.argv[1]
worker = warm.context().Process(target=exec, args=(code,))
worker.start()
worker.join(60)
"""


@pytest.mark.parametrize("how", ["fork", "spawn"])
def test_workers_get_one_blas_thread_whatever_the_judges_environment(tmp_path: Path, how: str) -> None:
    """Every worker's limits ask for one thread; numpy's BLAS takes its pool's size when the warm
    parent imports it, before a worker can set its own environment (`forkserver_init`)."""
    report = tmp_path / "blas.json"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    proc = subprocess.run([sys.executable, "-c", BLAS_JUDGE, str(report), how], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    threads = json.loads(report.read_text())["threads"]
    if threads is None:
        pytest.skip("numpy here is not built with OpenBLAS")
    assert threads == 1


def test_the_command_line_judge_gives_blas_one_thread_unless_told() -> None:
    code = "import os; from grader.cli import app; app.run(lambda: print(os.environ['OPENBLAS_NUM_THREADS']) or 0)"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "1\n"
    env["OPENBLAS_NUM_THREADS"] = "3"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "3\n"
