"""One table style for the apps and the notebook reprs: readable cells, nothing crushed.

:func:`display_frame` turns any DataFrame (or Series, such as a ``value_counts``) into a
frame of display strings — pure, so it is tested without a browser:

* percentages (columns named ``*rate*``, ``share*``, ``*_pct``) as ``42 %`` / ``42.5 %``;
* other floats with at most two decimals (``0.866667`` → ``0.87``);
* timestamps as short local time (``2026-01-02 13:04:05``), no ``+00:00``;
* missing values (``None``, ``NaN``, ``<NA>``, ``NaT``) as blanks;
* lists, tuples and sets as ``a; b``; paths shortened to their last two parts;
* rows that failed (``ok`` false, an attention ``status``) sorted first.

:func:`styled` wraps it in a pandas ``Styler`` whose CSS keeps headers and ids on one line
(so no column is narrower than its header) and :func:`to_html` puts that in a box that
scrolls sideways instead of cutting a wide table off.
"""
from __future__ import annotations

import datetime as dt
import html
import os
import re
from pathlib import PurePath
from typing import Any

#: Statuses sorted first: the rows an operator has to look at (results, checks, calls).
FAILURE_WORDS = ("invalid", "failed", "rejected", "unknown", "changed", "already-called", "skipped", "error",
                 "problem", "missing", "fail")
#: How many rows a table shows before it says "… N more rows".
MAX_ROWS = 50
_PERCENT_NAME = re.compile(r"(rate|share|percent|_pct$|^pct_)", re.IGNORECASE)
_ID_NAME = re.compile(r"(^|_)(id|ids|uuid|call_ids|instruction_id|call_id)$|-id$", re.IGNORECASE)
_PATH_NAME = re.compile(r"(path|source|target|file|folder)$", re.IGNORECASE)
#: Characters a shortened path keeps at most (its tail, with "…/" in front).
PATH_CHARS = 48

_CSS = """
.cmvoice-table-box {max-width:100%; overflow-x:auto;}
.cmvoice-table-box table.cmvoice-table {border-collapse:collapse; table-layout:auto; font-size:12px; margin:2px 0;
                   width:auto;}
.cmvoice-table-box table.cmvoice-table th {white-space:nowrap !important; text-align:left !important;
                   padding:2px 8px; border-bottom:1px solid #d0d7de; background:#f6f8fa;}
.cmvoice-table-box table.cmvoice-table td {padding:2px 8px; border-bottom:1px solid #eaeef2; vertical-align:top;
                   max-width:40em; text-align:left !important; overflow-wrap:break-word; word-break:normal;}
.cmvoice-table-box table.cmvoice-table td.cmvoice-nowrap {white-space:nowrap;}
.cmvoice-table-box table.cmvoice-table td.cmvoice-long {min-width:16em;}
.cmvoice-table-box table.cmvoice-table td.cmvoice-num {text-align:right !important; white-space:nowrap;}
"""


def _missing(value: Any) -> bool:
    if value is None:
        return True
    import numpy as np
    import pandas as pd

    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return isinstance(result, (bool, np.bool_)) and bool(result)


