"""The Qlik function library, one module per family; importing it fills the registry."""

from qscript.expr.functions import conditional, dateformat, dates, formatting, numeric, string  # noqa: F401
