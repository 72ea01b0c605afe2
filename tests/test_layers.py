"""Inner layers never import outer ones (DEVELOPERS.md, "the house")."""

from __future__ import annotations

import ast
from pathlib import Path

import qscript

PACKAGE = Path(qscript.__file__).resolve().parent

#: package -> qscript packages it must not import
FORBIDDEN = {
    "span": {"script", "expr", "engine", "connectors", "cli", "repl", "testing", "api"},
    "errors": {"script", "expr", "engine", "connectors", "cli", "repl", "testing", "api"},
    "redact": {"script", "expr", "engine", "connectors", "cli", "repl", "testing", "api"},
    "script": {"expr", "engine", "connectors", "cli", "repl", "testing", "api"},
    "expr": {"engine", "connectors", "cli", "repl", "testing", "api"},
    "connectors": {"engine", "cli", "repl", "testing", "api"},
    "engine": {"cli", "repl", "testing", "api"},
    "testing": {"engine", "script", "expr", "connectors", "cli", "repl"},
    "repl": {"engine", "connectors", "cli", "testing"},
    "wizard": {"engine", "cli", "repl", "testing"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name.split(".")[1] for name in found if name.startswith("qscript.")}


def test_no_forbidden_imports():
    problems = []
    for path in PACKAGE.rglob("*.py"):
        layer = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for target in _imports(path) & FORBIDDEN.get(layer, set()):
            problems.append(f"{path.relative_to(PACKAGE)} imports qscript.{target}")
    assert problems == []


def test_grammar_ships_inside_the_package_or_checkout():
    from qscript.script.parse import grammar_text

    assert "statement:" in grammar_text()


def test_public_api():
    assert sorted(qscript.__all__) == sorted(
        ["ConfigError", "QScriptError", "Result", "ScriptError", "Session", "__version__", "run", "run_file"]
    )
