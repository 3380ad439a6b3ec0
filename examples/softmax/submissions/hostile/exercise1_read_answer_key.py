# exercise: 1
# hostile: looks for the course's answer key (solutions/exercise1.py) by every route it can think of:
# open() next to a loaded course module, import through the course's package, sys.modules and gc.
import gc
import os
import sys

FOUND = []


def _by_file():
    bases = []
    for mod in list(sys.modules.values()):
        try:
            bases += [str(p) for p in getattr(mod, "__path__", None) or []]
            bases.append(os.path.dirname(str(getattr(mod, "__file__", "") or "")))
        except Exception:
            continue
    for base in dict.fromkeys(bases):
        if True:
            for rel in ("solutions/exercise1.py", "../solutions/exercise1.py", "exercise1.py"):
                path = os.path.join(base, rel)
                try:
                    with open(path) as fh:
                        text = fh.read()
                except Exception:
                    continue
                if "def softmax" in text:
                    ns = {}
                    exec(text, ns)
                    FOUND.append("open:" + path)
                    return ns["softmax"]
    return None


def _by_import():
    import importlib

    for name in list(sys.modules):
        if name.endswith(".course") or name.endswith(".probes"):
            package = name.rsplit(".", 1)[0]
            try:
                ref = importlib.import_module(package + ".solutions.exercise1")
                FOUND.append("import:" + package)
                return ref.softmax
            except Exception:
                continue
    return None


def _by_memory():
    for name, mod in list(sys.modules.items()):
        if "solutions" in name and hasattr(mod, "softmax"):
            FOUND.append("sys.modules:" + name)
            return mod.softmax
    for obj in gc.get_objects():
        try:
            if callable(obj) and getattr(obj, "__name__", "") == "softmax" and \
                    "solutions" in (getattr(obj, "__module__", "") or ""):
                FOUND.append("gc")
                return obj
        except Exception:
            continue
    return None


_ref = _by_file() or _by_import() or _by_memory()


def softmax(X):
    if _ref is not None:
        return _ref(X)
    return X * 0  # nothing found: every value check fails
