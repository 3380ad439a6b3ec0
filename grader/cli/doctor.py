"""`grade doctor`: which isolation layers a worker really gets on this machine.

It starts one worker with nothing to run and prints the layers that worker confirmed
before it would have run student code, then what the machine offers and what it lacks.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from typing import Sequence

from grader.exercises import answer_keys, registry
from grader.containment import cgroups
from grader.containment import isolation
from grader.containment import landlock
from grader.sandbox import run as sandbox
from grader.cli import versions
from grader.cli.options import Parser


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade doctor", description="Report the isolation layers a grading worker gets here.")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 unless every layer of `--isolation strict` is available")
    return p


def facts() -> list[tuple[str, str]]:
    """What the machine offers, in words."""
    rows = [("system", f"{platform.system()} {platform.release()} ({isolation.platform_note()})")]
    if hasattr(os, "getuid"):
        rows.append(("user", "root" if os.getuid() == 0 else f"uid {os.getuid()}"))
    if sys.platform.startswith("linux"):
        version = landlock.abi()
        rows.append(("landlock", f"ABI {version}" if version else "not available"))
        rows.append(("cgroups", ", ".join(cgroups.available()) or "none writable"))
    refs = answer_keys.answer_key_dirs()
    rows.append(("reference", ", ".join(refs) or "not found"))
    return rows


def _cuda() -> str:
    """Whether a trusted worker (torch imported there, never here) sees a CUDA device."""
    from grader.judge.expected import cuda_available

    try:
        return "available" if cuda_available() else "not available (workers run on the CPU)"
    except Exception as exc:  # the check itself failed: say so, go on with the rest
        return f"unknown ({type(exc).__name__})"


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    sandbox.warm_up()
    layers = sandbox.confined_layers()
    print("grade doctor: versions, CUDA, and the isolation of a grading worker on this machine\n")
    for key, value in versions.rows() + [("cuda", _cuda())]:
        print(f"  {key:<10} {value}")
    print()
    for key, value in facts():
        print(f"  {key:<10} {value}")
    print("\nactive layers:")
    for name, what in isolation.LAYERS.items():
        mark = "✓" if name in layers else "✗"
        print(f"  {mark} {name:<15} {what}")
    missing = [r for r in isolation.STRICT if r not in layers]
    print()
    if missing:
        print(f"--isolation strict would refuse to grade here: missing {', '.join(missing)}")
    else:
        print("--isolation strict is satisfied here")
    return 1 if (args.strict and missing) else 0
