"""The ``qscript`` command: run and check load scripts.

Exit codes: 0 success, 1 the script failed or has errors, 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import qscript
from qscript.engine.check import check
from qscript.errors import QScriptError


def _parse_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qscript", description="Run Qlik load scripts outside Qlik.")
    parser.add_argument("--version", action="version", version=f"qscript {qscript.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a load script")
    run.add_argument("file", type=Path)
    run.add_argument("--var", action="append", type=_parse_var, default=[], metavar="NAME=VALUE",
                     help="set a variable (as text) before the script runs; repeatable")
    run.add_argument("--connections", type=Path, help="connection definitions (TOML)")
    run.add_argument("--out", type=Path, help="write every final table into this folder")
    run.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table file format")
    run.add_argument("--quiet", action="store_true", help="do not print the reload log")
    run.add_argument("--log", type=Path, metavar="FILE", help="also write the reload log to FILE")

    chk = commands.add_parser("check", help="check scripts for syntax errors without running them")
    chk.add_argument("files", type=Path, nargs="+")

    demo = commands.add_parser("demo", help="start the bundled sample API and run every sample against it")
    demo.add_argument("--rows", type=int, default=3, help="rows shown per table (default 3)")

    from qscript import repl  # light to import: prompt_toolkit loads only when a REPL starts

    repl.add_arguments(commands.add_parser("repl", help="interactive session: type script, look at the tables"))

    from qscript import wizard

    wizard.add_arguments(commands.add_parser("select", help=wizard.HELP))

    from qscript.cli_connections import add_connection_commands

    add_connection_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "repl":
        from qscript import repl

        return repl.main(args)
    if args.command == "connections":
        from qscript.cli_connections import run_connection_command

        return run_connection_command(args)
    if args.command == "select":
        from qscript import wizard

        return wizard.main(args)
    if args.command == "demo":
        from qscript.demo import run_demo  # starts a server: only when asked for

        return 1 if run_demo(args.rows) else 0
    return _check(args)


def _stderr(line: str) -> None:
    if _progress_shown[0]:
        sys.stderr.write("\r\x1b[K")  # clear the progress line before a log line
        _progress_shown[0] = False
    print(line, file=sys.stderr, flush=True)


_progress_shown = [False]


def _progress(text: str) -> None:
    """Long REST paging on a terminal: one line that updates in place."""
    sys.stderr.write("\r\x1b[K" + text[:200])
    sys.stderr.flush()
    _progress_shown[0] = True


def _run(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        log_file = stack.enter_context(args.log.open("w", encoding="utf-8")) if args.log else None
        started = time.perf_counter()

        def sink(line: str) -> None:
            if log_file is not None:  # a log file is read later: each line says when, as Qlik's do
                log_file.write(f"{datetime.now():%Y-%m-%d %H:%M:%S.%f}"[:-3] + f"  {line}\n")
                log_file.flush()
            if not args.quiet:
                _stderr(line)

        try:
            result = qscript.run_file(
                args.file,
                variables=dict(args.var),
                connections=args.connections,
                log_sink=sink,
                progress=_progress if sys.stderr.isatty() and not args.quiet else None,
            )
        except QScriptError as exc:
            if log_file is not None:
                log_file.write(f"qscript: {exc}\n")
            _stderr(f"qscript: {exc}")
            return 1
        rows = sum(len(frame) for frame in result.tables.values())
        sink(f"Execution finished: {len(result.tables)} tables, {rows:,} rows, {result.error_count} errors, "
             f"{time.perf_counter() - started:.2f} s")
    if args.out is not None:
        write_tables(result.tables, args.out, args.format)
    return 0


def write_tables(tables: dict, folder: Path, fmt: str) -> list[Path]:
    """One file per table, named after it."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        target = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
        written.append(target)
    return written


def _check(args: argparse.Namespace) -> int:
    failed = False
    for path in args.files:
        try:
            source = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}")
            failed = True
            continue
        for error in check(source, str(path)):
            print(error)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
