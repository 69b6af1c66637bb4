"""The reference reader of do-not-call files: one :func:`~cmvoice_nb.numbers.try_normalize` call per entry.

:func:`read_suppression_reference` is the baseline ``bench/suppress_read.py`` times
:func:`~cmvoice_nb.campaign.ops.suppress.read_suppression` against, and the reader the tests
compare its numbers with.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from ..._dnc import PHONEISH, number_column
from ...errors import CampaignError
from ...messages import opt
from .suppress import SuppressionList, Unreadable

__all__ = ["read_suppression_reference"]


def read_suppression_reference(source: Any, *, region: str | None = None) -> SuppressionList:
    """The per-entry reader: one :func:`~cmvoice_nb.numbers.try_normalize` call per entry.

    UTF-8 or cp1252 text, the separator taken from the first line, no check of how much was
    read.
    """
    from ...numbers import try_normalize

    name = opt("suppress")
    path = Path(os.fspath(source))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    content = [(i, ln) for i, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    entries: list = []
    if content:
        first = content[0][1]
        sep = next((s for s in (",", ";", "\t", "|") if s in first), None)
        if sep is None:
            entries = [(i, ln.split("#", 1)[0].strip()) for i, ln in content]
        else:
            parsed = [(i, next(csv.reader(io.StringIO(ln), delimiter=sep))) for i, ln in content]
            header = parsed[0][1]
            has_header = not any(PHONEISH.match(c.strip()) for c in header)
            body = parsed[1:] if has_header else parsed
            col = number_column(header if has_header else [str(k) for k in range(len(header))], [r for _, r in body])
            if col is None:
                raise CampaignError(f"{name}: {path}: no column of phone numbers")
            entries = [(i, r[col] if col < len(r) else "") for i, r in body]
    numbers: set[str] = set()
    bad: list[Unreadable] = []
    for line, value in entries:
        normal, reason = try_normalize(value, region=region)
        if normal is None:
            bad.append(Unreadable(line, value, reason or "not a number"))
        else:
            numbers.add(normal)
    return SuppressionList(numbers, unreadable=bad, source=str(path), entries=len(entries), region=region)
