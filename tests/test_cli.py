"""The qscript command, run as a user runs it (a subprocess of the installed package)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import qscript


def qs(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qscript", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_version():
    done = qs("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"qscript {qscript.__version__}"


def test_run_prints_trace_lines_in_order_and_sees_vars(tmp_path):
    script = tmp_path / "loop.qvs"
    script.write_text(
        "FOR i = 1 TO 3\n  TRACE $(vPrefix) $(i);\nNEXT i\nTRACE env=$(vEnv);\n", encoding="utf-8"
    )
    done = qs("run", str(script), "--var", "vPrefix=item", "--var", "vEnv=a=b")
    assert done.returncode == 0, done.stderr
    *traced, finished = done.stderr.splitlines()
    assert traced == ["item 1", "item 2", "item 3", "env=a=b"]
    assert re.fullmatch(r"Execution finished: 0 tables, 0 rows, 0 errors, \d+\.\d\d s", finished)
    assert done.stdout == ""


def test_run_failure_is_one_line_naming_the_position(tmp_path):
    script = tmp_path / "bad.qvs"
    script.write_text("SET a = 1;\nLET b = Left('x');\n", encoding="utf-8")
    done = qs("run", str(script), "--quiet")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"qscript: {script}:2:1: ScriptError 2 (Syntax Error): Left() takes 2 argument(s), 1 given"
    ]


def test_run_missing_file_fails_cleanly(tmp_path):
    done = qs("run", str(tmp_path / "nope.qvs"))
    assert done.returncode == 1
    assert "ScriptError 8 (File Not Found): cannot read script" in done.stderr


def test_bad_var_is_a_usage_error(tmp_path):
    script = tmp_path / "s.qvs"
    script.write_text("TRACE x;")
    done = qs("run", str(script), "--var", "novalue")
    assert done.returncode == 2
    assert "expected NAME=VALUE" in done.stderr


def test_check_reports_every_syntax_error_with_positions(tmp_path):
    script = tmp_path / "three.qvs"
    script.write_text(
        "SET ok = 1;\n"
        "LET a = (1 + ;\n"          # error 1: line 2, at the last character (column 12)
        "IF x = THEN\n"             # error 2: THEN reads as a name here, so the clause ends early
        "  TRACE fine;\n"
        "END IF\n"
        "LET c = Upper('a', 'b');\n"  # error 3: wrong arity, line 6
        "LET d = $(maybe) +;\n",      # not checkable offline: skipped
        encoding="utf-8",
    )
    done = qs("check", str(script))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{script}:2:12: ScriptError 2 (Syntax Error): unexpected end of statement",
        f"{script}:3:11: ScriptError 2 (Syntax Error): unexpected end of statement",
        f"{script}:6:1: ScriptError 2 (Syntax Error): Upper() takes 1 argument(s), 2 given",
    ]


def test_check_of_a_clean_file_passes(tmp_path):
    script = tmp_path / "ok.qvs"
    script.write_text("SET a = 1;\nIF a = 1 THEN\n TRACE y;\nEND IF\nLOAD * INLINE [x\n1];\n")
    done = qs("check", str(script))
    assert (done.returncode, done.stdout) == (0, "")


def test_sample_script_runs():
    sample = Path(__file__).resolve().parents[1] / "samples" / "hello.qvs"
    done = qs("run", str(sample))
    assert done.returncode == 0, done.stderr
    assert "Reload date: 31 Jan 2024" in done.stderr.splitlines()


def test_out_folder_is_created_even_without_tables(tmp_path):
    script = tmp_path / "s.qvs"
    script.write_text("TRACE nothing to store;")
    done = qs("run", str(script), "--out", str(tmp_path / "out"), "--format", "csv", "--quiet")
    assert done.returncode == 0
    assert (tmp_path / "out").is_dir()
    assert list((tmp_path / "out").iterdir()) == []


def test_log_file_gets_the_reload_log_even_when_quiet(tmp_path):
    script = tmp_path / "s.qvs"
    script.write_text("TRACE one;\nT: LOAD * INLINE [a\n1];\nTRACE two;\n")
    log = tmp_path / "reload.log"
    done = qs("run", str(script), "--quiet", "--log", str(log))
    assert (done.returncode, done.stderr) == (0, "")
    stamped = [re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})  (.*)", line)
               for line in log.read_text(encoding="utf-8").splitlines()]
    assert all(stamped), "every line starts with a timestamp"
    lines = [re.sub(r"\d+\.\d\d s", "T s", match.group(2)) for match in stamped]
    assert lines == ["one", "T << INLINE01 1 Lines fetched (line 2, T s)", "two",
                     "Execution finished: 1 tables, 1 rows, 0 errors, T s"]
