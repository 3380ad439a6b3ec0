"""CPU and wall time per notebook of `grade batch`, against plain nbclient execution.

Generates N notebook submissions (exercises 1-5 mixed, correct and buggy), then, interleaved
in one run: `grade batch` over all N (and over N/10, so the marginal cost per submission
excludes the one-time start-up), and plain nbclient + ipykernel execution of a sample of the
same notebooks (what any kernel-based grader such as nbgrader pays before it checks anything).
Every command runs under `bench/measure.py`: the bench is a subreaper, so the CPU counted is
that of every process the command started, orphans included, and the wall time lasts until the
last of them has exited.

    python bench/batch_notebooks.py [--n 100] [--nbclient-sample 12] [--jobs 2] [--rounds 2]
                                    [--compare OTHER_CHECKOUT] [--exercises 1 2 4 5]

--compare also times the batches with another checkout of the grader (an A/B of a change),
interleaved in the same rounds (--nbclient-sample 0 leaves nbclient out of such an A/B).
--exercises keeps the class to those exercises (default: every one but the MNIST training).
A class of 30 or more has its warm parent in huge pages (`grader.batch.run.HUGE_PAGES_FROM`):
with N under 300 the N/10 batch has not, so the marginal figure counts the collapse's one-time
cost (about 0.4 s) against the difference and the whole-batch figure is the plainer of the two.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402

from nbconvert_helpers import write_notebook  # noqa: E402


def sources(only: list[int] | None = None) -> list[Path]:
    from grader.exercises import registry

    files = []
    course = registry.active()
    for n in course.numbers:
        if course.exercise(n).timeout > 60 or (only and n not in only):  # the MNIST training: a bench of its own
            continue
        files.append(ROOT / f"reference/exercise{n}.py")
        files += sorted((ROOT / "tests/submissions" / f"exercise{n}").glob("*.py"))
    return files


def make_class(root: Path, n: int, only: list[int] | None = None) -> list[Path]:
    srcs = sources(only)
    made = []
    for i in range(n):
        src = srcs[i % len(srcs)]
        folder = root / f"student{i:03d}"
        folder.mkdir(parents=True)
        ex = src.read_text().split("exercise: ")[1][0] if "exercise: " in src.read_text() else src.stem[-1]
        made.append(write_notebook(src, folder / f"exercise{ex}.ipynb"))
    return made


def time_batch(root: Path, jobs: int, checkout: Path = ROOT) -> measure.Run:
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    cmd = [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--jobs", str(jobs), "--seed", "1"]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    result = measure.check(measure.run(cmd, checkout, env), cmd, ok=(0, 1))
    graded = _graded(out / "gradebook.csv")
    shutil.rmtree(out)
    wanted = sum(1 for _ in root.glob("*/*.ipynb"))
    if graded != wanted:  # exit 1 is also Python's own failure to start: never time a batch that did not run
        raise SystemExit(f"{' '.join(cmd)} graded {graded} of {wanted} notebooks: "
                         f"{result.output.decode(errors='replace')[-400:]}")
    return result


def _graded(gradebook: Path) -> int:
    """The rows of the batch's gradebook (0 when it wrote none)."""
    import csv

    try:
        with open(gradebook, newline="") as handle:
            return sum(1 for _ in csv.DictReader(handle))
    except OSError:
        return 0


NBCLIENT = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
            "for p in sys.argv[1:]:\n"
            "    nb = nbformat.read(p, as_version=4)\n"
            "    NotebookClient(nb, kernel_name='python3', timeout=120, allow_errors=True).execute()\n")


def time_nbclient(paths: list[Path]) -> measure.Run:
    cmd = [sys.executable, "-c", NBCLIENT, *map(str, paths)]
    return measure.check(measure.run(cmd, ROOT), cmd)


TARGET_CPU_MS = 80


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--nbclient-sample", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--compare", type=Path, help="another checkout of the grader, timed on the same batches")
    ap.add_argument("--exercises", type=int, nargs="*", help="only these exercises in the class")
    args = ap.parse_args()
    measure.become_subreaper()
    work = Path(tempfile.mkdtemp(prefix="bench-class-"))
    n_small = max(1, args.n // 10)
    full, small = work / "full", work / "small"
    made = make_class(full, args.n, args.exercises)
    make_class(small, n_small, args.exercises)
    sample = made[: args.nbclient_sample]
    big: list[measure.Run] = []
    little: list[measure.Run] = []
    kernel: list[measure.Run] = []
    other_big: list[measure.Run] = []
    other_little: list[measure.Run] = []
    for _ in range(args.rounds):
        big.append(time_batch(full, args.jobs))
        little.append(time_batch(small, args.jobs))
        if args.compare:
            other_big.append(time_batch(full, args.jobs, args.compare.resolve()))
            other_little.append(time_batch(small, args.jobs, args.compare.resolve()))
        if sample:
            kernel.append(time_nbclient(sample))
    shutil.rmtree(work)

    def med(runs: list[measure.Run], what: str) -> float:
        return statistics.median(getattr(r, what) for r in runs)

    if args.compare:
        o_cpu = (med(other_big, "cpu") - med(other_little, "cpu")) / (args.n - n_small)
        o_wall = (med(other_big, "wall") - med(other_little, "wall")) / (args.n - n_small)
        print(f"@{args.compare.name}: {args.n} notebooks {med(other_big, 'wall'):.2f} s wall, "
              f"{med(other_big, 'cpu'):.2f} s CPU; marginal per notebook {o_wall * 1000:.0f} ms wall, "
              f"{o_cpu * 1000:.0f} ms CPU")
    if not sample:
        kernel = [measure.Run(float("nan"), float("nan"), 0, b"")]
        sample = [Path()]
    nb_cpu, nb_wall = med(kernel, "cpu") / len(sample), med(kernel, "wall") / len(sample)
    marg_cpu = (med(big, "cpu") - med(little, "cpu")) / (args.n - n_small)
    marg_wall = (med(big, "wall") - med(little, "wall")) / (args.n - n_small)
    print(f"medians of {args.rounds} interleaved rounds; CPU = every process started, orphans included")
    print(f"{'':<44} {'wall s':>8} {'CPU s':>8} {'wall/nb ms':>11} {'CPU/nb ms':>10}")
    for name, runs, n in ((f"grade batch, {args.n} notebooks, --jobs {args.jobs}", big, args.n),
                          (f"grade batch, {n_small} notebooks, --jobs {args.jobs}", little, n_small),
                          (f"nbclient + ipykernel, {len(sample)} notebooks", kernel, len(sample))):
        print(f"{name:<44} {med(runs, 'wall'):8.2f} {med(runs, 'cpu'):8.2f} {med(runs, 'wall') / n * 1000:11.0f} "
              f"{med(runs, 'cpu') / n * 1000:10.0f}")
    print(f"grade batch, marginal per notebook: {marg_wall * 1000:.0f} ms wall, {marg_cpu * 1000:.0f} ms CPU "
          f"(target <= {TARGET_CPU_MS} ms CPU)")
    print(f"nbclient + ipykernel per notebook: {nb_wall * 1000:.0f} ms wall, {nb_cpu * 1000:.0f} ms CPU")
    print(f"CPU per notebook, nbclient / grade batch: {nb_cpu / marg_cpu:.1f}x marginal, "
          f"{nb_cpu / (med(big, 'cpu') / args.n):.1f}x over the whole {args.n}-notebook batch")


if __name__ == "__main__":
    main()
