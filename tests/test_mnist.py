"""Tests for grader.data.mnist: IDX parsing, verified download (offline) and the bundled sample."""
from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.data import mnist
from grader.data.mnist import MnistError, MnistSplit

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode `array` as IDX: 0x0000, type code, ndim, big-endian uint32 dims, big-endian data."""
    header = struct.pack(">HBB", 0, _CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([5, 0, 4, 1, 9], dtype=np.uint8),
        np.arange(-6, 6, dtype=np.int16).reshape(3, 4),
        np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 3, 2),
        np.array([[1e300, -2.5]], dtype=np.float64),
    ],
    ids=["u8-3d", "u8-1d", "i16", "f32", "f64"],
)
def test_idx_round_trip(tmp_path: Path, array: np.ndarray, gz: bool) -> None:
    path = write(tmp_path / "a.idx", idx_bytes(array), gz)
    got = mnist.read_idx(path)
    assert got.dtype == array.dtype and got.dtype.isnative
    assert got.shape == array.shape
    np.testing.assert_array_equal(got, array)
    got.flat[0] = 0  # a writable copy, not a view of the file bytes


GOOD = idx_bytes(np.zeros((2, 3, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "too short"),
        (GOOD[:3], "too short"),
        (GOOD[:-1], "truncated IDX payload"),
        (GOOD + b"\x00", "trailing bytes"),
        (b"\x12\x34" + GOOD[2:], "bad IDX magic"),
        (GOOD[:2] + b"\x07" + GOOD[3:], "unknown IDX type code 0x07"),
        (GOOD[:3] + b"\x00" + GOOD[4:], "no dimensions"),
        (GOOD[:3] + b"\x04" + GOOD[4:], "IDX payload"),  # 4 dims declared, 3 given
        (GOOD[:3] + b"\x40" + GOOD[4:20], "truncated IDX header"),  # 64 dims, short header
        (GOOD[:4] + struct.pack(">3I", 2, 3, 4) + GOOD[16:], "truncated IDX payload"),  # wrong dims
        (GOOD[:4] + struct.pack(">3I", 2, 3, 2) + GOOD[16:], "trailing bytes"),
    ],
    ids=["empty", "short-header", "truncated", "trailing", "magic", "dtype", "ndim0",
         "ndim-too-big", "ndim-huge", "dims-too-big", "dims-too-small"],
)
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_idx_malformed(tmp_path: Path, data: bytes, fragment: str, gz: bool) -> None:
    path = write(tmp_path / "bad.idx", data, gz)
    with pytest.raises(MnistError, match=fragment) as info:
        mnist.read_idx(path)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("cut", [10, -4], ids=["cut-early", "cut-late"])
def test_idx_corrupt_gzip(tmp_path: Path, cut: int) -> None:
    path = write(tmp_path / "bad.gz", gzip.compress(GOOD)[:cut])
    with pytest.raises(MnistError, match="gzip"):
        mnist.read_idx(path)


def test_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MnistError, match="cannot read"):
        mnist.read_idx(tmp_path / "nope.idx")


# --------------------------------------------------------------------------- sample


@pytest.fixture(scope="module")
def sample() -> MnistSplit:
    return mnist.load_sample()


def test_sample_shapes_and_dtypes(sample: MnistSplit) -> None:
    assert sample.train_images.shape == (4000, 28, 28)
    assert sample.train_labels.shape == (4000,)
    assert sample.test_images.shape == (1000, 28, 28)
    assert sample.test_labels.shape == (1000,)
    for array in (sample.train_images, sample.train_labels, sample.test_images, sample.test_labels):
        assert array.dtype == np.uint8
    assert (sample.n_train, sample.n_test) == (4000, 1000)
    assert mnist.SAMPLE_PATH.stat().st_size < 3_000_000


def test_sample_classes_stratified(sample: MnistSplit) -> None:
    train = np.bincount(sample.train_labels, minlength=10) / sample.n_train
    test = np.bincount(sample.test_labels, minlength=10) / sample.n_test
    assert len(train) == len(test) == 10
    assert (train > 0).all() and (test > 0).all()
    np.testing.assert_allclose(train, test, atol=0.02)
    # shuffled, not sorted by label
    assert (np.diff(sample.train_labels.astype(int)) != 0).sum() > 1000


def test_sample_pixels_look_like_digits(sample: MnistSplit) -> None:
    for images in (sample.train_images, sample.test_images):
        assert images.max() == 255
        ink = (images > 0).mean(axis=(1, 2))
        assert (ink > 0.03).all() and (ink < 0.6).all()  # every image has some ink, none is solid
        assert images[:, 0, :].mean() < 1  # top row (border) nearly blank


def test_sample_splits_disjoint(sample: MnistSplit) -> None:
    train = {img.tobytes() for img in sample.train_images}
    assert not any(img.tobytes() in train for img in sample.test_images)


def test_sample_bad_file(tmp_path: Path) -> None:
    with pytest.raises(MnistError, match="cannot load"):
        mnist.load_sample(write(tmp_path / "x.npz", b"not a zip"))
    np.savez(tmp_path / "y.npz", train_images=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(MnistError, match="missing arrays"):
        mnist.load_sample(tmp_path / "y.npz")


def test_split_validates() -> None:
    images, labels = np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8)
    MnistSplit(images, labels, images, labels)
    with pytest.raises(MnistError, match="2 labels"):
        MnistSplit(images, labels[:2], images, labels)
    with pytest.raises(MnistError, match="test_images"):
        MnistSplit(images, labels, images.astype(np.float32), labels)
    with pytest.raises(MnistError, match="0..9"):
        MnistSplit(images, labels + 10, images, labels)


# --------------------------------------------------------------------------- download

N_TRAIN, N_TEST = 6, 4


@pytest.fixture()
def served(tmp_path: Path) -> tuple[Path, dict[str, bytes], dict[str, str]]:
    """Small fake MNIST IDX .gz files in a folder: (folder, name -> bytes, name -> md5)."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }
    folder = tmp_path / "server"
    folder.mkdir()
    blobs = {}
    for key, name in mnist.FILES.items():
        blobs[name] = gzip.compress(idx_bytes(arrays[key]), mtime=0)
        (folder / name).write_bytes(blobs[name])
    sums = {name: hashlib.md5(blob).hexdigest() for name, blob in blobs.items()}
    return folder, blobs, sums


