"""Preloads asked for after the warm parent started: torch._dynamo for a submission that names
torch.optim (its first optimizer would otherwise import it in the worker: about a second), torch's
symbolic shapes for one that gives a gradient explicitly (half a second)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.intake import preloads
from grader.sandbox import forkserver_hints, warm_hints

ROOT = Path(__file__).resolve().parent.parent
# the module's name is put together, so that this probe does not name it itself
PROBE = ("import sys\nprint('dynamo preloaded:', 'torch.' + '_dy' + 'namo' in sys.modules)\n"
         "print('shapes preloaded:', 'torch.fx.experimental.symbolic_shapes' in sys.modules)\n")


DYNAMO, SHAPES = "torch._dynamo", "torch.fx.experimental.symbolic_shapes"


@pytest.mark.parametrize("source, wanted", [
    ("opt = torch.optim.SGD([w], lr=0.1)", (DYNAMO,)),
    ("from torch import optim\n", (DYNAMO,)),
    ("import torch.optim as optim", (DYNAMO,)),
    ("model = torch.compile(model)", (DYNAMO,)),
    ("import torch._dynamo", (DYNAMO,)),
    ("optimizer_steps = 3\nw -= lr * w.grad", ()),
    ("def sgd(params, lr, batch_size):\n    pass", ()),
    ("y.backward(torch.ones_like(x))", (SHAPES,)),  # d2l's way to the gradient of a non-scalar
    ("y.backward(gradient=torch.ones(len(y)))", (SHAPES,)),
    ("torch.autograd.grad(y, x, grad_outputs=v)", (SHAPES,)),
    ("_, g = torch.autograd.functional.vjp(f, x, v)", (SHAPES,)),
    ("from torch.autograd.functional import jacobian", (SHAPES,)),
    ("opt = optim.Adam(p)\nloss.backward(v)", (DYNAMO, SHAPES)),
    ("loss.backward()\nl.sum().backward( )\ny.backward(retain_graph=True)", ()),
    # what the stubs say, and what a student writes about it, is not code
    ("# Now train the model from scratch with autograd: no `torch.optim`, no `nn.Linear`.\nw = 1", ()),
    ('def train():\n    """Plain SGD, no torch.optim; y.backward(v) is not needed."""\n', ()),
    ("print(f'no torch.optim {x}', 'vjp')", ()),
    ("x = 1  # torch.compile(model) would be faster", ()),
    ("def f(:\n  torch.optim", (DYNAMO,)),  # does not tokenize: the text as it is
    ("", ()),
])
def test_which_submissions_want_which_preloads(source, wanted):
    assert preloads.wanted(source) == wanted


def test_a_notebook_wants_what_its_code_cells_name_not_its_markdown(tmp_path):
    import json

    def notebook(*cells: tuple[str, str]) -> Path:
        path = tmp_path / f"nb{len(list(tmp_path.iterdir()))}.ipynb"
        path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": kind, "metadata": {}, "source": source, **({"outputs": [], "execution_count": None}
                                                                    if kind == "code" else {})}
            for kind, source in cells]}))
        return path

    told = notebook(("markdown", "Train it by hand: no `torch.optim`."), ("code", "w = w - lr * g"))
    assert preloads.any_wanted([(told, None)]) == ()
    uses = notebook(("markdown", "Any optimiser will do."), ("code", "%matplotlib inline\nopt = torch.optim.SGD(p, 0.1)"))
    assert preloads.any_wanted([(uses, None)]) == (DYNAMO,)
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json torch.optim")
    assert preloads.any_wanted([(broken, None)]) == ()


def test_an_unreadable_or_linked_submission_wants_nothing(tmp_path):
    target = tmp_path / "real.py"
    target.write_text("import torch.optim")
    link = tmp_path / "exercise1.py"
    link.symlink_to(target)
    assert preloads.any_wanted([(link, None), (tmp_path / "missing.py", None)]) == ()
    assert preloads.any_wanted([(link, None), (target, None)]) == (DYNAMO,)
    other = tmp_path / "other.py"
    other.write_text("y.backward(torch.ones_like(y))")
    assert preloads.any_wanted([(other, None), (target, None)]) == (DYNAMO, SHAPES)  # the table's order


def test_hints_are_written_whole_and_only_from_the_allowed_list(tmp_path, monkeypatch):
    path = tmp_path / "hints"
    monkeypatch.setattr(warm_hints, "_PATH", str(path))
    monkeypatch.setattr(warm_hints, "_ASKED", [])
    warm_hints.ask("os")  # not a preload the judge may ask for
    assert not path.exists()
    warm_hints.ask("torch._dynamo")
    warm_hints.ask("torch._dynamo")
    assert path.read_text() == "torch._dynamo\n" and not (tmp_path / "hints.partial").exists()
    path.write_text("torch._dynamo\nsubprocess\nos\n")  # whatever the file says, only ALLOWED is imported
    assert warm_hints.read(str(path)) == ["torch._dynamo"]
    assert warm_hints.read(str(tmp_path / "none")) is None


def test_a_hint_after_the_forkserver_took_its_hints_is_known_to_be_late(tmp_path, monkeypatch):
    path = tmp_path / "hints"
    monkeypatch.setattr(warm_hints, "_PATH", str(path))
    monkeypatch.setattr(warm_hints, "_ASKED", [])
    assert not warm_hints.late()  # nothing asked
    warm_hints.ask(DYNAMO)
    assert not warm_hints.late()  # not taken yet: it will be read
    assert forkserver_hints._take(str(path)) == [DYNAMO] and not path.exists()
    assert not warm_hints.late()  # taken with it
    warm_hints.ask(SHAPES)
    assert warm_hints.late()  # asked after the forkserver took its hints
    (tmp_path / ("hints" + warm_hints.TAKEN)).unlink()
    path.unlink()
    assert forkserver_hints._take(str(path)) == []  # nothing asked when it got there: an empty record
    assert warm_hints.late()


def test_a_warm_check_that_asks_late_gets_a_warm_parent_with_it_for_the_next_grade(tmp_path):
    """The kernel's server graded a file without torch.optim first; once a grade names it, the
    warm parent is started again between grades, with torch._dynamo preloaded."""
    from grader.interactive import check, session

    session.close()
    try:
        plain = tmp_path / "exercise1.py"
        plain.write_text("# exercise: 1\n" + PROBE + (ROOT / "reference/exercise1.py").read_text())
        first = check.grade(plain, seed=1, warm=True)
        assert first.status == 0 and "dynamo preloaded: False" in first.text
        plain.write_text("# exercise: 1\nimport torch.optim  # now with an optimizer\n" + PROBE + (ROOT / "reference/exercise1.py").read_text())
        late = check.grade(plain, seed=1, warm=True)
        assert late.status == 0 and "dynamo preloaded: False" in late.text  # this warm parent froze without it
        again = check.grade(plain, seed=1, warm=True)
        assert again.status == 0 and "dynamo preloaded: True" in again.text
    finally:
        session.close()


def _printed(tmp_path: Path, name: str, extra: str) -> str:
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "exercise1.py"
    path.write_text("# exercise: 1\n" + extra + PROBE + (ROOT / "reference/exercise1.py").read_text())
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    proc = subprocess.run([sys.executable, "-m", "grader", str(path), "--seed", "1", "--device", "cpu"],
                          capture_output=True, text=True, env=env, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_grade_preloads_only_what_the_submission_names(tmp_path):
    optim = _printed(tmp_path, "optim", "import torch.optim\n")
    assert "dynamo preloaded: True" in optim  # (which imports the symbolic shapes itself)
    gradient = _printed(tmp_path, "gradient", "if False:\n    y.backward(torch.ones_like(y))\n")
    assert "dynamo preloaded: False" in gradient and "shapes preloaded: True" in gradient
    plain = _printed(tmp_path, "plain", "")
    assert "dynamo preloaded: False" in plain and "shapes preloaded: False" in plain


SMAPS = """\
55d0c0000000-55d0c5400000 rw-p 00000000 00:00 0                          [heap]
Size:              86016 kB
Rss:               85804 kB
7f0000000000-7f0000800000 rw-p 00000000 00:00 0 
Size:               8192 kB
Rss:                  16 kB
7f0000900000-7f0000d00000 rw-p 00000000 00:00 0 
Rss:                4096 kB
7f1000000000-7f1000400000 r-xp 00000000 08:01 1234                       /usr/lib/libtorch_cpu.so
Rss:                4096 kB
7f2000000000-7f2000400000 rw-s 00000000 00:01 99                         /dev/shm/x
Rss:                4096 kB
7f3000100000-7f3000300000 rw-p 00000000 00:00 0 
Rss:                2048 kB
"""


def test_huge_pages_cover_the_aligned_part_of_dense_private_anonymous_memory_only():
    from grader.sandbox import forkserver_hugepages as huge

    heap_low, heap_high = 0x55d0c0000000, 0x55d0c5400000
    # the heap (aligned already) and the dense 4 MiB mapping (its aligned 2 MiB); not a mostly
    # untouched stack, a library, shared memory, nor a dense mapping without a whole aligned 2 MiB in it
    assert huge.dense_ranges(SMAPS) == [(heap_low, heap_high), (0x7f0000a00000, 0x7f0000c00000)]


def test_a_batch_of_many_submissions_asks_for_huge_pages(tmp_path, monkeypatch):
    from grader.batch import run
    from grader.intake.discover import Entry

    asked: list[str] = []
    monkeypatch.setattr(warm_hints, "ask", asked.append)
    path = tmp_path / "exercise1.py"
    path.write_text("x = 1\n")
    run._hint_preloads([Entry(f"s{i}", 1, path) for i in range(run.HUGE_PAGES_FROM - 1)])
    assert asked == []  # the collapse would cost more than so few forks save
    run._hint_preloads([Entry(f"s{i}", 1, path) for i in range(run.HUGE_PAGES_FROM)])
    assert asked == [warm_hints.HUGE_PAGES]


HUGE_JUDGE = """
import json, sys
from multiprocessing import forkserver
from grader.sandbox import warm, warm_hints
warm_hints.ask(warm_hints.HUGE_PAGES)
warm_hints.ask("torch._dynamo")  # asked after: imported before the collapse all the same
warm.warm_up(notebooks=False)
code = "import torch; print(float((torch.ones(3) * 2).sum()))"
worker = warm.context().Process(target=exec, args=(code,))
worker.start()
worker.join(120)
pid = forkserver._forkserver._forkserver_pid
huge = sum(int(line.split()[1]) for line in open(f"/proc/{pid}/smaps") if line.startswith("AnonHugePages:"))
taken = open(warm_hints._PATH + warm_hints.TAKEN).read().split()
print(json.dumps({"huge_kb": huge, "exitcode": worker.exitcode, "taken": taken}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="transparent huge pages are Linux's")
def test_a_warm_parent_asked_for_huge_pages_has_them_and_its_workers_run(tmp_path):
    import json
    import re

    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not thp.exists() or "[never]" in thp.read_text() or tuple(map(int, re.match(r"(\d+)\.(\d+)", os.uname().release).groups())) < (6, 1) \
            or os.uname().machine not in ("x86_64", "aarch64"):
        pytest.skip("no transparent huge pages, a kernel without MADV_COLLAPSE, or another architecture")
    proc = subprocess.run([sys.executable, "-c", HUGE_JUDGE], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout.splitlines()[-1])
    assert facts["exitcode"] == 0 and facts["taken"] == [warm_hints.HUGE_PAGES, DYNAMO]
    assert facts["huge_kb"] >= 32 * 1024, facts  # most of torch's heap and Python's objects


def test_huge_pages_are_taken_after_every_other_hint(tmp_path, monkeypatch):
    path = tmp_path / "hints"
    path.write_text(f"{warm_hints.HUGE_PAGES}\n{DYNAMO}\n{SHAPES}\n")
    imported: list[str] = []
    monkeypatch.setenv(warm_hints.ENV, str(path))
    monkeypatch.setattr(forkserver_hints.importlib, "import_module", imported.append)
    forkserver_hints._load()
    assert imported == [DYNAMO, SHAPES, warm_hints.HUGE_PAGES]  # it collapses what they made too
