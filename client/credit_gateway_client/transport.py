"""One kept-alive HTTP connection to the gateway, with retries on 429, 503 and network
errors; a signed request is signed afresh on each attempt (its `created` is checked)."""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from credit_gateway_client.messages import accept_language
from credit_gateway_client.signing import Signer

SUBMISSIONS_PATH = "/api/v1/submissions"
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
NETWORK_ERRORS = (ConnectionError, TimeoutError, http.client.HTTPException, OSError)


class GatewayUnavailable(RuntimeError):
    """Every attempt failed with a retryable status or a network error."""


@dataclass
class Answer:
    status: int
    payload: Any
    headers: dict[str, str]


@dataclass
class Gateway:
    base_url: str
    api_key: str | None = None
    signer: Signer | None = None
    lang: str = "zh"
    timeout: float = 60.0
    max_attempts: int = 8
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    on_retry: Callable[[str, float], None] | None = None
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)

    def __post_init__(self):
        url = urllib.parse.urlsplit(self.base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {self.base_url!r}")
        self._url = url

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self._url.scheme == "https"
                else http.client.HTTPConnection
            )
            self._connection = kind(self._url.hostname, self._url.port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept-Language": accept_language(self.lang), "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Api-Key {self.api_key}"
        return headers

    def request(self, method: str, path: str, body: bytes | None = None, sign=False) -> Answer:
        full_path = self._url.path + path
        wait = self.backoff
        for attempt in range(1, self.max_attempts + 1):
            headers = self._headers()
            if body is not None:
                headers["Content-Type"] = "application/json"
                if sign and self.signer is not None:
                    headers.update(self.signer.headers(body, path=full_path))
            try:
                connection = self._connect()
                connection.request(method, full_path, body=body, headers=headers)
                response = connection.getresponse()
                raw = response.read()
                answer_headers = {name.lower(): value for name, value in response.getheaders()}
            except NETWORK_ERRORS as error:
                self.close()
                reason = f"{type(error).__name__}: {error}"
                status = None
            else:
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                if status not in RETRIED_STATUSES:
                    return Answer(status, _json(raw), answer_headers)
                reason = f"HTTP {status}"
            if attempt == self.max_attempts:
                raise GatewayUnavailable(f"{method} {path}: gave up after {attempt} attempts")
            delay = wait * (0.5 + random.random())  # noqa: S311 - jitter, not a secret
            if status == 429 and (retry_after := answer_headers.get("retry-after", "")).isdigit():
                delay = max(delay, float(retry_after))
            if self.on_retry is not None:
                self.on_retry(reason, delay)
            self.sleep(min(delay, self.max_backoff))
            wait = min(wait * 2, self.max_backoff)
        raise AssertionError("unreachable")

    def submit(self, body: bytes) -> Answer:
        return self.request("POST", SUBMISSIONS_PATH, body, sign=True)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"error": "not_json", "message": raw[:200].decode("utf-8", "replace")}
