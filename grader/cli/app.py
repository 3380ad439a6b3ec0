"""The `grade` command: known problems become one clear line and an exit code.

Exit status: 0 every check passed, 1 some check failed, 2 nothing could be graded.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from grader.cli.commands import COMMANDS
from grader.cli.options import REPORT_FORMATS, Parser, add_common, check_options, report_spec  # noqa: F401
from grader.errors import GraderBug, UsageError

if TYPE_CHECKING:
    from grader.results.model import GradeResult

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_EXITS_AFTER: list[bool] = []  # set by `run`: this process exits once the command is done
_COMMAND_LINE: list[bool] = []  # set by `run` for `grade` itself: main() runs once, on sys.argv
SUBCOMMANDS = tuple(COMMANDS)


def file_parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade", description="Grade one exercise submission (.py or .ipynb).",
               epilog=f"Other commands: {', '.join(SUBCOMMANDS)} (grade COMMAND --help); "
                      "grade --version shows the versions in use.")
    p.add_argument("file", help="the submission: exerciseN.py or exerciseN.ipynb")
    add_common(p)
    p.add_argument("--json", metavar="OUT", type=Path, help="also write Gradescope's results.json to OUT "
                   "(the same as --report gradescope=OUT)")
    p.add_argument("--keep-executed", metavar="PATH", type=Path,
                   help="for a notebook: write a copy holding the outputs of the graded run to PATH")
    p.add_argument("--watch", action="store_true", help="grade again each time FILE is saved (Ctrl-C stops)")
    p.add_argument("--report", metavar="FORMAT=PATH", action="append", type=report_spec, default=[],
                   help=f"also write a report; FORMAT is one of {', '.join(REPORT_FORMATS)} (repeatable)")
    return p


def grade_file(argv: Sequence[str]) -> int:
    """`grade FILE`: grade, print the report, write the requested files.

    `--json OUT` is written on every way out: a results.json of the grade, or one saying why
    there is none (bad input, the grader's own failure)."""
    try:
        args = file_parser().parse_args(argv)
    except UsageError as exc:
        target = _json_target(argv)
        if target is not None:
            _write_failure_json(target, str(exc))
        raise
    reports: list[tuple[str, Path]] = list(args.report) + ([("gradescope", args.json)] if args.json else [])
    written: list[bool] = []
    try:
        return _grade_file(args, reports, written)
    except (UsageError, GraderBug) as exc:
        if not written:
            _write_failure_jsons(reports, str(exc))
        raise
    except BaseException as exc:  # the grader's own failure, or an interrupt
        if not written:
            why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"internal error (not your fault): " \
                                                                            f"{type(exc).__name__}"
            _write_failure_jsons(reports, why)
        raise


def _json_target(argv: Sequence[str]) -> Path | None:
    """Where --json asks for results.json, from arguments that did not parse as a whole."""
    p = Parser(add_help=False)
    p.add_argument("--json", type=Path)
    try:
        return p.parse_known_args(list(argv))[0].json
    except UsageError:
        return None


def _write_failure_jsons(reports: Sequence[tuple[str, Path]], reason: str) -> None:
    for fmt, path in reports:
        if fmt == "gradescope":
            _write_failure_json(path, reason)


def _grade_file(args: argparse.Namespace, reports: list[tuple[str, Path]], written: list[bool]) -> int:
    try:
        check_options(args)
        from grader.exercises import course_option
        from grader.sandbox import warm

        # before the warm parent starts, which inherits GRADER_COURSE and preloads the course's
        # probes (`main` took --course from argv already; a direct caller of grade_file may not have)
        course_option.select(args.course)
        # the warm parent imports torch while we import the rest, read, plan and wait
        notebook = str(args.file).lower().endswith(".ipynb")
        if notebook:
            from grader.intake.cell_syntax import notebook_needs_ipython

            notebook = notebook_needs_ipython(args.file)  # plain cells run without IPython
        warm.warm_up(notebooks=notebook)
        _hint_preloads(Path(args.file))
        from grader import api
        from grader.results import render

        from grader.sandbox import process

        # one grade, then the process exits (not `--watch` nor the kernel's server, which hold
        # cleanup for the next grade): workers and warm parent go as soon as they are done
        if _EXITS_AFTER and not process.cleanup_held():
            process.hold_cleanup()
            warm.one_shot()

        result = api.grade_path(args.file, api.options(args.seed, device=args.device, timeout=args.timeout,
                                                       isolation=args.isolation))
    except UsageError as exc:
        _github_usage_error(str(exc))
        raise
    try:
        render.print_terminal(result, folder=args.templates)
    finally:
        written.append(True)
        write_reports(result, reports, args.templates)
    if args.keep_executed is not None and str(args.file).lower().endswith(".ipynb"):
        from grader.results.executed import write_executed

        try:
            write_executed(Path(args.file), result, args.keep_executed)
        except OSError as exc:
            raise UsageError(f"cannot write {args.keep_executed}: {exc.strerror}") from None
    from grader.results import github

    if github.in_actions():
        github.publish(result, Path(args.file), folder=args.templates)
    return EXIT_PASSED if result.passed else EXIT_FAILED


def _hint_preloads(path: Path) -> None:
    """Read while the warm parent imports torch: what else it should preload for this file."""
    from grader.intake.preloads import any_wanted
    from grader.sandbox import warm_hints

    for module in any_wanted([(path, None)]):
        warm_hints.ask(module)


def write_reports(result: GradeResult, reports: Sequence[tuple[str, Path]], folder: str | None) -> None:
    """Write each requested report; UsageError naming those that could not be written."""
    from grader.results import gradescope
    from grader.results import render

    problems = []
    for fmt, path in reports:
        try:
            if fmt == "gradescope":
                gradescope.write(path, gradescope.results(result, folder))
            else:
                render.write(path, render.render_format(fmt, result, folder))
        except OSError as exc:
            problems.append(f"cannot write {path}: {exc.strerror or exc}")
    if problems:
        raise UsageError("; ".join(problems))


def _write_failure_json(path: Path, reason: str) -> None:
    from grader.results import gradescope

    try:
        gradescope.write(path, gradescope.failure_results(f"Could not grade: {reason}"))
    except (OSError, ValueError):  # ValueError: a NUL in the path
        pass


def _github_usage_error(reason: str) -> None:
    from grader.results import github

    if github.in_actions():
        github.publish_usage_error(reason)


def one_line(exc: BaseException) -> str:
    """The message on one line: control characters (from file names, say) escaped."""
    from grader.results.escape import text_line

    return text_line(exc)


def _course_first(argv: list[str]) -> list[str]:
    """Select the course given by --course (or GRADER_COURSE) before anything starts: the warm
    parent preloads its probe modules. A bad course is a usage error (and --json is written)."""
    from grader.exercises import course_option

    try:
        return course_option.take_course_option(argv)
    except UsageError as exc:
        if not (argv and argv[0] in SUBCOMMANDS):
            target = _json_target(argv)
            if target is not None:
                _write_failure_json(target, str(exc))
        raise


def is_command_word(word: str) -> bool:
    """Whether `grade WORD` names a command rather than a file: a plain word (no option dash,
    no path separator, no suffix) that is not an existing file."""
    return (bool(word) and not word.startswith("-") and "." not in word and "/" not in word
            and os.sep not in word and not os.path.lexists(word))


def unknown_command(word: str) -> str:
    """`unknown command 'bach' (did you mean batch?)`."""
    import difflib

    from grader.results.escape import text_line

    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"commands: {', '.join(SUBCOMMANDS)}; or grade FILE.py|.ipynb"
    return f"unknown command {text_line(repr(word))} ({hint})"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `grade` and `python -m grader`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("--version", "-V"):
            from grader.cli import versions

            print(versions.text())
            return EXIT_PASSED
        argv = _course_first(argv)
        if _COMMAND_LINE:  # `grade` itself, not a caller of main() (the kernel's server grades again and again)
            _warm_parent_first(argv)
        if argv and argv[0] in SUBCOMMANDS:
            from grader.cli import commands

            return commands.run(argv[0], argv[1:])
        if "--watch" in argv:
            from grader.cli import watch

            return watch.main(argv)
        if argv and is_command_word(argv[0]):
            reason, target = unknown_command(argv[0]), _json_target(argv)
            if target is not None:
                _write_failure_json(target, reason)
            raise UsageError(reason)
        return grade_file(argv)
    except UsageError as exc:
        print(f"grade: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except GraderBug as exc:
        print(f"grade: internal error (not your fault): {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in the grader: one line, never a traceback (GRADER_DEBUG=1 shows it)
        if os.environ.get("GRADER_DEBUG"):
            raise
        print(f"grade: internal error (not your fault; GRADER_DEBUG=1 shows details): {type(exc).__name__}: "
              f"{str(exc)[:300]}", file=sys.stderr)
        return EXIT_USAGE


def _warm_parent_first(argv: Sequence[str]) -> None:
    """`grade FILE` forks its warm parent from itself right after selecting the course (whose
    probes it preloads): what the judge decides later (a notebook's IPython, torch.optim's
    preloads) reaches it as hints. Not for commands, --watch or --help."""
    if not argv or argv[0].startswith("-") or argv[0] in SUBCOMMANDS \
            or not argv[0].lower().endswith((".py", ".ipynb")):
        return
    if any(arg in ("--watch", "-h", "--help") or arg.split("=")[0] == "--course" for arg in argv):
        return  # (--course is taken out of argv before: one still here is a second, refused later)
    from grader.sandbox import warm

    warm.warm_up(notebooks=False, fork=True)


def run(entry: Callable[[], int] | None = None) -> None:
    """The `grade` console script and `python -m grader`: `entry` (default `main`), then a quick exit.

    The exit handlers run (the warm parent and its workers killed, temporary folders removed),
    the output is flushed, the interpreter's teardown is skipped (~30 ms), unless a thread runs.
    The judge's arrays are small: numpy's BLAS gets one thread unless the environment says otherwise."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _EXITS_AFTER.append(True)
    if entry is None:
        _COMMAND_LINE.append(True)
    code = (entry or main)()
    import atexit
    import threading

    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)
