"""The connection registry: where the file is found, how names resolve, what errors say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qscript.connectors.connections import Connections, connections_from, load_connections
from qscript.connectors.rest.config import RestConfig
from qscript.errors import ConfigError


def write(path: Path, *names: str) -> Path:
    """A connections file defining ``names``, each pointing at a URL that says which file it came from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f'[connections."{name}"]\nurl = "https://{path.stem}.example/{i}"\n' for i, name in
                   enumerate(names))
    path.write_text(text, encoding="utf-8")
    return path


# -- lookup order -----------------------------------------------------------------------------


@pytest.fixture
def three_files(tmp_path: Path) -> dict[str, Path]:
    """An explicit file, a file named by the environment variable and ./connections.toml."""
    cwd = tmp_path / "work"
    return {
        "cwd": cwd,
        "explicit": write(tmp_path / "explicit" / "explicit.toml", "c"),
        "env": write(tmp_path / "env" / "fromenv.toml", "c"),
        "default": write(cwd / "connections.toml", "c"),
    }


def test_explicit_path_wins(three_files: dict[str, Path]) -> None:
    found = load_connections(three_files["explicit"], environ={"QSCRIPT_CONNECTIONS": str(three_files["env"])},
                             cwd=three_files["cwd"])
    assert found.source == three_files["explicit"]
    assert found.get("c").url == "https://explicit.example/0"


def test_environment_variable_comes_second(three_files: dict[str, Path]) -> None:
    found = load_connections(environ={"QSCRIPT_CONNECTIONS": str(three_files["env"])}, cwd=three_files["cwd"])
    assert found.source == three_files["env"]


def test_connections_toml_in_the_current_directory_comes_third(three_files: dict[str, Path]) -> None:
    found = load_connections(environ={}, cwd=three_files["cwd"])
    assert found.source == three_files["default"]
    assert found.get("c").url == "https://connections.example/0"


def test_no_file_means_no_connections(tmp_path: Path) -> None:
    found = load_connections(environ={}, cwd=tmp_path)
    assert (found.source, len(found), found.names()) == (None, 0, [])
    with pytest.raises(ConfigError, match=r"no connections were given .*QSCRIPT_CONNECTIONS"):
        found.get("anything")


def test_empty_environment_variable_counts_as_unset(three_files: dict[str, Path]) -> None:
    found = load_connections(environ={"QSCRIPT_CONNECTIONS": " "}, cwd=three_files["cwd"])
    assert found.source == three_files["default"]


def test_relative_paths_resolve_against_cwd(three_files: dict[str, Path], tmp_path: Path) -> None:
    cwd = three_files["cwd"]
    assert load_connections("../explicit/explicit.toml", environ={}, cwd=cwd).source == (
        cwd / "../explicit/explicit.toml")
    assert load_connections(environ={"QSCRIPT_CONNECTIONS": "../env/fromenv.toml"}, cwd=cwd).source == (
        cwd / "../env/fromenv.toml")


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "connections.toml", "c")
    with pytest.raises(ConfigError, match=r"^connections file not found: .*nope.toml$"):
        load_connections(tmp_path / "nope.toml", environ={}, cwd=tmp_path)


def test_missing_environment_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "connections.toml", "c")
    with pytest.raises(ConfigError, match=r"connections file not found: .*gone.toml \(from QSCRIPT_CONNECTIONS\)"):
        load_connections(environ={"QSCRIPT_CONNECTIONS": "gone.toml"}, cwd=tmp_path)


def test_a_folder_is_not_a_connections_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_connections(tmp_path, environ={}, cwd=tmp_path)


def test_relative_files_resolve_against_the_connections_file_folder(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "connections.toml"
    path.parent.mkdir()
    path.write_text('[connections.c]\nurl = "https://h"\n[connections.c.tls]\nverify = "custom_ca"\n'
                    'ca_file = "certs/ca.pem"\n', encoding="utf-8")
    found = load_connections(path, environ={}, cwd=tmp_path / "elsewhere")
    assert found.base_dir == path.parent
    assert found.get("c").tls.ca_file == tmp_path / "conf" / "certs" / "ca.pem"


def test_environment_is_read_from_the_given_mapping(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[connections.c]\nurl = "https://${env:QS_TEST_HOST}/x"\n', encoding="utf-8")
    assert load_connections(path, environ={"QS_TEST_HOST": "h.example"}).get("c").url == "https://h.example/x"
    with pytest.raises(ConfigError, match="environment variable QS_TEST_HOST is not set"):
        load_connections(path, environ={}).get("c")


# -- file errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('[connections.c]\nurl = "https://h\n', "is not valid TOML"),
    ('[settings]\nx = 1\n', "unknown top-level key 'settings' (allowed: connections"),
    ('connections = "c"\n', "'connections' must be a table of connections (got a string)"),
    ('[connections]\nc = "https://h"\n', "connection 'c': must be a table of settings"),
])
def test_file_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "connections.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_connections(path, environ={})


def test_an_empty_file_defines_no_connections(tmp_path: Path) -> None:
    path = tmp_path / "connections.toml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    found = load_connections(path, environ={})
    assert len(found) == 0
    with pytest.raises(ConfigError, match="defines no connections"):
        found.get("x")


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "connections.toml"
    path.write_text('\ufeff[connections.c]\nurl = "https://h"\n', encoding="utf-8")
    assert load_connections(path, environ={}).names() == ["c"]


