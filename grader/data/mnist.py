"""Offline MNIST: an IDX reader, a checksum-verified download and a bundled sample.

Three ways in:

* `load_sample()` -- 5,000 real MNIST digits shipped with the package
  (`grader/data/mnist_sample.npz`, 4,000 train / 1,000 test, stratified);
  always available, no network.
* `download_mnist()` -- fetches the four original IDX files on request into
  `data_dir()`, verifying each against its published MD5.
* `load_full()` -- reads those IDX files back as a `MnistSplit`.

Nothing here uses pickle: IDX files are parsed by hand (`mnist_idx`) and the sample is
loaded with `np.load(..., allow_pickle=False)`. The download is `mnist_download`; the names in
`__all__` are all importable from here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.mnist_download import DEFAULT_BASE_URL, FILES, MD5, data_dir, download_mnist
from grader.data.mnist_idx import MnistError, read_idx

__all__ = [
    "DEFAULT_BASE_URL",
    "FILES",
    "MD5",
    "MnistError",
    "MnistSplit",
    "SAMPLE_PATH",
    "data_dir",
    "download_mnist",
    "load_full",
    "load_sample",
    "read_idx",
]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class MnistSplit:
    """MNIST images and labels, split into train and test.

    Images are uint8 arrays of shape (N, 28, 28) with values 0..255; labels are
    uint8 arrays of shape (N,) with values 0..9. Every loader returns fresh
    arrays, so callers may modify them freely.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            images = getattr(self, f"{part}_images")
            labels = getattr(self, f"{part}_labels")
            if not _is_uint8(images, 3) or images.shape[1:] != (28, 28):
                raise MnistError(f"{part}_images must be a uint8 array of shape (N, 28, 28), got {_describe(images)}")
            if not _is_uint8(labels, 1):
                raise MnistError(f"{part}_labels must be a uint8 array of shape (N,), got {_describe(labels)}")
            if len(images) != len(labels):
                raise MnistError(f"{part}: {len(images)} images but {len(labels)} labels")
            if labels.size and labels.max() > 9:
                raise MnistError(f"{part}_labels must be digits 0..9, found {int(labels.max())}")

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return len(self.train_labels)

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return len(self.test_labels)


def _is_uint8(value: object, ndim: int) -> bool:
    return isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == ndim


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


# --------------------------------------------------------------------------- loading

#: The bundled 5,000-image sample (see grader/data/README.md).
SAMPLE_PATH = Path(__file__).resolve().parent / "mnist_sample.npz"


def load_sample(path: str | os.PathLike[str] | None = None) -> MnistSplit:
    """Load the bundled MNIST sample (4,000 train / 1,000 test); no network needed."""
    path = Path(path) if path is not None else SAMPLE_PATH
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in FILES if key not in npz.files]
            if missing:
                raise MnistError(f"{path}: missing arrays {', '.join(missing)}")
            arrays = {key: npz[key] for key in FILES}
    except MnistError:
        raise
    except (OSError, ValueError) as exc:  # missing file, not a zip, bad .npy header
        raise MnistError(f"cannot load MNIST sample {path}: {exc}") from exc
    return MnistSplit(**arrays)


def load_full(directory: str | os.PathLike[str] | None = None) -> MnistSplit:
    """Load the full MNIST (60,000 train / 10,000 test) from the IDX files in `directory`.

    `directory` defaults to `data_dir()`. Raises MnistError, telling the user to
    run `grade data mnist`, when any of the four files is missing.
    """
    directory = Path(directory) if directory is not None else data_dir()
    missing = [name for name in FILES.values() if not (directory / name).is_file()]
    if missing:
        raise MnistError(
            f"full MNIST not found in {directory} (missing {', '.join(missing)}); run `grade data mnist` to download it"
        )
    return MnistSplit(**{key: read_idx(directory / name) for key, name in FILES.items()})
