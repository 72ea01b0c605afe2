"""The REPL driven as a user drives it: keys through prompt_toolkit's pipe input, the
printed text read back from an output that writes to a StringIO."""

from __future__ import annotations

import argparse
import ast
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import create_output

import qscript
from qscript.repl import Repl, add_arguments, default_history_path, is_complete, main
from qscript.repl_commands import format_frame

INLINE = "Orders: LOAD * INLINE [\nOrderId, Customer\n1, Ann\n2, Bob\n3, Cy\n];\n"


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    return tmp_path / "history"


@pytest.fixture
def drive(tmp_path: Path, history_file: Path, clock):
    """``drive(keys, **options) -> (printed text, repl)``: a whole session through a pipe.

    ``keys`` should end the session (``.quit`` or Ctrl-D); the repl is returned open so a
    test can look at its session afterwards.
    """
    opened: list[Repl] = []

    def run(keys: str, **options) -> tuple[str, Repl]:
        buffer = io.StringIO()
        options.setdefault("connections", {})
        options.setdefault("base_dir", tmp_path)
        options.setdefault("history_path", history_file)
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            repl = Repl(input=pipe, output=create_output(buffer), clock=clock, **options)
            opened.append(repl)
            assert repl.loop() == 0
        return buffer.getvalue(), repl

    yield run
    for repl in opened:
        repl.close()


def lines(printed: str) -> list[str]:
    """What the REPL printed, one stripped line each (prompt echoes included)."""
    return [line.strip() for line in printed.splitlines() if line.strip()]


def answer(printed: str, after: str) -> list[str]:
    """The lines printed after the last echo of the input line ``after``, up to the next prompt.

    The echo is prompt_toolkit's rendering of the finished input, the last line it shows
    before what the REPL printed for that input.
    """
    echoes = list(re.finditer(re.escape(after) + r"[ \t]*\r?\n", printed))
    assert echoes, f"{after!r} was not echoed"
    out = []
    for line in printed[echoes[-1].end() :].splitlines():
        if "qs>" in line:
            break
        if line.strip():
            out.append(line.strip())
    return out


# -- when input is complete ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("", True),
        ("   \n", True),
        (".tables", True),
        ("LET x = 1;", True),
        ("LET x = 1", False),
        ("LET x = 1; LET y = 2", False),
        ("T: LOAD * INLINE [\na, b\n1; 2", False),  # the ';' sits inside the INLINE brackets
        ("T: LOAD * INLINE [\na, b\n1; 2\n];", True),
        ("LET s = 'a;", False),
        ("LET s = 'a;';", True),
        ("LET x = 1; // done", True),
        ("/* open comment; LET x = 1;", False),
        ("LET x = 1; /* c */", True),
        ("REM a note", False),
        ("REM a note;", True),
        ("TRACE hello", False),
        ("FOR i = 1 TO 3", False),
        ("FOR i = 1 TO 3\n  TRACE $(i);", False),
        ("FOR i = 1 TO 3\n  TRACE $(i);\nNEXT i", True),
        ("FOR i = 1 TO 2\n  FOR j = 1 TO 2\n    TRACE x;\n  NEXT j", False),
        ("FOR i = 1 TO 2\n  FOR j = 1 TO 2\n    TRACE x;\n  NEXT j\nNEXT i", True),
        ("IF 1 = 1 THEN", False),
        ("IF 1 = 1 THEN TRACE y; END IF", True),
        ("IF 1 = 1 THEN\n TRACE a;\nELSE\n TRACE b;\nEND IF", True),
        ("SUB greet(n)\n TRACE hi $(n);", False),
        ("SUB greet(n)\n TRACE hi $(n);\nEND SUB", True),
        ("DO WHILE x < 3\n LET x = x + 1;\nLOOP", True),
        ("SWITCH x\nCASE 1\n TRACE one;", False),
        ("SWITCH x\nCASE 1\n TRACE one;\nEND SWITCH", True),
        ("LIB CONNECT TO 'lib://x';", True),
    ],
)
def test_is_complete(text: str, complete: bool) -> None:
    assert is_complete(text) is complete


# -- a session through the pipe ------------------------------------------------------------------
def test_inline_load_spanning_lines_runs_at_its_semicolon(drive) -> None:
    printed, repl = drive(INLINE + ".quit\n")
    assert repl.session.table_names() == ["Orders"]
    assert repl.session.field_names("Orders") == ["OrderId", "Customer"]
    assert "Orders << INLINE01 3 Lines fetched (line 1, 0.00 s)" in lines(printed)
    assert "... 2, Bob" in lines(printed)  # the continuation prompt while the INLINE was open


