"""The reference worker: a trusted process, forked from the same warm parent as the
student's workers, that runs the reference solution through the same probes.

The judge itself then never imports torch, and the expected values never exist in the
student's process.
"""
from __future__ import annotations

import importlib
import os
import traceback
from multiprocessing.connection import Connection

from grader.worker import probes
from grader.protocol import wire
from grader.protocol.jobs import Task


def main(module: str, tasks: tuple[Task, ...], conn: Connection) -> None:
    """Answer every task with the reference, on the CPU; report failures as grader bugs."""
    try:
        import torch

        torch.set_num_threads(1)
        conn.send_bytes(wire.encode({"type": "ready", "cuda": bool(torch.cuda.is_available())}))
        ns = vars(importlib.import_module(module))
        env = probes.ProbeEnv("cpu", reference=True)
        for task in tasks:
            try:
                answer = probes.get(task.probe)(ns, task.function, task.arrays, task.params, env)
                data = wire.encode({"type": "answer", "task": task.id, "info": answer.info}, answer.arrays)
            except Exception:
                data = wire.encode({"type": "bug", "task": task.id, "trace": traceback.format_exc()[-3000:]})
            conn.send_bytes(data)
    finally:
        os._exit(0)
