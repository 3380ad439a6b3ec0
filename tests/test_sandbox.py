"""The sandbox's promises that are not about one hostile case: layers are confirmed before
student code, strict mode refuses, nothing is left behind, and `grade doctor` reports.
"""
from __future__ import annotations

import contextlib
import glob
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.exercises import answer_keys, registry
from grader.containment import cgroups
from grader.cli import app as cli
from grader.cli import doctor
from grader.containment import isolation
from grader.sandbox import run as sandbox
from grader.protocol.jobs import Task, Unit

LINUX = sys.platform.startswith("linux")
GOOD = "def squared_loss(y_hat, y):\n    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2\n"


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def test_layers_are_confirmed_before_student_code(grade_file, tmp_path: Path):
    path = tmp_path / "exercise1.py"
    path.write_text("# exercise: 1\n" + GOOD)
    result = grade_file(path)
    assert result.score == result.max_score
    assert "setsid" in result.isolation or not hasattr(os, "setsid")
    if LINUX:
        assert {"pdeathsig", "rlimit-cpu", "rlimit-data", "rlimit-fsize", "env-scrub"} <= set(result.isolation)


def test_confined_layers_match_a_real_run(grade_file, tmp_path: Path):
    path = tmp_path / "exercise1.py"
    path.write_text("# exercise: 1\n" + GOOD)
    assert set(sandbox.confined_layers()) == set(grade_file(path).isolation)


def test_a_disabled_layer_is_not_claimed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(isolation.DISABLE_ENV, "landlock,rlimit-data,pidns")
    layers = sandbox.confined_layers()
    assert not {"landlock", "rlimit-data", "pidns"} & set(layers)


def test_strict_refuses_with_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "exercise1.py"
    path.write_text("# exercise: 1\n" + GOOD)
    monkeypatch.setenv(isolation.DISABLE_ENV, "landlock")
    out = tmp_path / "results.json"
    code, stdout, err = run_cli([str(path), "--isolation", "strict", "--json", str(out)])
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "strict" in err and "landlock" in err
    assert '"score": 0' in out.read_text()


def test_strict_grades_where_the_floor_holds(tmp_path: Path):
    if not set(isolation.STRICT) <= set(sandbox.confined_layers()):
        pytest.skip("this machine does not give the strict floor")
    path = tmp_path / "exercise1.py"
    path.write_text("# exercise: 1\n" + GOOD)
    code, stdout, _ = run_cli([str(path), "--isolation", "strict", "--seed", "3"])
    assert code == 0


def test_doctor_lists_every_layer():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = doctor.main([])
    text = out.getvalue()
    assert code == 0
    for name in isolation.LAYERS:
        assert name in text
    assert ("✓ pidns" in text) == ("pidns" in sandbox.confined_layers())


def test_doctor_strict_fails_below_the_floor(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(isolation.DISABLE_ENV, "netns")
    with contextlib.redirect_stdout(io.StringIO()):
        assert doctor.main(["--strict"]) == 1


def test_nothing_is_left_behind(grade_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))  # other test runs share /tmp
    before_tmp = set(glob.glob(os.path.join(tempfile.gettempdir(), "grader-*")))
    before_cg = _grader_cgroups()
    path = tmp_path / "exercise1.py"
    path.write_text("# exercise: 1\nimport os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(30)\n" + GOOD)
    grade_file(path)
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "grader-*"))) <= before_tmp
    assert list(private.iterdir()) == []
    assert _grader_cgroups() <= before_cg


def _grader_cgroups() -> set[str]:
    return set(glob.glob("/sys/fs/cgroup/*/**/grader-%d-*" % os.getpid(), recursive=True))


def test_reference_dirs_finds_the_reference():
    dirs = answer_keys.answer_key_dirs()
    assert dirs and all(Path(d, "exercise1.py").exists() for d in dirs)


def test_worker_cannot_import_the_reference(tmp_path: Path):
    code = "import sys\ntry:\n    import reference.exercise1\n    ok = True\nexcept Exception:\n    ok = False\n"
    task = Task(0, "probe_import", "call", {}, {"args": []})
    units = (Unit(str(tmp_path / "s.py"), code + "def probe_import():\n    return ok\n"),)
    sandbox.warm_up()
    outcome = sandbox.run(units, [task], timeout=30, device="cpu", seed=1)
    message = outcome.outcomes[0].message
    assert message is not None
    if "landlock" in outcome.layers or "mount-hide" in outcome.layers:
        assert message.header["info"]["out"]["value"] is False


