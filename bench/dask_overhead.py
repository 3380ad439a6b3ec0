"""Per-submission overhead of `grade batch --scheduler` (Dask) against the local pool.

One generated class of N .py submissions (exercises 1 and 2, correct and buggy), graded in
one run, interleaved: `grade batch` with the local pool (`--jobs W`) and on a LocalCluster
of W worker processes (1 thread each) over loopback TCP. The cluster is started and warmed
once (its start-up is reported separately), so the per-submission figures are steady-state.
It also times each exercise graded one file at a time on one core, the figure the capacity
note in docs/DASK.md multiplies out.

    python bench/dask_overhead.py [--n 60] [--workers 2] [--rounds 3]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 3


def sources(exercise: int) -> list[Path]:
    subs = ROOT / "tests/submissions" / f"exercise{exercise}"
    return [ROOT / f"reference/exercise{exercise}.py", *sorted(subs.glob("*.py"))]


def make_class(root: Path, n: int) -> None:
    files = sources(1) + sources(2)
    for i in range(n):
        src = files[i % len(files)]
        ex = 1 if "exercise1" in str(src) else 2
        (root / f"s{i:03d}").mkdir(parents=True)
        shutil.copy(src, root / f"s{i:03d}" / f"exercise{ex}.py")


def time_batch(root: Path, extra: list[str]) -> float:
    from grader.batch import run as batch

    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    t = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        code = batch.main([str(root), "--out", str(out), "--seed", str(SEED), *extra])
    elapsed = time.perf_counter() - t
    shutil.rmtree(out)
    if code != 0:
        raise SystemExit(f"grade batch {' '.join(extra)} exited {code}")
    return elapsed


def time_one_by_one(exercise: int, rounds: int) -> float:
    """Median seconds to grade one file of this exercise, one at a time (warm, one core)."""
    from grader.judge import grade as judge
    from grader.intake import load
    from grader.sandbox import run as sandbox

    sandbox.warm_up()
    times = []
    for _ in range(rounds):
        for path in sources(exercise):
            t = time.perf_counter()
            judge.grade(load.read_submission(path), judge.Options(seed=SEED, device="cpu"))
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import dask
    import distributed

    work = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    make_class(work / "class", args.n)
    make_class(work / "warm", 2 * args.workers)
    t = time.perf_counter()
    with dask.config.set({"distributed.worker.daemon": False}), \
            distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1",
                                     dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        started = time.perf_counter() - t
        address = ["--scheduler", cluster.scheduler_address]
        local = ["--jobs", str(args.workers)]
        first = time_batch(work / "warm", address)  # workers start their forkservers
        from grader.sandbox import warm_hints

        warm_hints.ask(warm_hints.HUGE_PAGES)  # what a class of batch.HUGE_PAGES_FROM asks, as a Dask worker does
        time_batch(work / "warm", local)
        runs: dict[str, list[float]] = {"local": [], "dask": []}
        for i in range(args.rounds):
            order = (("local", local), ("dask", address)) if i % 2 == 0 else (("dask", address), ("local", local))
            for name, extra in order:
                runs[name].append(time_batch(work / "class", extra))
    one = {ex: time_one_by_one(ex, 2) for ex in (1, 2)}
    shutil.rmtree(work)
    t_local, t_dask = statistics.median(runs["local"]), statistics.median(runs["dask"])
    w = args.workers
    print(f"class: {args.n} submissions (exercises 1-2), {w} workers, {args.rounds} interleaved rounds each")
    print(f"local pool (--jobs {w}):       {t_local:6.2f} s  = {t_local / args.n * 1000:5.0f} ms wall per submission"
          f"  (all rounds: {', '.join(f'{x:.2f}' for x in runs['local'])})")
    print(f"Dask LocalCluster ({w} procs): {t_dask:6.2f} s  = {t_dask / args.n * 1000:5.0f} ms wall per submission"
          f"  (all rounds: {', '.join(f'{x:.2f}' for x in runs['dask'])})")
    print(f"Dask overhead per submission: {(t_dask - t_local) / args.n * 1000:+.0f} ms wall "
          f"({(t_dask - t_local) / args.n * w * 1000:+.0f} ms of a worker); ratio dask/local = {t_dask / t_local:.2f}")
    print(f"one-time: LocalCluster start {started:.1f} s, first batch on it (forkservers warming) {first:.1f} s")
    for ex, sec in one.items():
        print(f"exercise {ex}: {sec * 1000:.0f} ms per submission graded one at a time (one core, warm)")


if __name__ == "__main__":
    main()
