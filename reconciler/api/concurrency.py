"""Bounded concurrency for I/O-bound work: a thread pool map (``httpx.Client`` is thread-safe)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 8


def bounded_map(
    fn: Callable[[T], R], items: Sequence[T], concurrency: int = DEFAULT_CONCURRENCY
) -> list[R]:
    """``[fn(x) for x in items]`` with at most ``concurrency`` calls in flight, in input order.

    On the first failure the calls not yet started are cancelled and that exception is raised
    (the pool still waits for the calls already running, so no thread outlives the call).
    """
    if concurrency <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        futures: list[Future[R]] = [pool.submit(fn, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future in done and future.exception() is not None:
                for other in futures:
                    other.cancel()
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