def test_for_block_spanning_lines_runs_once_closed(drive) -> None:
    printed, repl = drive("FOR i = 1 TO 3\n  TRACE item $(i);\nNEXT i\n.quit\n")
    assert answer(printed, "NEXT i") == ["item 1", "item 2", "item 3"]
    assert [line for line in lines(printed) if line.startswith("item")] == ["item 1", "item 2", "item 3"]
    assert repl.session.result().variables["i"] == "3"


def test_tables_lists_name_rows_and_fields(drive) -> None:
    printed, _ = drive(INLINE + "Other: LOAD 1 AS X AUTOGENERATE 12;\n.tables\n.quit\n")
    assert answer(printed, ".tables") == ["Orders   3 rows  OrderId, Customer", "Other   12 rows  X"]


def test_show_previews_rows_as_an_aligned_table(drive) -> None:
    printed, _ = drive(INLINE + ".show Orders\n.show Orders 2\n.quit\n")
    assert answer(printed, ".show Orders") == [
        "OrderId  Customer", "-------  --------", "1  Ann", "2  Bob", "3  Cy", "(3 rows)",
    ]
    preview = printed[printed.rindex(".show Orders 2") :].splitlines()
    assert "      1  Ann" in preview  # numbers right-aligned under their header
    assert answer(printed, ".show Orders 2")[-1] == "(2 of 3 rows)"


def test_error_prints_qlik_style_once_and_keeps_the_tables(drive) -> None:
    printed, repl = drive(INLINE + "LOAD Nope\nRESIDENT Missing;\nX: LOAD 1 AS One AUTOGENERATE 1;\n.quit\n")
    message = "<input>:1:1: ScriptError 10 (Table Not Found): "
    errors = [line for line in lines(printed) if line.startswith(message)]
    assert len(errors) == 1, printed
    assert "Missing" in errors[0]
    assert repl.session.table_names() == ["Orders", "X"]
    assert len(repl.session.table("Orders")) == 3
    assert repl.failures == 1


def test_syntax_error_points_into_the_input(drive) -> None:
    printed, repl = drive("LET a = 1;\nLET b = Left('x');\nLET c = 3;\n.quit\n")
    assert answer(printed, "LET b = Left('x');") == [
        "<input>:1:1: ScriptError 2 (Syntax Error): Left() takes 2 argument(s), 1 given"
    ]
    assert {"a", "c"} <= set(repl.session.result().variables)


def test_error_under_errormode_0_prints_once_from_the_log(drive) -> None:
    printed, repl = drive("SET ErrorMode = 0;\nDROP TABLE Nothing;\nTRACE after;\n.quit\n")
    assert len([line for line in lines(printed) if "ScriptError 10" in line]) == 1
    assert "after" in lines(printed)
    assert repl.failures == 0  # the reload went on, as Qlik's would


def test_vars_shows_user_variables_and_all_adds_system_ones(drive) -> None:
    printed, _ = drive("LET vTotal = 2 + 3;\nSET vName = 'Ann';\n.vars\n.vars all\n.quit\n", variables={"vEnv": "test"})
    shown = answer(printed, ".vars")
    assert shown[:3] == ["vEnv   = test", "vName  = Ann", "vTotal = 5"]
    assert "system variables not shown" in shown[-1]
    assert not any(line.startswith("DateFormat") for line in shown)
    everything = answer(printed, ".vars all")
    assert any(line.startswith("DateFormat") and "M/D/YYYY" in line for line in everything)
    assert any(line.startswith("vTotal") for line in everything)


def test_quit_ends_the_session_and_ignores_what_follows(drive) -> None:
    _, repl = drive("LET a = 1;\n.quit\nLET b = 2;\n")
    assert "a" in repl.session.result().variables
    assert "b" not in repl.session.result().variables
    assert repl.done


def test_ctrl_d_ends_the_session(drive) -> None:
    _, repl = drive("LET a = 1;\n\x04")
    assert repl.session.result().variables["a"] == "1"


def test_escape_enter_runs_unfinished_input_and_ctrl_c_drops_it(drive) -> None:
    printed, repl = drive("TRACE no semicolon\x1b\rLET a = 1\x03LET b = 2;\n.quit\n")
    assert "no semicolon" in lines(printed)
    assert "a" not in repl.session.result().variables
    assert repl.session.result().variables["b"] == "2"


