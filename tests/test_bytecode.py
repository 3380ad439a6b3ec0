"""The package's bytecode cache (`grader.bytecode`): used, refreshed when the source changes."""
from __future__ import annotations

import os
from pathlib import Path

from grader import bytecode, usercache


def _load(path: Path, folder: Path) -> dict:
    bytecode._CachedLoader.folder = str(folder)
    loader = bytecode._CachedLoader("m", str(path))
    ns: dict = {}
    exec(loader.get_code("m"), ns)
    return ns


def test_cached_code_is_reused_and_refreshed_when_the_source_changes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    src = tmp_path / "m.py"
    src.write_text("X = 1\n")
    assert _load(src, cache)["X"] == 1
    (pyc,) = cache.iterdir()
    assert str(src).encode() in pyc.read_bytes()
    stamp = pyc.stat().st_mtime_ns
    assert _load(src, cache)["X"] == 1 and pyc.stat().st_mtime_ns == stamp  # served from the cache
    src.write_text("X = 22\n")  # another size
    assert _load(src, cache)["X"] == 22
    pyc.write_bytes(b"garbage")
    assert _load(src, cache)["X"] == 22  # a broken cache file is compiled over


def test_same_name_elsewhere_is_not_confused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "m.py").write_text("X = 1\n")
    (b / "m.py").write_text("X = 2\n")
    os.utime(b / "m.py", ns=(os.stat(a / "m.py").st_mtime_ns,) * 2)
    assert _load(a / "m.py", cache)["X"] == 1
    assert _load(b / "m.py", cache)["X"] == 2


def test_the_cache_folder_is_private(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = usercache.folder("x")
    assert path is not None and os.stat(path).st_mode & 0o777 == 0o700
    os.chmod(path, 0o777)
    assert usercache.folder("x") is None  # others could write code there
