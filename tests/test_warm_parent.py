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
