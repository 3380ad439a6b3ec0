"""Latency of `grader.check()` in a kernel: the warm server against a fresh `grade`, interleaved.

For each subject (a notebook made from the solution of each exercise given, and the .py
files given), each round saves a change to the file (`bench/watch.py`'s `save_change`), then
times `grader.check(FILE, warm=True)` (the kernel's kept server, as in Jupyter) and
`grader.check(FILE, warm=False)` (a fresh `grade` process, as before), each until the Report
is back. The warm server's first grade (its cold start) is timed apart. Medians are printed.

    python bench/check.py [--rounds 7] [--notebooks 1 2 4 5] [--exercises 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SEED = 1


def timed(file: Path, warm: bool) -> tuple[float, float | None]:
    import grader

    t = time.perf_counter()
    report = grader.check(file, seed=SEED, show=False, warm=warm)
    elapsed = time.perf_counter() - t
    if report is None or report.graded.status not in (0, 1):
        raise SystemExit(f"check of {file.name} failed: {report.graded.text if report else None}")
    return elapsed, report.score


def main() -> None:
    from grader.interactive import session
    from watch import save_change, subject

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--notebooks", type=int, nargs="*", default=[1, 2, 4, 5])
    ap.add_argument("--exercises", type=int, nargs="*", default=[1])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        for n, notebook in [(n, True) for n in args.notebooks] + [(n, False) for n in args.exercises]:
            folder = Path(tmp) / f"e{n}{'nb' if notebook else ''}"
            folder.mkdir()
            file = subject(folder, n, notebook)
            first, _ = timed(file, warm=True)
            warm_times, cold_times, scores = [], [], set()
            for k in range(args.rounds):
                save_change(file, k)
                w, score_w = timed(file, warm=True)
                c, score_c = timed(file, warm=False)
                warm_times.append(w)
                cold_times.append(c)
                scores |= {score_w, score_c}
            session.close()
            w, c = statistics.median(warm_times), statistics.median(cold_times)
            print(f"{file.name}: warm check {w * 1000:.0f} ms, fresh grade {c:.2f} s, ratio {w / c:.3f}; "
                  f"the server's first grade {first:.2f} s; scores {sorted(scores)} "
                  f"({args.rounds} rounds, medians)", flush=True)


if __name__ == "__main__":
    main()
