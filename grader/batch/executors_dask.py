"""A batch executor on a Dask cluster (the optional `grader[dask]` extra).

Each submission is one Dask task; results stream back with `as_completed`, so the
coordinator (the only writer of the gradebook) commits them one by one. At most `window`
tasks are in flight, so a class of 20,000 never sits in memory at once. Dask reschedules a
task whose worker died and retries one that raised; a lost scheduler raises
`SchedulerLost`, and what was already committed stays.

Dask workers run the grader's own code (this module, `grader.batch.grading.grade_shipment`);
student code runs only inside the sandbox each worker starts, as on one machine.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

import dask
import distributed
from distributed.diagnostics.plugin import WorkerPlugin

from grader.errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

LOCAL = re.compile(r"^local:(\d+)$")
REMOTE = re.compile(r"^(tcp|tls)://\S+$")
RETRIES = 2  # a task that raised is retried; one whose worker died is rescheduled by Dask anyway
CONNECT_TIMEOUT = "30s"


class SchedulerLost(Exception):
    """The Dask scheduler went away (or could not be reached): the run stops, committed results stay."""


@dataclass(frozen=True)
class Tls:
    """Paths for Dask's TLS security (`distributed.security.Security`); all empty: Dask's own config."""

    ca_file: str = ""
    cert: str = ""
    key: str = ""

    def security(self) -> Any:
        """A Security object, or None to let Dask read `distributed.comm.tls.*` from its config."""
        if not (self.ca_file or self.cert or self.key):
            return None
        if not (self.ca_file and self.cert):
            raise UsageError("TLS needs at least --tls-ca-file and --tls-cert (and --tls-key unless the "
                             "certificate file holds the key)")
        for path in (self.ca_file, self.cert, self.key):
            if path and not Path(path).is_file():
                raise UsageError(f"no such file: {path}")
        from distributed.security import Security

        return Security(tls_ca_file=self.ca_file, tls_client_cert=self.cert, tls_client_key=self.key or None,
                        require_encryption=True)


def parse_scheduler(spec: str) -> tuple[str, Any]:
    """`local:N` -> ("local", N); `tcp://host:port` or `tls://...` -> ("remote", address)."""
    match = LOCAL.match(spec)
    if match:
        n = int(match.group(1))
        if not 1 <= n <= 1024:
            raise UsageError("--scheduler local:N needs 1 <= N <= 1024")
        return "local", n
    if REMOTE.match(spec):
        return "remote", spec
    raise UsageError(f"--scheduler expects tcp://HOST:PORT, tls://HOST:PORT or local:N, got {spec!r}")


class GraderSetup(WorkerPlugin):
    """A Dask worker plugin: let the worker start the sandbox's processes, and warm the sandbox.

    Dask's nanny starts workers as daemonic processes by default, and multiprocessing refuses
    children to a daemonic process (only so that they are not orphaned when the daemon is
    terminated). The sandbox kills every worker it forks, and the forkserver exits with its
    parent, so the flag is cleared here; `distributed.worker.daemon: False` in Dask's config
    (or `dask worker --no-nanny`) avoids it in the first place.
    """

    name = "grader-setup"
    idempotent = True

    def setup(self, worker: Any) -> None:
        prepare_worker()


def prepare_worker() -> None:
    """Make this process able to fork sandboxes, and start its forkserver (idempotent)."""
    process = mp.current_process()
    if process.daemon:
        process._config["daemon"] = False  # see GraderSetup
    from grader.sandbox import run as sandbox, warm_hints

    warm_hints.ask(warm_hints.HUGE_PAGES)  # a Dask worker grades many: `forkserver_hugepages`
    sandbox.warm_up(notebooks=True)


class DaskExecutor:
    """Runs each item as one Dask task; yields (item, result) as each finishes."""

    def __init__(self, client: Any, window: int | None = None, retries: int = RETRIES) -> None:
        self.client, self.retries = client, retries
        self.window = window or max(32, 4 * sum(client.nthreads().values()))

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T],
                      on_error: Callable[[T, BaseException], R] | None = None) -> Iterator[tuple[T, R]]:
        """`on_error(item, exc)` turns a task Dask gave up on into a result (else it is raised)."""
        source = iter(items)
        pending: dict[Any, T] = {}
        done = distributed.as_completed()

        def submit_next() -> None:
            for item in source:
                future = self.client.submit(fn, item, pure=False, retries=self.retries)
                pending[future] = item
                done.add(future)
                return

        for _ in range(self.window):
            submit_next()
        try:
            for future in done:
                item = pending.pop(future)
                result = self._result(future, item, on_error)
                future.release()
                submit_next()
                yield item, result
        finally:
            if pending:
                self._cancel(list(pending))

    def _result(self, future: Any, item: T, on_error: Callable[[T, BaseException], R] | None) -> R:
        if future.status == "finished":
            try:
                return future.result()
            except Exception as exc:  # the result could not be fetched: the scheduler went away
                self._check_connected(exc)
                raise
        if self.client.status != "running" or future.status == "cancelled":
            self._check_connected(None)
        exc = future.exception() if future.status == "error" else RuntimeError(f"task {future.status}")
        if on_error is None:
            raise exc
        return on_error(item, exc)

    def _check_connected(self, cause: BaseException | None) -> None:
        if self.client.status != "running":
            raise SchedulerLost(f"lost the Dask scheduler at {self.client.scheduler.address}") from cause

    def _cancel(self, futures: list[Any]) -> None:
        if self.client.status == "running":
            try:
                self.client.cancel(futures)
            except Exception:  # already gone
                pass


class Cluster:
    """A connected client (and the LocalCluster it started, for `local:N`); a context manager."""

    stops = (SchedulerLost,)  # what ends a run early; the caller reports it in one line

    def __init__(self, spec: str, tls: Tls = Tls()) -> None:
        self.spec, self.tls = spec, tls
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        kind, where = parse_scheduler(self.spec)
        security = self.tls.security()
        if kind == "local" and security is not None:
            raise UsageError("--tls-* options are for a remote scheduler (tls://HOST:PORT)")
        if kind == "remote" and where.startswith("tls://") and security is None \
                and not dask.config.get("distributed.comm.tls.ca-file", None):
            raise UsageError("a tls:// scheduler needs --tls-ca-file and --tls-cert (or distributed.comm.tls.* "
                             "in Dask's configuration)")
        _one_line_logs()
        with dask.config.set({"distributed.worker.daemon": False}):  # see GraderSetup
            if kind == "local":
                from grader.sandbox import warm

                warm.safe_spawns()  # its workers are spawned `python -c`: not from the current directory
                self.cluster = distributed.LocalCluster(
                    n_workers=where, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None, silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster)
            else:
                try:
                    self.client = distributed.Client(where, security=security, timeout=CONNECT_TIMEOUT)
                except (OSError, TimeoutError, TypeError) as exc:  # TypeError: bad TLS settings
                    raise SchedulerLost(f"cannot reach the Dask scheduler at {where} ({exc})") from None
        self.client.register_plugin(GraderSetup())
        return DaskExecutor(self.client)

    def __exit__(self, *exc: Any) -> None:
        lost = self.client is not None and self.client.status != "running"
        if lost:  # closing a client that lost its scheduler logs tracebacks; the caller says it in one line
            _silence_dask()
        for thing in (self.client, self.cluster):
            if thing is not None:
                try:
                    thing.close(timeout=10) if thing is self.client else thing.close()
                except Exception:  # closing after the scheduler is gone
                    pass


class _NoTraceback(logging.Filter):
    """Dask's log lines as one line each: no traceback (a scheduler lost mid-send logs one from
    a background thread, before the run can say so itself), the message's first line only."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        first = text.splitlines()[0] if text else ""
        if record.exc_info and record.exc_info[0] is not None:
            first += f" ({record.exc_info[0].__name__})"
        if first != text or record.exc_info or record.exc_text or record.stack_info:
            record.msg, record.args = first, None
            record.exc_info = record.exc_text = record.stack_info = None
        return True


_FILTER = _NoTraceback()


def _one_line_logs() -> None:
    """Every handler that Dask's loggers reach (its own, and the root's they may propagate to)
    prints their records one line each."""
    import distributed.config  # noqa: F401  (its import sets up Dask's handlers)

    for logger in _loggers("distributed", "tornado") + [logging.getLogger()]:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def _silence_dask() -> None:
    """Quiet Dask's loggers (some have their own handlers and levels)."""
    for logger in _loggers("distributed"):
        logger.setLevel(logging.CRITICAL + 1)


def _loggers(*packages: str) -> list[logging.Logger]:
    """The loggers made so far of these packages (their top ones included)."""
    names = {n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in packages} | set(packages)
    return [logging.getLogger(n) for n in sorted(names)]
