"""`grade data mnist`: downloads from local file:// URLs (no network here), verified."""
from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.cli import app as cli
from grader.cli import datacmd
from grader.data import mnist, mnist_download
from grader.errors import UsageError


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture()
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder serving four small, valid MNIST files, with their MD5s as the published ones."""
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (6, 28, 28)), "train_labels": np.arange(6) % 10,
              "test_images": rng.integers(0, 256, (2, 28, 28)), "test_labels": np.array([3, 7])}
    folder = tmp_path / "mirror"
    folder.mkdir()
    sums = {}
    for key, name in mnist.FILES.items():
        blob = _idx(arrays[key])
        (folder / name).write_bytes(blob)
        sums[name] = hashlib.md5(blob).hexdigest()
    monkeypatch.setattr(mnist_download, "MD5", sums)
    return folder


def test_downloads_and_verifies(mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "out"
    assert datacmd.main(["mnist", "--dest", str(dest), "--url", mirror.as_uri()]) == 0
    assert sorted(p.name for p in dest.iterdir()) == sorted(mnist.FILES.values())
    split = mnist.load_full(dest)
    assert (split.n_train, split.n_test) == (6, 2)
    assert "6 training and 2 test images" in capsys.readouterr().out


def test_dispatched_from_grade(mirror: Path, tmp_path: Path) -> None:
    assert cli.main(["data", "mnist", "--dest", str(tmp_path / "d"), "--url", mirror.as_uri()]) == 0
    assert (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_default_destination_is_grader_data(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "gd"))
    assert datacmd.main(["mnist", "--url", mirror.as_uri()]) == 0
    assert len(list((tmp_path / "gd" / "mnist").glob("*.gz"))) == 4


def test_tampered_file_fails_and_leaves_nothing(mirror: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    name = mnist.FILES["test_images"]
    (mirror / name).write_bytes((mirror / name).read_bytes() + b"x")
    dest = tmp_path / "out"
    assert datacmd.main(["mnist", "--dest", str(dest), "--url", mirror.as_uri()]) == 1
    assert "checksum mismatch" in capsys.readouterr().err
    assert not (dest / name).exists() and not list(dest.glob("*.part"))


def test_unreachable_url_fails(mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = (tmp_path / "nowhere").as_uri()
    assert datacmd.main(["mnist", "--dest", str(tmp_path / "o"), "--url", missing]) == 1
    assert "could not download" in capsys.readouterr().err


def test_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError):
        datacmd.main(["cifar10"])
    assert cli.main(["data"]) == 2
    assert "grade: error:" in capsys.readouterr().err
