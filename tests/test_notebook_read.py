"""Reading a notebook's cells: the JSON fast path gives exactly what nbformat gives, and
anything it does not read plainly goes to nbformat (same cells, same errors)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.errors import UsageError
from grader.intake import notebook

SUBMITTED = Path(__file__).parent / "submissions"


def _by_nbformat(path: Path, text: str) -> list[tuple[int, str]]:
    nb = nbformat.reads(text, as_version=4, capture_validation_error={})
    return notebook.code_cells(path, nb)


def _cells(**extra: object) -> dict:
    return {"nbformat": 4, "nbformat_minor": extra.pop("minor", 5), "metadata": {},
            "cells": extra.pop("cells")}


CASES = {
    "list and str sources, markdown, a skipped cell, outputs": _cells(cells=[
        {"cell_type": "markdown", "metadata": {}, "source": ["# exercise: 1\n"]},
        {"cell_type": "code", "metadata": {}, "source": ["# exercise: 1\n", "x = 1\n"], "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["hi\n"]}], "execution_count": 3},
        {"cell_type": "code", "metadata": {"tags": ["skip-grading"]}, "source": "boom()", "outputs": []},
        {"cell_type": "code", "metadata": {"tags": "not a list"}, "source": "y = 2", "outputs": []},
        {"cell_type": "raw", "metadata": {}, "source": "raw"}]),
    "minor 0, no ids, invalid against the schema": _cells(minor=0, cells=[
        {"cell_type": "code", "metadata": {}, "source": "z = 3", "unexpected": True}]),
    "no cells": _cells(cells=[]),
}


@pytest.mark.parametrize("name", CASES)
def test_plain_v4_cells_are_those_nbformat_reads(name: str, tmp_path: Path) -> None:
    text = json.dumps(CASES[name])
    path = tmp_path / "exercise1.ipynb"
    assert notebook._plain_v4(json.loads(text))
    assert notebook.code_cells(path, notebook.parse(path, text)) == _by_nbformat(path, text)


def test_every_bundled_notebook_reads_as_nbformat_reads() -> None:
    paths = sorted(SUBMITTED.rglob("*.ipynb"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8-sig")
        try:
            expected = _by_nbformat(path, text)
        except Exception:  # noqa: BLE001 - a deliberately broken one: the grader must refuse it too
            with pytest.raises(UsageError):
                notebook.code_cells(path, notebook.parse(path, text))
            continue
        assert notebook.code_cells(path, notebook.parse(path, text)) == expected, path.name


@pytest.mark.parametrize("text", [
    json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "a = 1", "language": "python", "outputs": []}]}]}),
    json.dumps(_cells(cells=[{"cell_type": "code", "source": ["x = ", 1]}])),
    json.dumps(_cells(cells=[7])),
    json.dumps({"nbformat": 4, "cells": 3}),
    json.dumps(_cells(cells=[{"cell_type": "code", "source": "x = 1"}])),  # no metadata: nbformat refuses it
    json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": []}),
])
def test_anything_else_is_nbformats_to_read(text: str, tmp_path: Path) -> None:
    """Older formats, odd sources and odd cells are not read plainly: nbformat converts them or
    the grader refuses the notebook, exactly as before."""
    path = tmp_path / "exercise1.ipynb"
    assert not notebook._plain_v4(json.loads(text))
    try:
        expected = _by_nbformat(path, text)
    except Exception:  # noqa: BLE001
        with pytest.raises(UsageError):
            notebook.code_cells(path, notebook.parse(path, text))
        return
    assert notebook.code_cells(path, notebook.parse(path, text)) == expected


def test_malformed_saved_outputs_do_not_refuse_a_plain_notebook(tmp_path: Path) -> None:
    """Outputs are never read (nbformat refused such a notebook when it was read whole)."""
    text = json.dumps(_cells(cells=[{"cell_type": "code", "metadata": {}, "source": "# exercise: 1\nx = 1",
                                     "outputs": ["not an output", {"output_type": "stream"}]}]))
    path = tmp_path / "exercise1.ipynb"
    assert notebook.code_cells(path, notebook.parse(path, text)) == [(1, "# exercise: 1\nx = 1")]


@pytest.mark.parametrize("text", ["{not json", "[" * 100_000 + "]" * 100_000, '"a string"'])
def test_what_is_not_a_notebook_is_refused_in_one_line(text: str, tmp_path: Path) -> None:
    path = tmp_path / "exercise1.ipynb"
    with pytest.raises(UsageError, match="not a notebook"):
        notebook.code_cells(path, notebook.parse(path, text))
