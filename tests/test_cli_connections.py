"""``qscript connections list|show|test|encrypt``, run as a user runs them (subprocesses).

The commands run through ``python -m qscript.cli_connections``, which builds the same parser
``qscript.cli`` registers; one test checks the registration in ``qscript`` itself. Keys and
config folders point into tmp_path; servers listen on 127.0.0.1.
"""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from httpkit import Reply

import qscript.cli

POSIX = pytest.mark.skipif(os.name != "posix", reason="file modes and terminals are POSIX")
SECRET_PASSWORD = "pw-Secret-4711"
SECRET_KEY = "key-Secret-0815"

FILE = """# Team connections: keep this comment
[connections."Orders API"]   # the shop
url = "{base}/orders"
check_response_type_on_test = {check}
{extra}

[connections."Orders API".auth]
schema = "basic"
username = "ann"
password = "{password}"

[connections."Orders API".query]
api_key = "{key}"

[connections."Orders API".headers]
Accept = "application/json"   # asked for JSON
X-Api-Token = "Bearer to-be-encrypted"

[connections."Stock"]
url = "{base}/stock"
[connections."Stock".pagination]
type = "offset"
start_param = "skip"
count_param = "take"
count_value = 50
"""


def write(tmp_path: Path, base: str = "http://127.0.0.1:9", check: bool = False, extra: str = "") -> Path:
    path = tmp_path / "connections.toml"
    path.write_text(FILE.format(base=base, check=str(check).lower(), extra=extra, password=SECRET_PASSWORD,
                                key=SECRET_KEY), encoding="utf-8")
    return path


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QSCRIPT_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), APPDATA=str(tmp_path / "config"),
               QSCRIPT_KEY_FILE=str(tmp_path / "keys" / "key"))
    env.update(extra)
    return env


def qs(tmp_path: Path, *args: str, stdin: str | None = None, module: str = "qscript.cli_connections",
       **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=environment(tmp_path, **env), timeout=120)


def connections(tmp_path: Path, command: str, *args: str, path: Path | None = None, **options):
    where = ["--connections", str(path)] if path is not None else []
    return qs(tmp_path, "connections", command, *args, *where, **options)


# -- list and show --------------------------------------------------------------------------------

