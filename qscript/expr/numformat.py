"""Qlik number format codes ('#,##0.00', '0.0%', '$#,##0.00;-$#,##0.00'), Num# and intervals.

Split from :mod:`qscript.expr.formats` (which re-exports the public API) to keep each file
readable; the date formats live there. Compiled number formats are cached on the separators
in force rather than the whole settings, so settings that differ elsewhere share them.

Decisions where Qlik leaves room (documented for users):

* Which characters of a format are separators: with two different characters between the
  digit places, the last one is the decimal separator when it occurs once ('# ##0,00').
  One character that repeats groups thousands ('0000-0000'). A single one is decided by the
  separators in force (the function's arguments, else DecimalSep/ThousandSep); an unknown
  one groups thousands when exactly three digit places follow it, else it is the decimal
  separator. The output always uses the format's own characters.
* Rounding is half away from zero on the shortest decimal text of the value (2.675 with
  '0.00' gives 2.68). A negative value that rounds to zero is shown by the positive section.
* Only the first two ';' sections are used (positive; negative). Without a negative section
  a '-' is put before the positive section's text (before any prefix: '-$5.00').
* A format without any digit place shows its literal text only.
* Intervals: codes D, h, m, s, f in either case; the largest unit present takes the whole
  rest ('hh:mm' shows 36:00 for 1.5 days); values are rounded to the millisecond, then each
  field is truncated; negative durations get a leading '-'; the default format is 'hh:mm:ss'.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from qscript.expr.formats import FormatSettings

_PLACES = "#0"
_CTX = Context(prec=800, rounding=ROUND_HALF_UP)
_MAX_EXACT = 2.0**52  # scaled values below this convert to int64 without loss


# -- default text ---------------------------------------------------------------------------
def default_number_text(x: float, dec_sep: str = ".") -> str:
    """Qlik's text for a number without a format: integers plainly, else 14 significant digits.

    Fixed notation is used for 1e-7 <= |x| < 1e15 so ordinary values never show an exponent;
    NaN gives 'NaN' and infinities '+Inf'/'-Inf' (callers normally map these to NULL first).
    """
    x = float(x)
    if not math.isfinite(x):
        return "NaN" if x != x else ("+Inf" if x > 0 else "-Inf")
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.14g}"
    if "e" in text and 1e-7 <= abs(x) < 1e15:
        text = format(Decimal(text), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return text.replace(".", dec_sep) if dec_sep != "." else text


# -- compiled formats -----------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """One ';' section of a number format, ready to apply."""

    prefix: str
    suffix: str
    percent: bool
    has_digits: bool
    int_zeros: int  # minimum integer digits
    group: int  # digits per thousand group, 0 = no grouping
    thou: str  # thousand separator written
    dec: str  # decimal separator written
    dec_min: int
    dec_max: int


@dataclass(frozen=True)
class NumberFormat:
    """A compiled format: its positive section and optional negative section."""

    pos: Section
    neg: Section | None


def _decimal_char(core: str, dec: str, thou: str) -> str | None:
    """Which character of the core is the decimal separator (see module docstring)."""
    seps = [c for c in core if c not in _PLACES]
    if not seps:
        return None
    last = core.rstrip(_PLACES)[-1]
    if len(set(seps)) >= 2:
        return last if seps.count(last) == 1 else None
    if len(seps) > 1:  # one character, repeated: it groups
        return None
    if last in (dec, thou):
        return last if last == dec else None
    tail = core[core.rindex(last) + 1 :]
    return None if len(tail) == 3 else last


def _section(text: str, dec: str, thou: str) -> Section:
    places = [i for i, c in enumerate(text) if c in _PLACES]
    if not places:
        return Section(text, "", False, False, 0, 0, "", "", 0, 0)
    prefix, core, suffix = text[: places[0]], text[places[0] : places[-1] + 1], text[places[-1] + 1 :]
    dec_char = _decimal_char(core, dec, thou)
    if dec_char is not None:
        cut = core.rindex(dec_char)
        int_part, frac_part = core[:cut], "".join(c for c in core[cut + 1 :] if c in _PLACES)
    else:
        int_part, frac_part = core, ""
    int_places = "".join(c for c in int_part if c in _PLACES)
    int_zeros = len(int_places) - int_places.index("0") if "0" in int_places else 0
    group, thou_char = 0, ""
    sep_pos = [i for i, c in enumerate(int_part) if c not in _PLACES]
    if sep_pos:
        thou_char = int_part[sep_pos[-1]]
        group = len(int_part) - sep_pos[-1] - 1
    dec_min = frac_part.rindex("0") + 1 if "0" in frac_part else 0
    percent = "%" in prefix or "%" in suffix
    return Section(prefix, suffix, percent, True, int_zeros, group, thou_char, dec_char or "", dec_min, len(frac_part))


@lru_cache(maxsize=512)
def compile_number_format(fmt: str, dec: str, thou: str) -> NumberFormat:
    """Compile a format once; `dec`/`thou` are the separators in force for it."""
    parts = fmt.split(";")
    pos = _section(parts[0], dec, thou)
    neg = _section(parts[1], dec, thou) if len(parts) > 1 and parts[1] else None
    return NumberFormat(pos, neg)


# -- formatting -----------------------------------------------------------------------------
def _group(digits: str, size: int, sep: str) -> str:
    if size <= 0 or len(digits) <= size:
        return digits
    head = len(digits) % size or size
    return sep.join([digits[:head]] + [digits[i : i + size] for i in range(head, len(digits), size)])


def _rounded(value: float, sec: Section) -> Decimal:
    d = Decimal(repr(value))
    if sec.percent:
        d = d.scaleb(2)
    return d.quantize(Decimal(1).scaleb(-sec.dec_max), context=_CTX)


def _render(q: Decimal, sec: Section) -> str:
    """Text of a non-negative rounded value in one section (without sign)."""
    if not sec.has_digits:
        return sec.prefix
    ip, _, fp = format(q, "f").partition(".")
    fp = fp.rstrip("0").ljust(sec.dec_min, "0")
    ip = ip.lstrip("0").zfill(sec.int_zeros)
    if not ip and not fp:
        ip = "0"
    body = _group(ip, sec.group, sec.thou) + (sec.dec + fp if fp else "")
    return sec.prefix + body + sec.suffix


def format_with(x: float, nf: NumberFormat) -> str:
    """Format one number with a compiled format (non-finite values get the default text)."""
    x = float(x)
    if not math.isfinite(x):
        return default_number_text(x)
    if x < 0:
        sec = nf.neg or nf.pos
        q = _rounded(-x, sec)
        if q != 0:
            return _render(q, sec) if nf.neg else "-" + _render(q, sec)
    return _render(_rounded(abs(x), nf.pos), nf.pos)


def _chars(a: np.ndarray) -> np.ndarray:
    """View a 'U' array as a (rows, width) matrix of code points."""
    a = np.ascontiguousarray(a)
    width = a.dtype.itemsize // 4
    return a.view(np.uint32).reshape(len(a), width)


def _group_vec(digits: np.ndarray, size: int, sep: str) -> np.ndarray:
    """Insert a separator every `size` digits from the right, for a whole 'U' array at once."""
    mat = _chars(digits)
    rows, width = mat.shape
    length = (mat != 0).sum(axis=1)
    nsep = np.maximum(length - 1, 0) // size
    out = np.zeros((rows, width + (width - 1) // size + 1), dtype=np.uint32)
    pos = np.arange(out.shape[1])
    out[pos[None, :] < (length + nsep)[:, None]] = ord(sep)
    col = np.arange(width)[None, :]
    from_right = length[:, None] - 1 - col
    target = col + nsep[:, None] - from_right // size
    valid = col < length[:, None]
    r = np.broadcast_to(np.arange(rows)[:, None], mat.shape)
    out[r[valid], target[valid]] = mat[valid]
    return out.view(f"<U{out.shape[1]}").ravel()


def _render_vec(v: np.ndarray, sec: Section) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised `_render` for |values|: (texts, handled mask, rounded-is-zero mask).

    Values whose scaled decimal sits too near a rounding boundary (where float error could
    disagree with decimal rounding) or is too large for int64 are left unhandled.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = v * (100.0 if sec.percent else 1.0) * 10.0**sec.dec_max
        frac = scaled - np.floor(scaled)
        ok = (scaled < _MAX_EXACT) & (np.abs(frac - 0.5) > scaled * 1e-13 + 1e-9)
    k = np.floor(np.where(ok, scaled, 0.0) + 0.5).astype(np.int64)
    if not sec.has_digits:
        return np.full(len(v), sec.prefix, dtype=object).astype(str), ok, k == 0
    ip, fp = np.divmod(k, 10**sec.dec_max)
    ints = ip.astype(str)
    ints = np.where(ip == 0, "", ints)
    ints = np.char.zfill(ints, sec.int_zeros) if sec.int_zeros else ints
    if sec.group and len(ints):
        ints = _group_vec(ints, sec.group, sec.thou)
    body = ints
    if sec.dec_max:
        fr = np.char.rstrip(np.char.zfill(fp.astype(str), sec.dec_max), "0")
        fr = np.char.ljust(fr, sec.dec_min, "0") if sec.dec_min else fr
        body = np.where(np.char.str_len(fr) > 0, np.char.add(np.char.add(ints, sec.dec), fr), ints)
    body = np.where(np.char.str_len(body) == 0, "0", body)
    return np.char.add(np.char.add(sec.prefix, body), sec.suffix), ok, k == 0


def format_array_with(values: np.ndarray, nf: NumberFormat) -> np.ndarray:
    """Vectorised `format_with`: object array, NaN -> None, identical texts element-wise."""
    x = np.asarray(values, dtype=np.float64)
    out = np.empty(len(x), dtype=object)
    finite = np.isfinite(x)
    neg = finite & (x < 0)
    pos = finite & ~neg
    todo = ~finite & ~np.isnan(x)
    if neg.any():
        idx = np.flatnonzero(neg)
        texts, ok, zero = _render_vec(-x[idx], nf.neg or nf.pos)
        if nf.neg is None:
            texts = np.char.add("-", texts)
        done = ok & ~zero
        out[idx[done]] = texts[done].astype(object)
        todo[idx[~ok]] = True
        pos[idx[ok & zero]] = True
    if pos.any():
        idx = np.flatnonzero(pos)
        texts, ok, _ = _render_vec(np.abs(x[idx]), nf.pos)
        out[idx[ok]] = texts[ok].astype(object)
        todo[idx[~ok]] = True
    for i in np.flatnonzero(todo).tolist():
        out[i] = format_with(float(x[i]), nf)
    return out


# -- interpretation -------------------------------------------------------------------------
@dataclass(frozen=True)
class NumberReader:
    """What Num# needs to read text: separators, number pattern and the formats' affixes."""

    dec: str
    thou: str  # '' when digits are not grouped
    group: int
    pattern: re.Pattern[str]
    affixes: tuple[tuple[str, str, bool], ...]  # (prefix, suffix, negates), longest first


