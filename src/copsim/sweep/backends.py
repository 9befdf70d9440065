"""Where chunks run: in this process, in a local process pool, or on Dask.

Every backend maps :func:`copsim.sweep.execution.run_chunk` over a stream of
chunk tasks and yields ``(task, tables)`` as chunks finish, in any order.  At
most ``window`` chunks are in flight, so memory stays bounded however long the
stream is.  Results never depend on the backend: each run's seed is fixed by the
design, not by the worker that picks it up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Protocol

from copsim.pool import WorkerPool
from copsim.sweep.design import ChunkTask
from copsim.sweep.execution import run_chunk

BACKENDS = ("local", "dask")


class Backend(Protocol):
    """Runs chunks somewhere and yields them as they finish."""

    name: str
    workers: int

    def map_chunks(self, tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        """Yield ``(task, tables)`` for every task, in completion order."""
        ...

    def close(self) -> None:
        """Release processes or connections."""
        ...

    def abort(self) -> None:
        """Stop at once, dropping chunks in flight (the sweep was interrupted)."""
        ...


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SerialBackend:
    """One worker: chunks run one after another in this process (no pickling)."""

    name = "local"
    workers = 1

    def map_chunks(self, tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        for task in tasks:
            yield task, run_chunk(task)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _bounded(submit, tasks: Iterable[ChunkTask], window: int, done_wait) -> Iterator:
    """Keep ``window`` futures in flight; yield ``(task, future)`` as each completes."""
    pending: dict[Any, ChunkTask] = {}
    stream = iter(tasks)
    exhausted = False
    while True:
        while not exhausted and len(pending) < window:
            task = next(stream, None)
            if task is None:
                exhausted = True
                break
            pending[submit(task)] = task
        if not pending:
            return
        for future in done_wait(list(pending)):
            yield pending.pop(future), future


class LocalBackend:
    """copsim's :class:`~copsim.pool.WorkerPool` of spawned processes on this machine.

    Its workers die with the sweep's process, however that ends.
    """

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = WorkerPool(workers)

    def map_chunks(self, tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        def done_wait(futures: list[Future]) -> set[Future]:
            return wait(futures, return_when=FIRST_COMPLETED).done

        for task, future in _bounded(
            lambda t: self.pool.submit(run_chunk, t), tasks, 2 * self.workers, done_wait
        ):
            yield task, future.result()

    def close(self) -> None:
        self.pool.close()

    def abort(self) -> None:
        self.pool.terminate()


class DaskBackend:
    """``dask.distributed``: a new ``LocalCluster``, or an existing scheduler.

    With ``scheduler=None`` a LocalCluster of ``workers`` single-threaded
    processes is started (and stopped on close).  With an address such as
    ``tcp://10.0.0.5:8786`` the sweep joins that cluster and uses all its
    workers; ``workers`` then only sets how many chunks are kept in flight.
    """

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the dask backend needs dask.distributed: pip install 'copsim[dask]'"
            ) from exc
        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
            self.workers = workers
        else:
            self.client = Client(scheduler)
            n = len(self.client.scheduler_info().get("workers", {}))
            self.workers = max(n, workers, 1)

    def map_chunks(self, tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, Any]]:
        from dask.distributed import wait as dask_wait

        def submit(task: ChunkTask) -> Any:
            return self.client.submit(run_chunk, task, pure=False, retries=0)

        def done_wait(futures: list[Any]) -> set[Any]:
            return dask_wait(futures, return_when="FIRST_COMPLETED").done

        for task, future in _bounded(submit, tasks, 2 * self.workers, done_wait):
            yield task, future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def abort(self) -> None:
        self.close()


def make_backend(name: str, workers: int | None, scheduler: str | None = None) -> Backend:
    """The backend called ``name`` with ``workers`` workers (default: all cores)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}'; choose one of {', '.join(BACKENDS)}")
    if scheduler is not None and name != "dask":
        raise ValueError("--scheduler needs --backend dask")
    n = workers if workers is not None else default_workers()
    if n < 1:
        raise ValueError(f"workers must be at least 1, got {n}")
    if name == "dask":
        return DaskBackend(n, scheduler)
    return SerialBackend() if n == 1 else LocalBackend(n)
