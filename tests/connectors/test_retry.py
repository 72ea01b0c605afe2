"""Retries: the decision functions one by one, RetryPolicy with a scripted send, and real
scripts against a loopback server whose answers change from request to request.

Scripts run with the FakeClock (``run_script``): nothing sleeps, ``clock.sleeps`` records
every wait, and the server records every request, so each test asserts all three: what
was waited, what was logged and what the server received.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate

import pytest
import requests
from httpkit import Recorded, Reply

import qscript
from qscript.connectors.rest.config import RetryConfig
from qscript.connectors.rest.request import RestRequest
from qscript.connectors.rest.retry import (
    ConnectionFailedError,
    RetryPlan,
    RetryPolicy,
    backoff_seconds,
    failure_for,
    failure_is_retryable,
    failure_phase,
    jitter_factor,
    retry_after_seconds,
    retry_plan,
)
from qscript.connectors.rest.transport import RestResponse
from qscript.errors import WrongFormatError

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 GMT
ON = RetryConfig(enabled=True)
SCRIPT = """LIB CONNECT TO 'API';
T: SQL SELECT "ok" FROM JSON (wrap on) "root";"""


# -- Retry-After ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),  # a date in the past: now
        ("Tue, 14 Nov 2023 22:14:20 -0000", 60.0),  # no zone given: GMT
        (None, None),
        ("", None),
        ("-5", None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
        ("1e3", None),
    ],
)
def test_retry_after_seconds_and_dates(value, expected):
    assert retry_after_seconds(value, lambda: NOW) == expected


def test_an_http_date_is_measured_from_the_injected_now():
    date = formatdate(NOW + 90, usegmt=True)
    assert retry_after_seconds(date, lambda: NOW) == 90.0
    assert retry_after_seconds(date, lambda: NOW + 60) == 30.0


# -- backoff and jitter ---------------------------------------------------------------------------
@pytest.mark.parametrize(("draw", "factor"), [(0.0, 0.5), (0.5, 0.75), (0.999, 0.9995), (7.0, 1.0), (-1.0, 0.5)])
def test_jitter_factor_stays_between_a_half_and_one(draw, factor):
    assert jitter_factor(lambda: draw) == pytest.approx(factor)


def test_backoff_doubles_per_attempt_and_is_capped_at_max_wait():
    config = RetryConfig(enabled=True, backoff=1.5, max_wait=10)
    assert [backoff_seconds(config, attempt, 1.0) for attempt in (1, 2, 3, 4)] == [1.5, 3.0, 6.0, 10.0]
    assert backoff_seconds(config, 3, 0.5) == 3.0
    assert backoff_seconds(config, 5000, 1.0) == 10.0  # no float overflow on absurd attempt numbers
    assert backoff_seconds(RetryConfig(enabled=True, backoff=0), 3, 1.0) == 0.0


# -- which answers are retried --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "retry_after", "codes", "expected"),
    [
        (429, 5.0, (500,), RetryPlan(5.0, "Retry-After")),
        (503, 5.0, (500,), RetryPlan(5.0, "Retry-After")),  # 503 with Retry-After needs no listing
        (503, 5.0, (503,), RetryPlan(5.0, "Retry-After")),  # the server's wait beats our backoff
        (429, None, (500,), None),  # rate limited without saying for how long: not retried
        (503, None, (500,), None),
        (503, None, (503,), RetryPlan(2.0, "backoff")),
        (500, None, (500, 502), RetryPlan(2.0, "backoff")),
        (500, 30.0, (500,), RetryPlan(2.0, "backoff")),  # Retry-After is for 429 and 503 only
        (501, None, (500, 502), None),
        (404, 5.0, (500,), None),
        (200, 5.0, (500,), None),
    ],
)
def test_retry_plan(status, retry_after, codes, expected):
    config = RetryConfig(enabled=True, status_codes=codes, backoff=2.0)
    assert retry_plan(config, status, retry_after, 1, lambda: 1.0) == expected


# -- RetryPolicy with a scripted send -------------------------------------------------------------
def answer(status: int, reason: str = "", url: str = "https://api.example.com/v1/orders", **headers: str):
    return RestResponse(status, reason, tuple(headers.items()), b"{}", url, 0.0)


class Scripted:
    """A send function answering from a list (the last answer repeats); counts its calls."""

    def __init__(self, *answers: RestResponse | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self) -> RestResponse:
        item = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(item, Exception):
            raise item
        return item


def policy(config: RetryConfig = ON, *, draws: Iterator[float] | None = None, **kwargs) -> tuple[RetryPolicy, list]:
    """A RetryPolicy on connection 'Orders' whose sleeps and log lines land in one list."""
    events: list = []
    numbers = draws if draws is not None else iter(lambda: 1.0, None)
    made = RetryPolicy(config, "Orders", sleep=lambda s: events.append(s), log=events.append,
                       now=lambda: NOW, random=lambda: next(numbers), **kwargs)
    return made, events


GET = RestRequest("GET", "https://api.example.com/v1/orders?api_key=k-123456&page=2")


def test_retry_after_is_honoured_then_the_answer_returned():
    retry, events = policy()
    send = Scripted(answer(503, "Service Unavailable", **{"retry-after": "7"}), answer(200, "OK"))  # any case
    assert retry.run(send, GET).status == 200
    assert send.calls == 2
    assert events == [
        "connection 'Orders': GET https://api.example.com/v1/orders?api_key=***&page=2 -> HTTP 503 "
        "Service Unavailable; attempt 2 of 3 in 7.00 s (Retry-After)",
        7.0,
    ]


def test_http_date_retry_after_uses_now():
    retry, events = policy()
    send = Scripted(answer(429, "Too Many Requests", **{"Retry-After": formatdate(NOW + 42, usegmt=True)}),
                    answer(200))
    retry.run(send, GET)
    assert events[1:] == [42.0]
    assert "HTTP 429 Too Many Requests; attempt 2 of 3 in 42.00 s (Retry-After)" in events[0]


def test_backoff_is_exponential_with_jitter_from_the_random_source():
    config = RetryConfig(enabled=True, max_attempts=4, backoff=2.0)
    retry, events = policy(config, draws=iter([0.0, 0.5, 1.0]))
    send = Scripted(answer(500, "Internal Server Error"), answer(502, "Bad Gateway"), answer(504), answer(200))
    assert retry.run(send, GET).status == 200
    assert [e for e in events if isinstance(e, float)] == [1.0, 3.0, 8.0]  # 2*1*0.5, 2*2*0.75, 2*4*1.0
    lines = [e for e in events if isinstance(e, str)]
    assert [line.split(" -> ")[1] for line in lines] == [
        "HTTP 500 Internal Server Error; attempt 2 of 4 in 1.00 s (backoff)",
        "HTTP 502 Bad Gateway; attempt 3 of 4 in 3.00 s (backoff)",
        "HTTP 504; attempt 4 of 4 in 8.00 s (backoff)",
    ]


def test_max_attempts_counts_the_first_and_the_last_answer_is_returned():
    retry, events = policy(RetryConfig(enabled=True, max_attempts=3))
    send = Scripted(answer(503, "Service Unavailable", **{"Retry-After": "1"}))
    assert retry.run(send, GET).status == 503
    assert send.calls == 3
    assert [e for e in events if isinstance(e, float)] == [1.0, 1.0]
    assert events[-1] == ("connection 'Orders': GET https://api.example.com/v1/orders?api_key=***&page=2 -> "
                          "HTTP 503 Service Unavailable; giving up after 3 attempts (retry.max_attempts = 3)")


def test_one_attempt_means_no_retry():
    retry, events = policy(RetryConfig(enabled=True, max_attempts=1))
    send = Scripted(answer(500))
    assert retry.run(send, GET).status == 500
    assert send.calls == 1
    assert events == ["connection 'Orders': GET https://api.example.com/v1/orders?api_key=***&page=2 -> HTTP 500; "
                      "giving up after 1 attempt (retry.max_attempts = 1)"]


def test_disabled_sends_once_and_never_looks_at_the_answer():
    retry, events = policy(RetryConfig(enabled=False))
    send = Scripted(answer(503, **{"Retry-After": "1"}), answer(200))
    assert retry.run(send, GET).status == 503
    assert (send.calls, events) == (1, [])
    failing = Scripted(ConnectionFailedError("down", phase="connect", method="GET"), answer(200))
    with pytest.raises(ConnectionFailedError):
        retry.run(failing)
    assert failing.calls == 1


def test_a_retry_after_beyond_max_wait_fails_at_once():
    retry, events = policy(RetryConfig(enabled=True, max_wait=60))
    send = Scripted(answer(429, "Too Many Requests", **{"Retry-After": "3600"}), answer(200))
    with pytest.raises(WrongFormatError) as info:
        retry.run(send, GET)
    assert info.value.code == 12
    assert info.value.message == (
        "connection 'Orders': GET https://api.example.com/v1/orders?api_key=***&page=2 -> HTTP 429 Too Many Requests "
        "asks to retry after 3600 s (Retry-After), longer than retry.max_wait (60 s); not waiting "
        "(raise retry.max_wait to wait that long)"
    )
    assert (send.calls, events) == (1, [])


def test_a_retry_after_equal_to_max_wait_is_honoured():
    retry, events = policy(RetryConfig(enabled=True, max_wait=60))
    retry.run(Scripted(answer(503, **{"Retry-After": "60"}), answer(200)), GET)
    assert events[1:] == [60.0]


def test_without_the_request_the_answering_url_is_named_and_redacted():
    retry, events = policy()
    send = Scripted(answer(503, url="https://cdn.example.com/x?token=abcdef", **{"Retry-After": "2"}), answer(200))
    retry.run(send)
    assert events[0] == ("connection 'Orders': https://cdn.example.com/x?token=*** -> HTTP 503; "
                         "attempt 2 of 3 in 2.00 s (Retry-After)")


def test_redact_url_is_injectable():
    retry, events = policy(redact_url=lambda url: "<url>")
    retry.run(Scripted(answer(503, **{"Retry-After": "1"}), answer(200)), GET)
    assert events[0].startswith("connection 'Orders': GET <url> -> HTTP 503;")


# -- connection failures --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phase", "method", "retried"),
    [("connect", "GET", True), ("connect", "POST", True), ("read", "GET", True), ("read", "head", True),
     ("read", "POST", False)],
)
def test_which_connection_failures_are_retried(phase, method, retried):
    failure = ConnectionFailedError(f"connection 'Orders': {method} u: boom", phase=phase, method=method)
    assert failure_is_retryable(failure) is retried
    retry, events = policy(RetryConfig(enabled=True, backoff=1.0))
    send = Scripted(failure, answer(200))
    if retried:
        assert retry.run(send).status == 200
        assert events == [f"connection 'Orders': {method} u: boom; attempt 2 of 3 in 1.00 s (backoff)", 1.0]
    else:
        with pytest.raises(ConnectionFailedError):
            retry.run(send)
        assert events == []
    assert send.calls == (2 if retried else 1)


def test_connection_failures_stop_after_max_attempts_with_the_last_error():
    retry, events = policy(RetryConfig(enabled=True, max_attempts=2))
    send = Scripted(ConnectionFailedError("first", phase="connect", method="GET"),
                    ConnectionFailedError("second", phase="connect", method="GET"))
    with pytest.raises(ConnectionFailedError, match="second"):
        retry.run(send)
    assert send.calls == 2
    assert events == ["first; attempt 2 of 2 in 1.00 s (backoff)", 1.0]


def test_other_errors_are_never_retried():
    retry, _events = policy()
    send = Scripted(WrongFormatError("redirect_allowlist says no"), answer(200))
    with pytest.raises(WrongFormatError, match="redirect_allowlist"):
        retry.run(send)
    assert send.calls == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except requests.RequestException as exc:
        return exc
    raise AssertionError("no exception")


def test_failure_phase_of_real_requests_errors():
    refused = _raised(lambda: requests.get(f"http://127.0.0.1:{_free_port()}/", timeout=2))
    assert failure_phase(refused) == "connect"
    with socket.socket() as silent:  # accepts the connection (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        timed_out = _raised(lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=(2, 0.05)))
    assert failure_phase(timed_out) == "read"
    assert failure_phase(requests.exceptions.ConnectTimeout()) == "connect"
    assert failure_phase(requests.exceptions.SSLError()) is None
    assert failure_phase(requests.exceptions.ProxyError()) is None
    assert failure_phase(requests.exceptions.ChunkedEncodingError()) == "read"
    assert failure_phase(requests.exceptions.InvalidURL()) is None
    assert failure_phase(ValueError()) is None


def test_failure_for_builds_the_error_the_transport_raises():
    refused = failure_for("m", requests.exceptions.ConnectTimeout(), "post")
    assert isinstance(refused, ConnectionFailedError)
    assert (refused.message, refused.phase, refused.method, refused.code) == ("m", "connect", "POST", 12)
    plain = failure_for("m", requests.exceptions.SSLError(), "GET")
    assert type(plain) is WrongFormatError


# -- scripts against a loopback server ------------------------------------------------------------
def answers(*replies: Reply) -> Callable[[Recorded], Reply]:
    """A route handler answering with ``replies`` in turn; the last one repeats."""
    served: list[Reply] = []

    def handle(_request: Recorded) -> Reply:
        reply = replies[min(len(served), len(replies) - 1)]
        served.append(reply)
        return reply

    return handle


OK = Reply(body={"ok": 1})


def api(server, path: str = "/orders", **options) -> dict:
    return {"API": {"url": server.url(path), **options}}


def retry_lines(result) -> list[str]:
    return [line for line in result.log if "attempt" in line]


def test_script_retries_503_with_retry_after(run_script, http_server, clock):
    http_server.route("/orders", answers(Reply(503, "busy", {"Retry-After": "7"}), OK))
    result = run_script(SCRIPT, connections=api(http_server, retry={"enabled": True}))
    assert result.tables["T"]["ok"].tolist() == [1]
    assert clock.sleeps == [7.0]
    assert [r.path for r in http_server.requests] == ["/orders", "/orders"]
    (line,) = retry_lines(result)
    assert line.startswith("connection 'API': ")
    assert f"{http_server.url('/orders')} -> HTTP 503 Service Unavailable; attempt 2 of 3 in 7.00 s (Retry-After)" \
        in line


def test_script_retries_429_with_an_http_date(run_script, http_server, clock):
    date = formatdate(time.time() + 30, usegmt=True)
    http_server.route("/orders", answers(Reply(429, "slow down", {"Retry-After": date}), OK))
    result = run_script(SCRIPT, connections=api(http_server, retry={"enabled": True}))
    assert result.tables["T"]["ok"].tolist() == [1]
    (wait,) = clock.sleeps
    assert 25.0 <= wait <= 30.0  # the date has whole seconds; the test takes a moment
    assert len(http_server.requests) == 2
    assert "HTTP 429" in retry_lines(result)[0]


def test_script_backs_off_on_listed_5xx(run_script, http_server, clock):
    http_server.route("/orders", answers(Reply(500, "oops"), Reply(502, "gateway"), OK))
    options = {"retry": {"enabled": True, "backoff": 2, "max_attempts": 3}}
    result = run_script(SCRIPT, connections=api(http_server, **options))
    assert result.tables["T"]["ok"].tolist() == [1]
    first, second = clock.sleeps
    assert 1.0 <= first <= 2.0 and 2.0 <= second <= 4.0  # 2 * 2**(n-1) * [0.5, 1.0]
    assert len(http_server.requests) == 3
    lines = retry_lines(result)
    assert "HTTP 500" in lines[0] and "attempt 2 of 3" in lines[0] and "(backoff)" in lines[0]
    assert "HTTP 502" in lines[1] and "attempt 3 of 3" in lines[1]


def test_script_gives_up_after_max_attempts_with_the_http_error(run_script, http_server, clock):
    http_server.route("/orders", Reply(503, "still busy", {"Retry-After": "1"}))
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SCRIPT, connections=api(http_server, retry={"enabled": True, "max_attempts": 3}))
    assert info.value.code == 12
    assert "HTTP 503" in info.value.message and "still busy" in info.value.message
    assert clock.sleeps == [1.0, 1.0]
    assert len(http_server.requests) == 3


def test_script_refuses_to_sleep_beyond_max_wait(run_script, http_server, clock):
    http_server.route("/orders", answers(Reply(429, "later", {"Retry-After": "7200"}), OK))
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SCRIPT, connections=api(http_server, retry={"enabled": True, "max_wait": 120}))
    assert info.value.code == 12
    assert "retry.max_wait (120 s)" in info.value.message and "7200 s (Retry-After)" in info.value.message
    assert clock.sleeps == []
    assert len(http_server.requests) == 1


@pytest.mark.parametrize(
    ("reply", "retry"),
    [
        (Reply(503, "busy", {"Retry-After": "1"}), {}),  # retries are off by default
        (Reply(503, "busy", {"Retry-After": "1"}), {"enabled": False}),
        (Reply(429, "no Retry-After"), {"enabled": True}),
        (Reply(501, "not listed"), {"enabled": True, "status_codes": [500, 502]}),
        (Reply(404, "missing"), {"enabled": True}),
    ],
    ids=["default", "disabled", "429-without-retry-after", "unlisted-5xx", "404"],
)
def test_script_answers_that_are_not_retried(run_script, http_server, clock, reply, retry):
    http_server.route("/orders", answers(reply, OK))
    options = {"retry": retry} if retry else {}
    with pytest.raises(qscript.ScriptError) as info:
        run_script(SCRIPT, connections=api(http_server, **options))
    assert f"HTTP {reply.status}" in info.value.message
    assert clock.sleeps == []
    assert len(http_server.requests) == 1


def test_script_retry_log_masks_secrets(run_script, http_server, clock):
    http_server.route("/orders", answers(Reply(503, "busy", {"Retry-After": "3"}), OK))
    options = {"retry": {"enabled": True}, "query": {"api_key": "k-9f8e7d6c5b"}}
    result = run_script(SCRIPT, connections=api(http_server, **options))
    (line,) = retry_lines(result)
    assert "api_key=***" in line
    assert "k-9f8e7d6c5b" not in "\n".join(result.log)
    assert http_server.requests[1].query == "api_key=k-9f8e7d6c5b"  # the retry sends the real value


def test_script_retry_resends_the_whole_redirect_chain(run_script, http_server, clock):
    http_server.route("/orders", Reply(302, headers={"Location": "/v2/orders"}))
    http_server.route("/v2/orders", answers(Reply(503, "busy", {"Retry-After": "2"}), OK))
    result = run_script(SCRIPT, connections=api(http_server, retry={"enabled": True}))
    assert result.tables["T"]["ok"].tolist() == [1]
    assert [r.path for r in http_server.requests] == ["/orders", "/v2/orders", "/orders", "/v2/orders"]
    assert clock.sleeps == [2.0]


def test_script_post_retries_send_the_same_body(run_script, http_server, clock):
    http_server.route("/orders", answers(Reply(503, "busy", {"Retry-After": "1"}), OK))
    options = {"method": "POST", "body": '{"q": 1}', "retry": {"enabled": True}}
    run_script(SCRIPT, connections=api(http_server, **options))
    assert [(r.method, r.body) for r in http_server.requests] == [("POST", b'{"q": 1}')] * 2
