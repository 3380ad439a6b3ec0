"""Turn a notebook cell's IPython syntax (magics, `!` lines) into plain Python."""
from __future__ import annotations


def transform_cell(source: str) -> str:
    """IPython's own transformation when IPython is installed, else the source unchanged."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return TransformerManager().transform_cell(source)
