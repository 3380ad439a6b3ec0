"""Latency of a cold `grade` on correct submissions against a bare `import torch`.

Each command is timed until it and everything it started have exited and its output has
reached EOF (`bench/measure.py`: the bench is a subreaper and reaps every orphan), which is
what a shell, a CI step or `subprocess.run` waits for. Interleaved in one run (this machine is
noisy): each round times `python -c "import torch"` before every subject; medians and ratios
are printed. Subjects: `grade reference/exerciseN.py` for each N asked, and a notebook made
from each reference asked with --notebooks (one code cell per top-level statement).

    python bench/latency.py [--rounds 5] [--exercises 1 2 3 4 5] [--notebooks 1] [--exercise6]
                            [--solutions 3] [--compare OTHER_CHECKOUT] [--store]

--compare also times each subject with another checkout of the grader (an A/B of a change),
interleaved in the same rounds. --store also times each .py as the student wheel grades it:
from precomputed answers (made here first for seed 1, `GRADER_ANSWERS`), so no reference
worker runs and hidden checks stay pending.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402

TARGET_PY, TARGET_NOTEBOOK, TARGET_EX6 = 0.8, 0.9, 2.5


def grade_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "grader", str(path), "--seed", "1", "--device", "cpu"]


def subjects(exercises: list[int], notebooks: list[int], ex6: bool, tmp: Path,
             solutions: list[int] = ()) -> dict[str, list[str]]:  # type: ignore[assignment]
    from nbconvert_helpers import write_notebook

    out = {f"grade exercise{n}.py": grade_cmd(ROOT / f"reference/exercise{n}.py") for n in exercises}
    out |= {f"grade solutions/exercise{n}.py": grade_cmd(ROOT / f"exercises/solutions/exercise{n}.py")
            for n in solutions}
    for n in notebooks:
        folder = tmp / f"nb{n}"
        folder.mkdir()
        out[f"grade exercise{n}.ipynb"] = grade_cmd(write_notebook(ROOT / f"reference/exercise{n}.py",
                                                                   folder / f"exercise{n}.ipynb"))
    if ex6:
        out["grade exercise6.py"] = grade_cmd(ROOT / "reference/exercise6.py")
    return out


def precompute(folder: Path, exercises: list[int]) -> None:
    """A store of the reference's answers for seed 1, as `grade bundle` makes (in a child: the
    bench itself stays free of the grader's processes)."""
    code = ("import sys; from pathlib import Path; from grader.distribution import bundle; "
            "bundle.precompute(Path(sys.argv[1]), [int(n) for n in sys.argv[2:]], [1])")
    measure.check(measure.run([sys.executable, "-c", code, str(folder), *map(str, exercises)], ROOT),
                  ["precompute"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--exercises", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    ap.add_argument("--notebooks", type=int, nargs="*", default=[1])
    ap.add_argument("--exercise6", action="store_true", help="also time exercise 6 (absolute target)")
    ap.add_argument("--solutions", type=int, nargs="*", default=[],
                    help="also time exercises/solutions/exerciseN.py: solutions written into the student's stub")
    ap.add_argument("--compare", type=Path, help="another checkout of the grader, timed on the same subjects")
    ap.add_argument("--store", action="store_true", help="also time each .py with precomputed answers (the student wheel)")
    args = ap.parse_args()
    measure.become_subreaper()
    baseline = [sys.executable, "-c", "import torch"]
    with tempfile.TemporaryDirectory() as tmp:
        ours = subjects(args.exercises, args.notebooks, args.exercise6, Path(tmp), args.solutions)
        cmds = {name: (cmd, ROOT, None) for name, cmd in ours.items()}
        if args.store:
            store = Path(tmp) / "answers"
            precompute(store, [*args.exercises, *([6] if args.exercise6 else [])])
            env = {**os.environ, "GRADER_ANSWERS": str(store)}
            for name, cmd in ours.items():
                if name.endswith(".py"):
                    cmds[f"{name} (stored answers)"] = (cmd, ROOT, env)
        if args.compare:
            other = args.compare.resolve()
            env = {**os.environ, "PYTHONPATH": str(other)}
            for name, cmd in ours.items():
                cmds[f"{name} @{other.name}"] = (cmd, other, env)
        times: dict[str, list[float]] = {"import torch": []} | {name: [] for name in cmds}
        cpus: dict[str, list[float]] = {name: [] for name in times}
        measure.check(measure.run(baseline, ROOT), baseline)  # warm the file cache
        for name, (cmd, cwd, env) in cmds.items():
            measure.check(measure.run(cmd, cwd, env), cmd)
        for _ in range(args.rounds):
            for name, (cmd, cwd, env) in cmds.items():
                for key, result in (("import torch", measure.run(baseline, ROOT)), (name, measure.run(cmd, cwd, env))):
                    measure.check(result, cmd)
                    times[key].append(result.wall)
                    cpus[key].append(result.cpu)
    base = statistics.median(times["import torch"])
    base_cpu = statistics.median(cpus["import torch"])
    print(f"{'command (until it and all it started exit)':<52} {'median s':>9} {'ratio':>7} {'target':>7} "
          f"{'CPU s':>7} {'ratio':>6}")
    for name, values in times.items():
        med = statistics.median(values)
        kind = name.split(" @")[0].removesuffix(" (stored answers)")
        target = ("" if name == "import torch" else f"{TARGET_EX6:.1f} s" if "exercise6" in kind
                  else f"{TARGET_NOTEBOOK:.2f}" if kind.endswith(".ipynb") else f"{TARGET_PY:.2f}")
        cpu = statistics.median(cpus[name])
        print(f"{name:<52} {med:9.3f} {med / base:7.2f} {target:>7} {cpu:7.3f} {cpu / base_cpu:6.2f}")
    py = [statistics.median(v) / base for k, v in times.items() if k.endswith(".py") and "exercise6" not in k]
    if py:
        print(f"worst .py ratio {max(py):.2f} (target <= {TARGET_PY})")


if __name__ == "__main__":
    main()
