"""The pytest plugin for load-script tests: ``qscript_api`` and ``qscript_run`` fixtures.

pytest loads it through the ``pytest11`` entry point ``qscript`` (pyproject.toml), so a
project that installs qscript gets the fixtures without a conftest. How to use them is in
docs/testing.md; this module only wires the cassette server and the script runner into
pytest: options, the marker, where cassette files live, and turning problems seen in the
server thread into test failures with a diff.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import pytest

import qscript
from qscript.testing import FakeClock
from qscript.testing.cassette import Cassette, CassetteError
from qscript.testing.server import CassetteServer, ReceivedRequest

RECORD_VARIABLE = "QSCRIPT_RECORD"
_TRUE = {"1", "true", "yes", "on"}
_DEFAULT: Any = object()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qscript", "qscript load-script tests")
    group.addoption("--qscript-record", action="store_true", default=False, dest="qscript_record",
                    help="record cassettes from the live APIs tests name with qscript_api.record_from(url) "
                         f"instead of replaying them (also: {RECORD_VARIABLE}=1)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qscript_cassette(path): the cassette qscript_api replays (see "
                                       "qscript_api.load); relative paths are under the test file's cassettes/")


def record_mode(config: pytest.Config) -> bool:
    return bool(config.getoption("qscript_record", False)) or (
        os.environ.get(RECORD_VARIABLE, "").strip().lower() in _TRUE)


class QscriptApi:
    """The ``qscript_api`` fixture: a loopback API that answers from a cassette.

    Problems in the server thread (a request the cassette does not hold) make the script
    fail with status 599; :meth:`check` turns them into a test failure showing the request
    next to the closest recorded ones. ``qscript_run`` calls it after each script, and the
    fixture's teardown reports whatever is still unreported.
    """

    def __init__(self, cassette_dir: Path, default_name: str, recording_allowed: bool) -> None:
        self.cassette_dir = cassette_dir
        self.recording_allowed = recording_allowed
        self.path = cassette_dir / default_name
        self._server = CassetteServer()
        self._server.cassette.source = "none loaded"
        self._reported = 0

    # -- where it answers ----------------------------------------------------------------------
    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``, no trailing slash (``$(vBaseUrl)/orders`` reads well)."""
        return self._server.base

    def url(self, path: str = "") -> str:
        """The loopback URL of ``path`` (``url("/orders?page=1")``); ``url()`` is the base."""
        return self.base + (path if not path or path.startswith("/") else "/" + path)

    def connection(self, name: str, path: str = "/", **options: Any) -> dict[str, dict[str, Any]]:
        """``{name: {"url": url(path), **options}}`` for ``connections=``; merge several with ``|``."""
        return {name: {"url": self.url(path), **options}}

    # -- what it answers with ------------------------------------------------------------------
    def load(self, cassette: str | PathLike[str] | Mapping[str, Any]) -> QscriptApi:
        """Replay a cassette: a file (relative paths are under the test file's ``cassettes/``)
        or the cassette data itself. In record mode the file is where the recording goes."""
        if isinstance(cassette, Mapping):  # a recording would still go to the default file
            self._server.cassette = Cassette.from_data(cassette)
            self._server.used.clear()
            return self
        path = Path(cassette)
        self.path = path if path.is_absolute() else self.cassette_dir / path
        if self.recording:  # record_from came first: only the destination changes
            self._server.cassette.source = str(self.path)
        elif self.path.is_file():
            self._server.cassette = Cassette.read(self.path)
        elif not self.recording_allowed:
            raise CassetteError(f"cassette {self.path} does not exist; write it by hand (docs/testing.md) "
                                f"or record it: pytest --qscript-record, with qscript_api.record_from(url) in the test")
        else:
            self._server.cassette = Cassette(source=str(self.path))
        self._server.used.clear()
        return self

    def record_from(self, live_base_url: str, *, scrub_fields: tuple[str, ...] | list[str] = ()) -> QscriptApi:
        """In record mode, forward every request to ``live_base_url`` + path and write the
        cassette at teardown; otherwise do nothing, so the same test replays.
        ``scrub_fields`` names response JSON fields to mask as well (``access_token``)."""
        if self.recording_allowed:
            self._server.cassette.source = str(self.path)
            self._server.record_from(live_base_url, scrub_fields)
        return self

    @property
    def recording(self) -> bool:
        return self._server.live_base is not None

    @property
    def cassette(self) -> Cassette:
        return self._server.cassette

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request the server got, in order (method, path, query, headers, body)."""
        return list(self._server.requests)

    # -- reporting -----------------------------------------------------------------------------
    def unreported(self) -> list[str]:
        problems = self._server.problems[self._reported:]
        self._reported += len(problems)
        return problems

    def check(self) -> None:
        """Fail the test now if the server saw a request it could not answer."""
        __tracebackhide__ = True
        problems = self.unreported()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)

    def assert_all_used(self) -> None:
        """Fail when recorded interactions were never asked for (a loop that stopped early)."""
        __tracebackhide__ = True
        unused = self._server.unused()
        if unused and not self.recording:
            lines = [f"  interaction {i + 1}: {self.cassette.interactions[i].request.lines()[0]}" for i in unused]
            raise AssertionError(f"{len(unused)} recorded interactions were never requested "
                                 f"(cassette {self.cassette.source}):\n" + "\n".join(lines))

    def close(self) -> None:
        """Stop the server and, when recording, write the scrubbed cassette."""
        self._server.close()
        if self.recording:
            self._server.finished_cassette().write(self.path)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") + ".json"


@pytest.fixture
def qscript_api(request: pytest.FixtureRequest) -> Iterator[QscriptApi]:
    """A loopback REST API replaying a cassette (``@pytest.mark.qscript_cassette(path)`` or
    ``qscript_api.load(path)``), or recording one in record mode (docs/testing.md)."""
    test_file = Path(request.path)
    api = QscriptApi(test_file.parent / "cassettes", f"{test_file.stem}.{_safe_name(request.node.name)}",
                     record_mode(request.config))
    try:
        marker = request.node.get_closest_marker("qscript_cassette")
        if marker is not None:
            api.load(*marker.args, **marker.kwargs)
        yield api
    finally:
        api.close()
    api.check()


class ScriptRunner:
    """The ``qscript_run`` fixture: ``qscript_run(script_or_path, **options) -> qscript.Result``.

    A fake clock by default so ``SLEEP`` and retry back-offs take no time and ``Now()`` is
    fixed; after each run the ``qscript_api`` fixture (when the test uses it) is checked,
    so an unmatched request fails the test with its diff instead of a bare ScriptError.
    """

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self.test_dir = Path(request.path).parent
        self.clock = FakeClock()

    def __call__(
        self,
        script: str | PathLike[str],
        *,
        variables: Mapping[str, str] | None = None,
        connections: Any = None,
        clock: Any = _DEFAULT,
        base_dir: str | PathLike[str] | None = None,
        **options: Any,
    ) -> qscript.Result:
        """Run script text, or a ``.qvs`` file (a Path, or a one-line text ending in .qvs;
        relative to the test file's folder, then the current directory).
        ``clock=None`` uses the wall clock; default: :attr:`clock`, a FakeClock."""
        __tracebackhide__ = True
        options.update(variables=variables, connections=connections,
                       clock=self.clock if clock is _DEFAULT else clock)
        path = self._script_path(script)
        try:
            if path is not None:
                if base_dir is not None:
                    options["base_dir"] = base_dir
                result = qscript.run_file(path, **options)
            else:
                result = qscript.run(str(script), base_dir=base_dir or self.test_dir, **options)
        except qscript.ScriptError as exc:
            problems = self._api_problems()
            if not problems:
                raise
            where = f" at {exc.span}" if exc.span else ""
            note = f"(the script stopped{where} with ScriptError {exc.code}: the API answered 599)"
        else:
            problems, note = self._api_problems(), ""
        if problems:  # outside the except block: the diff, not a chained ScriptError traceback
            pytest.fail("\n\n".join([*problems, note]).strip(), pytrace=False)
        return result

    def _script_path(self, script: str | PathLike[str]) -> Path | None:
        if isinstance(script, str) and ("\n" in script or not script.strip().lower().endswith(".qvs")):
            return None
        path = Path(script)
        for candidate in (path, self.test_dir / path) if path.is_absolute() else (self.test_dir / path, path):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"qscript_run: no script file {path} (looked in {self.test_dir} and {Path.cwd()})")

    def _api_problems(self) -> list[str]:
        """Unreported problems of the test's ``qscript_api``, if the test uses one."""
        if "qscript_api" not in self._request.fixturenames:
            return []
        api: QscriptApi = self._request.getfixturevalue("qscript_api")
        return api.unreported()


@pytest.fixture
def qscript_run(request: pytest.FixtureRequest) -> ScriptRunner:
    """Run a load script (text or .qvs file) with a fake clock; see :class:`ScriptRunner`."""
    return ScriptRunner(request)
