"""Gradescope's `run_autograder`: grade the submission folder, write results.json.

Runs with the instructor's package (hidden checks included), on the seed fixed when the
bundle was made (`--seed`, stored in run_autograder and printed), so a resubmitted file
gets the same grade; without `--seed` a fresh one is drawn and printed. Paths follow
Gradescope's layout under AUTOGRADER_ROOT (default /autograder): the files in
`submission/`, the results in `results/results.json`. Every exerciseN file found there (by
the contract's rules: a `# exercise: N` marker, else the name) is graded, or only those of
`--exercises`; the results of several files are merged into one results.json. It always
writes results.json and exits 0: Gradescope reads the file, not the exit status. Files are
read only through `load.read_bytes` (no links, no special or oversized files, nothing outside
the submission folder); whatever goes wrong with one file is noted and the others are graded.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import traceback
from pathlib import Path
from typing import Any, Sequence

from grader.intake import discover
from grader.results import gradescope
from grader.intake import load
from grader.errors import UsageError
from grader.results.escape import md_name

SUFFIXES = (".py", ".ipynb")


def root() -> Path:
    return Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))


def find(folder: Path, wanted: Sequence[int] | None) -> tuple[dict[int, Path], list[str]]:
    """exercise -> the file to grade, and notes on files passed over.

    Where two files claim one exercise, `discover.preferred` chooses (the batch's rule).
    """
    found: dict[int, list[Path]] = {}
    notes = []
    files = [p for p in discover.walk(folder) if p.suffix.lower() in SUFFIXES]
    for path in files:
        try:
            number = discover._exercise_of(path, folder)
        except UsageError as exc:
            notes.append(f"{load.shown(path.name)}: not graded ({exc})")
            continue
        except Exception as exc:  # one file never costs the others their grade
            notes.append(f"{load.shown(path.name)}: not graded ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        if wanted and number not in wanted:
            notes.append(f"{load.shown(path.name)}: not graded (exercise {number} is not part of this assignment)")
            continue
        found.setdefault(number, []).append(path)
    chosen = {}
    for number, claimed in found.items():
        paths = discover.preferred(claimed, number)
        chosen[number] = paths[0]
        notes += [f"{load.shown(p.name)}: not graded (another file for exercise {number}: "
                  f"{load.shown(paths[0].name)})" for p in paths[1:]]
    return chosen, notes


def missing(number: int) -> dict[str, Any]:
    """results.json for an exercise whose file is missing: every check failed, worth its points."""
    from grader.exercises.spec import load_exercise

    try:
        exercise = load_exercise(number)
    except LookupError:  # a marker naming an exercise this grader does not have
        why = f"exercise {number} is not an exercise this autograder grades"
        return {"score": 0, "max_score": 0, "output": why, "tests": []}
    why = f"no file for exercise {number} was found: upload exercise{number}.py or exercise{number}.ipynb"
    tests = [{"name": f"submission: no exercise{number} file", "score": 0, "max_score": 0, "status": "failed",
              "output": why, "output_format": "md", "visibility": "visible"}]
    tests += [{"name": c.test_name, "score": 0, "max_score": c.points, "status": "failed",
               "output": "not graded: " + why, "output_format": "md",
               "visibility": "after_published" if c.hidden else "visible"} for c in exercise.checks]
    return {"score": 0, "max_score": sum(t["max_score"] for t in tests), "output": why, "tests": tests}


def merge(parts: Sequence[dict[str, Any]], notes: Sequence[str]) -> dict[str, Any]:
    """One results.json from several: tests concatenated and renumbered, each part's totals
    (the result model's, `GradeResult.totals`) summed."""
    tests = [dict(t) for part in parts for t in part["tests"]]
    for i, test in enumerate(tests, start=1):
        test["number"] = str(i)
    output = "\n\n".join(p.get("output", "").strip() for p in parts if p.get("output"))
    if notes:
        output += "\n\n**Files not graded:**\n\n" + "\n".join(f"- {md_name(n)}" for n in notes)
    return {"score": round(sum(p["score"] for p in parts), 6), "max_score": round(sum(p["max_score"] for p in parts), 6),
            "output": output.strip() + "\n", "output_format": "md",
            "execution_time": sum(int(p.get("execution_time", 0)) for p in parts),
            "stdout_visibility": "hidden", "tests": tests}


def grade_folder(folder: Path, wanted: Sequence[int] | None, timeout: float | None,
                 seed: int | None = None) -> dict[str, Any]:
    """The results.json object for everything in `folder`, every file on `seed`."""
    from grader import api
    from grader.sandbox import run as sandbox

    seed = secrets.randbelow(2**31) if seed is None else seed
    print(f"seed {seed}")

    chosen, notes = find(folder, wanted)
    numbers = sorted(set(wanted or ()) | set(chosen))
    if not numbers:
        return gradescope.failure_results("No exercise file was found in the submission: upload exerciseN.py "
                                          "or exerciseN.ipynb (or put `# exercise: N` in its first lines).")
    sandbox.warm_up()
    parts = []
    for number in numbers:
        if number not in chosen:
            parts.append(missing(number))
            continue
        name = load.shown(chosen[number].name)
        try:
            result = api.grade_path(chosen[number], api.options(seed, timeout=timeout), root=folder)
            part = gradescope.results(result)
        except (UsageError, LookupError) as exc:
            notes.append(f"{name}: could not be graded ({exc})")
            parts.append(missing(number))
            continue
        except Exception as exc:  # the grader's bug on this file: the other files keep their grade
            traceback.print_exc()
            notes.append(f"{name}: could not be graded (internal error, not your fault: {type(exc).__name__})")
            parts.append(missing(number))
            continue
        parts.append(part)
        print(f"{name}: {result.score:g} / {result.max_score:g} (seed {result.seed})")
    return merge(parts, notes)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="run_autograder", description=__doc__.splitlines()[0])
    p.add_argument("--exercises", type=lambda s: [int(x) for x in s.split(",") if x.strip()])
    p.add_argument("--timeout", type=float)
    p.add_argument("--seed", type=int, help="the assignment's seed (fixed when the bundle is made)")
    p.add_argument("--course", metavar="DIR|NAME", help="the course (default: GRADER_COURSE, else the built-in one)")
    args = p.parse_args(argv)
    base = root()
    out = base / "results" / "results.json"
    try:
        from grader.exercises import registry

        registry.select(args.course)  # before the warm parent starts: it preloads the course's probes
        data = grade_folder(base / "submission", args.exercises, args.timeout, args.seed)
    except Exception:  # the grader's bug: Gradescope still needs a results.json
        traceback.print_exc()
        data = gradescope.failure_results("The autograder failed (not your fault); your instructor has the details.")
    gradescope.write(out, data)
    print(f"wrote {out}: {data['score']:g} / {data['max_score']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
