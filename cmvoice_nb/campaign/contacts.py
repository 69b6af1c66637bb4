"""The contact ledger: every call placed to a person, across campaigns, and a cap per period.

One SQLite file (``contacts=PATH`` / ``--contacts FILE``) shared by any number of campaigns and
their journals records each call per number: which campaign, which row (wave ids included, so
follow-up waves count), when. ``max_contacts="1/7d"`` refuses a call that would make more than 1
call to that person in 7 days; the row ends ``over-contacted``, naming the earlier campaign and
time.

Two campaigns may send at once: a call is *reserved* in one write transaction (count and insert
together, ``BEGIN IMMEDIATE``) before its request leaves, confirmed once the provider queued it
(or its outcome is unknown: it may exist), and released when it was definitely not placed. A run
killed between the reservation and the answer leaves a reservation that counts (never fewer
contacts than were made); the next run of that campaign settles it from its journal
(:meth:`ContactLedger.settle`). The file is in WAL mode: readers never wait for the writer.

Examples
--------
>>> import datetime as dt, pathlib, tempfile
>>> ledger = ContactLedger(pathlib.Path(tempfile.mkdtemp()) / "contacts.sqlite")
>>> at = dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.timezone.utc)
>>> ledger.reserve(["+31612345678"], campaign="spring", instruction_id="a", at=at, rule=(1, dt.timedelta(days=7)))
>>> blocked = ledger.reserve(["+31612345678"], campaign="summer", instruction_id="b", at=at + dt.timedelta(days=2),
...                          rule=(1, dt.timedelta(days=7)))
>>> blocked.campaign, blocked.at.isoformat()
('spring', '2026-04-20T09:00:00+00:00')
>>> ledger.close()
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import CampaignError
from ..messages import opt
from ..spec import iso_utc

__all__ = ["ContactLedger", "Contact", "parse_max_contacts", "over_contacted_reason"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    number          TEXT NOT NULL,
    campaign        TEXT NOT NULL,
    instruction_id  TEXT NOT NULL,
    at              TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('reserved', 'placed')),
    journal         TEXT,
    PRIMARY KEY (campaign, instruction_id, number)
);
CREATE INDEX IF NOT EXISTS contacts_by_number ON contacts (number, at)
"""
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(.+?)\s*$")


class Contact(NamedTuple):
    """One call to a number recorded in the ledger."""

    number: str
    campaign: str
    instruction_id: str
    at: _dt.datetime
    state: str


def parse_max_contacts(value: Any) -> tuple[int, _dt.timedelta]:
    """``"1/7d"`` (calls/period) as ``(1, timedelta(days=7))``; a ``(calls, period)`` pair is read too.

    Examples
    --------
    >>> parse_max_contacts("2/24h")
    (2, datetime.timedelta(days=1))
    >>> parse_max_contacts("weekly")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: max_contacts=: 'weekly' is not calls/period (write e.g. 1/7d or 2/24h)
    """
    from .ops.validity import parse_duration

    where = opt("max_contacts")
    if isinstance(value, tuple) and len(value) == 2:
        calls, period = value
    else:
        m = _RULE.match(str(value))
        if m is None:
            raise CampaignError(f"{where}: {value!r} is not calls/period (write e.g. 1/7d or 2/24h)")
        calls, period = m.group(1), m.group(2)
    try:
        calls = int(calls)
    except (TypeError, ValueError):
        raise CampaignError(f"{where}: {value!r} is not calls/period (write e.g. 1/7d or 2/24h)") from None
    if calls < 1:
        raise CampaignError(f"{where}: {value!r} allows no call at all (write 1 or more calls per period)")
    return calls, parse_duration(period, name="max_contacts")


def over_contacted_reason(number: str, earlier: Contact, rule: tuple[int, _dt.timedelta]) -> str:
    """Why a call to *number* is refused: the cap and the latest earlier call (a message template)."""
    calls, period = rule
    days = period.total_seconds() / 86400
    span = f"{days:g} day{'s' if days != 1 else ''}" if days >= 1 else f"{period.total_seconds() / 3600:g} h"
    return (f"{number} was already called {calls} time{'s' if calls != 1 else ''} in {span} (the latest by "
            f"campaign {earlier.campaign!r} at {earlier.at:%Y-%m-%d %H:%M} UTC); {opt('max_contacts')} allows "
            f"{calls}: not called")


def _iso(at: _dt.datetime) -> str:
    return iso_utc(at.astimezone(_dt.timezone.utc))  # fixed width: stored times compare as text


def _parse(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)


