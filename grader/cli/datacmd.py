"""`grade data mnist [--dest DIR] [--url URL]`: download the full MNIST, verified.

The four original IDX files go to `--dest` (default: `$GRADER_DATA/mnist`, else the user
cache folder, see `mnist.data_dir`); each is checked against its published MD5 before it
takes its final name. Files already there and valid are not downloaded again. Grading
never needs them (it uses the bundled sample); they are for students' own experiments.

Exit status: 0 done, 1 the download or a checksum failed, 2 bad usage.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from grader.data import mnist
from grader.cli.options import Parser

DATASETS = ("mnist",)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade data", description="Download a data set for your own experiments.")
    p.add_argument("dataset", choices=DATASETS, help="the data set (only mnist for now)")
    p.add_argument("--dest", type=Path, help=f"folder for the files (default: {mnist.data_dir()})")
    p.add_argument("--url", default=mnist.DEFAULT_BASE_URL,
                   help="base URL of the four .gz files (http, https or file://; default: %(default)s)")
    return p


def main(argv: Sequence[str]) -> int:
    """Run `grade data ...`; returns the exit status."""
    args = parser().parse_args(list(argv))
    dest = args.dest if args.dest is not None else mnist.data_dir()
    print(f"grade data: MNIST into {dest} (from {args.url})", file=sys.stderr)
    try:
        folder = mnist.download_mnist(dest, base_url=args.url)
        split = mnist.load_full(folder)
    except mnist.MnistError as exc:
        print(f"grade data: error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST ready in {folder}: {split.n_train} training and {split.n_test} test images, checksums verified")
    return 0
