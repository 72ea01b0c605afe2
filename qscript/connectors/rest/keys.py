"""The REST connection's key generation strategies (``key_generation``), qlik-rest-connector.md §7.

Keys fill the ``PK`` field of a record (``__KEY_<table>``) and the ``FK`` field of its nested
records (``__FK_<table>``, equal to the parent's key).

``sequence`` (default, Qlik's "Sequence ID")
    Numbers 1, 2, 3, ... per table in document order, restarting for every SELECT (one call
    of the flattener). A table is identified by its path of SELECT names from the root
    (``root``, ``root/data``, ``root/data/tags``; a repeated sibling name gets ``#2``, ``#3``).
    A caller that pages may pass a counter state ``{path: last key}`` to continue counting.

``current_record``
    Text: the first 16 lower-case hex digits of SHA-256 over the UTF-8 bytes of the record's
    canonical form (below). It depends only on the record's own scalar values, so it is
    stable across calls and pages, and equal records get equal keys.

``fully_qualified``
    Like ``current_record`` but chained through the ancestors: a root record's key is its
    current_record key; any other record's key is the first 16 hex digits of SHA-256 over
    ``<parent's fully qualified key><canonical form>``. Equal children of parents with
    different content get different keys.

``none``
    No key fields at all, even if the SELECT declares or lists them.

Canonical form of a record: the record's own scalar values as ``[name, value]`` pairs sorted
by name (code-point order), written by ``json.dumps(pairs, ensure_ascii=False,
separators=(",", ":"))``. Scalars are strings, numbers (always written as floats, so 1 and 1.0
agree: ``1.0``), ``true``/``false`` and ``null``; nested objects and arrays are not part of
a record's own values. An array element that is a scalar is the pair ``["@Value", value]``;
an array element that is itself an array contributes its scalar items as
``["#0", v0], ["#1", v1], ...``. Example: ``{"id": "A1", "n": 2, "tags": [...]}`` has the
canonical form ``[["id","A1"],["n",2.0]]``. These keys are deterministic but not the same
bytes as Qlik's (its format is unpublished).
"""

from __future__ import annotations

import json
from hashlib import sha256

import numpy as np

KEY_STRATEGIES = ("sequence", "current_record", "fully_qualified", "none")

#: Hex digits of the SHA-256 digest a hash key keeps.
HASH_LENGTH = 16

_SCALARS = (str, int, float, bool, type(None))


def check_strategy(strategy: str) -> str:
    """The strategy itself; a ValueError naming the allowed ones otherwise (a caller bug)."""
    if strategy not in KEY_STRATEGIES:
        raise ValueError(f"key_generation must be one of {', '.join(KEY_STRATEGIES)}, not {strategy!r}")
    return strategy


def _scalar(value: object) -> object:
    if value is None or isinstance(value, (str, bool)):
        return value
    return float(value)  # type: ignore[arg-type]


def canonical(record: object) -> str:
    """The canonical form of one record (see the module docstring)."""
    if isinstance(record, dict):
        pairs = [[name, _scalar(value)] for name, value in sorted(record.items()) if isinstance(value, _SCALARS)]
    elif isinstance(record, list):
        pairs = [[f"#{i}", _scalar(value)] for i, value in enumerate(record) if isinstance(value, _SCALARS)]
    else:
        pairs = [["@Value", _scalar(record)]]
    return json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))


def record_key(record: object) -> str:
    """The ``current_record`` key of one record."""
    return sha256(canonical(record).encode("utf-8")).hexdigest()[:HASH_LENGTH]


def qualified_key(parent_key: str | None, record: object) -> str:
    """The ``fully_qualified`` key of a record under a parent with key ``parent_key``."""
    if parent_key is None:
        return record_key(record)
    return sha256((parent_key + canonical(record)).encode("utf-8")).hexdigest()[:HASH_LENGTH]


def sequence_keys(state: dict, path: str, count: int) -> np.ndarray:
    """The next ``count`` sequence keys (as float64) of table ``path``; advances ``state``."""
    last = int(state.get(path, 0))
    state[path] = last + count
    return np.arange(last + 1, last + count + 1, dtype=np.float64)


def hash_keys(records: list, parent_keys: list | None, strategy: str) -> list[str]:
    """Hash keys of a table's records; ``parent_keys`` is aligned with ``records`` (fully_qualified)."""
    if strategy == "current_record" or parent_keys is None:
        return [record_key(record) for record in records]
    return [qualified_key(parent, record) for parent, record in zip(parent_keys, records, strict=True)]
