"""Date and time functions of the first set: Now, Today.

The clock is the evaluation context's ``now`` (local time as a serial number), injected by
the interpreter, so one reload sees one consistent, testable time source.
"""

from __future__ import annotations

import math

from qscript.expr.column import Column
from qscript.expr.formats import format_datetime
from qscript.expr.registry import qlik_function
from qscript.expr.values import Dual


@qlik_function("Now", "number?", context=True)
def now(ctx, _mode=None) -> Column:
    """The time of the call, formatted with TimestampFormat (modes 0/1/2 all give it)."""
    serial = ctx.now()
    text = format_datetime(serial, ctx.settings.timestamp_format, ctx.settings)
    return Column.constant(Dual(text, serial), ctx.length)


@qlik_function("Today", "number?", context=True)
def today(ctx, _mode=None) -> Column:
    serial = float(math.floor(ctx.now()))
    text = format_datetime(serial, ctx.settings.date_format, ctx.settings)
    return Column.constant(Dual(text, serial), ctx.length)
