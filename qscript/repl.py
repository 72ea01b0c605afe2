"""``qscript repl``: an interactive session that runs load script as you type it.

One :class:`qscript.Session` lives as long as the REPL, so tables and variables carry
from one input to the next, and a failing statement leaves them as they were. Input is
complete, and runs, when it ends with ``;`` outside quotes, brackets and comments and no
IF/FOR/DO/SUB/SWITCH block is open, the same rule the splitter uses for a script file.
Lines starting with ``.`` are commands (:mod:`qscript.repl_commands`).

This module is cheap to import (the CLI imports it to build its parser); prompt_toolkit,
Pygments and the command and completion modules load only when a REPL starts, so
``qscript run`` never pays for them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qscript
from qscript.script.splitter import split

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import History
    from prompt_toolkit.input import Input
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.output import Output

    from qscript.repl_complete import QlikCompleter

PROMPT = "qs> "
CONTINUATION = "... "
HISTORY_ENV = "QSCRIPT_HISTORY"

#: Appended on its own line to test completeness: it stays a statement of its own only
#: when everything before it was ended (by ``;`` or, for control lines, the line end).
_SENTINEL = "__qscript_repl_end_of_input__"
_OPENERS = frozenset({"if", "for", "do", "sub", "switch"})
_CLOSERS = frozenset({"endif", "next", "loop", "endsub", "endswitch"})
_ERROR_LINE = re.compile(r"^.*:\d+:\d+: ScriptError \d+ ")
_STYLE = {"error": "ansired", "prompt": "ansigreen bold", "continuation": "ansigreen"}


def is_complete(text: str) -> bool:
    """Whether the input should run now rather than take another line.

    Blank input and dot commands are complete at once. Script is complete when its last
    statement is ended and every control block it opens is closed; an unterminated
    string, name or comment makes it incomplete (the splitter raises on those).
    """
    if not text.strip() or text.lstrip().startswith("."):
        return True
    try:
        statements = split(text + "\n" + _SENTINEL)
    except qscript.ScriptError:
        return False
    if not statements or statements[-1].text != _SENTINEL:
        return False
    depth = 0
    for statement in statements[:-1]:
        if statement.control in _OPENERS:
            depth += 1
        elif statement.control in _CLOSERS:
            depth = max(depth - 1, 0)  # a stray closer runs and fails with Qlik's message
    return depth == 0


def default_history_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$QSCRIPT_HISTORY``, else ``qscript/history`` in the user's data folder."""
    named = environ.get(HISTORY_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    if sys.platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "qscript" / "history"


class Repl:
    """The read-run-print loop around one Session.

    ``input`` and ``output`` are prompt_toolkit's; tests pass a pipe input and an output
    writing to a StringIO, and read what was printed there. Everything the REPL prints
    (log lines, errors, command output) goes through :meth:`echo` to that output.
    """

    def __init__(
        self,
        *,
        variables: Mapping[str, str] | None = None,
        connections: Any = None,
        base_dir: str | os.PathLike[str] | None = None,
        clock: Any = None,
        input: Input | None = None,  # prompt_toolkit's name for it
        output: Output | None = None,
        history: History | None = None,
        history_path: str | os.PathLike[str] | None = None,
        complete_while_typing: bool = True,
    ) -> None:
        from prompt_toolkit.output import create_output
        from prompt_toolkit.styles import Style

        self.input = input
        self.output = output if output is not None else create_output()
        self.style = Style.from_dict(_STYLE)
        self.log_lines: list[str] = []
        self._run_lines: list[str] = []
        self.done = False
        self.failures = 0
        self.session = qscript.Session(
            variables=variables, connections=connections, base_dir=base_dir, clock=clock, log_sink=self._log
        )
        self._history = history
        self._history_path = Path(history_path) if history_path is not None else None
        self._complete_while_typing = complete_while_typing
        self._completer: QlikCompleter | None = None

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Repl:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- output -----------------------------------------------------------------------------
    def echo(self, text: str, style: str = "") -> None:
        """Print one or more lines to the REPL's output, optionally styled (``class:error``)."""
        from prompt_toolkit import print_formatted_text
        from prompt_toolkit.formatted_text import FormattedText

        print_formatted_text(FormattedText([(style, text)]), output=self.output, style=self.style)

    def _log(self, line: str) -> None:
        """The session's log sink: each reload-log line prints the moment it is written."""
        self.log_lines.append(line)
        self._run_lines.append(line)
        self.echo(line, "class:error" if _ERROR_LINE.match(line) else "")

    # -- running ----------------------------------------------------------------------------
    def handle(self, text: str) -> None:
        """Act on one complete input: a dot command, or script to run."""
        stripped = text.strip()
        if not stripped:
            return
        if stripped.startswith("."):
            from qscript.repl_commands import dispatch

            dispatch(self, stripped)
        else:
            self.run_source(text)

    def run_source(self, text: str, file_name: str = "<input>") -> bool:
        """Run script in the session; an error is printed once and the REPL goes on.

        The interpreter logs a failing statement before it raises, and that line has
        already printed through the log sink, so it is not printed a second time.
        """
        self._run_lines = []
        try:
            self.session.run(text, file_name)
        except qscript.ScriptError as exc:
            self.failures += 1
            if str(exc) not in self._run_lines:
                self.echo(str(exc), "class:error")
            return False
        except qscript.QScriptError as exc:
            self.failures += 1
            self.echo(f"qscript: {exc}", "class:error")
            return False
        except KeyboardInterrupt:
            self.failures += 1
            self.echo("interrupted", "class:error")
            return False
        except Exception as exc:  # a bug must not end the session and lose its tables
            self.failures += 1
            self.echo(f"internal error: {type(exc).__name__}: {exc} (please report it)", "class:error")
            return False
        return True

    def run_file(self, path: Path) -> bool | None:
        """Run a script file; None when it cannot be read, else whether it ran cleanly."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            self.failures += 1
            self.echo(f"qscript: cannot read {path}: {exc.strerror}", "class:error")
            return None
        return self.run_source(text, str(path))

    # -- loops ------------------------------------------------------------------------------
    def loop(self) -> int:
        """Prompt until ``.quit`` or Ctrl-D; Ctrl-C drops the input being typed."""
        prompt = self._prompt_session()
        self.echo(f"qscript {qscript.__version__}: statements run at ';', blocks when closed. "
                  ".help lists commands, Ctrl-D quits.")
        while not self.done:
            try:
                text = prompt.prompt()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            try:
                self.handle(text)
            except KeyboardInterrupt:
                self.echo("interrupted", "class:error")
        return 0

    def feed(self, lines: Iterable[str]) -> int:
        """Run piped input without prompts (``qscript repl < steps.qvs``); 1 if anything failed."""
        buffer = ""
        for line in lines:
            buffer += line if line.endswith("\n") else line + "\n"
            if is_complete(buffer):
                self.handle(buffer)
                buffer = ""
            if self.done:
                break
        if buffer.strip() and not self.done:
            self.handle(buffer)
        return 1 if self.failures else 0

    # -- prompt_toolkit ---------------------------------------------------------------------
    @property
    def completer(self) -> QlikCompleter:
        if self._completer is None:
            from qscript.repl_commands import COMMANDS
            from qscript.repl_complete import QlikCompleter

            self._completer = QlikCompleter(self.session, [*COMMANDS])
        return self._completer

    def history(self) -> History:
        """The given history, else a FileHistory, else (folder not writable) one in memory."""
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        if self._history is None:
            path = self._history_path or default_history_path()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._history = FileHistory(str(path))
            except OSError as exc:
                self.echo(f"qscript: history not saved ({path}: {exc.strerror})", "class:error")
                self._history = InMemoryHistory()
        return self._history

    def _prompt_session(self) -> PromptSession[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
        from prompt_toolkit.lexers import PygmentsLexer
        from pygments.lexers.qlik import QlikLexer

        return PromptSession(
            [("class:prompt", PROMPT)],
            multiline=True,
            prompt_continuation=lambda width, _line, _wrap: [("class:continuation", CONTINUATION.ljust(width))],
            key_bindings=self._key_bindings(),
            lexer=PygmentsLexer(QlikLexer),
            completer=self.completer,
            complete_while_typing=self._complete_while_typing,
            auto_suggest=AutoSuggestFromHistory(),
            history=self.history(),
            style=self.style,
            input=self.input,
            output=self.output,
        )

    def _key_bindings(self) -> KeyBindings:
        """Enter runs complete input and adds a line to incomplete input; Esc Enter runs it as is."""
        from prompt_toolkit.filters import has_focus, in_paste_mode
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.key_binding.key_processor import KeyPressEvent

        bindings = KeyBindings()
        in_buffer = has_focus("DEFAULT_BUFFER")

        @bindings.add("enter", filter=in_buffer)
        def _enter(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            state = buffer.complete_state
            if state is not None and state.current_completion is not None:
                buffer.complete_state = None  # Enter picks the highlighted completion
                return
            if not buffer.document.text_after_cursor.strip() and is_complete(buffer.text):
                buffer.validate_and_handle()
            else:
                buffer.newline(copy_margin=not in_paste_mode())

        @bindings.add("escape", "enter", filter=in_buffer)
        def _run_now(event: KeyPressEvent) -> None:
            event.current_buffer.validate_and_handle()

        return bindings


# -- the command line -----------------------------------------------------------------------------
def _parse_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``qscript repl`` options, added to the CLI's sub-parser."""
    parser.add_argument("script", type=Path, nargs="?", metavar="SCRIPT",
                        help="a script to run first; relative paths in the session resolve against its folder")
    parser.add_argument("--var", action="append", type=_parse_var, default=[], metavar="NAME=VALUE",
                        help="set a variable (as text) before anything runs; repeatable")
    parser.add_argument("--connections", type=Path, help="connection definitions (TOML)")


def main(args: argparse.Namespace) -> int:
    """Start the REPL; exit code 1 when it cannot start (bad connections file, unreadable SCRIPT)."""
    script: Path | None = args.script
    try:
        repl = Repl(variables=dict(args.var), connections=args.connections,
                    base_dir=script.parent if script is not None else None)
    except qscript.QScriptError as exc:
        print(f"qscript: {exc}", file=sys.stderr)
        return 1
    with repl:
        if script is not None and repl.run_file(script) is None:
            return 1
        if sys.stdin is None or not sys.stdin.isatty():
            return repl.feed(sys.stdin or [])
        return repl.loop()


__all__ = ["Repl", "add_arguments", "default_history_path", "is_complete", "main"]
