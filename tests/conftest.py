"""Shared fixtures: run a script with a fake clock so nothing sleeps or depends on time."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

import qscript
from qscript.testing import FakeClock


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell must not change results: no proxies, no connection files."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "QSCRIPT_CONNECTIONS", "QSCRIPT_ALLOWED_URLS", "QSCRIPT_KEY", "QSCRIPT_KEY_FILE",
                 "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 1, 31, 13, 45, 30))


@pytest.fixture
def run_script(clock: FakeClock, tmp_path):
    """``run_script(text, **options) -> Result`` with the fake clock and tmp_path as base_dir."""

    def run(source: str, **options):
        options.setdefault("clock", clock)
        options.setdefault("base_dir", tmp_path)
        return qscript.run(source, **options)

    return run


# Shared test helpers (tests/exprkit.py) import by name from any test module.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def http_server():
    """A loopback HTTP server for the test (see tests/httpkit.py)."""
    from httpkit import LoopbackServer

    server = LoopbackServer()
    yield server
    server.close()