def test_history_is_written_to_the_file(drive, history_file: Path) -> None:
    drive("FOR i = 1 TO 2\nTRACE $(i);\nNEXT i\n.tables\n.quit\n")
    saved = history_file.read_text(encoding="utf-8")
    assert "+FOR i = 1 TO 2\n+TRACE $(i);\n+NEXT i\n" in saved
    assert "+.tables\n" in saved


def test_history_path_follows_qscript_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_history_path({"QSCRIPT_HISTORY": str(tmp_path / "h")}) == tmp_path / "h"
    monkeypatch.setattr(sys, "platform", "linux")
    data = default_history_path({"XDG_DATA_HOME": str(tmp_path)})
    assert data == tmp_path / "qscript" / "history"


def test_fields_model_log_and_help(drive) -> None:
    keys = INLINE + (
        "Lines: LOAD * INLINE [\nOrderId, Customer, Qty\n1, Ann, 5\n];\n"
        "TRACE loaded;\n.fields Orders\n.model\n.log\n.log 1\n.help\n.nope\n.show Missing\n.quit\n"
    )
    printed, _ = drive(keys)
    assert answer(printed, ".fields Orders") == ["OrderId   also in Lines", "Customer  also in Lines"]
    model = answer(printed, ".model")
    assert "Orders  3 rows  OrderId, Customer" in model
    assert "OrderId:   Orders, Lines" in model
    assert "Orders + Lines:  OrderId, Customer" in model
    assert answer(printed, ".log") == ["Orders << INLINE01 3 Lines fetched (line 1, 0.00 s)",
                                       "Lines << INLINE02 1 Lines fetched (line 1, 0.00 s)", "loaded"]
    assert answer(printed, ".log 1") == ["loaded"]
    assert any(line.startswith(".show TABLE [N]") for line in answer(printed, ".help"))
    assert answer(printed, ".nope") == ["unknown command .nope; .help lists the commands"]
    assert answer(printed, ".show Missing") == ["no table 'Missing' (tables: Orders, Lines)"]


