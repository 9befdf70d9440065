"""The one process pool copsim runs parallel work in.

The March batches (:mod:`copsim.march`), the stylized facts (:mod:`copsim.facts`)
and the local sweep backend (:mod:`copsim.sweep.backends`) all hand their units
of work to :class:`WorkerPool`, so the rules that keep parallel work safe live
here once:

- workers start with *spawn* (no inherited locks, threads or open files; the
  same on Linux, macOS and Windows), so the work must be top-level functions of
  plain data, and a script that starts a pool needs the
  ``if __name__ == "__main__":`` guard;
- **workers die with their parent**.  A worker that outlived a killed parent
  would keep computing for nobody (and keep the multiprocessing resource
  tracker alive with it).  On Linux each worker asks the kernel for
  ``SIGKILL`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere a
  watchdog thread in the worker also exits the moment its parent process is
  gone.  Once the workers are gone the resource tracker sees its pipe close and
  exits by itself;
- :meth:`WorkerPool.terminate` stops the workers at once (an interrupted sweep
  does not wait for chunks whose results it would throw away), and leaving a
  ``with`` block by an exception does the same.

Results never depend on the pool: every unit of work carries its own seed, so
which worker runs it, and when, changes nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from types import TracebackType
from typing import Any

#: ``PR_SET_PDEATHSIG`` from ``<linux/prctl.h>``.
_PR_SET_PDEATHSIG = 1
#: How often a worker's watchdog checks that its parent is still there [s].
WATCHDOG_SECONDS = 0.5


def _ask_kernel_for_death_signal() -> bool:
    """Linux: have the kernel SIGKILL this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, interval: float) -> None:
    """Exit this process as soon as ``parent`` is no longer its parent (it died)."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(interval)


def bind_to_parent(parent: int, interval: float = WATCHDOG_SECONDS) -> None:
    """Worker initializer: make this worker die with ``parent``.

    The death signal covers Linux without delay; the watchdog covers other
    systems and the moment before the signal was armed (a parent that died
    while this worker was still starting has already re-parented it, which the
    first check catches).
    """
    _ask_kernel_for_death_signal()
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent, interval), name="copsim-parent-watchdog", daemon=True
    ).start()


class WorkerPool:
    """A pool of spawned worker processes that die with this process.

    A thin wrapper of :class:`concurrent.futures.ProcessPoolExecutor`: ``submit``
    and ``map`` behave as there.  Use it as a context manager; a normal exit
    waits for the work, an exception (``KeyboardInterrupt`` included) kills the
    workers instead of waiting for them.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"a worker pool needs at least 1 worker, got {workers}")
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=bind_to_parent,
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Schedule ``fn(*args, **kwargs)`` on a worker."""
        return self._executor.submit(fn, *args, **kwargs)

    def map(
        self, fn: Callable[..., Any], *iterables: Iterable[Any], chunksize: int = 1
    ) -> Iterator:
        """``fn`` over the iterables, results in input order."""
        return self._executor.map(fn, *iterables, chunksize=chunksize)

    def pids(self) -> list[int]:
        """Process ids of the workers started so far (for tests and diagnostics)."""
        return [p.pid for p in getattr(self._executor, "_processes", {}).values() if p.pid]

    def close(self) -> None:
        """Wait for the submitted work, then stop the workers."""
        self._executor.shutdown(wait=True)

    def terminate(self) -> None:
        """Stop now: drop queued work and kill the workers (their results are not wanted)."""
        processes = list(getattr(self._executor, "_processes", {}).values())
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.kill()
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
                process.join(timeout=5)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.terminate()
