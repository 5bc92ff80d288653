"""Bounded concurrency for I/O-bound work: a thread pool map (``httpx.Client`` is thread-safe)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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


def bounded_imap(
    fn: Callable[[T], R], items: Sequence[T], concurrency: int = DEFAULT_CONCURRENCY
) -> Iterator[R]:
    """``bounded_map``, yielding each result as soon as it and those before it are in, so the
    caller works on the first results while later calls run (at a rate limit its thread would
    only wait). The first failure cancels the calls not yet started, as ``bounded_map`` does;
    it is raised when the iteration reaches it (the calls before it were started earlier,
    since a pool starts calls in order, and finish)."""
    if concurrency <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item)
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        futures: list[Future[R]] = []

        def cancel_rest(done: Future[R]) -> None:
            if not done.cancelled() and done.exception() is not None:
                for other in futures:
                    other.cancel()

        for item in items:
            future = pool.submit(fn, item)
            future.add_done_callback(cancel_rest)
            futures.append(future)
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()  # an iteration left early: nothing more starts
