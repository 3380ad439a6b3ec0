"""`grade check-exercise N`: are the exercise's checks strong enough to catch plausible bugs?

The reference must get full marks and the stub 0 on every seed, with the same verdicts on
every seed; then mutants of the reference (`grader.authoring.mutants`) are graded like any
submission (`grader.authoring.strength`) and the report lists, per function, the mutation
score and every surviving mutant with its diff. Exit 0 when every function reaches the
target and nothing is wrong with the exercise, 1 otherwise, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from grader.authoring import course as courses
from grader.cli.options import Parser as _Parser, add_course
from grader.errors import UsageError

DEFAULT_SEEDS = 2
DEFAULT_TARGET = 0.9


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade check-exercise", description="Validate an exercise's checks: the reference, the stub "
                "and mutants of the reference.")
    p.add_argument("exercise", type=int, help="the exercise number")
    add_course(p)
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds to grade on (default {DEFAULT_SEEDS})")
    p.add_argument("--mutants", type=int, metavar="M", help="at most M mutants per function (default: all)")
    p.add_argument("--functions", help="only these functions' mutants, comma-separated")
    p.add_argument("--jobs", type=int, help="submissions graded at once (default: up to 4, the CPUs)")
    p.add_argument("--timeout", type=float, help="seconds per submission (default: the exercise's)")
    p.add_argument("--target", type=float, default=DEFAULT_TARGET, help="mutation score each function needs (0-1)")
    p.add_argument("--equivalent", action="store_true", help="also list the equivalent mutants")
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the report as JSON to FILE")
    return p


def main(argv: Sequence[str]) -> int:
    target = _json_target(argv)
    try:
        return _main(argv)
    except UsageError as exc:
        if target is not None:
            _write_json(target, {"ok": False, "error": str(exc)})
        raise
    except BaseException as exc:
        if target is not None:
            _write_json(target, {"ok": False, "error": "interrupted" if isinstance(exc, KeyboardInterrupt)
                                 else f"internal error: {type(exc).__name__}"})
        raise


def _main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if not 1 <= args.seeds <= 100:
        raise UsageError("--seeds must be between 1 and 100")
    if args.mutants is not None and args.mutants < 0:
        raise UsageError("--mutants must be 0 or more")
    if not 0 <= args.target <= 1:
        raise UsageError("--target must be between 0 and 1")
    from grader.sandbox import warm

    warm.warm_up(notebooks=False)
    from grader.authoring import mutants as mutation, strength

    exercise = courses.exercise(args.exercise)
    functions = exercise.functions
    if args.functions:
        wanted = [f.strip() for f in args.functions.split(",") if f.strip()]
        unknown = [f for f in wanted if f not in functions]
        if unknown:
            raise UsageError(f"exercise {exercise.number} grades no {', '.join(unknown)} "
                             f"(it grades {', '.join(functions)})")
        functions = wanted
    header = f"# exercise: {exercise.number}\n"
    try:
        source = strength.reference_path(exercise).read_text(encoding="utf-8")
        found = [m for f in functions for m in mutation.mutants(source, f, args.mutants, header)]
    except (LookupError, OSError, SyntaxError) as exc:
        raise UsageError(f"cannot read the reference of exercise {exercise.number}: {exc}") from None
    stub = _stub(exercise, source)
    seeds = _seeds(args.seeds)
    total = len(seeds) * (2 + len(found))
    with _Bar(total) as bar:
        result = strength.measure(exercise, header + source, stub, found, seeds, jobs=args.jobs,
                                  timeout=args.timeout, target=args.target, on_done=bar.advance)
    print(render(result, args.equivalent), end="")
    if args.json is not None:
        _write_json(args.json, strength.to_json(result))
    return 0 if result.ok else 1


def _stub(exercise: Any, reference_source: str) -> str:
    """The exercise's stub file where the course has one, else one made from the reference."""
    from grader.authoring import strength

    for folder in courses.stub_folders():
        path = folder / f"exercise{exercise.number}.py"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return f"# exercise: {exercise.number}\n" + strength.stub_for(reference_source, exercise.functions)


def _seeds(count: int) -> list[int]:
    import secrets

    return sorted({secrets.randbelow(2**31) for _ in range(count * 4)})[:count]


def render(result: Any, show_equivalent: bool = False) -> str:
    """The text report (template check_exercise.txt.j2)."""
    from grader.authoring.strength import never_failed
    from grader.results.render import environment

    template = environment().get_template("check_exercise.txt.j2")
    return template.render(s=result, unfailed=never_failed(result), show_equivalent=show_equivalent)


def _json_target(argv: Sequence[str]) -> Path | None:
    from grader.cli.app import _json_target as target

    return target(argv)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None


class _Bar:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, total: int, stream: Any = sys.stderr) -> None:
        self.total, self.stream, self.bar, self.task = total, stream, None, None

    def __enter__(self) -> "_Bar":
        if self.stream.isatty() and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("mutants"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=Console(file=self.stream))
            self.bar.__enter__()
            self.task = self.bar.add_task("mutants", total=self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def advance(self, what: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1)
