"""The active course's report sections, handed in from above (no Jinja here: the registry
imports this, and it is loaded in every process before anything renders).

Results sit below the exercises in the flow, so the registry hands the source in
(`set_section_source`) rather than results importing the registry.
"""
from __future__ import annotations

from typing import Callable

Sections = tuple[tuple[str, ...], str | None]  # template names, and the folder holding them


def _no_sections() -> Sections:
    return (), None


_SECTION_SOURCE: Callable[[], Sections] = _no_sections


def set_section_source(source: Callable[[], Sections]) -> None:
    """Where `course_sections` asks for the active course's sections (the registry sets it)."""
    global _SECTION_SOURCE
    _SECTION_SOURCE = source


def course_sections() -> Sections:
    """The active course's report sections and the folder of their templates."""
    try:
        return _SECTION_SOURCE()
    except Exception:  # no course, or a broken one: the generic report still renders
        return (), None