@lru_cache(maxsize=512)
def compile_number_reader(fmt: str | None, dec: str, thou: str) -> NumberReader:
    """Build the reader for a format (None: plain numbers with the given separators)."""
    group, affixes = 3, []
    if fmt:
        nf = compile_number_format(fmt, dec, thou)
        if nf.pos.dec:
            dec = nf.pos.dec
        if nf.pos.thou:
            thou, group = nf.pos.thou, nf.pos.group or 3
        for sec, negates in ((nf.neg, True), (nf.pos, False)):
            if sec is not None and sec.has_digits:
                pre, suf = sec.prefix.replace("%", "").strip(), sec.suffix.replace("%", "").strip()
                if pre or suf:
                    affixes.append((pre, suf, negates))
    d = re.escape(dec)
    ints = r"[0-9]+"
    thou = thou if thou != dec else ""
    if thou:
        ints = rf"[0-9]{{1,{group}}}(?:{re.escape(thou)}[0-9]{{{group}}})+|[0-9]+"
    pattern = re.compile(
        rf"(?P<sign>[-+])?\s*(?:(?P<int>{ints})(?:{d}(?P<frac>[0-9]*))?|{d}(?P<frac2>[0-9]+))"
        r"(?P<exp>[eE][-+]?[0-9]+)?"
    )
    affixes.sort(key=lambda a: -(len(a[0]) + len(a[1])))
    return NumberReader(dec, thou, group, pattern, tuple(affixes))


