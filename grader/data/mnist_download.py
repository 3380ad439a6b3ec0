"""The full MNIST on request: where it lives, and a download verified against the published
checksums (a file under its final name is always complete and verified)."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from grader.data.mnist_idx import MnistError

#: Mirror used by torchvision (the original yann.lecun.com site is often unreachable).
DEFAULT_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

#: MnistSplit field -> file name of the original distribution.
FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: Published MD5 of each file (as listed by torchvision.datasets.MNIST).
MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

Fetch = Callable[[str], bytes]


def data_dir() -> Path:
    """Folder holding the full MNIST: `$GRADER_DATA/mnist`, else `<user cache>/grader/mnist`.

    The user cache is `platformdirs.user_cache_dir("grader")` when platformdirs
    is installed, otherwise `~/.cache/grader`. The folder is not created here.
    """
    env = os.environ.get("GRADER_DATA")
    if env:
        base = Path(env).expanduser()
    else:
        try:
            from platformdirs import user_cache_dir
        except ImportError:
            base = Path.home() / ".cache" / "grader"
        else:
            base = Path(user_cache_dir("grader"))
    return base / "mnist"


def _urllib_fetch(url: str) -> bytes:
    """Default fetch: GET `url` (http, https or file) and return the body."""
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed URLs
        return response.read()


def _hexdigest(path: Path, expected: str) -> str:
    """Digest of `path` with the algorithm implied by `expected` (32 hex: MD5, 64 hex: SHA-256)."""
    algorithm = {32: "md5", 64: "sha256"}.get(len(expected))
    if algorithm is None:
        raise MnistError(f"checksum {expected!r} is neither an MD5 nor a SHA-256 hex digest")
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_valid(path: Path, expected: str) -> bool:
    return path.is_file() and _hexdigest(path, expected) == expected.lower()


def download_mnist(
    dest: Path | None = None,
    base_url: str = DEFAULT_BASE_URL,
    fetch: Fetch | None = None,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Download the four MNIST IDX files into `dest` (default `data_dir()`) and return it.

    Files already present with the right checksum are skipped. Each download is
    written to a temp file in `dest`, verified, then renamed into place, so a
    file under its final name is always complete and verified. `fetch` maps a
    URL to its bytes (default: urllib, which also serves `file://` URLs);
    `checksums` maps file name -> MD5 or SHA-256 hex (default: `MD5`).
    Raises MnistError on a download failure or a checksum mismatch.
    """
    dest = Path(dest) if dest is not None else data_dir()
    fetch = fetch or _urllib_fetch
    checksums = MD5 if checksums is None else checksums
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        expected = checksums.get(name)
        if not expected:
            raise MnistError(f"no checksum known for {name}")
        target = dest / name
        if _is_valid(target, expected):
            continue
        url = base_url.rstrip("/") + "/" + name
        try:
            payload = fetch(url)
        except OSError as exc:  # urllib.error.URLError is an OSError
            raise MnistError(f"could not download {url}: {getattr(exc, 'reason', exc)}") from exc
        _write_verified(target, payload, expected, url)
    return dest


def _write_verified(target: Path, payload: bytes, expected: str, url: str) -> None:
    """Write `payload` atomically to `target` if it matches `expected`; never leave a temp file."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        actual = _hexdigest(tmp, expected)
        if actual != expected.lower():
            raise MnistError(f"checksum mismatch for {url}: expected {expected.lower()}, got {actual}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
