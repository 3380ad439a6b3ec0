"""`grade batch --scheduler`: a Dask cluster grades a class exactly as the local pool does.

The quick test runs Dask's workers as threads of this process (so it reuses the warm
forkserver); the slow ones start real worker processes, kill one mid-batch, and kill the
scheduler mid-batch.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from conftest import ROOT, SUBMISSIONS  # noqa: E402
from grader.batch import grading, run as batch
from grader.batch import gradebook
from grader.intake import load  # noqa: E402
from grader.errors import UsageError  # noqa: E402
from grader.batch.executors_dask import DaskExecutor, parse_scheduler  # noqa: E402
from test_batch import db_rows, make_class, read_csv  # noqa: E402

SEED = 77
CRASHER = SUBMISSIONS.parent / "submissions/basics/os_exit_in_function.py"


def _small_class(root: Path) -> None:
    """Six submissions: .py and .ipynb, right, buggy, one that crashes its sandbox, one too big."""
    make = {"ok": ROOT / "reference/exercise1.py", "bug": SUBMISSIONS / "exercise1/bug_mean.py",
            "sgd": SUBMISSIONS / "exercise2/ok_foreach.py", "crash": CRASHER}
    for student, src in make.items():
        (root / student).mkdir(parents=True)
        ex = 2 if "exercise2" in str(src) else 1
        shutil.copy(src, root / student / f"exercise{ex}.py")
    (root / "flat_exercise2.py").write_text((SUBMISSIONS / "exercise2/bug_no_zero.py").read_text())
    (root / "huge").mkdir()
    (root / "huge" / "exercise1.py").write_text("# exercise: 1\n" + "#" * (load.MAX_FILE_BYTES + 10))


@pytest.fixture()
def threads_cluster():
    """A scheduler on loopback TCP whose 2 workers are threads of this process (starts in ~1 s)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster


def test_dask_batch_matches_the_local_pool(tmp_path: Path, threads_cluster, monkeypatch) -> None:
    _small_class(tmp_path / "class")
    sent: list[grading.Shipment | grading.Outcome] = []
    real = grading.ship
    monkeypatch.setattr(grading, "ship", lambda entry, spec: sent.append(real(entry, spec)) or sent[-1])
    args = [str(tmp_path / "class"), "--seed", str(SEED)]
    assert batch.main(args + ["--out", str(tmp_path / "dask"), "--scheduler", threads_cluster.scheduler_address]) == 0
    assert batch.main(args + ["--out", str(tmp_path / "local"), "--jobs", "2"]) == 0  # "huge" is skipped, unread
    assert (tmp_path / "dask/gradebook.csv").read_text() == (tmp_path / "local/gradebook.csv").read_text()
    rows = read_csv(tmp_path / "dask")
    assert {s: r["status"] for (s, _), r in rows.items()} == {
        "ok": "passed", "bug": "failed", "sgd": "passed", "flat": "failed", "crash": "failed"}
    assert "huge/exercise1.py\texercise1.py is larger than 50 MiB" in (tmp_path / "dask/skipped.txt").read_text()
    assert "crashed the process" in (tmp_path / "dask/reports/crash/exercise1.txt").read_text()
    # the bytes travelled (no path did), and the oversized file was refused before sending
    shipped = [s for s in sent if isinstance(s, grading.Shipment)]
    assert sorted(s.student for s in shipped) == ["bug", "crash", "flat", "ok", "sgd"]
    assert all(s.data and "/" not in s.filename for s in shipped)
    assert [s for s in sent if isinstance(s, grading.Outcome)] == []  # "huge" never reached ship()
    # a rerun on the cluster grades nothing again
    before = db_rows(tmp_path / "dask")
    assert batch.main(args + ["--out", str(tmp_path / "dask"), "--scheduler", threads_cluster.scheduler_address]) == 0
    assert db_rows(tmp_path / "dask") == before


def test_a_worker_with_other_checks_refuses_and_nothing_is_committed(tmp_path: Path, threads_cluster) -> None:
    entry = batch.discover.Entry("amy", 1, ROOT / "reference/exercise1.py")
    shipment = grading.ship(entry, "not-the-workers-hash")
    outcome = grading.grade_shipment(shipment, batch.Settings(SEED, "cpu", None))
    assert outcome.status == "error" and not outcome.final and "same grader" in outcome.message