# -- names ------------------------------------------------------------------------------------


@pytest.fixture
def registry() -> Connections:
    return Connections.from_mapping({
        "REST orders": {"url": "https://orders.example"},
        "Finance:REST orders": {"url": "https://finance.example"},
        "Monitoring": {"url": "https://monitoring.example"},
    }, environ={})


def test_exact_name(registry: Connections) -> None:
    assert registry.get("REST orders").url == "https://orders.example"


def test_space_qualified_name_falls_back_to_the_plain_name(registry: Connections) -> None:
    assert registry.get("Shared:Monitoring").url == "https://monitoring.example"
    assert registry.get(":Monitoring").url == "https://monitoring.example"
    assert registry.resolve("Any Space:Monitoring") == "Monitoring"


def test_a_literal_space_name_wins_over_the_fallback(registry: Connections) -> None:
    assert registry.get("Finance:REST orders").url == "https://finance.example"
    assert registry.get("Sales:REST orders").url == "https://orders.example"


def test_missing_connection_lists_the_known_names(registry: Connections) -> None:
    with pytest.raises(ConfigError) as caught:
        registry.get("Invoices")
    assert str(caught.value) == ("connection 'Invoices' is not defined (known: 'REST orders', "
                                 "'Finance:REST orders', 'Monitoring')")


def test_missing_space_name_says_what_was_tried(registry: Connections) -> None:
    with pytest.raises(ConfigError, match=r"^connection 'Sales:Invoices' or 'Invoices' is not defined \(known: "):
        registry.get("Sales:Invoices")


def test_missing_connection_suggests_a_different_case(registry: Connections) -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'REST orders'\? \(names are case-sensitive\)"):
        registry.get("rest orders")


def test_missing_connection_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "connections.toml", "a")
    with pytest.raises(ConfigError, match=re.escape(f"connection 'b' is not defined in {path} (known: 'a')")):
        load_connections(path, environ={}).get("b")


def test_membership_and_listing(registry: Connections) -> None:
    assert "Space:Monitoring" in registry and "Nope" not in registry and 5 not in registry
    assert len(registry) == 3 and list(registry) == registry.names()
    assert repr(registry) == "Connections(source=None, names=['REST orders', 'Finance:REST orders', 'Monitoring'])"


# -- types, laziness, mappings ----------------------------------------------------------------


def test_type_defaults_to_rest_and_other_types_are_rejected() -> None:
    found = Connections.from_mapping({"a": {"url": "https://h"}, "b": {"type": "ODBC", "dsn": "x"},
                                      "c": {"type": 3, "url": "https://h"}, "d": {"type": "REST", "url": "https://h"}})
    assert found.get("a").url == "https://h"
    assert found.get("d").url == "https://h"
    with pytest.raises(ConfigError) as caught:
        found.get("b")
    assert str(caught.value) == "connection 'b': key 'type' must be a connection type qscript knows: rest (got 'ODBC')"
    with pytest.raises(ConfigError, match="got 3"):
        found.get("c")


def test_connections_are_validated_when_first_used() -> None:
    found = Connections.from_mapping({"good": {"url": "https://h"},
                                      "needs env": {"url": "https://h", "headers": {"X-Api-Key": "${env:KEY}"}}},
                                     environ={})
    assert found.get("good").url == "https://h"
    with pytest.raises(ConfigError, match=r"^connection 'needs env': key 'headers.X-Api-Key' uses"):
        found.validate_all()


def test_a_connection_is_built_once(registry: Connections) -> None:
    assert registry.get("REST orders") is registry.get(":REST orders")


def test_mapping_accepts_built_configs_and_python_containers(tmp_path: Path) -> None:
    from types import MappingProxyType

    built = RestConfig("ready", "https://ready.example")
    found = Connections.from_mapping({
        "ready": built,
        "py": MappingProxyType({"url": "https://h", "retry": MappingProxyType({"status_codes": (500, 503)}),
                                "tls": {"verify": "custom_ca", "ca_file": "ca.pem"}}),
    }, base_dir=tmp_path, environ={})
    assert found.get("ready") is built
    assert found.get("py").retry.status_codes == (500, 503)
    assert found.get("py").tls.ca_file == tmp_path / "ca.pem"


@pytest.mark.parametrize(("value", "expected"), [
    ("not a mapping", None),
    ({"c": "https://h"}, "connection 'c': must be a table of settings"),
    ({1: {"url": "https://h"}}, "connection names must be strings (got 1)"),
])
def test_bad_mappings(value: object, expected: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        Connections.from_mapping(value)  # type: ignore[arg-type]
    assert expected is None or str(caught.value).startswith(expected)


def test_connections_from_accepts_what_run_accepts(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.toml", "x")
    registry = Connections.from_mapping({"y": {"url": "https://h"}})
    assert connections_from(registry) is registry
    assert connections_from(str(path), environ={}).names() == ["x"]
    assert connections_from(path, environ={}).source == path
    assert connections_from({"m": {"url": "https://h"}}, base_dir=tmp_path).base_dir == tmp_path
    assert connections_from(None, environ={"QSCRIPT_CONNECTIONS": str(path)}, cwd=tmp_path).source == path
    assert len(connections_from(None, environ={}, cwd=tmp_path / "empty")) == 0
    with pytest.raises(ConfigError, match="connections must be a path, a mapping"):
        connections_from(42)  # type: ignore[arg-type]
