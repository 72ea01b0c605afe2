"""Retries: 429/503 honour Retry-After up to a maximum wait; listed 5xx codes back off.

``RetryPolicy.run(send)`` wraps one whole send (redirects included) and sends it again
when the answer says "try later". Every decision is one small function below, so each
can be tested on its own and the loop in ``run`` only strings them together:

* **Off means off** (``RetryConfig.enabled``): ``run`` calls ``send`` once and returns
  whatever it returns or raises; no answer is inspected.
* **Which answers** (``retry_plan``): 429 and 503 *with a readable* ``Retry-After`` wait
  as long as the server asks; a status in ``retry.status_codes`` (5xx only, checked by
  config.py) waits an exponential backoff. 503 without ``Retry-After`` is retried only
  when listed in ``status_codes``; 429 without it is not retried, since an API that
  rate-limits without saying for how long is better answered by the script's own loop.
  Everything else (2xx, 3xx, other 4xx) is returned at once.
* **Retry-After** (``retry_after_seconds``): delay-seconds (decimals tolerated) or an
  HTTP-date; a date needs the current time, taken from the injectable ``now`` (default
  ``time.time``) so tests are exact. A date in the past means "now" (0 s). Unreadable
  values count as absent rather than failing the request.
* **Too long to wait** (``check_retry_after``): a Retry-After above ``retry.max_wait``
  fails at once with an error naming ``retry.max_wait``: a reload that would sleep for
  hours is better stopped, and the message says which key to raise.
* **Backoff** (``backoff_seconds``, ``jitter_factor``): ``backoff * 2**(attempt-1)``
  times a jitter factor in [0.5, 1.0] from the injectable ``random`` source ("equal
  jitter": never less than half the nominal wait, so a busy server gets real relief, yet
  clients started together drift apart). Backoff waits are capped at ``retry.max_wait``
  rather than failing: the server did not ask for them, our own doubling did.
* **How many** (``retry.max_attempts``): attempts in all, counting the first. When they
  run out the last answer is returned, so the caller reports the real HTTP error, and a
  "giving up" line is logged.
* **Connection failures** (``ConnectionFailedError``, ``failure_phase``, ``failure_for``):
  the transport raises ``ConnectionFailedError`` for failures that may go away. A failure
  before the request left (connection refused, DNS, connect timeout) is retried for any
  method: the server saw nothing. A failure after it left (read timeout, connection reset
  mid-answer) is retried only for GET and HEAD, because a POST may already have taken
  effect and sending it twice could, say, create two orders. TLS, proxy and URL errors
  are never retried: they do not fix themselves. Waits are the backoff above.
* **Logging** (``retry_line``): one line per retry naming the connection, the method,
  the redacted URL, the status (or the failure), the attempt and the wait, e.g.
  ``connection 'Orders': GET https://api.example.com/orders?api_key=*** -> HTTP 503
  Service Unavailable; attempt 2 of 3 in 7.00 s (Retry-After)``. URLs go through
  ``redact_url`` (by default sensitive query values and user info are masked; the reload
  log masks known secret values on top).

The sleep function is passed in, so tests never sleep (``FakeClock.sleep`` records).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from random import random as _uniform
from typing import TYPE_CHECKING, Literal

import requests
from urllib3.exceptions import NewConnectionError

from qscript.connectors.rest.config import RetryConfig
from qscript.errors import WrongFormatError
from qscript.redact import Redactor

if TYPE_CHECKING:
    from qscript.connectors.rest.request import RestRequest
    from qscript.connectors.rest.transport import RestResponse

#: Answers that carry a server-chosen wait in Retry-After (RFC 9110 10.2.3, RFC 6585 4).
RETRY_AFTER_CODES = frozenset({429, 503})
#: Methods that may be resent after the request has left: the server may have acted on it.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
_DELAY_SECONDS = re.compile(r"\d+(\.\d+)?")

Phase = Literal["connect", "read"]


class ConnectionFailedError(WrongFormatError):
    """No complete answer arrived. ``phase`` is ``connect`` when the request never left
    (nothing reached the server), ``read`` when it may have been received."""

    def __init__(self, message: str, *, phase: Phase, method: str) -> None:
        super().__init__(message)
        self.phase = phase
        self.method = method.upper()


def failure_phase(exc: BaseException) -> Phase | None:
    """Whether a requests exception is worth retrying, and whether the request had left.

    None for errors that do not go away by themselves: TLS, invalid URLs, and proxy
    failures (mostly a wrong address or 407 credentials; a retry would only repeat them).
    """
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return None
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return "connect" if isinstance(reason, NewConnectionError) else "read"
    if isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return "read"
    return None


def failure_for(message: str, exc: BaseException, method: str) -> WrongFormatError:
    """The error the transport raises for a requests exception: retryable or not."""
    phase = failure_phase(exc)
    if phase is None:
        return WrongFormatError(message)
    return ConnectionFailedError(message, phase=phase, method=method)


def failure_is_retryable(failure: ConnectionFailedError) -> bool:
    """Never-sent requests are always safe to resend; sent ones only when idempotent."""
    return failure.phase == "connect" or failure.method in IDEMPOTENT_METHODS


def retry_after_seconds(value: str | None, now: Callable[[], float]) -> float | None:
    """Retry-After as seconds from now (>= 0), or None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def jitter_factor(random: Callable[[], float]) -> float:
    """A factor in [0.5, 1.0]: ``random`` returns a float in [0, 1)."""
    return 0.5 + 0.5 * min(max(random(), 0.0), 1.0)