def read_with(text: object, reader: NumberReader) -> float | None:
    """Num# for one value: the number, or None when the text is no number in this format."""
    if not isinstance(text, str):
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = default_number_text(text, reader.dec)
        else:
            return None
    t = text.strip()
    signed = negate = bool(t) and t[0] in "-+"
    if signed:
        negate, t = t[0] == "-", t[1:].lstrip()
    for pre, suf, neg in reader.affixes:
        if t.startswith(pre) and t.endswith(suf) and len(t) >= len(pre) + len(suf) > 0:
            t = t[len(pre) : len(t) - len(suf)].strip()
            negate ^= neg
            break
    percent = t.endswith("%")
    if percent:
        t = t[:-1].rstrip()
    m = reader.pattern.fullmatch(t)
    if m is None or (signed and m["sign"]):
        return None
    sign, ip, frac = m["sign"] or "", m["int"] or "0", m["frac"] or m["frac2"] or ""
    clean = f"{sign}{ip.translate(_DIGITS_ONLY)}.{frac}0{m['exp'] or ''}"
    try:
        value = float(Decimal(clean) / 100) if percent else float(clean)
    except (ValueError, InvalidOperation):
        return None
    if not math.isfinite(value):
        return None
    return -value if negate else value


class _DigitsOnly(dict):
    """str.translate table keeping ASCII digits only (drops thousand separators)."""

    def __missing__(self, key: int) -> int | None:
        return key if 48 <= key <= 57 else None


