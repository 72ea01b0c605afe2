"""The Qlik function library, one module per family; importing it fills the registry."""

from qscript.expr.functions import (  # noqa: F401
    aggregate,
    aggregate_text,
    calendar,
    conditional,
    dateformat,
    dates,
    formatting,
    json_hash,
    mapping,
    numeric,
    records,
    string,
)