@pytest.mark.skipif(not LINUX, reason="cgroups are Linux only")
def test_cgroup_is_made_and_removed():
    if "cgroup-pids" not in cgroups.available():
        pytest.skip("no writable cgroup here")
    group = cgroups.create(10, 2**30, ("cgroup-pids",))
    assert group is not None and all(os.path.isdir(d) for d in group.dirs)
    with open(os.path.join(group.dirs[0], "pids.max")) as fh:
        assert fh.read().strip() == "10"
    cgroups.kill(group)
    cgroups.remove(group)
    assert not any(os.path.exists(d) for d in group.dirs)


@pytest.mark.skipif(not LINUX, reason="namespaces are Linux only")
def test_loopback_can_be_brought_up_in_a_new_network_namespace():
    from grader.containment import namespaces

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        got = namespaces.enter(("userns", "netns"))
        ok = "netns" in got and namespaces.loopback_up()
        import socket

        if ok:
            with socket.socket() as server:
                server.bind(("127.0.0.1", 0))
                server.listen(1)
                socket.create_connection(server.getsockname(), timeout=2).close()
        os.write(w, b"1" if ok else (b"0" if "netns" in got else b"-"))
        os._exit(0)
    os.close(w)
    answer = os.read(r, 1)
    os.waitpid(pid, 0)
    if answer == b"-":
        pytest.skip("no network namespace here")
    assert answer == b"1"


def _in_child(body) -> bytes:
    """Run `body()` (returns bytes) in a forked child; its answer."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        try:
            os.write(w, body())
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 64)
    os.waitpid(pid, 0)
    os.close(r)
    return answer


@pytest.mark.skipif(not LINUX, reason="terminals and capabilities: Linux")
def test_inherited_terminals_are_detached():
    from grader.containment import capabilities

    def body() -> bytes:
        master, slave = os.openpty()
        os.dup2(slave, 7)
        os.setsid()
        import fcntl
        import termios

        fcntl.ioctl(7, termios.TIOCSCTTY, 0)  # the terminal becomes ours, as an instructor's shell is
        before = os.isatty(7) and not capabilities._no_controlling_tty()

        def worker() -> bytes:  # a forked worker: its own session first, then the layer
            os.setsid()
            ok = capabilities.detach_terminals()
            return b"%d%d%d" % (before, ok, os.isatty(7) or os.isatty(slave))

        return _in_child(worker)

    assert _in_child(body) == b"110"


@pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="needs capabilities to drop")
def test_every_capability_is_dropped():
    from grader.containment import capabilities

    def body() -> bytes:
        before = capabilities.none_left()
        dropped = capabilities.drop_all()
        import socket

        try:
            socket.sethostname(socket.gethostname())
            refused = False
        except OSError:
            refused = True
        return b"%d%d%d" % (before, dropped, refused)

    assert _in_child(body) == b"011"


@pytest.mark.skipif(not LINUX, reason="cgroups are Linux only")
def test_cpu_cgroup_caps_at_the_share_of_jobs_and_counts_cpu_time(monkeypatch: pytest.MonkeyPatch):
    if "cgroup-cpu" not in cgroups.available():
        pytest.skip("no writable CPU cgroup here")
    monkeypatch.setattr(cgroups, "_PARALLEL", [2 * (os.cpu_count() or 1)])
    group = cgroups.create(10, 2**30, ("cgroup-cpu",))
    try:
        assert group is not None and group.layers == ("cgroup-cpu",)
        assert cgroups.cpu_quota_us() == cgroups.PERIOD_US // 2
        assert cgroups.cpu_seconds(group) == 0.0
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child: join, burn 0.3 s of CPU, leave
            cgroups.join(group)
            end = time.process_time() + 0.3
            while time.process_time() < end:
                pass
            os._exit(0)
        os.waitpid(pid, 0)
        assert 0.25 < cgroups.cpu_seconds(group) < 5
    finally:
        cgroups.kill(group)
        cgroups.remove(group)
