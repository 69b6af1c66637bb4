"""Campaign results: the one typed results frame, its files (CSV, Excel), reading them back, the summary.

The sender builds its results with :func:`results_frame`; :func:`load_results` reads a
results CSV back with the same types (the callbacks funnel uses it), so a frame from a run
and one from its file compare equal column by column.

Examples
--------
>>> frame = results_frame([{"instruction_id": "a", "callee": "+31612345610", "status": "queued",
...                         "http_status": 200, "attempts": 1, "sent_at": "2024-05-03T10:00:00.000Z"}])
>>> str(frame["http_status"].dtype), str(frame.loc[0, "sent_at"].tz), frame.loc[0, "callee"]
('Int64', 'UTC', '+31612345610')
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import CampaignError, shorten
from ..messages import LINE_INDEX, opt, say
from ..spec import CSV_TIMESTAMP_FORMAT
from .vocabulary import ATTENTION_STATUSES, FIX, NOTED_STATUSES, RESULT_STATUSES, exit_status

__all__ = ["RESULT_COLUMNS", "results_frame", "kept_name", "load_results", "results_to_csv", "results_to_excel",
           "write_results", "summarize_results", "status_counts", "needs_attention", "results_exit_status"]

#: Columns of the results DataFrame (and CSV, after the ``row`` index column). ``input_position``
#: is the row's 0-based position in the input as given; ``campaign_key`` the key in its derived id;
#: ``wave`` the attempt (1 for a campaign as planned, 2... for follow-up waves).
RESULT_COLUMNS = ["instruction_id", "callee", "status", "http_status", "call_ids", "error", "attempts", "sent_at",
                  "input_position", "campaign_key", "wave"]
_TEXT_COLUMNS = ("instruction_id", "callee", "status", "call_ids", "error", "campaign_key")
_INT_COLUMNS = ("http_status", "attempts", "input_position", "wave")


def _type_columns(frame: Any) -> Any:
    """Give the result columns *frame* has their types: text, nullable integers, UTC times (in place)."""
    import pandas as pd

    for col in _INT_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    if "sent_at" in frame.columns:
        frame["sent_at"] = pd.to_datetime(frame["sent_at"].where(frame["sent_at"].notna() & (frame["sent_at"] != ""),
                                                                 None),
                                          utc=True, format="ISO8601", errors="coerce")
    for col in _TEXT_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    return frame


def kept_name(column: Any) -> str:
    """The results column of a kept list column: its own name, or ``<name> (list)`` where a result column has it.

    Examples
    --------
    >>> kept_name("Klantnummer"), kept_name("status")
    ('Klantnummer', 'status (list)')
    """
    name = str(column)
    return f"{name} (list)" if name in RESULT_COLUMNS else name


def results_frame(records: list[dict], *, index: Any = None, campaign_key: str | None = None,
                  kept: Any = None) -> Any:
    """The typed results DataFrame from one record (dict of result columns) per input row.

    Parameters
    ----------
    records
        One dict per row, in input order; missing columns are empty.
    index
        The input's index (results are aligned on it); default 0..n-1.
    campaign_key
        Written in every row's ``campaign_key``.
    kept
        The operator's own columns (``keep=``), one row per record in the same order: added after
        the result columns, as given (a column named like a result column becomes ``<name> (list)``).
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(records, columns=RESULT_COLUMNS) if records \
        else pd.DataFrame(columns=RESULT_COLUMNS)
    if index is not None:
        frame.index = index
    frame["input_position"] = range(len(frame))
    if campaign_key is not None:
        frame["campaign_key"] = campaign_key
    frame["attempts"] = frame["attempts"].fillna(0)
    frame["wave"] = frame["wave"].fillna(1)
    frame = _type_columns(frame)
    if kept is not None:
        for column in kept.columns:
            frame[kept_name(column)] = kept[column].to_numpy(dtype=object)
    return frame