class ContactLedger:
    """The contact ledger at *path* (created when missing), safe for several processes and threads.

    Parameters
    ----------
    path
        The SQLite file; campaigns that share it count each other's calls.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise CampaignError(f"{opt('contacts')}: {self.path} is not a file")
        try:
            self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._conn.execute(statement)
        except sqlite3.OperationalError as exc:
            raise CampaignError(f"{opt('contacts')}: {self.path}: cannot open it ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise CampaignError(f"{opt('contacts')}: {self.path} is not a contact ledger ({exc})") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ContactLedger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ContactLedger({str(self.path)!r})"

    # ------------------------------------------------------------------ reading
    def contacts(self, numbers: Iterable[str], *, since: _dt.datetime | None = None) -> dict[str, list[Contact]]:
        """Number → its recorded calls (reserved or placed) after *since*, earliest first."""
        wanted = sorted(set(numbers))
        out: dict[str, list[Contact]] = {}
        floor = _iso(since) if since is not None else ""
        with self._lock:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                rows = self._conn.execute(
                    f"SELECT number, campaign, instruction_id, at, state FROM contacts WHERE number IN "
                    f"({','.join('?' * len(chunk))}) AND at > ? ORDER BY at", (*chunk, floor)).fetchall()
                for n, c, iid, at, state in rows:
                    out.setdefault(n, []).append(Contact(n, c, iid, _parse(at), state))
        return out

    def to_frame(self):
        """Every recorded call as a DataFrame.

        Columns: ``number``, ``campaign``, ``instruction_id``, ``at``, ``state``, ``journal``.
        """
        import pandas as pd

        with self._lock:
            rows = self._conn.execute("SELECT number, campaign, instruction_id, at, state, journal FROM contacts "
                                      "ORDER BY at").fetchall()
        return pd.DataFrame(rows, columns=["number", "campaign", "instruction_id", "at", "state", "journal"])

    # ------------------------------------------------------------------ writing
    def reserve(self, numbers: Iterable[str], *, campaign: str, instruction_id: str, at: _dt.datetime,
                rule: tuple[int, _dt.timedelta] | None = None, journal: str | None = None) -> Contact | None:
        """Reserve a call of (*campaign*, *instruction_id*) to *numbers* at *at*, unless *rule* refuses it.

        In one write transaction: the calls to each number in the period before *at* (this row's
        own reservation left out) are counted, and the reservation is written only when each
        count is below *rule*'s. Returns None when reserved, else the latest earlier call that
        fills the cap (nothing is written).
        """
        numbers = sorted(set(numbers))
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                if rule is not None:
                    calls, period = rule
                    for n in numbers:
                        found = c.execute(
                            "SELECT number, campaign, instruction_id, at, state FROM contacts WHERE number = ? AND "
                            "at > ? AND NOT (campaign = ? AND instruction_id = ?) ORDER BY at DESC",
                            (n, _iso(at - period), campaign, instruction_id)).fetchall()
                        if len(found) >= calls:
                            c.execute("ROLLBACK")
                            n0, c0, i0, at0, s0 = found[0]
                            return Contact(n0, c0, i0, _parse(at0), s0)
                # A call of this row the ledger holds already (placed, or reserved by a run that
                # ended early) stays as it is: a retry never turns a placed call back into a reservation.
                c.executemany("INSERT OR IGNORE INTO contacts VALUES (?, ?, ?, ?, 'reserved', ?)",
                              [(n, campaign, instruction_id, _iso(at), journal) for n in numbers])
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
        return None

    def confirm(self, campaign: str, instruction_id: str) -> None:
        """The reserved call was placed (or may have been): it counts for good."""
        with self._lock:
            self._conn.execute("UPDATE contacts SET state = 'placed' WHERE campaign = ? AND instruction_id = ?",
                               (campaign, instruction_id))

    def release(self, campaign: str, instruction_id: str) -> None:
        """The reserved call was definitely not placed: it does not count."""
        with self._lock:
            self._conn.execute("DELETE FROM contacts WHERE campaign = ? AND instruction_id = ? AND state = 'reserved'",
                               (campaign, instruction_id))

    def settle(self, campaign: str, states: dict[str, str], *, journal: str | None = None) -> int:
        """Settle *campaign*'s reservations left by a run that ended early, from its journal's *states*.

        *states* maps instruction id → journal state. A reservation whose row may have called
        (``queued``, ``unknown``, ``sending``) is confirmed; one whose row placed nothing is
        released. Returns how many were settled.
        """
        from .vocabulary import CALLED_STATES

        with self._lock:
            reserved = [r[0] for r in self._conn.execute(
                "SELECT DISTINCT instruction_id FROM contacts WHERE campaign = ? AND state = 'reserved' AND "
                "(journal IS ? OR ? IS NULL)", (campaign, journal, journal))]
        settled = 0
        for iid in reserved:
            state = states.get(iid)
            if state is None:
                continue  # not this journal's row (another journal, same campaign name): leave it
            (self.confirm if state in CALLED_STATES else self.release)(campaign, iid)
            settled += 1
        return settled
