"""Where a batch's submissions are graded: `map_unordered(fn, items)` yields (item, result) as each finishes.

`LocalExecutor` runs judges in threads of this process (the work itself happens in the
forked workers, so threads are enough); `executors_dask.DaskExecutor` has the same method.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class LocalExecutor:
    """A pool of `jobs` threads on this machine."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R]]:
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="grade") as pool:
            futures = {pool.submit(fn, item): item for item in items}
            for future in as_completed(futures):
                yield futures[future], future.result()
