"""Preloaded by the warm forkserver when it serves notebooks: the worker's IPython shell, made once.

Making an InteractiveShell costs about 25 ms; made here, before `forkserver_ready` freezes the
preloads, every notebook worker gets its own pristine copy with the fork instead (the shell
holds no open files: no history database). What it does to the process's globals (builtins,
`__main__`) is taken back here and restored only in a worker that uses it (`cells.prepare`). Elsewhere (a test importing every module) this
module does nothing.
"""
from __future__ import annotations

from grader.sandbox.forkserver_init import in_forkserver
from grader.worker import cells

if in_forkserver():
    cells.prepare()