def test_the_executor_keeps_a_bounded_window_and_yields_each_item_once(threads_cluster) -> None:
    with distributed.Client(threads_cluster) as client:
        executor = DaskExecutor(client, window=3)
        seen = []
        pulled = []

        def items():
            for i in range(20):
                pulled.append(i)
                yield i

        for item, result in executor.map_unordered(lambda x: x * x, items()):
            seen.append((item, result))
            assert len(pulled) - len(seen) <= 3  # never more than the window in flight
        assert sorted(seen) == [(i, i * i) for i in range(20)]
        failed = list(executor.map_unordered(lambda x: 1 / x, [0, 1], on_error=lambda i, e: type(e).__name__))
        assert sorted(failed, key=str) == [(0, "ZeroDivisionError"), (1, 1.0)]


@pytest.mark.parametrize("spec, words", [("local:0", "1 <= N"), ("http://x:1", "tcp://HOST:PORT"),
                                         ("local:two", "local:N"), ("", "local:N")])
def test_bad_scheduler_is_a_usage_error(spec: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_scheduler(spec)


def test_bad_scheduler_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    done = subprocess.run([sys.executable, "-m", "grader", "batch", str(tmp_path / "c"), "--out",
                           str(tmp_path / "o"), "--scheduler", "local:0"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "grade: error: --scheduler local:N needs 1 <= N <= 1024"]
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tls://10.0.0.1:8786") == ("remote", "tls://10.0.0.1:8786")


def _count_commits(monkeypatch) -> list[tuple[str, int]]:
    committed: list[tuple[str, int]] = []
    real = gradebook.Gradebook.put
    monkeypatch.setattr(gradebook.Gradebook, "put", lambda self, row, *rest, **kw:
                        committed.append((row.student, row.exercise)) or real(self, row, *rest, **kw))
    return committed


@pytest.mark.slow
def test_local_cluster_of_2_processes_matches_the_local_pool_exactly(tmp_path: Path, monkeypatch) -> None:
    made = make_class(tmp_path / "class")
    (tmp_path / "class" / "crasher").mkdir()
    shutil.copy(CRASHER, tmp_path / "class" / "crasher" / "exercise1.py")
    committed = _count_commits(monkeypatch)
    args = [str(tmp_path / "class"), "--seed", str(SEED)]
    assert batch.main(args + ["--out", str(tmp_path / "dask"), "--scheduler", "local:2"]) == 0
    assert sorted(committed) == sorted(list(made) + [("crasher", 1)])  # each exactly once
    assert batch.main(args + ["--out", str(tmp_path / "local"), "--jobs", "2"]) == 0
    dask_csv = (tmp_path / "dask/gradebook.csv").read_text()
    assert dask_csv == (tmp_path / "local/gradebook.csv").read_text()
    assert len(dask_csv.splitlines()) == len(made) + 2 >= 32
    for student, ex in made:
        for suffix in ("txt", "md"):
            name = f"reports/{student}/exercise{ex}.{suffix}"
            assert (tmp_path / "dask" / name).read_text() == (tmp_path / "local" / name).read_text()
    assert read_csv(tmp_path / "dask")[("crasher", "exercise1")]["status"] == "failed"


def _slow_class(root: Path, n: int) -> None:
    src = "# exercise: 1\nimport time\ntime.sleep(0.5)\n" + (ROOT / "reference/exercise1.py").read_text()
    for i in range(n):
        (root / f"k{i:02d}").mkdir(parents=True)
        (root / f"k{i:02d}" / "exercise1.py").write_text(src)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_still_grades_each_exactly_once(tmp_path: Path, monkeypatch) -> None:
    import dask

    n = 30
    _slow_class(tmp_path / "class", n)
    committed = _count_commits(monkeypatch)
    out = tmp_path / "out"
    with dask.config.set({"distributed.worker.daemon": False}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                     silence_logs=50) as cluster, distributed.Client(cluster) as client:
        codes: list[int] = []
        run = threading.Thread(target=lambda: codes.append(batch.main(
            [str(tmp_path / "class"), "--out", str(out), "--seed", "5", "--scheduler", cluster.scheduler_address])))
        run.start()
        killed = None
        deadline = time.time() + 240
        while killed is None and time.time() < deadline and run.is_alive():
            busy = [addr for addr, tasks in client.processing().items() if tasks]
            if len(committed) >= 4 and busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed = len(committed)
            time.sleep(0.05)
        run.join(300)
    assert killed is not None and killed < n, "the worker was not killed mid-batch"
    assert codes == [0]
    assert sorted(committed) == [(f"k{i:02d}", 1) for i in range(n)]  # each committed exactly once
    rows = read_csv(out)
    assert len(rows) == n and {r["score"] for r in rows.values()} == {"10"}


def _graded(out: Path) -> int:
    """How many rows the gradebook holds now (0 while it is being created)."""
    try:
        return len(db_rows(out)) if (out / "gradebook.sqlite").exists() else 0
    except sqlite3.OperationalError:
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(port: int, tmp: Path) -> tuple[subprocess.Popen, subprocess.Popen]:
    """A `dask scheduler` and one `dask worker` with Dask's defaults (a daemonic worker under a nanny)."""
    log = open(tmp / f"dask-{port}.log", "ab")
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--port", str(port), "--no-dashboard"], stdout=log, stderr=log, cwd=ROOT)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                               "--nthreads", "2", "--no-dashboard"], stdout=log, stderr=log, cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return sched, worker


def _stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.slow
def test_a_lost_scheduler_stops_cleanly_and_a_rerun_resumes(tmp_path: Path) -> None:
    n = 16
    _slow_class(tmp_path / "class", n)
    port = _free_port()
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "batch", str(tmp_path / "class"), "--out", str(out), "--seed", "5",
           "--scheduler", f"tcp://127.0.0.1:{port}"]
    sched, worker = _start_cluster(port, tmp_path)
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and _graded(out) < 3:
            time.sleep(0.1)
        _stop(sched)
        _, err = proc.communicate(timeout=120)
    finally:
        _stop(sched, worker)
    before = db_rows(out)
    assert proc.returncode == 1 and 3 <= len(before) < n
    last = err.strip().splitlines()[-1]
    assert "lost the Dask scheduler" in last and "run the same command again" in last
    assert "Traceback" not in err
    sched, worker = _start_cluster(port, tmp_path)
    try:
        assert subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300).returncode == 0
    finally:
        _stop(sched, worker)
    after = db_rows(out)
    assert len(after) == n and all(after[k] == t for k, t in before.items())  # resumed: nothing graded twice
    assert {r["score"] for r in read_csv(out).values()} == {"10"}


