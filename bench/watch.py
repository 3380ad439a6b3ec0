"""Re-grade latency of `grade --watch` (save -> report) against a cold `grade`, interleaved.

For each exercise, one `grade --watch` runs for the whole bench on a copy of the solution;
each round saves a change to that copy and times until the new results.json is written, then
times a cold `grade` of the same file with the same seed. Prints medians and the ratio.

    python bench/watch.py [--rounds 5] [--exercises 1 2 3 4 5]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = "1"


def _results(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _wait_written(path: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while _results(path) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"no results at {path} after {timeout:g} s")
        time.sleep(0.005)


def cold(file: Path, out: Path) -> float:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", str(file), "--seed", SEED, "--device", "cpu",
                           "--json", str(out)], cwd=file.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grade exited {proc.returncode}: {proc.stderr.decode()[-400:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--exercises", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        for n in args.exercises:
            folder = Path(tmp) / f"e{n}"
            folder.mkdir()
            file = folder / f"exercise{n}.py"
            file.write_text((ROOT / f"exercises/solutions/exercise{n}.py").read_text())
            out, cold_out = folder / "watch.json", folder / "cold.json"
            proc = subprocess.Popen([sys.executable, "-m", "grader", "--watch", str(file), "--seed", SEED,
                                     "--device", "cpu", "--json", str(out)], cwd=folder, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait_written(out)  # the first grade (cold, inside the watcher): not counted
                warm_times, cold_times = [], []
                for k in range(args.rounds):
                    out.unlink()
                    t = time.perf_counter()
                    with open(file, "a") as handle:
                        handle.write(f"# save {k}\n")
                    _wait_written(out)
                    warm_times.append(time.perf_counter() - t)
                    cold_times.append(cold(file, cold_out))
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
            w, c = statistics.median(warm_times), statistics.median(cold_times)
            rows.append((n, w, c))
            print(f"exercise{n}: watch re-grade {w * 1000:.0f} ms, cold grade {c:.2f} s, ratio {w / c:.3f} "
                  f"({args.rounds} rounds, medians)", flush=True)
    print("re-grade latency includes the watcher's wake-up: inotify, then QUIET_SECONDS without "
          "events (grader/cli/watch.py; without inotify, polling: up to POLL_SECONDS + SETTLE_SECONDS)")


if __name__ == "__main__":
    main()
