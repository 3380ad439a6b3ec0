"""Fuzzing the command line: arbitrary arguments give exit status 2 and one line on stderr
(never a traceback), and write nothing but what --json asks for.
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.cli import app as cli
from grader.sandbox import run as sandbox

FLAGS = ["--seed", "--timeout", "--device", "--json", "--isolation", "--templates", "--", "-", "-x", "--seed=",
         "--timeout=-1", "--timeout=nan", "--timeout=inf", "--seed=-5", "--seed=99999999999999999999999",
         "--device=gpu", "--isolation=none", "doctor", "exercise1.py", "exercise9.py", "exercise1.ipynb",
         "exercise1.txt", ".", "..", "/", "/dev/null", "exercise1.py\nexercise2.py", "\x00", "ex\u00e9rcise1.py"]
ARG = st.one_of(st.sampled_from(FLAGS), st.text(max_size=30))


def setup_module() -> None:
    sandbox.warm_up()  # from the real working directory, not a fuzz case's temporary one


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def valid_doctor(argv: list[str]) -> bool:
    return bool(argv) and argv[0] == "doctor" and set(argv[1:]) <= {"--strict"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ARG, max_size=6))
def test_arbitrary_argv_gives_one_clear_line(argv: list[str]):
    if valid_doctor(argv) or any(a in ("-h", "--help") or a.startswith("--h") for a in argv):
        return
    if argv and argv[0] in cli.SUBCOMMANDS and argv[0] != "doctor":
        return  # other commands own their fuzzing
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            code, out, err = run(argv)
            left = set(os.listdir(tmp))
        finally:
            os.chdir(cwd)
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err and out == ""
    assert err.startswith("grade: ") and err.count("\n") == 1, err
    json_targets = {argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--json"}
    json_targets |= {a.split("=", 1)[1] for a in argv if a.startswith("--json=")}
    assert left <= {os.path.basename(t.rstrip("/")) for t in json_targets} | {t.split("/")[0] for t in json_targets}
