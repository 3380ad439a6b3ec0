"""Percent-format scripts <-> notebooks, deterministically (jupytext underneath).

The one home of the stub-to-notebook conversion: `tools/build_notebooks.py` and
`grade assign` both use it. Output is nbformat 4.5, no outputs, no execution counts, cell ids
numbered in order, a python3 kernelspec and no jupytext metadata, so converting an unchanged
script is byte-identical.
"""
from __future__ import annotations

from typing import Any

from grader.errors import UsageError

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
CELL_METADATA_KEYS = ("tags",)  # everything else (jupytext's lines_to_next_cell...) is dropped


def _jupytext() -> Any:
    try:
        import jupytext
    except ImportError:
        raise UsageError("converting notebooks needs jupytext: pip install 'honest-grader[authoring]'") from None
    return jupytext


def build(text: str, stem: str) -> Any:
    """The nbformat 4 notebook of the percent-format script `text`; cell ids `{stem}-NN`."""
    import nbformat

    parsed = _jupytext().reads(text, fmt="py:percent")
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
              "raw": nbformat.v4.new_raw_cell}
    for index, cell in enumerate(parsed.cells, start=1):
        metadata = {key: cell.metadata[key] for key in CELL_METADATA_KEYS if key in cell.metadata}
        new = makers[cell.cell_type](source=cell.source, metadata=metadata)
        new["id"] = f"{stem}-{index:02d}"  # deterministic instead of nbformat's random ids
        nb.cells.append(new)
    nbformat.validate(nb)
    return nb


def render(nb: Any) -> str:
    """The notebook's file text: nbformat's JSON layout, with a final newline."""
    import nbformat

    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def to_percent(notebook_text: str) -> str:
    """A notebook's text as a percent-format script (outputs and notebook metadata dropped)."""
    import nbformat

    nb = nbformat.reads(notebook_text, as_version=4)
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC})
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: cell.metadata[k] for k in CELL_METADATA_KEYS if k in cell.metadata})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    text = _drop_header(_jupytext().writes(nb, fmt="py:percent"))
    return text[len("# %%\n"):] if text.startswith("# %%\n") else text  # a first plain code cell


def _drop_header(text: str) -> str:
    """Without jupytext's leading `# ---` ... `# ---` metadata block."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "# ---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "# ---":
                rest = lines[i + 1:]
                while rest and not rest[0].strip():
                    rest = rest[1:]
                return "".join(rest)
    return text