def test_tls_settings_are_passed_through(tmp_path: Path) -> None:
    from distributed.security import Security

    made = Security.temporary()
    pems = {}
    for name, text in (("ca", made.tls_ca_file), ("cert", made.tls_client_cert), ("key", made.tls_client_key)):
        pems[name] = tmp_path / f"{name}.pem"
        pems[name].write_text(text)
    root = tmp_path / "class"
    (root / "amy").mkdir(parents=True)
    shutil.copy(ROOT / "reference/exercise1.py", root / "amy" / "exercise1.py")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls://",
                                  host="127.0.0.1", dashboard_address=None, security=made) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        args = [str(root), "--out", str(tmp_path / "out"), "--scheduler", cluster.scheduler_address]
        with pytest.raises(UsageError, match="--tls-cert"):
            batch.main(args + ["--tls-ca-file", str(pems["ca"])])
        assert batch.main(args + ["--tls-ca-file", str(pems["ca"]), "--tls-cert", str(pems["cert"]),
                                  "--tls-key", str(pems["key"])]) == 0
    assert read_csv(tmp_path / "out")[("amy", "exercise1")]["score"] == "10"
    with pytest.raises(UsageError, match="need --scheduler"):
        batch.main([str(root), "--out", str(tmp_path / "o2"), "--tls-cert", str(pems["cert"])])


def test_dask_log_lines_reach_stderr_without_tracebacks() -> None:
    """A lost scheduler makes Dask's background threads log exceptions before the batch can say
    so in one line (CI saw one): its handlers print each record as one line, no traceback."""
    code = ("import logging, sys\n"
            "from grader.batch import executors_dask\n"
            "executors_dask._one_line_logs()\n"
            "try:\n"
            "    raise OSError('Stream is closed')\n"
            "except OSError:\n"
            "    logging.getLogger('distributed.batched').exception('Error in batched write\\nsecond line')\n"
            "logging.getLogger('distributed.core').error('plain %s', 'error')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and "second line" not in done.stderr
    assert any("Error in batched write (OSError)" in line for line in lines)
    assert any("plain error" in line for line in lines)


def test_a_dask_worker_asks_its_warm_parent_for_huge_pages_before_it_starts(monkeypatch):
    """A Dask worker grades many submissions: its warm parent collapses into huge pages
    (`forkserver_hugepages`), asked before it starts, as a local batch of many does."""
    from grader.batch import executors_dask
    from grader.sandbox import run as sandbox, warm_hints

    calls: list[str] = []
    monkeypatch.setattr(warm_hints, "ask", lambda module: calls.append(f"ask {module}"))
    monkeypatch.setattr(sandbox, "warm_up", lambda **kw: calls.append("warm_up"))
    executors_dask.prepare_worker()
    assert calls == [f"ask {warm_hints.HUGE_PAGES}", "warm_up"]
