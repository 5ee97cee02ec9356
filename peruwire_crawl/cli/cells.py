"""CSV and TSV cells a spreadsheet shows instead of running (CSV injection).

A spreadsheet takes a cell as a formula when it starts with ``= + - @`` once it has
skipped what it does not show: leading whitespace (a no-break space too), a byte order
mark, zero-width and other format characters; and it reads full-width forms (``＝``) as
their ASCII twins. Such a cell gets a leading ``'``, as it does when it starts with a tab
or a carriage return; nothing else is changed. JSON output is never altered.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from typing import Any

from peruwire_crawl.times import iso

FORMULA_STARTS = frozenset("=+-@")
CONTROL_STARTS = ("\t", "\r")


def _visible_start(cell: str) -> str:
    """The first character a spreadsheet sees, in its ASCII form ('' for none)."""
    for char in cell:
        if char.isspace() or unicodedata.category(char) == "Cf":  # Cf: BOM, ZWSP, ZWJ, LRM...
            continue
        return unicodedata.normalize("NFKC", char)[:1]
    return ""


def neutralise(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    if cell.startswith(CONTROL_STARTS) or _visible_start(cell) in FORMULA_STARTS:
        return "'" + cell
    return cell


def text(value: Any) -> str:
    """A value as plain text: '' for none, times in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def jsonable(value: Any) -> Any:
    """``value`` ready for ``json.dumps``: times in ISO 8601, inside dicts and lists too."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return iso(value) if isinstance(value, datetime) else value


def csv_cell(value: Any) -> str:
    """A value as spreadsheet-safe CSV text: booleans true/false, lists as JSON, dates ISO."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return neutralise(json.dumps(value, ensure_ascii=False))
    return neutralise(text(value))
