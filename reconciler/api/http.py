"""``CookielessClient``: the ``httpx.Client`` the CLI talks to the platform with.

The iTwin Platform's APIs authenticate with bearer tokens and set no cookies (the contract
names none). httpx still reads every response for ``Set-Cookie`` into its cookie jar, which
builds a ``urllib`` request (and an ``email`` message) per response: ~50 us of CPU a request,
taken from the workers that share the GIL (issue 17). This client keeps no cookies, so it
sends none either.
"""

from __future__ import annotations

from typing import Any

import httpx


class _NoCookies(httpx.Cookies):
    """An empty jar that stays empty."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class CookielessClient(httpx.Client):
    """``httpx.Client`` with no cookie jar (module docstring)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None  # nothing to keep