_DIGITS_ONLY = _DigitsOnly()


def _read_plain(strs: list[str], reader: NumberReader) -> tuple[np.ndarray, np.ndarray]:
    """Read plain numbers ('-1,234.5') with numpy: (values, handled mask).

    Handles an optional sign, digits grouped exactly as the scalar regex allows and one
    decimal separator, with at most 15 digits: then digits / 10**k is correctly rounded,
    so it equals float() of the text, as the scalar reader computes it.
    """
    n = len(strs)
    lens = np.fromiter(map(len, strs), dtype=np.int64, count=n)
    if n == 0 or lens.max() == 0:  # nothing but empty texts: no number here
        return np.zeros(n), np.zeros(n, dtype=bool)
    width = int(min(lens.max(), 24))
    ok = (lens > 0) & (lens <= width)
    mat = np.array(strs, dtype=f"U{width}").view(np.uint32).reshape(n, width)
    col = np.arange(width)[None, :]
    filled = col < lens[:, None]
    digit = (mat >= 48) & (mat <= 57)
    sign = (col == 0) & ((mat == 45) | (mat == 43))
    dec = mat == ord(reader.dec)
    thou = (mat == ord(reader.thou)) if reader.thou else np.zeros_like(dec)
    ok &= (digit | dec | thou | sign | ~filled).all(axis=1) & (dec.sum(axis=1) <= 1)
    rows, start = np.arange(n), sign[:, 0].astype(np.int64)
    ok &= digit[rows, np.minimum(start, width - 1)] & digit[rows, np.clip(lens - 1, 0, width - 1)]
    dpos = np.where(dec.any(axis=1), dec.argmax(axis=1), lens)[:, None]
    if reader.thou:
        whole = (col >= start[:, None]) & (col < dpos)
        expect = whole & ((dpos - 1 - col) % (reader.group + 1) == reader.group)
        ok &= ~thou.any(axis=1) | ((thou == expect) | ~filled).all(axis=1)
    ok &= digit.sum(axis=1) <= 15
    value = np.zeros(n, dtype=np.int64)
    for c in range(width):
        value = np.where(digit[:, c], value * 10 + (mat[:, c].astype(np.int64) - 48), value)
    result = value / _POW10[(digit & (col > dpos)).sum(axis=1)]
    return np.where(mat[:, 0] == 45, -result, result), ok


_POW10 = np.array([float(10**k) for k in range(25)])
_PLAIN_CHARS = frozenset("0123456789-+")


def read_array_with(texts: np.ndarray, reader: NumberReader) -> np.ndarray:
    """Vectorised `read_with`: float64 array, unreadable -> NaN, identical values element-wise.

    Plain numbers are read by numpy (`_read_plain`); the rest per distinct value by the
    scalar reader.
    """
    arr = np.asarray(texts, dtype=object)
    out = np.full(len(arr), np.nan)
    rest = np.not_equal(arr, None)
    plain = (
        len(reader.dec) == 1
        and len(reader.thou) <= 1
        and not any(set(pre + suf) & (_PLAIN_CHARS | {reader.dec, reader.thou}) for pre, suf, _ in reader.affixes)
    )
    if plain and len(arr):
        idx = np.flatnonzero(str_mask(arr))
        for lo in range(0, len(idx), 250_000):
            part = idx[lo : lo + 250_000]
            values, ok = _read_plain(arr[part].tolist(), reader)
            out[part[ok]] = values[ok]
            rest[part[ok]] = False
    todo = np.flatnonzero(rest)
    if len(todo):
        codes, uniques = pd.factorize(arr[todo], use_na_sentinel=True)
        values = np.array([_nan(read_with(u, reader)) for u in uniques.tolist()] + [np.nan])
        out[todo] = values[codes]
    return out