def load_results(path: str | os.PathLike) -> Any:
    """Read a campaign results CSV (first column ``row``) back into a typed DataFrame.

    Everything is read as text first (ids and numbers keep leading zeros), then typed like
    :func:`results_frame`: ``http_status``/``attempts`` nullable integers, ``sent_at`` UTC.

    Raises
    ------
    CampaignError
        The file cannot be read as CSV.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
    >>> _ = path.write_text("row,instruction_id,callee,status,http_status\\n0,a,+31612345678,queued,200\\n")
    >>> r = load_results(path)
    >>> r.index.name, r.loc[0, "status"], int(r.loc[0, "http_status"])
    ('row', 'queued', 200)
    """
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CampaignError(f"{path}: cannot read campaign results: {exc}") from exc
    _refuse_runaway_quotes(frame, path)
    label = next((c for c in (LINE_INDEX, "row") if frame.columns[:1].tolist() == [c]), None)
    if label is not None:
        frame = frame.set_index(label)
        index = pd.to_numeric(frame.index, errors="coerce")
        if not index.isna().any():
            frame.index = index.astype("int64")
        frame.index.name = label
    return _type_columns(frame)


#: Result columns that never hold a line break: one there means an unclosed quote swallowed rows.
_ONE_LINE_COLUMNS = ("instruction_id", "callee", "status", "http_status", "call_ids", "attempts", "sent_at",
                     "input_position", "campaign_key", "wave")


def _refuse_runaway_quotes(frame: Any, path: Any) -> None:
    """Raise when an id, status or number cell spans lines: the file's quotes are unbalanced.

    A CSV with an unclosed ``"`` still parses: everything up to the next quote becomes one
    cell, so rows vanish into it and the funnel would count a different campaign.
    """
    for col in _ONE_LINE_COLUMNS:
        if col not in frame.columns:
            continue
        text = frame[col].astype("string")
        broken = text.str.contains(r"[\r\n]", regex=True).fillna(False).to_numpy(dtype=bool)
        if broken.any():
            first = int(broken.argmax())
            label = frame.iloc[first, 0] if frame.columns[:1].isin(["row", LINE_INDEX]).any() else first
            value = shorten(str(text.iloc[first]).replace("\r", "").replace("\n", "⏎"), 60)
            raise CampaignError(
                f"{path}: cannot read campaign results: row {label}: {col} runs over several "
                f"lines ({value!r}): a quote (\") is not closed, so rows after it were swallowed. "
                "Fix: export the results again, or close the quote in a text editor")


def results_to_csv(results: Any, path: str | os.PathLike) -> Path:
    """Write a results DataFrame to *path* atomically (index as first column ``row``).

    Every value is written as exact text: numbers as integers (``200``, never ``200.0``),
    callees in E.164 with their ``+``, timestamps in UTC with ``Z``. Extra columns (for
    example an ``app`` column added by the caller) are kept after the result columns.
    """
    from .._fsutil import atomic_write_text

    extra = [c for c in results.columns if c not in RESULT_COLUMNS]
    frame = results.reindex(columns=RESULT_COLUMNS + extra)
    text = frame.to_csv(index_label=_index_label(results), date_format=CSV_TIMESTAMP_FORMAT)
    return atomic_write_text(path, text)


def _index_label(results: Any) -> str:
    """The first column's name in a results file: ``line`` for a list read from a file, else ``row``."""
    return LINE_INDEX if results.index.name == LINE_INDEX else "row"


def results_to_excel(results: Any, path: str | os.PathLike) -> Path:
    """Write a results DataFrame as an ``.xlsx`` workbook, atomically, for people who open it in a spreadsheet.

    A CSV opened in a spreadsheet loses the ``+`` of ``+31612345610`` and turns long ids into
    rounded numbers; here every text value is a text cell (formatted ``@``, so an edit keeps it
    text), counts and HTTP statuses are whole-number cells, times are ISO-8601 text in UTC.
    Text is never a formula: an instruction id, callee or provider error starting with ``=``,
    ``+``, ``-`` or ``@`` is stored and shown exactly as written (see :mod:`cmvoice_nb._xlsx`).

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> r = results_frame([{"instruction_id": '=HYPERLINK("http://x","y")', "status": "invalid", "attempts": 0}])
    >>> path = results_to_excel(r, pathlib.Path(tempfile.mkdtemp()) / "results.xlsx")
    >>> cell = openpyxl.load_workbook(path)["results"]["B2"]
    >>> cell.value, cell.data_type
    ('=HYPERLINK("http://x","y")', 's')
    """
    from .._xlsx import frame_to_xlsx

    extra = [c for c in results.columns if c not in RESULT_COLUMNS]
    frame = results.reindex(columns=RESULT_COLUMNS + extra)
    return frame_to_xlsx(frame, path, index_label=_index_label(results), sheet="results")