def backoff_seconds(config: RetryConfig, attempt: int, jitter: float) -> float:
    """The wait after failed attempt ``attempt`` (1-based), capped at ``max_wait``."""
    nominal = config.backoff * 2.0 ** min(attempt - 1, 1023)  # 2**1024 overflows a float
    return min(nominal * jitter, config.max_wait)


@dataclass(frozen=True)
class RetryPlan:
    """Wait ``seconds`` and send again; ``why`` says where the wait came from."""

    seconds: float
    why: Literal["Retry-After", "backoff"]


def retry_plan(
    config: RetryConfig, status: int, retry_after: float | None, attempt: int, random: Callable[[], float]
) -> RetryPlan | None:
    """How to retry an answer, or None when it is final (before counting attempts)."""
    if status in RETRY_AFTER_CODES and retry_after is not None:
        return RetryPlan(retry_after, "Retry-After")
    if status in config.status_codes:
        return RetryPlan(backoff_seconds(config, attempt, jitter_factor(random)), "backoff")
    return None


def check_retry_after(config: RetryConfig, plan: RetryPlan, where: str, status: str) -> None:
    """A server-chosen wait longer than ``max_wait`` fails now instead of sleeping."""
    if plan.why == "Retry-After" and plan.seconds > config.max_wait:
        raise WrongFormatError(
            f"{where} -> {status} asks to retry after {plan.seconds:g} s (Retry-After), longer than "
            f"retry.max_wait ({config.max_wait:g} s); not waiting (raise retry.max_wait to wait that long)"
        )


def retry_line(what: str, attempt: int, max_attempts: int, plan: RetryPlan) -> str:
    """The log line for one retry: ``what`` already names connection, method, URL and status."""
    return f"{what}; attempt {attempt + 1} of {max_attempts} in {plan.seconds:.2f} s ({plan.why})"


def status_text(response: RestResponse) -> str:
    return f"HTTP {response.status} {response.reason}".rstrip()


class RetryPolicy:
    """The retry settings of one connection, applied around one send.

    ``now`` and ``random`` are injectable so tests are exact; transport.py keeps working
    without passing them. ``redact_url`` masks URLs in log lines and errors.
    """

    def __init__(
        self,
        config: RetryConfig,
        connection: str,
        *,
        sleep: Callable[[float], None],
        log: Callable[[str], None],
        now: Callable[[], float] = time.time,
        random: Callable[[], float] = _uniform,
        redact_url: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config
        self.connection = connection
        self.sleep = sleep
        self.log = log
        self.now = now
        self.random = random
        self.redact_url = redact_url or Redactor().url

    def _where(self, response: RestResponse, request: RestRequest | None) -> str:
        """``connection 'X': GET <url>``: the request that is resent (method when known)."""
        if request is None:
            return f"connection '{self.connection}': {self.redact_url(response.url)}"
        return f"connection '{self.connection}': {request.method} {self.redact_url(request.url)}"

    def run(self, send: Callable[[], RestResponse], request: RestRequest | None = None) -> RestResponse:
        """Send, and send again as the retry settings allow.

        ``request`` (optional) is only used to name the method and URL in log lines and
        errors; without it the URL that answered is named.
        """
        if not self.config.enabled:
            return send()
        limit = self.config.max_attempts
        attempt = 1
        while True:
            try:
                response = send()
            except ConnectionFailedError as failure:
                if not failure_is_retryable(failure) or attempt >= limit:
                    raise
                plan = RetryPlan(backoff_seconds(self.config, attempt, jitter_factor(self.random)), "backoff")
                self.log(retry_line(failure.message, attempt, limit, plan))
                self.sleep(plan.seconds)
                attempt += 1
                continue
            retry_after = retry_after_seconds(response.header("Retry-After"), self.now)
            plan = retry_plan(self.config, response.status, retry_after, attempt, self.random)
            if plan is None:
                return response
            where = self._where(response, request)
            if attempt >= limit:
                self.log(f"{where} -> {status_text(response)}; giving up after {attempt} "
                         f"attempt{'s' if attempt > 1 else ''} (retry.max_attempts = {limit})")
                return response
            check_retry_after(self.config, plan, where, status_text(response))
            self.log(retry_line(f"{where} -> {status_text(response)}", attempt, limit, plan))
            self.sleep(plan.seconds)
            attempt += 1