def str_mask(values: np.ndarray) -> np.ndarray:
    """Which cells of an object array are str (C-level iteration, no Python loop body)."""
    items = values.tolist()
    return np.fromiter(map(operator.is_, map(type, items), repeat(str)), dtype=bool, count=len(items))


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) so work is done once per value; NaN/None get code -1.

    When a sample shows nearly all values differ, hashing would not pay: the values are
    returned as they are (NaN/None included) with codes 0..n-1.
    """
    n = len(values)
    if n > 20_000 and len(set(values[:5000].tolist())) > 4500:
        return np.arange(n), values
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques)


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


# -- numbers --------------------------------------------------------------------------------
def _seps(settings: FormatSettings, dec: str | None, thou: str | None, money: bool = False) -> tuple[str, str]:
    if money:
        return dec or settings.money_decimal_sep, thou or settings.money_thousand_sep
    return dec or settings.decimal_sep, thou or settings.thousand_sep


def format_number(
    x: float, fmt: str | None, settings: FormatSettings, dec_sep: str | None = None, thou_sep: str | None = None
) -> str:
    """Num(): a number as text in a number format (no format: Qlik's default text)."""
    dec, thou = _seps(settings, dec_sep, thou_sep)
    value = math.nan if x is None else float(x)
    if not fmt:
        return default_number_text(value, dec)
    return format_with(value, compile_number_format(fmt, dec, thou))


def format_money(
    x: float, fmt: str | None, settings: FormatSettings, dec_sep: str | None = None, thou_sep: str | None = None
) -> str:
    """Money(): like Num() with MoneyFormat and the money separators as defaults."""
    dec, thou = _seps(settings, dec_sep, thou_sep, money=True)
    value = math.nan if x is None else float(x)
    return format_with(value, compile_number_format(fmt or settings.money_format, dec, thou))


def parse_number(
    text: str | None, fmt: str | None, settings: FormatSettings, dec_sep: str | None = None, thou_sep: str | None = None
) -> float | None:
    """Num#(): the number a text stands for, None when it is no number (never raises)."""
    return read_with(text, compile_number_reader(fmt or None, *_seps(settings, dec_sep, thou_sep)))


def parse_money(
    text: str | None, fmt: str | None, settings: FormatSettings, dec_sep: str | None = None, thou_sep: str | None = None
) -> float | None:
    """Money#(): Num#() with MoneyFormat and the money separators as defaults."""
    seps = _seps(settings, dec_sep, thou_sep, money=True)
    return read_with(text, compile_number_reader(fmt or settings.money_format, *seps))


def format_number_array(
    values: np.ndarray,
    fmt: str | None,
    settings: FormatSettings,
    dec_sep: str | None = None,
    thou_sep: str | None = None,
) -> np.ndarray:
    """Vectorised `format_number`: object array of texts, NaN -> None."""
    dec, thou = _seps(settings, dec_sep, thou_sep)
    x = np.asarray(values, dtype=np.float64)
    if fmt:
        return format_array_with(x, compile_number_format(fmt, dec, thou))
    codes, uniq = distinct(x)
    out = np.empty(len(uniq) + 1, dtype=object)
    whole = np.isfinite(uniq) & (np.abs(uniq) < 1e15) & (uniq == np.floor(uniq))
    out[:-1][whole] = uniq[whole].astype(np.int64).astype(str).astype(object)
    for i in np.flatnonzero(~whole & ~np.isnan(uniq)).tolist():
        out[i] = default_number_text(float(uniq[i]), dec)
    return out[codes]


def parse_number_array(
    texts: np.ndarray,
    fmt: str | None,
    settings: FormatSettings,
    dec_sep: str | None = None,
    thou_sep: str | None = None,
) -> np.ndarray:
    """Vectorised `parse_number`: float64 array, NaN where unreadable or None."""
    reader = compile_number_reader(fmt or None, *_seps(settings, dec_sep, thou_sep))
    return read_array_with(texts, reader)


# -- format tokens (shared with the date formats) -------------------------------------------
def tokenize_format(fmt: str, letters: str, code: Callable[[str, int], str | None]) -> list[tuple]:
    """Split a format into (code, arg) tokens: arg is the run length or the literal text."""
    tokens: list[tuple] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        j = i + 1
        if c in letters:
            while j < len(fmt) and fmt[j] == c:
                j += 1
            kind = code(c, j - i)
        else:
            kind = c if c in "[]" else None
        if kind is None:
            if tokens and tokens[-1][0] == "lit":
                tokens[-1] = ("lit", tokens[-1][1] + fmt[i:j])
            else:
                tokens.append(("lit", fmt[i:j]))
        else:
            tokens.append((kind, min(j - i, 9)))
        i = j
    return tokens


def literal_regex(text: str, ws: str = r"\s") -> str:
    """A literal of a format as regex: a blank matches any run of blanks."""
    return "".join(ws + "+" if part.isspace() else re.escape(part) for part in re.split(r"(\s+)", text) if part)


# -- intervals ------------------------------------------------------------------------------
_MS_DAY = 86_400_000
_UNIT_MS = {"D": _MS_DAY, "h": 3_600_000, "m": 60_000, "s": 1000}
_UNIT_OF = {"d": "D", "h": "h", "m": "m", "s": "s", "f": "f"}


@dataclass(frozen=True)
class _IntervalFormat:
    tokens: tuple[tuple, ...]
    units: tuple[str, ...]  # time units present, largest first
    pattern: re.Pattern[str]
    kinds: tuple[str, ...]


@lru_cache(maxsize=128)
def _interval_format(fmt: str) -> _IntervalFormat:
    """Compile an interval format; its codes D, h, m, s, f ignore case."""
    tokens = tokenize_format(fmt, "DdHhMmSsFf", lambda c, run: _UNIT_OF[c.lower()])
    units = tuple(u for u in _UNIT_MS if any(t[0] == u for t in tokens))
    parts, kinds = [r"\s*([-+])?\s*"], ["sign"]
    for i, (code, arg) in enumerate(tokens):
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if code == "lit":
            parts.append(literal_regex(arg))
        elif code in "[]":
            parts.append("(?:" if code == "[" else ")?")
        else:
            if code == "f":
                rx = "[0-9]{1,9}"
            elif units and code == units[0]:
                rx = "[0-9]+"
            else:
                rx = "[0-9]{2}" if nxt in _UNIT_OF.values() else "[0-9]{1,2}"
            parts.append(f"({rx})")
            kinds.append(code)
    pattern = re.compile("".join(parts) + r"\s*", re.IGNORECASE)
    return _IntervalFormat(tuple(tokens), units, pattern, tuple(kinds))


def format_interval(days: float, fmt: str | None, settings: FormatSettings) -> str:
    """Interval(): a duration in days as text; the largest unit present is not wrapped.

    Default format 'hh:mm:ss' (hours may pass 24); negative durations get a leading '-'.
    """
    x = math.nan if days is None else float(days)
    if not math.isfinite(x):
        return default_number_text(x, settings.decimal_sep)
    f = _interval_format(fmt or "hh:mm:ss")
    rest = total = round(abs(x) * _MS_DAY)
    values = {}
    for unit in f.units:
        values[unit], rest = divmod(rest, _UNIT_MS[unit])
    out = ["-" if x < 0 and total else ""]
    for code, arg in f.tokens:
        if code == "lit":
            out.append(arg)
        elif code == "f":
            digits = f"{rest:03d}"
            out.append(digits[:arg] if arg <= 3 else digits + "0" * (arg - 3))
        elif code in _UNIT_MS:
            out.append(str(values[code]).zfill(arg))
    return "".join(out)


def parse_interval(text: str | None, fmt: str | None, settings: FormatSettings) -> float | None:
    """Interval#(): the duration in days a text stands for, None if unreadable.

    Units below the largest must stay below one of the next larger unit present.
    """
    if not isinstance(text, str):
        return None
    f = _interval_format(fmt or "hh:mm:ss")
    m = f.pattern.fullmatch(text)
    if m is None:
        return None
    secs, frac = 0, 0.0
    for kind, val in zip(f.kinds, m.groups(), strict=True):
        if val is None or kind == "sign":
            continue
        if kind == "f":
            frac = int(val) / 10 ** len(val)
            continue
        n, rank = int(val), f.units.index(kind)
        if rank and n * _UNIT_MS[kind] >= _UNIT_MS[f.units[rank - 1]]:
            return None
        secs += n * _UNIT_MS[kind] // 1000
    value = (secs + frac) / 86400.0
    return -value if m.group(1) == "-" else value