def test_list_prints_names_and_urls(tmp_path):
    path = write(tmp_path)
    done = connections(tmp_path, "list", path=path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Orders API  http://127.0.0.1:9/orders", "Stock       http://127.0.0.1:9/stock"]


def test_list_finds_the_file_as_run_does(tmp_path):
    write(tmp_path)
    assert connections(tmp_path, "list").stdout.startswith("Orders API")  # ./connections.toml
    other = tmp_path / "elsewhere.toml"
    other.write_text('[connections."X"]\nurl = "http://127.0.0.1:9/?token=tok-Secret-1"\n')
    done = connections(tmp_path, "list", QSCRIPT_CONNECTIONS=str(other))
    assert done.stdout == "X  http://127.0.0.1:9/?token=***\n"
    (tmp_path / "connections.toml").unlink()
    done = connections(tmp_path, "list")
    assert done.returncode == 1
    assert "no connections file: pass --connections FILE" in done.stderr


def test_list_reports_invalid_connections_and_fails(tmp_path):
    path = write(tmp_path, extra='read_timeout = "slow"')
    done = connections(tmp_path, "list", path=path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "Orders API  (invalid, see below)"
    assert "key 'read_timeout' must be an integer" in done.stderr


def test_show_prints_every_option_with_secrets_masked(tmp_path):
    path = write(tmp_path)
    done = connections(tmp_path, "show", "Orders API", path=path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for line in ('[connections."Orders API"]', 'url = "http://127.0.0.1:9/orders"', "read_timeout = 30",
                 'key_generation = "sequence"', "check_response_type_on_test = false", 'password = "***"',
                 'api_key = "***"', 'Accept = "application/json"', 'X-Api-Token = "***"',
                 "status_codes = [500, 502, 504]", 'type = "none"', "# no proxy: requests go directly"):
        assert line in out.splitlines(), line
    assert SECRET_PASSWORD not in out and SECRET_KEY not in out and "to-be-encrypted" not in out
    shown = tomllib.loads(out)["connections"]["Orders API"]  # the output is TOML
    assert shown["auth"]["username"] == "ann"
    stock = tomllib.loads(connections(tmp_path, "show", "Stock", path=path).stdout)["connections"]["Stock"]
    assert stock["pagination"] == {"type": "offset", "start_param": "skip", "start_value": 0, "start_in": "query",
                                   "count_param": "take", "count_value": 50, "max_pages": 10000,
                                   "max_records": 10000000, "stop_on_empty_page": True, "stop_on_short_page": False}


def test_show_an_unknown_connection_fails_with_the_known_names(tmp_path):
    done = connections(tmp_path, "show", "orders api", path=write(tmp_path))
    assert done.returncode == 1
    assert "connection 'orders api' is not defined" in done.stderr and "did you mean 'Orders API'?" in done.stderr


# -- test ---------------------------------------------------------------------------------------

def test_test_reports_status_time_and_type(tmp_path, http_server):
    http_server.route("/orders", Reply(body=[{"id": 1}]))
    done = connections(tmp_path, "test", "Orders API", path=write(tmp_path, http_server.base))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"GET {http_server.base}/orders?api_key=***"
    assert lines[1].startswith("HTTP 200 OK, ") and lines[1].endswith(
        " s, 11 bytes, response type JSON (Content-Type: application/json)")
    assert lines[-1] == "connection 'Orders API' works"
    request = http_server.requests[0]
    assert request.header("Accept") == "application/json"
    assert request.header("Authorization").startswith("Basic ")  # the auth table, as a SELECT sends it
    assert ("api_key", SECRET_KEY) in request.params


def test_test_fails_on_an_error_status(tmp_path, http_server):
    http_server.route("/orders", Reply(404, f"no such thing; you sent {SECRET_KEY}"))
    done = connections(tmp_path, "test", "Orders API", path=write(tmp_path, http_server.base))
    assert done.returncode == 1
    assert "HTTP 404 Not Found" in done.stdout
    assert done.stderr.startswith("qscript: test failed: connection 'Orders API': HTTP 404 Not Found: 'no such thing")
    assert SECRET_KEY not in done.stdout + done.stderr


def test_test_fails_when_nothing_answers(tmp_path):
    done = connections(tmp_path, "test", "Stock", path=write(tmp_path, "http://127.0.0.1:9"))
    assert done.returncode == 1
    assert done.stderr.startswith(
        "qscript: test failed: connection 'Stock': GET http://127.0.0.1:9/stock?skip=0&take=50: ")


@pytest.mark.parametrize(("check", "code"), [(True, 1), (False, 0)])
def test_check_response_type_on_test_decodes_the_body(tmp_path, http_server, check, code):
    http_server.route("/orders", Reply(body='{"id": 1,', headers={"Content-Type": "application/json"}))
    done = connections(tmp_path, "test", "Orders API", path=write(tmp_path, http_server.base, check=check))
    assert done.returncode == code, done.stderr
    if check:
        assert "test failed: connection 'Orders API': the response is not valid JSON" in done.stderr


def test_check_response_type_on_test_uses_the_detected_type(tmp_path, http_server):
    http_server.route("/orders", Reply(body="<orders><id>1</id></orders>", headers={"Content-Type": "text/xml"}))
    done = connections(tmp_path, "test", "Orders API", path=write(tmp_path, http_server.base, check=True))
    assert done.returncode == 0, done.stderr
    assert "response type XML" in done.stdout
    assert "the body is valid XML (check_response_type_on_test)" in done.stdout


def test_a_date_header_must_have_qliks_format(tmp_path, http_server):
    http_server.route("/orders", Reply(body=[]))
    path = write(tmp_path, http_server.base)
    path.write_text(path.read_text().replace('Accept = "application/json"', 'Date = "Wed, 31 Jan 2024"'))
    done = connections(tmp_path, "test", "Orders API", path=path)
    assert done.returncode == 1
    # checked by the command, or already when the connection is loaded (key 'headers.Date')
    assert "connection 'Orders API': " in done.stderr and "Date' must be written yyyy-MM-dd-HH:mm:ssZ, for " \
        "example 2024-01-31-13:45:30Z (got 'Wed, 31 Jan 2024')" in done.stderr
    assert http_server.requests == []
    path.write_text(path.read_text().replace("Wed, 31 Jan 2024", "2024-01-31-13:45:30Z"))
    assert connections(tmp_path, "test", "Orders API", path=path).returncode == 0
    assert http_server.requests[0].header("Date") == "2024-01-31-13:45:30Z"


# -- encrypt ------------------------------------------------------------------------------------

def test_encrypt_rewrites_only_that_header_and_the_value_then_works(tmp_path, http_server):
    http_server.route("/orders", Reply(body=[{"id": 7}]))
    path = write(tmp_path, http_server.base)
    before = path.read_text()
    done = connections(tmp_path, "encrypt", "Orders API", "x-api-token", path=path, stdin="Bearer Real-Token-9\n")
    assert done.returncode == 0, done.stderr
    key_file = tmp_path / "keys" / "key"
    assert f"created a new key: key file {key_file} (mode 0600)" in done.stderr
    assert done.stdout == (f"header 'X-Api-Token' of connection 'Orders API' is now encrypted in {path} "
                           f"(key: key file {key_file})\n")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 or os.name != "posix"
    after = path.read_text()
    assert "Real-Token" not in after and "to-be-encrypted" not in after
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new]
    assert len(changed) == 1 and changed[0][1].startswith('X-Api-Token = { value = "enc:')
    assert changed[0][1].endswith('", encrypt = true }')

    assert connections(tmp_path, "test", "Orders API", path=path).returncode == 0
    assert http_server.requests[-1].header("X-Api-Token") == "Bearer Real-Token-9"
    script = tmp_path / "orders.qvs"  # and a reload by the real command
    script.write_text("""LIB CONNECT TO 'Orders API';
        T: SQL SELECT "id" FROM JSON (wrap on) "root";
        TRACE rows=$(=NoOfRows('T'));\n""")
    run = qs(tmp_path, "run", str(script), "--connections", str(path), module="qscript")
    assert run.returncode == 0, run.stderr
    assert "rows=1" in run.stderr and "Real-Token" not in run.stderr


def test_encrypt_with_a_key_from_the_environment_makes_no_key_file(tmp_path):
    path = write(tmp_path)
    done = connections(tmp_path, "encrypt", "Stock", "X-Api-Token", path=path, stdin="tok-42",
                       QSCRIPT_KEY=Fernet.generate_key().decode())
    assert done.returncode == 0, done.stderr
    assert "(key: $QSCRIPT_KEY)" in done.stdout and done.stderr == ""
    assert not (tmp_path / "keys").exists()
    header = tomllib.loads(path.read_text())["connections"]["Stock"]["headers"]["X-Api-Token"]
    assert header["encrypt"] is True and header["value"].startswith("enc:")


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("Nope", "Authorization"), "v", "connection 'Nope' is not defined"),
    (("Stock", "Bad Header"), "v", "'Bad Header' is not a valid header name"),
    (("Stock", "Authorization"), "", "header 'Authorization' of connection 'Stock': the value is empty; nothing "
                                     "was changed"),
    (("Stock", "Authorization"), "a\nb\n", "the value contains a line break"),
    (("Stock", "Authorization"), "enc:abc", "the value already starts with enc:"),
    (("Stock", "Date"), "tomorrow", "a Date header must be written yyyy-MM-dd-HH:mm:ssZ"),
])
def test_encrypt_refuses_and_changes_nothing(tmp_path, args, stdin, message):
    path = write(tmp_path)
    before = path.read_bytes()
    done = connections(tmp_path, "encrypt", *args, path=path, stdin=stdin)
    assert done.returncode == 1
    assert message in done.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / "keys").exists()


