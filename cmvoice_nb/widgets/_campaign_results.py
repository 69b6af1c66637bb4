"""The Campaign app's results: every row, paged, filtered by status, with readable headers and a download.

The pure parts (:func:`readable_headers`, :func:`filter_results`, :func:`page_of`,
:func:`download_link`) shape the results frame; :class:`ResultsView` only wires them to a status
dropdown, page buttons and an HTML table whose cells wrap instead of being cut.
"""
from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W

__all__ = ["ALL_STATUSES", "PAGE_ROWS", "HEADERS", "readable_headers", "filter_results", "page_of",
           "download_link", "results_html", "ResultsView"]

#: The status filter's "every row" choice.
ALL_STATUSES = "all"
#: Rows per page.
PAGE_ROWS = 50
#: Headers of the results columns as the app shows them.
HEADERS = {"instruction_id": "Instruction id", "callee": "Callee", "status": "Status", "http_status": "HTTP status",
           "call_ids": "Call ids", "error": "Error", "attempts": "Attempts", "sent_at": "Sent at",
           "input_position": "Position", "campaign_key": "Campaign key", "wave": "Wave", "row": "Row",
           "line": "Line"}
#: Files up to this size get a download link (embedded in the page); larger ones show their path.
DOWNLOAD_LIMIT = 20 * 1024 * 1024
#: How each column's text breaks: ids anywhere (they have no spaces), short values never, the rest at spaces.
_IDS = ("Instruction id", "Call ids", "Campaign key")
_SHORT = ("Line", "Row", "Callee", "Status", "HTTP status", "Attempts", "Wave", "Position")
_CSS = """<style>
table.cmvoice-results-table {border-collapse:collapse; width:100%; table-layout:auto; font-size:12px; margin:2px 0;}
table.cmvoice-results-table th {white-space:nowrap; text-align:left; padding:2px 8px; border-bottom:1px solid #d0d7de;
  background:#f6f8fa;}
table.cmvoice-results-table td {padding:2px 8px; border-bottom:1px solid #eaeef2; vertical-align:top; text-align:left;
  white-space:normal; overflow-wrap:break-word;}
table.cmvoice-results-table td.cmvoice-id {word-break:break-all; min-width:8em;}
table.cmvoice-results-table td.cmvoice-short {white-space:nowrap;}
</style>"""


def results_html(frame: Any, *, caption: str = "") -> str:
    """*frame* (readable headers) as an HTML table that fits its box: every cell wraps, none is cut.

    Ids break anywhere, short values (status, callee, counts) never, other text at spaces; a
    missing value is blank; times are said to the second in UTC.

    Examples
    --------
    >>> import pandas as pd
    >>> html_ = results_html(pd.DataFrame({"Status": ["queued"], "Error": [None]}, index=pd.Index([2], name="Line")))
    >>> "<td class='cmvoice-short'>queued</td><td></td>" in html_
    True
    """
    import pandas as pd

    def cell(value: Any) -> str:
        if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
            return ""
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if value.tzinfo else "")
        return html.escape(str(value))

    def kind(column: Any) -> str:
        return " class='cmvoice-id'" if column in _IDS else (" class='cmvoice-short'" if column in _SHORT else "")

    index_name = frame.index.name or ""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [index_name, *frame.columns])
    kinds = [kind(c) for c in frame.columns]
    body = "".join(
        f"<tr><td class='cmvoice-short'>{cell(label)}</td>"
        + "".join(f"<td{k}>{cell(v)}</td>" for k, v in zip(kinds, values, strict=True)) + "</tr>"
        for label, values in zip(frame.index, frame.itertuples(index=False, name=None), strict=True))
    title = f"<div><b>{html.escape(caption)}</b></div>" if caption else ""
    return (f"{_CSS}{title}<table class='cmvoice-results-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def readable_headers(frame: Any) -> Any:
    """*frame* with its result columns named in words (``http_status`` → ``HTTP status``); other names kept.

    The index's name (``line``: the spreadsheet line) is said the same way.

    Examples
    --------
    >>> import pandas as pd
    >>> list(readable_headers(pd.DataFrame(columns=["instruction_id", "sent_at", "Klantnummer"])).columns)
    ['Instruction id', 'Sent at', 'Klantnummer']
    """
    out = frame.rename(columns={c: HEADERS.get(str(c), c) for c in frame.columns})
    if out.index.name in HEADERS:
        out.index = out.index.rename(HEADERS[out.index.name])
    return out


def filter_results(frame: Any, status: str = ALL_STATUSES) -> Any:
    """The rows of *frame* with *status* (``"all"``: every row; a missing status is ``skipped``).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"status": ["queued", None, "invalid"]})
    >>> filter_results(frame, "skipped").index.tolist(), len(filter_results(frame))
    ([1], 3)
    """
    if status in (None, ALL_STATUSES):
        return frame
    keep = (frame["status"].astype("string").fillna("skipped") == status).to_numpy(dtype=bool)
    return frame[keep]


def page_of(frame: Any, page: int, *, size: int = PAGE_ROWS) -> tuple[Any, int, int]:
    """(the rows of page *page* (0-based, clamped), that page, the number of pages) of *frame*.

    Examples
    --------
    >>> import pandas as pd
    >>> rows, page, pages = page_of(pd.DataFrame({"a": range(120)}), 9)
    >>> rows["a"].tolist()[:2], page, pages
    ([100, 101], 2, 3)
    """
    pages = max(1, math.ceil(len(frame) / size))
    page = min(max(0, int(page)), pages - 1)
    return frame.iloc[page * size:(page + 1) * size], page, pages


def download_link(path: str | Path, *, limit: int = DOWNLOAD_LIMIT) -> str:
    """An HTML link that downloads the file at *path* from the page (its bytes embedded), or its path when too big.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"; _ = p.write_text("row,status\\n2,queued\\n")
    >>> download_link(p).startswith("<a download='r.csv' href='data:text/csv;base64,")
    True
    """
    path = Path(path)
    if not path.exists():
        return ""
    if path.stat().st_size > limit:
        return f"<span>{html.escape(path.name)} is large: open it from <code>{html.escape(str(path))}</code></span>"
    kind = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if path.suffix.lower() == ".xlsx"
            else "text/csv")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<a download='{html.escape(path.name, quote=True)}' href='data:{kind};base64,{data}' "
            f"class='cmvoice-download'>⬇ {html.escape(path.name)}</a>")


