"""The course's own probe (worker side, torch allowed; preloaded by the warm parent).

`shifted`: call the function on X and on X + shift (softmax is shift-invariant along a row),
and report both results as raw facts; the verdict in checks/exercise1.py decides.
"""
from __future__ import annotations

from typing import Any

import torch

from grader.worker.probes import Answer, Arrays, ProbeEnv, check_signature, lookup, register


@register("shifted")
def probe_shifted(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any], env: ProbeEnv) -> Answer:
    fn = lookup(ns, fn_name)
    X = torch.tensor(arrays["X"], device=env.device)
    check_signature(fn, fn_name, [X], {})
    answer = Answer()
    answer.describe("out", fn(X.clone()))
    answer.describe("shifted", fn(X + float(params["shift"])))
    return answer