def test_run_file_runs_in_the_same_session(drive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "part.qvs").write_text("LET vFromFile = 42;\nTRACE from file;\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    printed, _ = drive(".run part.qvs\nTRACE $(vFromFile);\n.run none.qvs\n.quit\n")
    assert answer(printed, "TRACE $(vFromFile);") == ["42"]
    assert "from file" in lines(printed)
    assert answer(printed, "none.qvs")[0].startswith("qscript: cannot read")


def test_table_names_with_blanks_and_nulls_in_show(drive) -> None:
    printed, _ = drive("[My Table]: LOAD * INLINE [\nK, V\n1, \n];\n.show [My Table]\n.quit\n")
    assert answer(printed, ".show [My Table]") == ["K  V", "-  -", "1", "(1 rows)"]


def test_a_bug_in_a_command_does_not_end_the_session(drive, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(qscript.Session, "table", broken)
    printed, repl = drive(INLINE + ".show Orders\n.show\nLET after = 1;\n.quit\n")
    monkeypatch.undo()
    assert answer(printed, ".show Orders") == ["internal error: RuntimeError: boom (please report it)"]
    assert answer(printed, ".show") == ["usage: .show TABLE [N]"]
    assert repl.session.result().variables["after"] == "1"


def test_format_frame_shows_null_dates_and_long_text() -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "n": [1.5, None],
        "d": [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01 13:45")],
        "t": pd.Series(["x" * 50, None], dtype="string"),
    })
    text = format_frame(frame).splitlines()
    assert text[2].split() == ["1.5", "2024-01-31", "x" * 39 + "…"]
    assert text[3].split() == ["-", "2024-02-01", "13:45:00", "-"]


# -- completion ----------------------------------------------------------------------------------
def completions(repl: Repl, text: str, *, tab: bool = False) -> list[str]:
    event = CompleteEvent(completion_requested=tab)
    return [c.text for c in repl.completer.get_completions(Document(text, len(text)), event)]


@pytest.fixture
def loaded(tmp_path: Path, clock):
    with Repl(connections={"REST orders": {"url": "https://example.com/"}}, base_dir=tmp_path, clock=clock,
              output=create_output(io.StringIO()), history_path=tmp_path / "h") as repl:
        repl.run_source(INLINE + "[Order Lines]: LOAD 1 AS [Line Amount] AUTOGENERATE 1;\nLET vCutoff = 7;")
        yield repl


def test_completes_a_field_name(loaded: Repl) -> None:
    assert "Customer" in completions(loaded, "LOAD Order, Cust")
    offered = list(loaded.completer.get_completions(Document("LOAD cust"), CompleteEvent()))
    field = next(c for c in offered if c.text == "Customer")
    assert field.start_position == -4
    assert "Orders" in field.display_meta_text


def test_completes_names_in_context(loaded: Repl) -> None:
    assert completions(loaded, "LOAD [Line A") == ["Line Amount"]
    assert completions(loaded, "LOAD Line") == ["[Line Amount]"]  # a blank needs brackets
    assert completions(loaded, "LOAD * RESIDENT Ord") == ["OrderId", "Orders", "[Order Lines]", "Ord", "ORDER BY"]
    assert completions(loaded, "TRACE $(vCu") == ["vCutoff"]
    assert completions(loaded, "LET x = Peek('Cus") == ["Customer"]
    assert completions(loaded, "LIB CONNECT TO 'RE") == ["REST orders"]
    assert completions(loaded, "LOAD x // Cust") == []
    assert "ApplyMap" in completions(loaded, "LET m = Apply")
    assert "resident" in completions(loaded, "load * resi")
    assert "GROUP BY" in completions(loaded, "GRO")
    assert completions(loaded, "LOAD ") == []  # nothing typed: only Tab asks
    assert len(completions(loaded, "LOAD ", tab=True)) > 100


def test_completes_dot_commands_and_their_arguments(loaded: Repl) -> None:
    assert completions(loaded, ".sh") == [".show"]
    assert completions(loaded, ".show Or") == ["Orders", "Order Lines"]
    assert completions(loaded, ".vars a") == ["all"]


# -- piped input and the command line ------------------------------------------------------------
def test_feed_runs_piped_input_without_prompts(tmp_path: Path, clock) -> None:
    buffer = io.StringIO()
    with Repl(connections={}, base_dir=tmp_path, clock=clock, output=create_output(buffer)) as repl:
        code = repl.feed(io.StringIO("FOR i = 1 TO 2\n TRACE $(i);\nNEXT i\nLOAD * RESIDENT Nope;\n.tables\n"))
    assert code == 1
    assert lines(buffer.getvalue()) == [
        "1", "2", "<input>:1:1: ScriptError 10 (Table Not Found): Table 'Nope' not found", "(no tables)",
    ]


REPL_MAIN = (
    "import argparse, sys\n"
    "from qscript import repl\n"
    "parser = argparse.ArgumentParser()\n"
    "repl.add_arguments(parser)\n"
    "sys.exit(repl.main(parser.parse_args(sys.argv[1:])))\n"
)


def test_main_runs_the_script_first_then_reads_stdin(tmp_path: Path) -> None:
    script = tmp_path / "first.qvs"
    script.write_text("LET vStart = 10;\nTRACE started $(vEnv);\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", REPL_MAIN, str(script), "--var", "vEnv=test"],
        input="TRACE $(vStart);\n.vars\n", capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PATH": "", "QSCRIPT_HISTORY": str(tmp_path / "h"), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["started test", "10", "vEnv   = test", "vStart = 10",
                                        done.stdout.splitlines()[-1]]


def test_main_fails_cleanly_on_a_missing_script_or_connections_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(parser.parse_args([str(tmp_path / "nope.qvs")])) == 1
    assert "cannot read" in capsys.readouterr().out
    assert main(parser.parse_args(["--connections", str(tmp_path / "c.toml")])) == 1
    assert capsys.readouterr().err.startswith("qscript: connections file not found")
    with pytest.raises(SystemExit):
        parser.parse_args(["--var", "novalue"])


def test_the_cli_does_not_load_prompt_toolkit_to_run_scripts() -> None:
    code = (
        "import sys, qscript.cli\n"
        "qscript.cli.build_parser()\n"
        "heavy = ('prompt_toolkit', 'pygments', 'qscript.repl_commands', 'qscript.repl_complete')\n"
        "print(sorted({m.split('.')[0] if m.startswith('p') else m for m in sys.modules if m.startswith(heavy)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_repl_modules_use_only_the_public_api() -> None:
    allowed = {"qscript", "qscript.script.splitter", "qscript.expr.registry", "qscript.repl_commands",
               "qscript.repl_complete"}
    package = Path(qscript.__file__).parent
    for name in ("repl.py", "repl_commands.py", "repl_complete.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        used = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qscript"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    public = node.module == "qscript" and alias.name in qscript.__all__
                    used.add(node.module if public or node.module in allowed else full)
        assert {m for m in used if m.startswith("qscript")} <= allowed, name
        if name == "repl.py":  # the CLI imports it to build its parser; the rest loads when a REPL starts
            top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
            heavy = ("prompt_toolkit", "pygments", "repl_commands", "repl_complete")
            assert not any(word in ast.unparse(n) for n in top for word in heavy)
