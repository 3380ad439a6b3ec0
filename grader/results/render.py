"""Render results with Jinja templates; the result model holds no presentation.

Every string a template prints passes through `clean` (Jinja's `finalize`): control
characters, ANSI escape sequences and NUL bytes never reach a report, whatever the
student printed or raised. HTML and XML are autoescaped on top; Markdown templates use
the `md` (inline text), `md_name` (a name) and `fence` (code block) filters, text templates
`text_line` for names and `indent` for multi-line messages. The escapes live in `escape`.
"""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

import jinja2
from markupsafe import Markup

from grader.results import escape, formats
from grader.results import svg
from grader.results.sections import course_sections, set_section_source  # noqa: F401 - re-exported
from grader.results.escape import clean, md_fence, md_inline, md_name, text_line  # noqa: F401 - re-exported for templates and callers
from grader.results.model import CheckResult, GradeResult, totals

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ANSI = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2", "cyan": "36", "blue": "34"}

# format name -> template file (an instructor's folder may override any file by name)
FORMATS: dict[str, str] = formats.TEMPLATES


def use_colour(stream: TextIO) -> bool:
    """Colour on a TTY, unless NO_COLOR is set to a non-empty value (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class _Styled(str):
    """Text already cleaned and wrapped in ANSI codes by `style` (let through `finalize`)."""


def _finalize(value: Any) -> Any:
    if isinstance(value, (_Styled, int, float)) or value is None:
        return "" if value is None else value
    if isinstance(value, Markup):
        return Markup(clean(str(value)))
    return clean(value)


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A cache that never stops a report: a folder it cannot write is just no cache."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (compiling the terminal report costs ~18 ms per cold
    `grade`), in the user's private cache folder (`usercache`). Keyed by the template's source,
    so an edited or overriding template is compiled afresh."""
    from grader import usercache

    folder = usercache.folder("jinja")
    return _QuietBytecodeCache(folder) if folder else None


@lru_cache(maxsize=16)
def environment(folder: str | None = None, autoescape: bool = False, course: str | None = None) -> jinja2.Environment:
    """A Jinja environment over the instructor's folder (if any), the course's templates
    (its report sections), then ours."""
    loaders: list[jinja2.BaseLoader] = []
    if folder:
        loaders.append(jinja2.FileSystemLoader(folder))
    if course:
        loaders.append(jinja2.FileSystemLoader(course))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=autoescape,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, finalize=_finalize, bytecode_cache=bytecode_cache())
    env.filters.update(points=lambda x: f"{x:g}", clean=clean, md=md_inline, fence=md_fence, md_name=md_name,
                       text_line=text_line, csv_cell=escape.csv_cell,
                       num=lambda x: f"{x:.6g}", rstrip=lambda s: str(s).rstrip(), oneline=lambda s: " ".join(str(s).split()))
    env.globals.update(lost=lost, plot=svg.loss_plot, totals=totals)
    return env


def lost(check: CheckResult) -> float:
    """Points a check cost."""
    return round(check.max_points - check.points, 6)


def _style_fn(colour: bool) -> Callable[..., str]:
    def style(text: Any, *names: str) -> str:
        body = clean(text)
        if not colour or not names:
            return _Styled(body)
        codes = ";".join(ANSI[n] for n in names)
        return _Styled(f"\x1b[{codes}m{body}\x1b[0m")

    return style


def render(template: str, result: GradeResult, *, colour: bool = False, folder: str | None = None,
           **extra: Any) -> str:
    """Render `template` for `result`."""
    sections, course = course_sections()
    env = environment(folder, autoescape=template.endswith((".html.j2", ".xml.j2")), course=course)
    return env.get_template(template).render(r=result, style=_style_fn(colour), sections=sections, **extra)


def render_format(fmt: str, result: GradeResult, folder: str | None = None) -> str:
    """One of FORMATS ('txt', 'md', 'html', 'junit') for `result`."""
    return render(FORMATS[fmt], result, folder=folder)


def print_terminal(result: GradeResult, stream: TextIO | None = None, folder: str | None = None,
                   env: Mapping[str, str] = os.environ) -> None:
    """The student's report on the terminal. Inside GitHub Actions the whole report, which holds
    student text, is one `::stop-commands::` block: nothing in it can start a workflow command."""
    from grader.results.github import in_actions

    stream = stream or sys.stdout
    text = render("terminal.txt.j2", result, colour=use_colour(stream), folder=folder)
    stream.write(escape.github_block(text) if in_actions(env) else text)


def write(path: Path, text: str) -> None:
    """Write a report, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
