"""Throughput of `grade batch` on notebook submissions, against plain nbclient execution.

Generates N notebook submissions (exercises mixed, correct and buggy), then, interleaved in
one run: `grade batch` over all N (and over N/10, so the per-submission cost excludes the
one-time start-up), and plain nbclient + ipykernel execution of a sample of the same
notebooks (what any kernel-based grader such as nbgrader pays before it checks anything).

    python bench/batch_notebooks.py [--n 100] [--nbclient-sample 12] [--jobs 2] [--rounds 2]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from nbconvert_helpers import write_notebook  # noqa: E402


def sources() -> list[Path]:
    from grader.exercises import registry

    files = []
    course = registry.active()
    for n in course.numbers:
        if course.exercise(n).timeout > 60:  # the training exercise: a benchmark of its own
            continue
        files.append(ROOT / f"reference/exercise{n}.py")
        files += sorted((ROOT / "tests/submissions" / f"exercise{n}").glob("*.py"))
    return files


def make_class(root: Path, n: int) -> list[Path]:
    srcs = sources()
    made = []
    for i in range(n):
        src = srcs[i % len(srcs)]
        folder = root / f"student{i:03d}"
        folder.mkdir(parents=True)
        ex = src.read_text().split("exercise: ")[1][0] if "exercise: " in src.read_text() else src.stem[-1]
        made.append(write_notebook(src, folder / f"exercise{ex}.ipynb"))
    return made


def time_batch(root: Path, jobs: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--jobs", str(jobs),
                    "--seed", "1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    shutil.rmtree(out)
    return elapsed


def time_nbclient(paths: list[Path]) -> float:
    code = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
            "for p in sys.argv[1:]:\n"
            "    nb = nbformat.read(p, as_version=4)\n"
            "    NotebookClient(nb, kernel_name='python3', timeout=120, allow_errors=True).execute()\n")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *map(str, paths)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--nbclient-sample", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-class-"))
    full, small = work / "full", work / "small"
    made = make_class(full, args.n)
    make_class(small, max(1, args.n // 10))
    sample = made[: args.nbclient_sample]
    big, little, kernel = [], [], []
    for _ in range(args.rounds):
        big.append(time_batch(full, args.jobs))
        little.append(time_batch(small, args.jobs))
        kernel.append(time_nbclient(sample) / len(sample))
    t_big, t_small, t_nb = statistics.median(big), statistics.median(little), statistics.median(kernel)
    per_sub = (t_big - t_small) / (args.n - max(1, args.n // 10))
    print(f"grade batch, {args.n} notebooks, --jobs {args.jobs}: {t_big:.2f} s  ({args.n / t_big:.1f} notebooks/s)")
    print(f"grade batch, {max(1, args.n // 10)} notebooks: {t_small:.2f} s")
    print(f"marginal wall time per notebook: {per_sub * 1000:.0f} ms  (x{args.jobs} jobs = "
          f"{per_sub * args.jobs * 1000:.0f} ms of one core)")
    print(f"plain nbclient + ipykernel, one after another: {t_nb:.2f} s per notebook")
    print(f"throughput ratio, grade batch vs nbclient alone (same {args.jobs} cores): "
          f"{t_nb / (t_big / args.n) / args.jobs:.1f}x per core, {t_nb / (t_big / args.n):.1f}x wall")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
