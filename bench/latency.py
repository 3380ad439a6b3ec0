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
    ap.add_argument("--exercises", type=int, nargs="+", default=[1, 2, 3, 4, 5])
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
    if 3 in args.exercises:
        train = statistics.median(train_compute() for _ in range(args.rounds))
        adjusted = (statistics.median(times["grade exercise3"]) - train) / base
        print(f"train_linreg's own compute (reference, 1000 examples, 3 epochs, in a warm process): {train:.3f} s; "
              f"exercise3 without it: ratio {adjusted:.2f} (target <= {TARGET}, the compute allowed on top)")


TRAIN = """
import time, torch, reference.exercise3 as r
torch.set_num_threads(1)
X = torch.randn(1000, 2)
y = X @ torch.tensor([2.0, -3.4]) + 4.2 + 0.01 * torch.randn(1000)
r.train_linreg(X[:20], y[:20], num_epochs=1)
t = time.perf_counter()
r.train_linreg(X, y)
print(time.perf_counter() - t)
"""


def train_compute() -> float:
    """Seconds the reference train_linreg spends computing, torch already imported."""
    out = subprocess.run([sys.executable, "-c", TRAIN], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
