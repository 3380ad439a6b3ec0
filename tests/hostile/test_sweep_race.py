"""The judge's sweep of the forkserver's orphans, at the worst moment: a daemon's middle process
forks and exits between the sweep's scan and its stop signal (CI saw the daemon survive so, with
only the subreaper on its trail). The orphan is then re-parented to the subreaper, out of the
tree the sweep had scanned; the sweep must find it there."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from grader.containment import reaper
from grader.sandbox import process

pytestmark = pytest.mark.skipif(not reaper.LINUX, reason="/proc and PR_SET_CHILD_SUBREAPER are Linux's")

# A stand-in for the forkserver: a subreaper with one child (the worker left behind), whose child
# (the daemon's middle process) on SIGUSR1 forks the daemon and exits at once.
TREE = r"""
import ctypes, os, signal, sys, time
assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0
if os.fork() == 0:          # the orphaned worker
    if os.fork() == 0:      # the daemon's middle process
        def hop(*_):
            if os.fork() == 0:
                os.setsid()
                time.sleep(60)
            os._exit(0)
        signal.signal(signal.SIGUSR1, hop)
        print(os.getpid(), flush=True)
        while True:
            time.sleep(1)
    while True:
        time.sleep(1)
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        time.sleep(0.01)
"""


def _wait(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the process tree did not get where the test needs it"
        time.sleep(0.005)


def test_an_orphan_made_while_the_sweep_looks_is_killed_too(monkeypatch: pytest.MonkeyPatch):
    server = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE)
    try:
        middle = int(server.stdout.readline())
        _wait(lambda: len(reaper.descendants(server.pid)) == 2)
        real = reaper.descendants
        hopped = []

        def scan_then_hop(root, *args, **kwargs):
            found = real(root, *args, **kwargs)
            if not hopped:  # right after the first scan: the middle process forks the daemon and exits
                hopped.append(True)
                os.kill(middle, signal.SIGUSR1)
                _wait(lambda: middle not in reaper.parents() and len(real(server.pid)) == 2)
            return found

        monkeypatch.setattr(reaper, "descendants", scan_then_hop)
        monkeypatch.setattr(process, "forkserver_pid", lambda: server.pid)
        process.sweep()
        monkeypatch.setattr(reaper, "descendants", real)
        assert hopped
        time.sleep(0.05)
        assert reaper.descendants(server.pid) == [], "a process outlived the sweep"
    finally:
        reaper.kill_descendants(server.pid)
        server.kill()
        server.wait()


def test_the_sweep_leaves_running_workers_alone(monkeypatch: pytest.MonkeyPatch):
    server = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE)
    try:
        server.stdout.readline()
        _wait(lambda: len(reaper.descendants(server.pid)) == 2)
        worker = next(p for p, parent in reaper.parents().items() if parent == server.pid)
        monkeypatch.setattr(process, "forkserver_pid", lambda: server.pid)
        monkeypatch.setattr(process, "LIVE", {worker})
        process.sweep()
        assert len(reaper.descendants(server.pid)) == 2, "a running worker's tree was killed"
    finally:
        reaper.kill_descendants(server.pid)
        server.kill()
        server.wait()


# a tree three deep, with a thread that forks and stays (its child is listed under that thread),
# and a zombie; "ready" once all of it is there (the thread has forked, the zombie has exited)
DEEP = r"""
import os, threading, time
forked = threading.Event()
def spawn_from_thread():
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    forked.set()
    time.sleep(60)
if os.fork() == 0:
    if os.fork() == 0:
        if os.fork() == 0:
            time.sleep(60)
        time.sleep(60)
    time.sleep(60)
threading.Thread(target=spawn_from_thread, daemon=True).start()
zombie = os.fork()
if zombie == 0:
    os._exit(0)  # never waited for: a zombie
forked.wait()
while open(f"/proc/{zombie}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.001)
print("ready", flush=True)
time.sleep(60)
"""


def test_the_walk_down_the_children_files_finds_what_the_whole_proc_scan_finds(monkeypatch: pytest.MonkeyPatch):
    if reaper._children(os.getpid()) is None:
        pytest.skip("no /proc/PID/task/TID/children here")
    tree = subprocess.Popen([sys.executable, "-c", DEEP], stdout=subprocess.PIPE)
    try:
        tree.stdout.readline()
        _wait(lambda: len(reaper.descendants(tree.pid, table=reaper.parents())) == 4)
        walked = reaper.descendants(tree.pid)
        assert sorted(walked) == sorted(reaper.descendants(tree.pid, table=reaper.parents()))  # the zombie in neither
        one = next(pid for pid in walked if reaper.descendants(pid))  # spared with all below it
        below = set(reaper.descendants(one))
        assert below and set(reaper.descendants(tree.pid, spare={one})) == set(walked) - {one} - below
        monkeypatch.setattr(reaper, "_children", lambda pid: None)  # a kernel without the files: the scan
        assert sorted(reaper.descendants(tree.pid)) == sorted(walked)
        monkeypatch.undo()
        assert reaper.kill_descendants(tree.pid) == 4 and reaper.descendants(tree.pid) == []
    finally:
        reaper.kill_descendants(tree.pid)
        tree.kill()
        tree.wait()
