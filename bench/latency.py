"""Latency of `grade` on correct submissions against a bare `import torch`.

Interleaved in one run (this machine is noisy): each round times `python -c "import torch"`
and then `grade` on each correct submission; prints medians and ratios.

    python bench/latency.py [--rounds 5] [--exercises 1 2 3 4 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--exercises", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    baseline = [sys.executable, "-c", "import torch"]
    subjects = {n: [sys.executable, "-m", "grader", str(ROOT / f"reference/exercise{n}.py"), "--seed", "1",
                    "--device", "cpu"] for n in args.exercises}
    times: dict[str, list[float]] = {"import torch": []} | {f"grade exercise{n}": [] for n in subjects}
    timed(baseline)  # warm the file cache
    for _ in range(args.rounds):
        for n, cmd in subjects.items():
            times["import torch"].append(timed(baseline))
            times[f"grade exercise{n}"].append(timed(cmd))
    base = statistics.median(times["import torch"])
    print(f"{'command':<22} {'median s':>9} {'ratio':>7}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<22} {med:9.3f} {med / base:7.2f}")
    worst = max(statistics.median(v) for k, v in times.items() if k != "import torch") / base
    print(f"worst ratio {worst:.2f} (target <= {TARGET})")


if __name__ == "__main__":
    main()
