"""Bytecode for the grader's own packages even where the environment says not to write it.

With PYTHONDONTWRITEBYTECODE (or `python -B`) every process (the judge, the warm parent)
would compile the package from source again: about 80 ms of a cold `grade`. `install()` puts
a finder before the others that serves the `grader` and built-in course modules from .pyc files kept
in the user's private cache folder (`usercache`), validated against the source's path, mtime
and size (Python's own header, then the path), and written atomically. Nothing else is touched: other packages
still follow the environment.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import marshal
import os
import sys
import zlib
from typing import Any

PACKAGES = ("grader", "grader_dlbasics", "reference")  # the built-in course: installed name, source folder


class _CachedLoader(importlib.machinery.SourceFileLoader):
    folder = ""

    def get_code(self, fullname: str) -> Any:
        source_path = self.get_filename(fullname)
        try:
            st = os.stat(source_path)
        except OSError:
            return super().get_code(fullname)
        where = os.path.abspath(source_path).encode("utf-8", "surrogateescape")
        # the file's name is a checksum of its source's path; the path itself, in the header, decides
        cached = os.path.join(self.folder, f"{zlib.crc32(where):08x}-{os.path.basename(source_path)}c")
        header = (importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
                  + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
                  + where + b"\0")
        try:
            with open(cached, "rb") as fh:
                data = fh.read()
            if data[:len(header)] == header:
                return marshal.loads(data[len(header):])
        except (OSError, ValueError, EOFError, TypeError):
            pass
        code = self.source_to_code(self.get_data(source_path), source_path)
        tmp = f"{cached}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(header + marshal.dumps(code))
            os.replace(tmp, cached)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return code


class _Finder:
    """Finds `grader`/`reference` modules as usual, then loads their source through the cache."""

    @classmethod
    def find_spec(cls, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.partition(".")[0] not in PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec
        spec.loader = _CachedLoader(spec.loader.name, spec.loader.path)
        return spec

    @classmethod
    def invalidate_caches(cls) -> None:
        pass


def install() -> None:
    """Serve the grader's modules from the user's cache when bytecode may not be written."""
    if not sys.dont_write_bytecode or any(f is _Finder for f in sys.meta_path):
        return
    from grader import usercache

    folder = usercache.folder(f"bytecode-{sys.implementation.cache_tag}")
    if folder:
        _CachedLoader.folder = folder
        sys.meta_path.insert(0, _Finder)
