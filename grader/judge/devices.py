"""What the installed torch was built for, read without importing it (the judge never does)."""
from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path


@functools.cache
def cuda_built() -> bool:
    """False only when torch's `version.py` says it was built with neither CUDA nor ROCm (a CPU
    build, where no GPU can ever be used); True when it was, or when that cannot be read."""
    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.origin:
            return True
        tree = ast.parse((Path(spec.origin).parent / "version.py").read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError, ImportError):
        return True
    found: dict[str, object] = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and target.id in ("cuda", "hip"):
            found[target.id] = value.value if isinstance(value, ast.Constant) else "unknown"
    return not (found.get("cuda", "unknown") is None and found.get("hip", "unknown") is None)
