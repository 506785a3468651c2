"""Report renders on warm kernels, for a caller that renders many reports in one process (the demo).

Each notebook still runs top to bottom in a fresh kernel process of its own; the kernel is only started ahead
of time, with the report libraries already imported (kernel start and those imports are most of a report's
wall time: altair, polars, duckdb, great_tables). Worker threads each warm their next kernel while they wait
for work; a kernel is bound to the thread that started it (jupyter_client's per-thread event loop), so the
same thread renders on it and shuts it down. A kernel that fails to warm up is logged and the render starts
its own kernel as usual.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from xbot_core.errors import ReportError
from xbot_core.settings import PROJECT_DIR

log = logging.getLogger("xbot.reports")

T = TypeVar("T")

# the modules the demo's report notebooks import first; importing them changes no state the notebooks rely
# on (charts.enable_offline() is still called by each notebook), and the warm-up binds no name in the
# notebook's namespace
WARM_MODULES = (
    "IPython.display",
    "xbot_core.services.read.analytics",
    "xbot_core.services.reporting.charts",
    "xbot_core.services.reporting.report_tables",
)


def warm_code(modules: tuple[str, ...]) -> str:
    """Code that imports `modules` and leaves the user namespace as it found it."""
    return f"for _m in {modules!r}:\n    __import__(_m)\ndel _m\n"


def start_warm_kernel(
    *,
    kernel_name: str = "python3",
    cwd: Path = PROJECT_DIR,
    modules: tuple[str, ...] = WARM_MODULES,
    timeout_s: float = 180,
) -> Any:
    """A started kernel (AsyncKernelManager) that has imported `modules` silently (no output, no history).

    Call from the thread that will render on it. ReportError when the kernel cannot start or `code` fails.
    """
    from jupyter_core.utils import run_sync

    km = _kernel_manager_class()(kernel_name=kernel_name)

    async def warm() -> None:
        await km.start_kernel(cwd=str(cwd))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=timeout_s)
            msg_id = kc.execute(warm_code(modules), silent=True, store_history=False)
            while True:
                reply = await kc.get_shell_msg(timeout=timeout_s)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        finally:
            kc.stop_channels()
        content = reply["content"]
        if content.get("status") != "ok":
            raise ReportError(
                f"warm-up of a report kernel failed: {content.get('ename')}: {content.get('evalue')}"
            )

    try:
        run_sync(warm)()
    except BaseException:
        stop_kernel(km)
        raise
    return km


def _kernel_manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class TrackedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        """Remembers the clients it made: papermill leaves open the client of a kernel it did not start."""

        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_xbot_clients", []).append(kc)
            return kc

    return TrackedKernelManager


def stop_kernel(km: Any) -> None:
    """Close the kernel's clients and shut it down (from the thread that started it); never raises."""
    from jupyter_core.utils import run_sync

    for kc in km.__dict__.pop("_xbot_clients", []):
        try:
            kc.stop_channels()
        except Exception as exc:
            log.warning("report kernel client: %s: %s", type(exc).__name__, exc)
    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception as exc:  # the process may be gone already
        log.warning("report kernel shutdown: %s: %s", type(exc).__name__, exc)


_STOP = object()


class WarmRenderer:
    """`workers` threads run submitted render jobs, each job on a kernel its thread warmed beforehand.

    `expected` is how many jobs will come: no more kernels than that are started. `warm_at_once` limits the
    warm-ups running together, so warming in the background leaves CPU for the caller's own work.
    A job is `fn(kernel)`; `kernel` is None when warming failed (the render then starts its own).
    """

    def __init__(self, expected: int, *, workers: int = 2, warm_at_once: int = 1) -> None:
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._left = expected
        self._lock = threading.Lock()
        self._warming = threading.Semaphore(max(1, warm_at_once))
        self._threads = [
            threading.Thread(target=self._work, name=f"report-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[[Any], T]) -> Future[T]:
        fut: Future[T] = Future()
        self._jobs.put((fn, fut))
        return fut

    def close(self, *, cancel: bool = False) -> None:
        """Finish the submitted jobs (or cancel those not started), stop the workers and their kernels."""
        if cancel:
            with self._lock:
                self._left = 0
            while True:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    item[1].cancel()
        for _ in self._threads:
            self._jobs.put(_STOP)
        for t in self._threads:
            t.join()

    def _claim_kernel(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def _warm(self) -> Any:
        with self._warming:
            try:
                return start_warm_kernel()
            except Exception as exc:
                log.warning(
                    "no warm report kernel (%s: %s); the render starts its own", type(exc).__name__, exc
                )
                return None

    def _work(self) -> None:
        km = self._warm() if self._claim_kernel() else None
        while True:
            item = self._jobs.get()
            if item is _STOP:
                if km is not None:
                    stop_kernel(km)
                return
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(km))
            except BaseException as exc:
                fut.set_exception(exc)
            finally:
                if km is not None:
                    stop_kernel(km)
            km = self._warm() if self._claim_kernel() else None
