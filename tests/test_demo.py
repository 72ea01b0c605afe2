"""`qscript demo`: the bundled sample API and every sample, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLES = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "samples").glob("*.qvs"))


def test_demo_runs_every_sample_and_prints_its_tables():
    done = subprocess.run([sys.executable, "-m", "qscript", "demo", "--rows", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line[3:] for line in lines if line.startswith("== ")] == SAMPLES
    assert lines[-1] == "all samples ran"
    for table, rows in [("Calendar", 91), ("Summary", 3), ("data", 12), ("Orders", 12), ("Products", 7),
                        ("Items", 60), ("Meta", 1), ("Rates", 3), ("Weather", 3)]:
        assert f"   {table}: {rows} rows" in lines, table
