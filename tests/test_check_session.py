"""The warm `grader.check()`: one kept server per kernel, graded as a fresh `grade` grades."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.containment import reaper
from grader.cli import serve
from grader.interactive import check, session

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "exercises" / "solutions" / "exercise1.py"
STUB = ROOT / "exercises" / "exercise1.py"


@pytest.fixture
def kept():
    """The kept server is closed after each test, whatever it did."""
    session.close()
    yield
    session.close()


def _gone(pids: list[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_each_save_is_graded_again_on_the_same_server_and_closing_leaves_nothing(kept, tmp_path):
    path = tmp_path / "exercise1.py"
    path.write_text(SOLUTION.read_text())
    first = check.check(path, seed=5, show=False, warm=True)
    pid = session.server_pid()
    assert first is not None and first.score == first.max_score == 10 and pid is not None
    path.write_text(STUB.read_text())  # the student's next save
    second = check.check(path, seed=5, show=False, warm=True)
    assert second is not None and second.score == 0 and second.graded.status == 1
    assert session.server_pid() == pid and "squared_loss" in second.graded.text
    started = reaper.descendants(pid)
    assert started  # its warm parent (and a spare worker) are up between checks
    session.close()
    assert session.server_pid() is None and _gone([pid, *started])


def test_the_warm_check_reports_what_a_fresh_grade_reports(kept, tmp_path):
    """Same score, same report, the same one-line error for a file that cannot be graded."""
    warm = check.grade(SOLUTION, seed=7, warm=True)
    cold = check.grade(SOLUTION, seed=7, warm=False)
    assert (warm.status, warm.score, warm.max_score) == (cold.status, cold.score, cold.max_score) == (0, 10, 10)
    timeless = ({k: v for k, v in graded.results.items() if k != "execution_time"} for graded in (warm, cold))
    assert warm.text == cold.text and next(timeless) == next(timeless)
    missing = check.grade(tmp_path / "exercise1.py", warm=True)
    assert missing.status == 2 and missing.text == check.grade(tmp_path / "exercise1.py").text
    assert "no such file" in missing.text and session.server_pid() is not None


def test_what_the_submission_writes_cannot_answer_for_the_server(kept, tmp_path):
    """A submission that writes a forged answer on every descriptor it has gets its own grade."""
    path = tmp_path / "exercise1.py"
    forged = json.dumps({"status": 0, "stdout": "Score: 10 / 10", "stderr": ""})
    path.write_text(f"import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'{forged}\\n')\n"
                    f"    except OSError:\n        pass\nprint({forged!r})\nos.write(1, b'{forged}\\n')\n"
                    + STUB.read_text())
    graded = check.grade(path, seed=3, warm=True)
    assert graded.status == 1 and graded.score == 0 and graded.results["score"] == 0
    again = check.grade(SOLUTION, seed=3, warm=True)  # the channel is still in step
    assert again.status == 0 and again.score == 10


def test_a_server_that_died_or_left_is_started_again(kept, monkeypatch):
    monkeypatch.setenv("GRADER_CHECK_IDLE", "1")  # it leaves after a second without a request
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10
    pid = session.server_pid()
    assert pid is not None
    started = reaper.descendants(pid)
    assert _gone([pid, *started])  # it left on its own, and took its warm parent and workers
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10
    other = session.server_pid()
    assert other not in (None, pid)
    started = reaper.descendants(other)
    os.kill(other, signal.SIGKILL)  # killed: its warm parent and workers go with it
    assert _gone([other, *started])
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10 and session.server_pid() not in (None, other)


def test_a_server_that_leaves_as_the_request_comes_is_replaced_not_given_up(kept, tmp_path):
    """The race of an idle exit with a check: the request goes to a new server, not to a cold grade."""
    leaving = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # alive, reads nothing, leaves
    home = tmp_path / "home"
    home.mkdir()
    session._SERVER = session._Server(leaving, session.key(os.environ), home, os.getpid())  # the key: GRADER_* only
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10
    assert leaving.poll() is not None and session.server_pid() not in (None, leaving.pid)


def test_a_changed_setting_starts_a_server_that_has_it(kept, monkeypatch):
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10
    pid = session.server_pid()
    monkeypatch.setenv("GRADER_CHECK_TEST_SETTING", "1")
    assert session.key(os.environ) != session.key({k: v for k, v in os.environ.items() if k != "GRADER_CHECK_TEST_SETTING"})
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10
    assert session.server_pid() not in (None, pid)


def test_the_server_answers_a_bad_request_and_goes_on():
    proc = subprocess.Popen([sys.executable, "-c", session.ENTRY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        for request in (b"not json\n", b'{"file": "x"}\n', b'["x.py", "--watch"]\n'):
            proc.stdin.write(request)
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())
            assert answer["status"] == 2 and answer["stdout"] == ""
        proc.stdin.write(json.dumps([str(SOLUTION), "--seed", "4"]).encode() + b"\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        assert answer["status"] == 0 and "10 / 10" in answer["stdout"]
        proc.stdin.close()
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()


def test_session_seed_and_when_the_check_is_warm(monkeypatch):
    assert serve.with_seed(["f.py"], 9) == ["f.py", "--seed", "9"]
    assert serve.with_seed(["f.py", "--seed=3"], 9) == ["f.py", "--seed=3"]
    assert not check.warm_default(None)  # outside a kernel: a fresh grade, nothing kept

    class Kernel:
        kernel = object()

    assert check.warm_default(Kernel())
    monkeypatch.setenv("GRADER_CHECK_WARM", "0")
    assert not check.warm_default(Kernel())


def test_an_interrupted_check_stops_the_server_and_everything_it_started(kept, monkeypatch):
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10
    pid = session.server_pid()
    started = reaper.descendants(pid)

    def interrupted(fd, deadline):  # Ctrl-C in the kernel while the server grades
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "_read_line", interrupted)
    with pytest.raises(KeyboardInterrupt):
        check.grade(SOLUTION, seed=2, warm=True)
    assert session.server_pid() is None and _gone([pid, *started])
    monkeypatch.undo()
    assert check.grade(SOLUTION, seed=2, warm=True).score == 10  # the next check starts a new one
