"""The student stubs: contract names and signatures, markers, and notebooks kept in sync.

exercises/exerciseN.py is the single source; exercises/exerciseN.ipynb is generated from it
by tools/build_notebooks.py. These tests are fast: nothing is trained and no kernel runs.
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import re
from functools import lru_cache
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
BUILDER = ROOT / "tools" / "build_notebooks.py"
NUMBERS = range(1, 7)
SKIP_TAG = "skip-grading"
MARKER = re.compile(r"^\s*#\s*exercise\s*:\s*(\d+)\s*$", re.IGNORECASE)

# The contract of /work/shared/EXERCISES.md: exercise -> {graded function: [parameter names]}.
CONTRACT: dict[int, dict[str, list[str]]] = {
    1: {"squared_loss": ["y_hat", "y"]},
    2: {"sgd": ["params", "lr", "batch_size"]},
    3: {
        "linreg": ["X", "w", "b"],
        "linreg_grad": ["X", "y", "w", "b"],
        "normal_equation": ["X", "y"],
        "train_linreg": ["features", "labels", "lr", "num_epochs", "batch_size"],
    },
    4: {"relu": ["X"], "mlp": ["X", "W1", "b1", "W2", "b2"]},
    5: {
        "chain_rule_grads": ["x", "w1", "b1", "w2", "b2"],
        "chain_rule_holds": ["dy2_dy1", "dy1_dw1", "dy2_dw1"],
        "manual_grad": ["x"],
    },
    6: {
        "transform": ["image"],
        "build_net": [],
        "sgd_update": ["parameters", "lr"],
        "train_epoch": ["net", "loader", "lr", "criterion"],
        "evaluate": ["net", "loader"],
    },
}
DEFAULTS = {"train_linreg": {"lr": 0.03, "num_epochs": 3, "batch_size": 10}}
# Working helpers a stub carries from earlier exercises: present, implemented, not graded.
GIVEN = {3: ["squared_loss", "sgd"]}


def _leaf(*shape):
    return torch.zeros(*shape, requires_grad=True)


def _loader():
    return [(torch.zeros(4, 784), torch.zeros(4, dtype=torch.int64))]


# Plausible arguments for every graded function (a stub must raise before using them).
DUMMY_ARGS = {
    "squared_loss": lambda: (torch.zeros(3, 1), torch.zeros(3)),
    "sgd": lambda: ([_leaf(2, 1), _leaf(1)], 0.03, 10),
    "linreg": lambda: (torch.zeros(5, 2), torch.zeros(2, 1), torch.zeros(1)),
    "linreg_grad": lambda: (np.zeros((5, 2)), np.zeros(5), np.zeros((2, 1)), np.zeros(1)),
    "normal_equation": lambda: (np.random.default_rng(0).normal(size=(5, 2)), np.zeros(5)),
    "train_linreg": lambda: (torch.zeros(20, 2), torch.zeros(20)),
    "relu": lambda: (torch.tensor([-1.0, 0.5]),),
    "mlp": lambda: (torch.zeros(2, 4), torch.zeros(4, 3), torch.zeros(3),
                    torch.zeros(3, 2), torch.zeros(2)),
    "chain_rule_grads": lambda: tuple(torch.ones(3) for _ in range(5)),
    "chain_rule_holds": lambda: (torch.ones(3), torch.ones(3), torch.ones(3)),
    "manual_grad": lambda: (torch.zeros(3),),
    "transform": lambda: (np.zeros((28, 28), dtype=np.uint8),),
    "build_net": lambda: (),
    "sgd_update": lambda: ([torch.nn.Parameter(torch.zeros(2))], 0.1),
    "train_epoch": lambda: (torch.nn.Sequential(torch.nn.Linear(784, 10)), _loader(), 0.1,
                            torch.nn.CrossEntropyLoss()),
    "evaluate": lambda: (torch.nn.Sequential(torch.nn.Linear(784, 10)), _loader()),
}

GRADED = [(n, name) for n in NUMBERS for name in CONTRACT[n]]


def stub_path(n: int) -> Path:
    return EXERCISES / f"exercise{n}.py"


def notebook_path(n: int) -> Path:
    return EXERCISES / f"exercise{n}.ipynb"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=None)
def stub(n: int):
    """exercises/exerciseN.py imported as a module (not as __main__)."""
    return _load(stub_path(n), f"_stub_exercise{n}")


def builder():
    pytest.importorskip("jupytext", reason="jupytext is needed to regenerate the notebooks "
                                           "(pip install -e '.[test]')")
    return _load(BUILDER, "_build_notebooks")


def read_notebook(n: int) -> nbformat.NotebookNode:
    return nbformat.read(notebook_path(n), as_version=nbformat.NO_CONVERT)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


# --- the notebooks are generated from the .py and stay in sync -------------------------------

@pytest.mark.parametrize("n", NUMBERS)
def test_committed_notebook_equals_generated(n):
    build = builder()
    fresh = build.render(build.build(stub_path(n)))
    committed = notebook_path(n).read_text(encoding="utf-8")
    assert committed == fresh, (f"{notebook_path(n).name} is stale: "
                                "run python tools/build_notebooks.py")


@pytest.mark.parametrize("n", NUMBERS)
def test_generation_is_deterministic_and_clean(n):
    build = builder()
    first, second = build.build(stub_path(n)), build.build(stub_path(n))
    assert build.render(first) == build.render(second)
    assert "jupytext" not in first.metadata
    assert first.metadata.kernelspec.name == "python3"
    for cell in first.cells:
        assert set(cell.metadata) <= {"tags"}
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_check_mode_detects_a_stale_notebook(tmp_path, capsys):
    build = builder()
    assert build.main(["--check"]) == 0
    py = tmp_path / "exercise1.py"
    py.write_text(stub_path(1).read_text(encoding="utf-8"), encoding="utf-8")
    assert build.main(["--check", str(py)]) == 1  # no notebook yet
    assert build.main([str(py)]) == 0
    assert build.main(["--check", str(py)]) == 0
    py.write_text(py.read_text(encoding="utf-8") + "\n# %%\nx = 1\n", encoding="utf-8")
    assert build.main(["--check", str(py)]) == 1
    capsys.readouterr()


# --- format and markers -----------------------------------------------------------------------

@pytest.mark.parametrize("n", NUMBERS)
def test_notebook_is_valid_nbformat4(n):
    nb = read_notebook(n)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("n", NUMBERS)
def test_exercise_marker(n):
    assert stub_path(n).read_text(encoding="utf-8").splitlines()[0] == f"# exercise: {n}"
    first = code_cells(read_notebook(n))[0]
    assert SKIP_TAG not in tags(first)
    numbers = [int(m.group(1)) for line in first.source.splitlines()[:5]
               if (m := MARKER.match(line))]
    assert numbers == [n]
    assert first.source.splitlines()[0] == f"# exercise: {n}"


@pytest.mark.parametrize("n", NUMBERS)
def test_each_graded_function_has_its_own_cell_after_markdown(n):
    cells = read_notebook(n).cells
    for name in CONTRACT[n]:
        found = [i for i, c in enumerate(cells)
                 if c.cell_type == "code" and re.search(rf"^def {name}\(", c.source, re.M)]
        assert len(found) == 1, f"{name} should be defined in exactly one cell"
        i = found[0]
        defs = [node for node in ast.parse(cells[i].source).body
                if isinstance(node, ast.FunctionDef)]
        assert [d.name for d in defs] == [name]
        assert cells[i - 1].cell_type == "markdown"


@pytest.mark.parametrize("n", NUMBERS)
def test_only_imports_and_definitions_at_top_level(n):
    """Self-checks live in a final skip-grading cell, behind `if __name__ == "__main__":`."""
    nb = read_notebook(n)
    code = code_cells(nb)
    assert SKIP_TAG in tags(code[-1])
    assert all(SKIP_TAG not in tags(c) for c in code[:-1])
    for node in ast.parse(stub_path(n).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If):
            assert ast.unparse(node.test) == "__name__ == '__main__'"
            continue
        assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)), ast.unparse(node)


@pytest.mark.parametrize("n", NUMBERS)
def test_importing_a_stub_does_no_work(n, capsys):
    _load(stub_path(n), f"_stub_exercise{n}_quiet")
    assert capsys.readouterr().out == ""


# --- the contract -------------------------------------------------------------------------------

@pytest.mark.parametrize("n", NUMBERS)
def test_contract_signatures(n):
    module = stub(n)
    for name, params in CONTRACT[n].items():
        func = getattr(module, name, None)
        assert callable(func), f"exercise{n}.py lacks {name}"
        signature = inspect.signature(func)
        assert list(signature.parameters) == params, f"{name}{signature}"
        for param, default in DEFAULTS.get(name, {}).items():
            assert signature.parameters[param].default == default, f"{name}{signature}"
        assert inspect.getdoc(func) and len(inspect.getdoc(func).splitlines()) <= 25


@pytest.mark.parametrize("n, name", GRADED, ids=[f"exercise{n}-{name}" for n, name in GRADED])
def test_graded_function_raises_not_implemented(n, name):
    with pytest.raises(NotImplementedError):
        getattr(stub(n), name)(*DUMMY_ARGS[name]())


def test_imports_in_first_cell():
    for n in NUMBERS:
        first = code_cells(read_notebook(n))[0].source
        assert "import numpy as np" in first and "import torch" in first
    assert "from torch import nn" in code_cells(read_notebook(6))[0].source


# --- the given helpers work ---------------------------------------------------------------------

def test_exercise3_given_helpers_are_present():
    for name in GIVEN[3]:
        assert callable(getattr(stub(3), name))


def test_exercise3_given_squared_loss():
    squared_loss = stub(3).squared_loss
    y_hat = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    loss = squared_loss(y_hat, torch.tensor([1.5, 2.0, 1.0]))
    assert loss.shape == (3, 1)
    torch.testing.assert_close(loss.detach(), torch.tensor([[0.125], [0.0], [2.0]]))
    loss.sum().backward()
    torch.testing.assert_close(y_hat.grad, torch.tensor([[-0.5], [0.0], [2.0]]))
    out = squared_loss(np.array([[1.0], [2.0]]), np.array([0.0, 4.0]))
    np.testing.assert_allclose(out, [[0.5], [2.0]])


def test_exercise3_given_sgd():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    skipped = torch.ones(1, requires_grad=True)
    (3 * w.sum() + 5 * b.sum()).backward()
    same = w
    stub(3).sgd([w, b, skipped], 0.1, 2)
    assert w is same and w.is_leaf and w.requires_grad
    torch.testing.assert_close(w.detach(), torch.tensor([0.85, -2.15]))
    torch.testing.assert_close(b.detach(), torch.tensor([-0.25]))
    assert w.grad is None or bool((w.grad == 0).all())
    torch.testing.assert_close(skipped.detach(), torch.ones(1))


def test_exercise3_given_data_iter_covers_every_example_once():
    features = torch.arange(23.0).reshape(23, 1)
    labels = torch.arange(23.0)
    batches = list(stub(3).data_iter(10, features, labels))
    assert [len(x) for x, _ in batches] == [10, 10, 3]
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == labels.tolist()
    assert all(torch.equal(x.reshape(-1), y) for x, y in batches)