@POSIX
def test_encrypt_refuses_a_key_file_others_can_read(tmp_path):
    path = write(tmp_path)
    key_file = tmp_path / "keys" / "key"
    key_file.parent.mkdir()
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o644)
    before = path.read_bytes()
    done = connections(tmp_path, "encrypt", "Stock", "Authorization", path=path, stdin="v1234")
    assert done.returncode == 1
    assert f"run: chmod 600 {key_file}" in done.stderr
    assert path.read_bytes() == before


@POSIX
@pytest.mark.parametrize("again", ["Typed-Secret-55", "Other-Value-66"])
def test_encrypt_asks_twice_on_a_terminal_without_echo(tmp_path, again):
    import pty

    path = write(tmp_path)
    args = [sys.executable, "-m", "qscript.cli_connections", "connections", "encrypt", "Stock", "Authorization",
            "--connections", str(path)]
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal session of its own, as a user's shell gives it
        os.chdir(tmp_path)
        os.execve(sys.executable, args, environment(tmp_path))
    seen = b""
    for answer in ("Typed-Secret-55", again):
        seen += _read_until(fd, b": ")
        os.write(fd, answer.encode() + b"\n")
    seen += _read_until(fd, None)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert "Value of header 'Authorization' of connection 'Stock': " in text
    assert "Typed-Secret-55" not in text and "Other-Value-66" not in text  # never echoed
    if again == "Typed-Secret-55":
        assert os.waitstatus_to_exitcode(status) == 0, text
        assert "is now encrypted" in text
    else:
        assert os.waitstatus_to_exitcode(status) == 1, text
        assert "the two values differ; nothing was changed" in text


def _read_until(fd: int, marker: bytes | None, timeout: float = 60) -> bytes:
    """Terminal output up to ``marker`` (None: until the child closes the terminal)."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (marker is None or marker not in data):
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child has exited
            break
        if not chunk:
            break
        data += chunk
    return data


# -- registration -------------------------------------------------------------------------------

def test_help_lists_the_commands(tmp_path):
    done = qs(tmp_path, "connections", "--help")
    assert done.returncode == 0
    for command in ("list", "show", "test", "encrypt"):
        assert command in done.stdout
    assert qs(tmp_path, "connections").returncode == 2


@pytest.mark.skipif("add_connection_commands" not in Path(qscript.cli.__file__).read_text(),
                    reason="qscript/cli.py does not register the connections commands yet")
def test_the_qscript_command_runs_them(tmp_path):
    done = qs(tmp_path, "connections", "list", "--connections", str(write(tmp_path)), module="qscript")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Orders API  ")


def test_test_sends_the_first_page_as_a_select_would(tmp_path, http_server):
    http_server.route("/stock", Reply(body=[]))
    done = connections(tmp_path, "test", "Stock", path=write(tmp_path, http_server.base))
    assert done.returncode == 0, done.stderr
    assert http_server.requests[0].params == [("skip", "0"), ("take", "50")]
