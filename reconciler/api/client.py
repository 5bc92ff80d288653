"""The HTTP client every API wrapper shares: auth, pacing, retries, paging, error mapping.

The I/O seam is one injected ``httpx.Client`` (style.md habit 5): production passes a real
client, tests pass Starlette's ``TestClient`` over the emulator, or an ``httpx.MockTransport``
client for failures the emulator cannot produce.

Every failure leaves this module as a subclass of ``reconciler.errors.ApiError`` that says what
happened (``envelope.api_error``; ``Transport`` when there was no answer, raised ``from`` the
httpx exception). Messages never contain the token or any other secret (``redact``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode

import httpx

from reconciler.api.auth import Auth
from reconciler.api.envelope import api_error, parse_error_body
from reconciler.api.limits import Pacer, RetryPolicy, retry_after_seconds
from reconciler.api.pacing import WAIT_CAP, AdaptivePacer, WaitBudget
from reconciler.errors import ApiError, Transport
from reconciler.redact import redact

log = logging.getLogger("reconciler.api")

ACCEPT_V1 = "application/vnd.bentley.itwin-platform.v1+json"
ACCEPT_V2 = "application/vnd.bentley.itwin-platform.v2+json"

JSON = dict[str, Any]
Params = Mapping[str, str | int]
T = TypeVar("T")


class RequestOptions(TypedDict):
    """What a request takes besides its method and path: ``accept`` (the API version's media
    type), query ``params``, a ``json`` body, a ``Prefer`` header, ``ambiguous_retry`` (default
    True, see ``ApiClient``) and extra ``headers``. Spelt once, for ``request`` and ``json``."""

    accept: str
    params: NotRequired[Params | None]
    json: NotRequired[Any]
    prefer: NotRequired[str | None]
    ambiguous_retry: NotRequired[bool]
    headers: NotRequired[Mapping[str, str] | None]


class PageOptions(TypedDict):
    """What a paged list takes besides its path and item key: ``accept``, the page size
    ``top``, query ``params``, a ``Prefer`` header and extra ``headers``. Spelt once, for
    ``pages`` and ``collect``."""

    accept: str
    top: int
    params: NotRequired[Params | None]
    prefer: NotRequired[str | None]
    headers: NotRequired[Mapping[str, str] | None]


# Failures that prove the request never reached the server: safe to resend any request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# 429s do not use up a request's attempts (the pacer slows down instead; the wait budget bounds
# them); this bounds them too, against a server answering 429 with no Retry-After forever.
MAX_RATE_LIMITED = 64
DEFAULT_MAX_WAIT = 900.0  # seconds (config ``maxWait``)


@dataclass(frozen=True)
class RequestEvent:
    """One HTTP request as sent, for ``-v`` logs: given to ``ApiClient.on_request`` after the
    response (or the transport failure). ``waited_s`` is the time spent before sending it:
    pacing by the rate limiter plus the back-off before a retry; ``retry_of`` says why this is
    a retry (``"503"``, ``"429"``, ``"ConnectError"``, ``"401"`` for a renewed token), None for
    a first attempt. Carries no header, query or body: nothing secret."""

    method: str
    path: str
    status: int | None  # None: no response (the transport failed: see ``error``)
    ms: float
    request_id: str | None
    attempt: int  # 0 for the first
    waited_s: float = 0.0
    retry_of: str | None = None
    error: str | None = None


# Response headers that name the request on the server side (the platform sends the first).
REQUEST_ID_HEADERS = ("x-correlation-id", "request-id", "x-request-id", "x-ms-request-id")


@dataclass
class RequestStats:
    """Counters of what was sent, thread-safe. ``requests`` counts every HTTP request to the
    APIs, retries included; token requests are counted apart by the ``Auth`` object."""

    requests: int = 0
    retries: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)
            self.by_method[method] = self.by_method.get(method, 0) + 1


class ApiClient:
    """Authenticated, paced, retrying JSON requests against one platform base URL.

    ``base_url`` defaults to the injected client's own ``base_url`` (e.g. ``http://testserver``
    for a ``TestClient``). ``ambiguous_retry=False`` on a request means: do not resend it after
    a failure that may have happened after the server acted (a 5xx or a dropped connection),
    for POSTs whose duplicate would do harm; the caller checks and resends itself.
    """

    def __init__(
        self,
        http: httpx.Client,
        auth: Auth,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        limiter: Pacer | None = None,
        pacer: AdaptivePacer | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.http = http
        self.auth = auth
        self.base_url = (base_url if base_url is not None else str(http.base_url)).rstrip("/")
        self.retry = retry or RetryPolicy()
        # Always a pacer: an unpaced one (start None) still slows down on the first 429.
        # Always an adaptive pacer over the configured one (None: unpaced until a 429).
        self.pacer = pacer or AdaptivePacer(None, limiter=limiter)
        self.budget = WaitBudget(max_wait)
        self.stats = RequestStats()
        # Optional: called once per HTTP request sent (retries included), from the sending
        # thread; for `-v` logs. Must not raise.
        self.on_request: Callable[[RequestEvent], None] | None = None
        # The last HTTP Date header the server sent: its time, by which invitations expire.
        self.server_date: str | None = None

    @property
    def limiter(self) -> Pacer | None:
        """The configured pace (``limits.pacer``) under the adaptive one."""
        return self.pacer.base

    @limiter.setter
    def limiter(self, limiter: Pacer | None) -> None:
        self.pacer = AdaptivePacer(None, limiter=limiter)

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r})"

    # ------------------------------------------------------------------ requests

    def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        """Send one logical request; returns the 2xx response or raises ``ApiError``."""
        params, json = options.get("params"), options.get("json")
        prefer, headers = options.get("prefer"), options.get("headers")
        ambiguous_retry = options.get("ambiguous_retry", True)
        url = self.base_url + path
        if params:
            # The query written here, as httpx would write it (urlencode's quoting is httpx's
            # for str and int values), so that httpx parses one URL per request, not a URL and
            # then the URL again to merge params: a tenth of a millisecond each (issue 17).
            url += "?" + urlencode(params)
        renewed = False
        attempt = 0
        limited = 0  # 429s so far: they do not use up attempts
        waited, why = 0.0, None  # before the next request: back-off, and what caused it
        while True:
            if self.budget.exhausted:
                raise self._wait_cap(method, path, None, 0.0)
            sent = dict(headers or {})
            sent["Accept"] = options["accept"]
            sent["Authorization"] = f"Bearer {self._token()}"
            # Our id for this attempt, so a `-v` line can be matched with the server's logs
            # (older iTwin.js clients send it too; contract §2, request id).
            sent.setdefault("X-Correlation-Id", str(uuid.uuid4()))
            if prefer:
                sent["Prefer"] = prefer
            paced = time.monotonic()
            sent_at = self.pacer.acquire()
            waited += time.monotonic() - paced
            self.stats.count(method, retry=attempt > 0 or renewed or limited > 0)
            started = time.monotonic()
            try:
                response = self.http.request(method, url, json=json, headers=sent)
            except httpx.TransportError as exc:
                failure = type(exc).__name__
                self._emit(method, path, None, started, attempt, waited, why, failure, sent)
                waited, why = 0.0, type(exc).__name__
                may_retry = ambiguous_retry or isinstance(exc, _NOT_SENT)
                if not may_retry or attempt + 1 >= self.retry.attempts:
                    raise Transport(
                        method,
                        path,
                        None,
                        type(exc).__name__,
                        f"the connection to {self.base_url} failed or was dropped, also on "
                        "retry; check `api` in itwin-access.yaml (or ITWIN_ACCESS_API) and the "
                        "network",
                    ) from exc
                waited += self._wait(method, path, attempt, None, type(exc).__name__)
                attempt += 1
                continue
            status = response.status_code
            self.server_date = response.headers.get("date") or self.server_date
            self._emit(method, path, response, started, attempt, waited, why, sent=sent)
            waited, why = 0.0, str(status)
            if status == 401 and not renewed and self.auth.invalidate():
                renewed = True  # the token may have expired early: renew once, then give up
                continue
            if status == 429 and limited < MAX_RATE_LIMITED:
                # Refused before acting, so always safe to resend: slow every worker down, wait
                # (capped), and try again without using up an attempt.
                retry_after = retry_after_seconds(response)
                if retry_after is not None:
                    retry_after = min(retry_after, self.retry.max_retry_after)
                self.pacer.rate_limited(sent_at, retry_after or 0.0, response.headers)
                waited += self._wait(method, path, limited, retry_after, "429", status)
                limited += 1
                continue
            # A 5xx may hide a success: resent only when the caller allows it.
            retryable = status in self.retry.statuses and ambiguous_retry and status != 429
            if retryable and attempt + 1 < self.retry.attempts:
                retry_after = retry_after_seconds(response)
                waited += self._wait(method, path, attempt, retry_after, str(status), status)
                attempt += 1
                continue
            if 200 <= status < 300:
                self.pacer.succeeded()
                log.debug("%s %s -> %s", method, path, status)
                return response
            raise self.error(method, path, response)

    def json(self, method: str, path: str, **options: Unpack[RequestOptions]) -> JSON:
        """``request`` and decode a JSON object body (empty dict for 204 / no body)."""
        response = self.request(method, path, **options)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise ApiError(
                method, path, response.status_code, None, "response is not JSON"
            ) from exc
        if not isinstance(body, dict):
            raise ApiError(method, path, response.status_code, None, "response is not an object")
        return body

    def pages(self, path: str, key: str, **options: Unpack[PageOptions]) -> Iterator[list[JSON]]:
        """Yield the pages of a list (contract §2.5): ``$skip``/``$top``, stopping on a short
        page or a missing ``_links.next`` (a full page with no ``next`` is the last one too)."""
        top, prefer, headers = options["top"], options.get("prefer"), options.get("headers")
        skip = 0
        while True:
            query: dict[str, str | int] = dict(options.get("params") or {})
            query["$top"] = top
            query["$skip"] = skip
            body = self.json(
                "GET", path, accept=options["accept"], params=query, prefer=prefer, headers=headers
            )
            items = body.get(key)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise ApiError("GET", path, 200, None, f"'{key}' is not a list")
            page = [item for item in items if isinstance(item, dict)]
            yield page
            links = body.get("_links")
            has_next = isinstance(links, dict) and isinstance(links.get("next"), dict)
            if len(items) < top or not has_next:
                return
            skip += len(items)

    def collect(self, path: str, key: str, **options: Unpack[PageOptions]) -> list[JSON]:
        """Every item of a paged list."""
        out: list[JSON] = []
        for page in self.pages(path, key, **options):
            out.extend(page)
        return out

    def create_once(self, post: Callable[[], T], find: Callable[[], T | None]) -> T:
        """Send a create whose duplicate would do harm (sent with ``ambiguous_retry=False``)
        under this client's retry policy: after a failure that may hide a success
        (``ApiError.may_have_acted``) ``find`` looks for what the create would have made, and
        only when it returns None is the create resent, after the usual back-off (counted in
        the run's wait budget). Other failures, and the last ambiguous one, are raised."""
        attempt = 0
        while True:
            try:
                return post()
            except ApiError as exc:
                if not exc.may_have_acted:
                    raise
                existing = find()
                if existing is not None:
                    return existing
                if attempt + 1 >= self.retry.attempts:
                    raise
                why = f"{exc.status or exc.code}, not found after it"
                self._wait(exc.method, exc.path, attempt, None, why, exc.status)
                attempt += 1

    # ------------------------------------------------------------------ internals

    def _token(self) -> str:
        # The token endpoint is another service with its own transient failures: retry those
        # with the same policy; a refusal (bad credentials) is final at once.
        attempt = 0
        while True:
            try:
                return self.auth.token()
            except ApiError as exc:
                transient = exc.status is None or exc.status in self.retry.statuses
                if not transient or attempt + 1 >= self.retry.attempts:
                    raise
                self._wait("POST", exc.path, attempt, None, f"token: {exc.status or exc.code}")
                attempt += 1

    def _wait(
        self,
        method: str,
        path: str,
        attempt: int,
        retry_after: float | None,
        why: str,
        status: int | None = None,
    ) -> float:
        delay = self.retry.delay(attempt, retry_after)
        if not self.budget.take(delay):
            raise self._wait_cap(method, path, status, delay)
        log.info("%s %s: %s, retry %d in %.2fs", method, path, why, attempt + 1, delay)
        self.retry.sleep(delay)
        return delay

    def _emit(
        self,
        method: str,
        path: str,
        response: httpx.Response | None,
        started: float,
        attempt: int,
        waited: float,
        why: str | None,
        error: str | None = None,
        sent: Mapping[str, str] | None = None,
    ) -> None:
        if self.on_request is None:
            return
        request_id = None
        if response is not None:
            request_id = next(
                (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
            )
        if request_id is None and sent is not None:
            request_id = sent.get("X-Correlation-Id")
        self.on_request(
            RequestEvent(
                method=method,
                path=path,
                status=response.status_code if response is not None else None,
                ms=(time.monotonic() - started) * 1000,
                request_id=request_id,
                attempt=attempt,
                waited_s=waited,
                retry_of=why,
                error=error,
            )
        )

    def _wait_cap(self, method: str, path: str, status: int | None, delay: float) -> ApiError:
        budget = self.budget
        return ApiError(
            method,
            path,
            status,
            WAIT_CAP,
            f"the run stopped at its wait cap: {budget.spent:.0f} s spent waiting on retries "
            f"and rate limits, and waiting {delay:.0f} s more would pass the cap of "
            f"{budget.limit:g} s (`maxWait` in itwin-access.yaml); run again later to finish",
        )

    def error(self, method: str, path: str, response: httpx.Response) -> ApiError:
        """Map a failed response to ``ApiError``, tolerating bodies that are not the envelope."""
        code, message, target = parse_error_body(response)
        message = redact(message, self.auth.secrets())
        return api_error(method, path, response.status_code, code, message, target)
