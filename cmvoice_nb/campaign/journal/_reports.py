"""What the journal keeps beside its records, and the journal as tables.

:class:`Reports` is the part of :class:`~cmvoice_nb.campaign.Journal` that stores the operator's
own columns of rows (:meth:`~Reports.keep`, ``keep=``), the calling-hours waits
(:meth:`~Reports.record_waits`) and each finished run (:meth:`~Reports.record_run`), and reads
them, the records, their counts and the cost so far (:meth:`~Reports.spent`) back as DataFrames
or dicts.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ...errors import JournalError
from ...messages import say
from ...spec import iso_utc
from ._connection import JournalConnection
from ._records import FIELDS, JournalRow
from ._schema import CALLED_SQL

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Reports"]


class Reports(JournalConnection):
    """Kept columns, waits and reports (a part of :class:`~cmvoice_nb.campaign.Journal`)."""

    def keep(self, campaign: str, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Store the operator's own columns of rows: ``(row_id, {column: value})`` each (``keep=``).

        The row id is the row's wave-1 instruction id. Values are stored as text (missing ones as
        null); a row stored before gets the new values (the operator may have corrected a name).
        One transaction. Returns how many rows were written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from cmvoice_nb.campaign import Journal
        >>> with Journal(pathlib.Path(tempfile.mkdtemp()) / "j.sqlite") as j:
        ...     _ = j.keep("spring", [("spring-1", {"Klantnummer": "10234", "Naam": "Anne"})])
        ...     j.kept("spring").loc["spring-1", "Klantnummer"]
        '10234'
        """
        def text(value: Any) -> Any:
            if value is None or (isinstance(value, float) and value != value):
                return None
            return value if isinstance(value, str) else str(value)

        items = [(campaign, str(row_id), json.dumps({str(k): text(v) for k, v in values.items()},
                                                    ensure_ascii=False))
                 for row_id, values in rows]
        if not items:
            return 0
        with self._tx() as c:
            try:
                c.executemany("INSERT OR REPLACE INTO kept VALUES (?, ?, ?)", items)
            except UnicodeEncodeError:
                raise JournalError(f"{self.path}: campaign {campaign!r}: a kept column holds text that is not valid "
                                   "Unicode (a lone surrogate?); nothing of it was stored") from None
        return len(items)

    def kept(self, campaign: str) -> pd.DataFrame:
        """The operator's own columns stored with *campaign*'s rows (see :meth:`keep`), indexed by row id."""
        import pandas as pd

        with self._lock:
            rows = self._connection().execute(
                "SELECT row_id, columns FROM kept WHERE campaign = ? ORDER BY rowid", (campaign,)).fetchall()
        index = pd.Index([r for r, _ in rows], name="row_id", dtype=object)
        frame: pd.DataFrame = pd.DataFrame.from_records([json.loads(data) for _, data in rows], index=index)
        if len(frame.columns):
            frame = frame.astype(object).where(frame.notna(), None)
        return frame

    def assign_variants(self, campaign: str, rows: Iterable[tuple[str, str | None]]) -> int:
        """Store each row's A/B variant (``(row_id, variant)``, ``"holdout"`` included); the first stored stays.

        A row whose variant is None (no A/B test) is skipped.

        A person keeps the variant the first run gave them, whatever later runs compute, so an A/B
        test is never mixed by a changed design. Returns how many rows were new.
        """
        items = [(campaign, str(row_id), str(variant)) for row_id, variant in rows if variant is not None]
        if not items:
            return 0
        with self._tx() as c:
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO variants VALUES (?, ?, ?)", items)
            return c.total_changes - before

    def variants(self, campaign: str) -> dict[str, str]:
        """Row id (wave-1 id) → the A/B variant stored for *campaign* (see :meth:`assign_variants`)."""
        with self._lock:
            return dict(self._connection().execute(
                "SELECT row_id, variant FROM variants WHERE campaign = ? ORDER BY rowid", (campaign,)).fetchall())

    def set_design(self, campaign: str, design: Mapping[str, Any]) -> None:
        """Store *campaign*'s test design (A/B variants, holdout, seed, opt-out key) as JSON; replaces the earlier.
        """
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                      (f"design:{campaign}", json.dumps(dict(design), ensure_ascii=False, sort_keys=True)))

    def design(self, campaign: str) -> dict[str, Any]:
        """*campaign*'s stored design (see :meth:`set_design`); empty when none was stored.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from cmvoice_nb.campaign import Journal
        >>> with Journal(pathlib.Path(tempfile.mkdtemp()) / "j.sqlite") as j:
        ...     j.set_design("spring", {"holdout": 0.1, "seed": 7, "opt_out_digit": "9"})
        ...     j.design("spring")["opt_out_digit"], j.design("autumn")
        ('9', {})
        """
        with self._lock:
            found = self._connection().execute("SELECT value FROM meta WHERE key = ?",
                                               (f"design:{campaign}",)).fetchone()
        return json.loads(found[0]) if found else {}

    def record_waits(self, campaign: str, waits: Iterable[tuple[str, str, Any]], *, at: Any = None) -> int:
        """Record why rows waited: ``(instruction_id, reason, until)`` each (*until* None: no opening known).

        *at* and *until* are datetimes (the sender's injected clock) or ISO text; default: now.
        """
        def text(value: Any) -> str | None:
            if value is None or isinstance(value, str):
                return value
            return iso_utc(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)

        waits = list(waits)
        stamp = text(at) or iso_utc()
        with self._tx() as c:
            c.executemany("INSERT INTO waits VALUES (?, ?, ?, ?, ?)",
                          [(campaign, iid, stamp, text(until), say(reason)) for iid, reason, until in waits])
        return len(waits)

    def set_subdivision_column(self, campaign: str, column: str) -> None:
        """Record which kept column of *campaign* gives each row's subdivision (``columns={"subdivision": ...}``)."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"subdivision:{campaign}", str(column)))

    def subdivision_column(self, campaign: str) -> str | None:
        """The kept column of *campaign* that gives each row's subdivision, or None: a follow-up wave reads it."""
        with self._lock:
            found = self._connection().execute("SELECT value FROM meta WHERE key = ?",
                                               (f"subdivision:{campaign}",)).fetchone()
        return found[0] if found else None

    def set_validity(self, campaign: str, windows: Iterable[tuple[str, Any, Any]]) -> int:
        """Store the end of each row's validity window: ``(instruction_id, registered_at, valid_until)`` each.

        A row that has a window keeps it (the first stored wins): a resumed run honours the window
        the row was first registered with. Returns how many were stored.
        """
        def text(value: Any) -> str:
            return value if isinstance(value, str) else iso_utc(value)

        with self._tx() as c:
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO validity VALUES (?, ?, ?, ?)",
                          [(campaign, iid, text(at), text(until)) for iid, at, until in windows])
            return c.total_changes - before

    def validity(self, campaign: str) -> dict[str, Any]:
        """Instruction id → the end of its validity window (an aware UTC datetime), for *campaign*'s rows with one."""
        import datetime as _dt

        with self._lock:
            rows = self._connection().execute(
                "SELECT instruction_id, valid_until FROM validity WHERE campaign = ?", (campaign,)).fetchall()
        return {iid: _dt.datetime.fromisoformat(until.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)
                for iid, until in rows}

    def waits(self, campaign: str | None = None) -> pd.DataFrame:
        """Every recorded wait (``campaign``, ``instruction_id``, ``at``, ``until``, ``reason``) as a DataFrame."""
        import pandas as pd

        with self._lock:
            sql = "SELECT campaign, instruction_id, at, until, reason FROM waits"
            cur = self._connection().execute(sql + (" WHERE campaign = ?" if campaign else "") + " ORDER BY rowid",
                                             (campaign,) if campaign else ())
            rows = cur.fetchall()
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["campaign", "instruction_id", "at", "until", "reason"])
        return frame

    def to_frame(self, campaign: str | None = None) -> pd.DataFrame:
        """The journal as a DataFrame (one row per record), optionally for one campaign."""
        import pandas as pd

        with self._lock:
            if campaign is None:
                cur = self._connection().execute(f"SELECT {FIELDS} FROM rows ORDER BY campaign, instruction_id")
            else:
                cur = self._connection().execute(
                    f"SELECT {FIELDS} FROM rows WHERE campaign = ? ORDER BY instruction_id", (campaign,)
                )
            rows = cur.fetchall()
        df: pd.DataFrame = pd.DataFrame(rows, columns=list(JournalRow._fields))
        df["http_status"] = df["http_status"].astype("Int64")
        return df

    def counts(self, campaign: str) -> dict[str, int]:
        """State → number of rows, for *campaign*."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT state, COUNT(*) FROM rows WHERE campaign = ? GROUP BY state", (campaign,)
            ).fetchall()
        return dict(rows)

    def spent(self, campaign: str) -> float:
        """The campaign's cost so far: the upper-bound cost of every attempt whose call may exist (all waves).

        Attempts are costed when a run with a budget (``max_cost=``) sends them; an attempt sent
        without one has no cost recorded and counts 0.
        """
        with self._lock:
            found = self._connection().execute(
                "SELECT SUM(c.cost) FROM costs c JOIN rows r ON r.campaign = c.campaign AND "
                f"r.instruction_id = c.instruction_id WHERE c.campaign = ? AND r.state IN {CALLED_SQL}",
                (campaign,)).fetchone()
        return float(found[0] or 0.0)

    def record_run(self, campaign: str, *, wave: int | None, started_at: str, counts: Mapping[str, int],
                   exit_status: int | None) -> None:
        """Record a finished run of *campaign*: its wave, when it ran, its counts and its exit status."""
        with self._tx() as c:
            c.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                      (campaign, wave, started_at, iso_utc(), json.dumps(dict(counts)), exit_status))

    def runs(self, campaign: str | None = None) -> list[dict[str, Any]]:
        """Every recorded run, oldest first: ``campaign``, ``wave``, ``started_at``, ``ended_at``, ``counts``,
        ``exit``."""
        with self._lock:
            sql = "SELECT campaign, wave, started_at, ended_at, counts, exit FROM runs"
            rows = self._connection().execute(sql + (" WHERE campaign = ?" if campaign else "") + " ORDER BY rowid",
                                              (campaign,) if campaign else ()).fetchall()
        return [{"campaign": c, "wave": w, "started_at": s, "ended_at": e, "counts": json.loads(n), "exit": x}
                for c, w, s, e, n, x in rows]