def write_results(results: Any, path: str | os.PathLike) -> Path:
    """Write results by the file's suffix: ``.xlsx`` (see :func:`results_to_excel`), else CSV."""
    if Path(path).suffix.lower() == ".xlsx":
        return results_to_excel(results, path)
    return results_to_csv(results, path)


def summarize_results(results: Any, *, already_done: int = 0, front: str = "python",
                      stop_reason: str | None = None, examples: int = 3, id_column: str | None = None) -> str:
    """The operator's end-of-run summary: counts per status, then what needs attention.

    Parameters
    ----------
    results
        A results DataFrame (``status``, ``instruction_id``, ``error``...).
    already_done
        Rows the journal had already settled before this run: said on the ``queued`` count.
    front
        Whose words name the options that resolve a status: ``"python"`` (keyword arguments),
        ``"cli"`` (flags) or ``"widget"`` (the Campaign app's labels).
    stop_reason
        Why the run stopped early, if it did.
    examples
        How many rows to show per attention status.
    id_column
        The operator's id column (``columns={"id": ...}``) kept in *results*: rows are named by it too.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"status": ["queued", "changed"], "instruction_id": ["a", "b"],
    ...                   "error": [None, "the row changed since it was sent"]}, index=[0, 1])
    >>> print(summarize_results(r, front="cli"))  # doctest: +NORMALIZE_WHITESPACE
    2 rows: queued 1, changed 1
    changed: 1 row - sent earlier with other content and withheld now; --resend-changed calls them again
    with the new content
      row 1 (b): the row changed since it was sent
    """
    from ..messages import row_name

    lines_index = results.index.name == LINE_INDEX
    ident_col = kept_name(id_column) if id_column is not None else None
    if ident_col is not None and ident_col not in results.columns:
        ident_col = None
    lines = []
    counts = status_counts(results)
    shown = [f"{s} {n}" + (f" ({already_done} already done by an earlier run)" if s == "queued" and already_done
                           else "") for s, n in counts.items()]
    lines.append(f"{len(results)} rows: " + ", ".join(shown))
    if already_done:
        lines.append(f"{already_done} row(s) were already done by an earlier run on this journal (not sent again)")
    if stop_reason:
        lines.append(f"the run stopped: {stop_reason}")
    status = results["status"].astype("string")
    if counts.get("dropped"):
        lines.append(f"{counts['dropped']} repeated callee(s) left out on purpose ({opt('drop_duplicates')})")
    for name in ATTENTION_STATUSES + NOTED_STATUSES:
        mask = (status == name).fillna(False).to_numpy()
        n = int(mask.sum())
        if not n:
            continue
        lines.append(f"{name}: {n} row{'s' if n != 1 else ''} - {FIX[name]}")
        shown = results[mask].head(examples)
        for label, rec in zip(shown.index, shown.to_dict("records"), strict=True):
            reason = rec.get("error")
            reason = "" if reason is None or (isinstance(reason, float) and reason != reason) else str(reason)
            reason = shorten(reason, 160) if reason else "(no reason recorded)"
            name = row_name(label, lines=lines_index, ident=rec.get(ident_col) if ident_col else None,
                            ident_column=id_column)
            lines.append(f"  {name} ({rec.get('instruction_id')}): {reason}")
        if n > examples:
            lines.append(f"  ... and {n - examples} more")
    return say("\n".join(lines), front)


def status_counts(results: Any) -> dict[str, int]:
    """Rows per status of a results frame, in the statuses' order (zero counts left out).

    Examples
    --------
    >>> import pandas as pd
    >>> status_counts(pd.DataFrame({"status": ["invalid", "queued", "queued"]}))
    {'queued': 2, 'invalid': 1}
    """
    counts = results["status"].astype("string").value_counts()
    order = [s for s in RESULT_STATUSES if s in counts.index] + [s for s in counts.index if s not in RESULT_STATUSES]
    return {str(s): int(counts[s]) for s in order}


def needs_attention(results: Any) -> bool:
    """True when some row's status needs the operator or a later run (see :data:`ATTENTION_STATUSES`)."""
    import numpy as np

    status = results["status"].astype("string").fillna("skipped").to_numpy()
    return bool(np.isin(status, ATTENTION_STATUSES).any())


def results_exit_status(results: Any, *, stop: int | None = None) -> int:
    """The exit status of a run from its results (see :func:`~cmvoice_nb.campaign.vocabulary.exit_status`)."""
    return exit_status(results["status"].astype("string").fillna("skipped").tolist(), stop=stop)
