# exercise: 1
# hostile: patches the grader's probe and wire modules in the worker to report what it likes
# expect: 0
import sys

import numpy as np

probes = sys.modules.get("grader.worker.probes")
wire = sys.modules.get("grader.protocol.wire")
if probes is not None:
    _orig = probes.describe_into

    def describe_into(arrays, key, value, depth=0):
        info = _orig(arrays, key, value, depth)
        if key in arrays:
            arrays[key] = np.zeros_like(arrays[key])  # "matches" a zero reference, or anything
        info["finite"] = True
        return info

    probes.describe_into = describe_into
    probes.Answer.describe = lambda self, key, value, depth=0: self.info.__setitem__(
        key, describe_into(self.arrays, key, value, depth))
if wire is not None:
    _encode = wire.encode
    wire.encode = lambda header, arrays=None: _encode({**header, "passed": True, "score": 10}, arrays)


def squared_loss(y_hat, y):
    return y_hat * 3
