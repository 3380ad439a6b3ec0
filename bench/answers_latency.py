"""Grading latency with precomputed answers (student bundle) versus the reference worker.

Interleaves the two modes in one process, after a warm-up, on the reference solutions of
exercises 1-2. Run from the repository root: `python bench/answers_latency.py [ROUNDS]`.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.judge import answers
from grader.distribution import bundle
from grader.judge import grade as judge
from grader.intake import load
from grader.sandbox import run as sandbox  # noqa: E402


def main(rounds: int = 10) -> None:
    sandbox.warm_up()
    seeds = list(range(1, rounds + 1))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        bundle.precompute(Path(tmp), [1, 2], seeds)
        print(f"precompute: {time.monotonic() - t0:.2f} s for 2 exercises x {rounds} seeds")
        store = answers.Store.open(Path(tmp))
        times: dict[str, list[float]] = {"fresh": [], "store": []}
        for n in (1, 2):
            sub = load.read_submission(ROOT / f"reference/exercise{n}.py")
            judge.grade(sub, judge.Options(seed=seeds[0], device="cpu"))  # warm
            for seed in seeds:
                for mode, opts in (("fresh", judge.Options(seed=seed + 1000, device="cpu")),
                                   ("store", judge.Options(seed=seed, device="cpu", answers=store))):
                    t = time.monotonic()
                    judge.grade(sub, opts)
                    times[mode].append(time.monotonic() - t)
        for mode, values in times.items():
            print(f"{mode}: median {1000 * statistics.median(values):.0f} ms, "
                  f"max {1000 * max(values):.0f} ms over {len(values)} grades")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
