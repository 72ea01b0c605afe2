"""The reload log's table lines: ``Table << Source N Lines fetched (line L, S s)``.

Qlik's progress window names the table that received rows, the source they came from and
the lines this statement fetched (not the table's total); qscript adds the statement's line
and elapsed time. The fake clock makes the time exact: a statement takes no time unless it
waits, and a REST retry's Retry-After wait is 7 seconds of it.
"""

from __future__ import annotations

from httpkit import Reply

import qscript

INLINE = "Orders: LOAD * INLINE [\nId, Amount\n1, 10\n2, 20\n3, 30\n];\n"


def table_lines(result: qscript.Result) -> list[str]:
    return [line for line in result.log if "Lines fetched" in line]


def test_each_table_statement_logs_source_rows_line_and_time(run_script) -> None:
    script = INLINE + (
        "Concatenate(Orders) LOAD 4 AS Id, 40 AS Amount AUTOGENERATE 2;\n"  # line 7
        "Big: LOAD Id AS Key RESIDENT Orders WHERE Amount > 15;\n"  # line 8
        "Names: MAPPING LOAD * INLINE [\nId, Name\n1, Ann\n];\n"  # line 9
        "LEFT JOIN (Orders) LOAD * INLINE [\nId, Region\n1, North\n2, South\n];\n"  # line 13
        "Copy: LOAD Id, Amount RESIDENT Orders;\n"  # line 18
    )
    result = run_script(script)
    assert table_lines(result) == [
        "Orders << INLINE01 3 Lines fetched (line 1, 0.00 s)",
        "Orders << AUTOGENERATE01 2 Lines fetched (line 7, 0.00 s)",
        "Big << Orders 4 Lines fetched (line 8, 0.00 s)",
        "Names << INLINE02 1 Lines fetched (line 9, 0.00 s)",
        "Orders << INLINE03 2 Lines fetched (line 13, 0.00 s)",
        "Copy << Orders 5 Lines fetched (line 18, 0.00 s)",
    ]
    assert {name: len(frame) for name, frame in result.tables.items()} == {"Orders": 5, "Big": 4, "Copy": 5}


def test_automatic_concatenation_counts_only_the_new_lines(run_script) -> None:
    result = run_script(INLINE + "More: LOAD Id, Amount RESIDENT Orders;\n")
    assert table_lines(result)[-1] == "Orders << Orders 3 Lines fetched (line 7, 0.00 s)"
    assert len(result.tables["Orders"]) == 6


def test_large_counts_have_thousands_separators(run_script) -> None:
    result = run_script("T: LOAD RecNo() AS N AUTOGENERATE 1234567;")
    assert table_lines(result) == ["T << AUTOGENERATE01 1,234,567 Lines fetched (line 1, 0.00 s)"]


def test_elapsed_time_includes_a_rest_retry_wait(run_script, http_server, clock) -> None:
    replies = iter([Reply(503, "busy", {"Retry-After": "7"}), Reply(200, [{"ok": 1}])])
    http_server.route("/orders", lambda _request: next(replies))
    script = "LIB CONNECT TO 'API';\nTRACE start;\nT: SQL SELECT \"ok\" FROM JSON (wrap on) \"root\";"
    result = run_script(script, connections={"API": {"url": http_server.url("/orders"),
                                                     "retry": {"enabled": True}}})
    assert clock.sleeps == [7.0]
    assert table_lines(result) == ["T << root 1 Lines fetched (line 3, 7.00 s)"]
    assert result.log[0] == "start"


def test_a_clock_without_monotonic_is_timed_by_the_real_clock(tmp_path) -> None:
    class OldClock:  # what ``clock=`` promised before: now() and sleep() only
        def now(self):
            from datetime import datetime

            return datetime(2024, 1, 31)

        def sleep(self, seconds: float) -> None:
            pass

    result = qscript.run(INLINE, clock=OldClock(), base_dir=tmp_path)
    (line,) = table_lines(result)
    assert line.startswith("Orders << INLINE01 3 Lines fetched (line 1, ") and line.endswith(" s)")