def _clean(text: str) -> str:
    """*text* with lone surrogates (from undecodable bytes) as U+FFFD, so the page can be sent."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def short_path(value: Any, *, limit: int = PATH_CHARS) -> str:
    """The tail of a path, ``…/folder/file.wav``, at most *limit* characters.

    Examples
    --------
    >>> short_path("/home/ann/projects/campaign/prompts/welcome.wav")
    '…/prompts/welcome.wav'
    >>> short_path("welcome.wav")
    'welcome.wav'
    """
    text = os.fspath(value) if isinstance(value, (PurePath, os.PathLike)) else str(value)
    parts = [p for p in re.split(r"[\\/]", text) if p]
    if len(parts) <= 2 and len(text) <= limit:
        return text
    tail = "/".join(parts[-2:])
    if len(tail) + 2 > limit:
        tail = parts[-1][-(limit - 2):]
    return "…/" + tail


def format_value(value: Any, *, percent: bool = False, path: bool = False, tz: Any = None) -> str:
    """One cell as display text (see the module docstring for the rules).

    Examples
    --------
    >>> format_value(0.866667), format_value(0.866667, percent=True), format_value(None), format_value([])
    ('0.87', '86.7 %', '', '')
    >>> format_value(["not a WAV", "too long"])
    'not a WAV; too long'
    """
    if isinstance(value, (list, tuple, set, frozenset)):
        return "; ".join(format_value(v, tz=tz) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(v, tz=tz)}" for k, v in value.items())
    if _missing(value):
        return ""
    if isinstance(value, (PurePath, os.PathLike)) or (path and isinstance(value, str)):
        return _clean(short_path(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        import numpy as np

        if isinstance(value, np.bool_):
            return "yes" if bool(value) else "no"
        if isinstance(value, np.integer):
            return str(int(value))
        if isinstance(value, np.floating):
            value = float(value)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    if isinstance(value, float):
        if percent:
            text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
            return f"{text} %"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.datetime):
        return _short_time(value, tz)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return _clean(str(value))


def _short_time(value: dt.datetime, tz: Any) -> str:
    import pandas as pd

    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        # Local time of the machine running the notebook, shown without an offset.
        ts = ts.tz_convert(tz) if tz is not None else ts.tz_convert(dt.datetime.now().astimezone().tzinfo)
    fmt = "%Y-%m-%d %H:%M:%S" if ts.second or ts.minute or ts.hour else "%Y-%m-%d"
    return ts.strftime(fmt)


def _as_frame(data: Any):
    import pandas as pd

    if isinstance(data, pd.Series):
        name = data.name if data.name is not None else "value"
        frame = data.to_frame(name=str(name))
        return frame
    if isinstance(data, pd.DataFrame):
        return data
    return pd.DataFrame(data)


def _failure_mask(frame: Any):
    import numpy as np

    bad = np.zeros(len(frame), dtype=bool)
    if "ok" in frame.columns:
        ok = frame["ok"]
        bad |= ~ok.astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "status" in frame.columns:
        status = frame["status"].astype("string").str.lower().fillna("")
        bad |= status.isin(FAILURE_WORDS).to_numpy(dtype=bool)
    return bad


def _show_index(frame: Any) -> bool:
    import pandas as pd

    idx = frame.index
    return not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1 and idx.name is None)


def display_frame(data: Any, *, max_rows: int | None = MAX_ROWS, failures_first: bool = True, tz: Any = None):
    """A copy of *data* with every cell as display text, failures first, at most *max_rows* rows.

    Returns ``(frame, bad, hidden)``: the text frame, a boolean array marking failed rows, and
    how many rows were left out.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"file": ["a.wav", "b.wav"], "ok": [True, False], "answer_rate": [0.5, None]})
    >>> frame, bad, hidden = display_frame(t)
    >>> frame.values.tolist(), bad.tolist(), hidden
    ([['b.wav', 'no', ''], ['a.wav', 'yes', '50 %']], [True, False], 0)
    """
    import numpy as np
    import pandas as pd

    frame = _as_frame(data)
    bad = _failure_mask(frame) if failures_first else np.zeros(len(frame), dtype=bool)
    if failures_first and bad.any():
        order = np.argsort(~bad, kind="stable")
        frame = frame.iloc[order]
        bad = bad[order]
    hidden = 0
    if max_rows is not None and len(frame) > max_rows:
        hidden = len(frame) - max_rows
        frame = frame.iloc[:max_rows]
        bad = bad[:max_rows]
    out = {}
    for col in frame.columns:
        name = _clean(str(col))
        percent = bool(_PERCENT_NAME.search(name))
        path = bool(_PATH_NAME.search(name))
        series = frame[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            values = [format_value(v.to_pydatetime() if not pd.isna(v) else None, tz=tz) for v in series]
        else:
            values = [format_value(v, percent=percent, path=path, tz=tz) for v in series.tolist()]
        out[name] = values
    text = pd.DataFrame(out, index=[format_value(i, tz=tz) for i in frame.index])
    text.index.name = frame.index.name
    return text, bad, hidden


def _is_number_column(frame: Any, col: Any) -> bool:
    import pandas as pd

    dtype = frame[col].dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def styled(data: Any, *, max_rows: int | None = MAX_ROWS, failures_first: bool = True, tz: Any = None):
    """A pandas ``Styler`` of *data* in the shared style (see :func:`display_frame`)."""
    frame = _as_frame(data)
    text, bad, _hidden = display_frame(frame, max_rows=max_rows, failures_first=failures_first, tz=tz)
    nowrap = {str(c) for c in frame.columns if _ID_NAME.search(str(c)) or _PATH_NAME.search(str(c))
              or str(c) in ("callee", "caller", "status", "outcome", "started_on", "sent_at", "received_at")}
    numbers = {str(c) for c in frame.columns if _is_number_column(frame, c)}
    # Long text (errors, problems) wraps, but never into a column one word wide.
    long_text = {c for c in text.columns if c not in nowrap and c not in numbers
                 and len(text) and int(text[c].map(len).max()) > 24}

    def classes(_col):  # a DataFrame of CSS classes, same shape as the text
        import pandas as pd

        cells = pd.DataFrame("", index=text.index, columns=text.columns)
        for c in text.columns:
            if c in numbers:
                cells[c] = "cmvoice-num"
            elif c in nowrap:
                cells[c] = "cmvoice-nowrap"
            elif c in long_text:
                cells[c] = "cmvoice-long"
        return cells

    # Cells and headers are text: a value like "<img onerror=…>" is shown, never run.
    styler = text.style.format(escape="html").format_index(escape="html", axis=1)
    if _show_index(frame):
        styler = styler.format_index(escape="html", axis=0)
    styler.set_td_classes(classes(None))
    styler.set_table_attributes('class="cmvoice-table"')
    if not _show_index(frame):
        styler.hide(axis="index")
    if bad.any():
        row_css = ["background:#fff5f5" if b else "" for b in bad]
        styler.apply(lambda _s: row_css, axis=0)
    return styler


def to_html(data: Any, *, max_rows: int | None = MAX_ROWS, failures_first: bool = True, caption: str = "",
            tz: Any = None) -> str:
    """*data* as an HTML table in the shared style, in a box that scrolls sideways when wide."""
    frame = _as_frame(data)
    if frame.shape[1] == 0 or len(frame) == 0:
        what = html.escape(caption) + ": " if caption else ""
        return f"<div class='cmvoice-empty'><i>{what}no rows</i></div>"
    styler = styled(frame, max_rows=max_rows, failures_first=failures_first, tz=tz)
    body = styler.to_html()
    hidden = max(0, len(frame) - max_rows) if max_rows is not None else 0
    more = f"<div class='cmvoice-more'><i>… {hidden} more rows</i></div>" if hidden else ""
    head = f"<div><b>{html.escape(caption)}</b></div>" if caption else ""
    return f"<style>{_CSS}</style>{head}<div class='cmvoice-table-box'>{body}</div>{more}"


class Table:
    """A DataFrame shown in the shared style by Jupyter (``_repr_html_``); ``.data`` is the frame."""

    def __init__(self, data: Any, *, caption: str = "", max_rows: int | None = MAX_ROWS,
                 failures_first: bool = True) -> None:
        self.data = data
        self.caption = caption
        self.max_rows = max_rows
        self.failures_first = failures_first

    def _repr_html_(self) -> str:
        return to_html(self.data, caption=self.caption, max_rows=self.max_rows, failures_first=self.failures_first)

    def __repr__(self) -> str:
        return f"<Table {self.caption!r} {getattr(self.data, 'shape', '')}>"


def facts_html(pairs: Any, *, caption: str = "") -> str:
    """``(label, value)`` pairs as a two-column table (``what`` / ``value``) in the shared style.

    For the reports' headline figures: a value is formatted like any cell (blank when missing,
    lists as ``a; b``, paths shortened).

    Examples
    --------
    >>> "cmvoice-table-box" in facts_html([("rows", 3), ("bad lines", 0)], caption="Loaded")
    True
    """
    import pandas as pd

    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    frame = pd.DataFrame({"what": [str(k) for k, _ in items], "value": pd.Series([v for _, v in items],
                                                                                  dtype=object)})
    return to_html(frame, caption=caption, failures_first=False, max_rows=None)


def notes_html(items: Any, *, title: str = "", colour: str = "") -> str:
    """A short bulleted list of plain sentences (problems, warnings, notes), escaped; empty for none."""
    items = [format_value(i) for i in items]
    if not items:
        return ""
    style = f" style='color:{colour}'" if colour else ""
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    body = "".join(f"<li{style}>{html.escape(i)}</li>" for i in items)
    return f"{head}<ul class='cmvoice-notes'>{body}</ul>"
