"""The warm parent lets go of the judge's output streams once it has preloaded."""
from __future__ import annotations

import os
import sys

import pytest

from grader.sandbox import process, run as sandbox


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_warm_parent_holds_none_of_the_judges_streams() -> None:
    sandbox.warm_up()
    sandbox.confined_layers()  # a worker was forked: the preloads are done
    pid = process.forkserver_pid()
    assert pid is not None
    assert [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (0, 1, 2)] == ["/dev/null"] * 3


def test_shut_down_in_a_spawned_process_leaves_its_parents_tracker_alone() -> None:
    """A spawned process (a Dask worker's) holds a copy of its parent's resource-tracker pipe and
    no tracker pid: shutting down there is quiet (it used to raise in an exit handler)."""
    import subprocess
    import sys

    code = ("import os; from multiprocessing import resource_tracker as rt\n"
            "t = rt._resource_tracker; t._fd = os.pipe()[1]; t._pid = None\n"
            "from grader.sandbox import warm; warm.shut_down(); print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert "Traceback" not in done.stderr


def test_the_warm_parent_seeds_with_the_workers_own_calls(monkeypatch) -> None:
    """`_warm_seeding` makes the calls a worker makes first (`probes.manual_seed`, numpy's seed)."""
    import numpy as np

    from grader.sandbox import forkserver_ready
    from grader.worker import probes

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(probes, "manual_seed", lambda seed: calls.append(("torch", seed)))
    monkeypatch.setattr(np.random, "seed", lambda seed: calls.append(("numpy", seed)))
    forkserver_ready._warm_seeding()
    assert calls == [("torch", 0), ("numpy", 0)]