class FakeFetch:
    """Serves `blobs` by file name and records the URLs asked for."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs, self.urls = blobs, []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.blobs[url.rsplit("/", 1)[-1]]


def test_download_writes_verified_files(tmp_path: Path, served) -> None:
    _, blobs, sums = served
    fetch = FakeFetch(blobs)
    dest = tmp_path / "cache"
    assert mnist.download_mnist(dest, base_url="https://mirror.test/mnist", fetch=fetch, checksums=sums) == dest
    assert sorted(fetch.urls) == sorted(f"https://mirror.test/mnist/{n}" for n in mnist.FILES.values())
    assert sorted(p.name for p in dest.iterdir()) == sorted(mnist.FILES.values())  # no temp files left
    for name, blob in blobs.items():
        assert (dest / name).read_bytes() == blob
    split = mnist.load_full(dest)
    assert split.train_images.shape == (N_TRAIN, 28, 28) and split.test_labels.shape == (N_TEST,)


def test_download_rejects_tampered(tmp_path: Path, served) -> None:
    _, blobs, sums = served
    tampered = dict(blobs)
    name = mnist.FILES["test_images"]
    tampered[name] = blobs[name][:-1] + bytes([blobs[name][-1] ^ 1])
    dest = tmp_path / "cache"
    with pytest.raises(MnistError, match=f"checksum mismatch for .*{name}") as info:
        mnist.download_mnist(dest, fetch=FakeFetch(tampered), checksums=sums)
    assert "\n" not in str(info.value)
    assert not (dest / name).exists()
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]


def test_download_skips_valid_and_replaces_corrupt(tmp_path: Path, served) -> None:
    _, blobs, sums = served
    dest = tmp_path / "cache"
    mnist.download_mnist(dest, fetch=FakeFetch(blobs), checksums=sums)

    def no_network(url: str) -> bytes:
        raise AssertionError(f"fetch called for {url}")

    mnist.download_mnist(dest, fetch=no_network, checksums=sums)  # all present: nothing fetched

    bad = dest / mnist.FILES["train_labels"]
    bad.write_bytes(b"garbage")
    fetch = FakeFetch(blobs)
    mnist.download_mnist(dest, fetch=fetch, checksums=sums)
    assert [u.rsplit("/", 1)[-1] for u in fetch.urls] == [bad.name]
    assert bad.read_bytes() == blobs[bad.name]


def test_download_file_url_with_default_fetch(tmp_path: Path, served) -> None:
    folder, blobs, sums = served
    dest = mnist.download_mnist(tmp_path / "cache", base_url=folder.as_uri(), checksums=sums)
    for name, blob in blobs.items():
        assert (dest / name).read_bytes() == blob


def test_download_unreachable(tmp_path: Path, served) -> None:
    _, _, sums = served
    with pytest.raises(MnistError, match="could not download"):
        mnist.download_mnist(tmp_path / "cache", base_url=(tmp_path / "nowhere").as_uri(), checksums=sums)


def test_download_real_checksum_table_rejects_fakes(tmp_path: Path, served) -> None:
    _, blobs, _ = served
    assert set(mnist.MD5) == set(mnist.FILES.values())
    with pytest.raises(MnistError, match="checksum mismatch"):
        mnist.download_mnist(tmp_path / "cache", fetch=FakeFetch(blobs))


def test_grader_data_env(tmp_path: Path, served, monkeypatch: pytest.MonkeyPatch) -> None:
    _, blobs, sums = served
    monkeypatch.setenv("GRADER_DATA", str(tmp_path / "gd"))
    assert mnist.data_dir() == tmp_path / "gd" / "mnist"
    with pytest.raises(MnistError, match="grade data mnist"):
        mnist.load_full()
    assert mnist.download_mnist(fetch=FakeFetch(blobs), checksums=sums) == tmp_path / "gd" / "mnist"
    assert mnist.load_full().n_train == N_TRAIN


def test_data_dir_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_DATA", raising=False)
    path = mnist.data_dir()
    assert path.name == "mnist" and "grader" in path.parts


def test_load_full_missing_names_files(tmp_path: Path) -> None:
    with pytest.raises(MnistError, match="train-images-idx3-ubyte.gz.*run `grade data mnist`"):
        mnist.load_full(tmp_path)
