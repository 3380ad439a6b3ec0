"""Render results with Jinja templates; the result model holds no presentation."""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

import jinja2

from .result import GradeResult

TEMPLATES = Path(__file__).parent / "templates"
ANSI = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2", "cyan": "36"}


def use_colour(stream: TextIO) -> bool:
    """Colour on a TTY, unless NO_COLOR is set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


@lru_cache(maxsize=8)
def environment(folder: str | None = None, autoescape: bool = False) -> jinja2.Environment:
    """A Jinja environment over the instructor's folder (if any), then ours."""
    loaders: list[jinja2.BaseLoader] = []
    if folder:
        loaders.append(jinja2.FileSystemLoader(folder))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES)))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=autoescape,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["points"] = lambda x: f"{x:g}"
    return env


def render(template: str, result: GradeResult, *, colour: bool = False, folder: str | None = None,
           **extra: Any) -> str:
    """Render `template` for `result`."""
    env = environment(folder, autoescape=template.endswith((".html.j2", ".xml.j2")))

    def style(text: Any, *names: str) -> str:
        if not colour:
            return str(text)
        codes = ";".join(ANSI[n] for n in names)
        return f"\x1b[{codes}m{text}\x1b[0m"

    return env.get_template(template).render(r=result, style=style, **extra)


def print_terminal(result: GradeResult, stream: TextIO = sys.stdout, folder: str | None = None) -> None:
    """The student's report on the terminal."""
    stream.write(render("terminal.txt.j2", result, colour=use_colour(stream), folder=folder))