class ResultsView(W.VBox):
    """Every results row, paged, with a status filter and download links.

    Attributes
    ----------
    status_filter, previous, next, page_label, table, downloads
        The controls: the status dropdown, the page buttons, "page 1 of 3", the table HTML and
        the links to the results files.
    frame
        The results shown (None before a run).
    """

    def __init__(self) -> None:
        self.status_filter = W.Dropdown(options=[("every status", ALL_STATUSES)], value=ALL_STATUSES,
                                        description="Show", style={"description_width": "4em"},
                                        layout=W.Layout(width="22em"))
        self.previous = W.Button(description="◀ Previous", layout=W.Layout(width="9em"))
        self.next = W.Button(description="Next ▶", layout=W.Layout(width="9em"))
        self.page_label = W.HTML()
        self.table = W.HTML()
        self.downloads = W.HTML()
        self.frame: Any = None
        self.page = 0
        super().__init__([W.HBox([self.status_filter, self.previous, self.page_label, self.next]), self.downloads,
                          self.table], layout=W.Layout(display="none"))
        self.add_class("cmvoice-results")
        self.status_filter.observe(lambda _c: self._go(0), names="value")
        self.previous.on_click(lambda _b: self._go(self.page - 1))
        self.next.on_click(lambda _b: self._go(self.page + 1))

    def show(self, frame: Any, *, files: Sequence[str | Path] = (), caption: str = "Results") -> None:
        """Show *frame* (a results frame, with the kept columns) from its first page, and links to *files*."""
        self.frame = frame.drop(columns=["campaign_key", "input_position"], errors="ignore")
        self.caption = caption
        options = [("every status", ALL_STATUSES)] + [(f"{s} ({n})", s) for s, n in
                                                       _status_counts(self.frame)]
        self.status_filter.unobserve_all("value")
        self.status_filter.options = options
        self.status_filter.value = ALL_STATUSES
        self.status_filter.observe(lambda _c: self._go(0), names="value")
        links = [download_link(f) for f in files]
        self.downloads.value = " &nbsp; ".join(x for x in links if x)
        self.layout.display = ""
        self._go(0)

    def clear(self) -> None:
        """Show nothing (results of another target, App or list)."""
        self.frame = None
        self.table.value = self.downloads.value = self.page_label.value = ""
        self.layout.display = "none"

    def shown(self) -> Any:
        """The rows on the current page (readable headers), or None."""
        if self.frame is None:
            return None
        rows, _, _ = page_of(filter_results(self.frame, self.status_filter.value), self.page)
        return readable_headers(rows)

    def _go(self, page: int) -> None:
        if self.frame is None:
            return
        chosen = filter_results(self.frame, self.status_filter.value)
        rows, self.page, pages = page_of(chosen, page)
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
        first = self.page * PAGE_ROWS + 1 if len(chosen) else 0
        self.page_label.value = (f"<span style='padding:0 1em'>rows {first}–{self.page * PAGE_ROWS + len(rows)} of "
                                 f"{len(chosen)} · page {self.page + 1} of {pages}</span>")
        self.table.value = results_html(readable_headers(rows), caption=getattr(self, "caption", "Results"))


def _status_counts(frame: Any) -> list[tuple[str, int]]:
    counts = frame["status"].astype("string").fillna("skipped").value_counts()
    return [(str(s), int(n)) for s, n in counts.items()]
