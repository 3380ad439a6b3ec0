"""`grade --watch FILE`: a grade per save, one warm parent, Ctrl-C leaves nothing running."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.cli import app, changes as _changes, watch

ROOT = Path(__file__).resolve().parent.parent


def test_wait_for_change_needs_new_content(tmp_path):
    path = tmp_path / "exercise1.py"
    path.write_text("a = 1\n")
    first = watch.fingerprint(path)

    def edit() -> None:
        time.sleep(0.3)
        os.utime(path)  # touched, same content: not a change
        time.sleep(0.3)
        path.write_text("a = 2\n")

    thread = threading.Thread(target=edit)
    thread.start()
    t0 = time.monotonic()
    new = watch.wait_for_change(path, first)
    thread.join()
    assert new[2] != first[2] and time.monotonic() - t0 >= 0.55
    assert watch.fingerprint(tmp_path / "missing.py") is None


def _save_later(path: Path, text: str, by_rename: bool) -> threading.Thread:
    def save() -> None:
        time.sleep(0.2)
        (path.parent / "other.txt").write_text("not the watched file")
        if by_rename:  # how many editors save: a new file renamed into place
            tmp = path.with_name(path.name + ".swp")
            tmp.write_text(text)
            os.replace(tmp, path)
        else:
            path.write_text(text)

    thread = threading.Thread(target=save, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("by_rename", [False, True])
def test_inotify_wakes_the_watcher_on_a_save(tmp_path, monkeypatch, by_rename):
    path = tmp_path / "exercise1.py"
    path.write_text("a = 1\n")
    first = watch.fingerprint(path)
    monkeypatch.setattr(watch, "RECHECK_SECONDS", 3600.0)  # only an event can wake it in time
    with watch.Changes(path) as changes:
        if not changes.live:
            pytest.skip("no inotify here")
        thread = _save_later(path, "a = 2\n", by_rename)
        found: list = []
        waiter = threading.Thread(target=lambda: found.append(watch.wait_for_change(path, first, changes=changes)),
                                  daemon=True)
        waiter.start()
        waiter.join(60)
        thread.join()
    assert found and found[0][2] == watch.fingerprint(path)[2] != first[2]


def test_changes_ignore_other_files_and_time_out(tmp_path):
    path = tmp_path / "exercise1.py"
    path.write_text("a = 1\n")
    with watch.Changes(path) as changes:
        (tmp_path / "other.py").write_text("x")
        assert changes.wait(0.05) == 0
        path.write_text("a = 2\n")
        assert changes.wait(30) in ((_changes.MODIFIED, _changes.SAVED) if changes.live else (0,))
    assert changes.fd is None


def test_bad_usage_exits_2_before_watching(tmp_path, capsys):
    assert app.main(["--watch", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert app.main(["--watch", str(tmp_path / "x.py"), "--timeout", "-1"]) == 2


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _score(path: Path) -> float | None:
    try:
        return json.loads(path.read_text())["score"]
    except (OSError, ValueError, KeyError):
        return None


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_two_saves_two_reports_and_nothing_left_after_ctrl_c(tmp_path):
    path = tmp_path / "exercise1.py"
    path.write_text((ROOT / "exercises/exercise1.py").read_text())
    out = tmp_path / "results.json"
    log = tmp_path / "stdout.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "w") as stdout:
        proc = subprocess.Popen([sys.executable, "-m", "grader", "--watch", str(path), "--json", str(out)],
                                stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        reports = lambda: log.read_text().count("Score:")  # noqa: E731
        _wait_for(lambda: reports() == 1 and _score(out) == 0)
        out.unlink()
        path.write_text(path.read_text() + "# a first save\n")
        _wait_for(lambda: reports() == 2 and _score(out) == 0)
        path.write_text((ROOT / "exercises/solutions/exercise1.py").read_text())
        _wait_for(lambda: reports() == 3 and _score(out) == 10)  # --json rewritten after each grade
        below = _descendants(proc.pid)
        assert below  # the warm parent, kept between grades
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "watch stopped" in err and "Traceback" not in err
    assert log.read_text().count("Score:") == 3  # the first grade, then one per save
    _wait_for(lambda: not any(_alive(p) for p in below), timeout=10)
