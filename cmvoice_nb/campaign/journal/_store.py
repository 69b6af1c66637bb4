"""The journal's store: :class:`Journal`, the records' states and the people guard.

:class:`Journal` joins the connection (:mod:`._connection`: opening, run lock, transactions),
registration (:mod:`._register`) and reports (:mod:`._reports`) to what lives here: a row's way
from ``pending`` through ``sending`` to its outcome (:meth:`Journal.mark_sending`,
:meth:`Journal.mark_done`, :meth:`Journal.recover`, :meth:`Journal.hold`), the guard that never
calls a person twice (:meth:`Journal.mark_sending`), and what a re-run reads
(:meth:`Journal.statuses`, :meth:`Journal.live_callees`).
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Container, Iterable

from ...errors import JournalError
from ...messages import say
from ...spec import iso_utc
from ...wire import callee_numbers
from ..vocabulary import JOURNAL_STATES, UNPLACED_STATES
from ._records import COLUMN, FIELDS, R_FIELDS, STATE_NAMES, JournalRow, LiveCall, RowStatus
from ._register import Registering
from ._reports import Reports
from ._schema import CALLED_SQL, LIVE_SQL, table_numbers

__all__ = ["Journal", "STATES"]

# The journal's one logger, whichever of its modules writes.
log = logging.getLogger(__package__)

#: Every state a journal row can be in (:data:`cmvoice_nb.spec.STATUS` owns the vocabulary;
#: ``CALLED_STATES``, where a call may exist, is what the callee guard refuses to call again).
STATES = JOURNAL_STATES


class Journal(Registering, Reports):
    """SQLite (WAL) ledger of one or more campaigns.

    Parameters
    ----------
    path
        The database file; created with its folder if missing. Symlinks are resolved: the
        database, its ``-wal`` file and its lock are those of the real file.
    durable
        ``True`` (default) commits with ``synchronous=FULL``: a ``sending`` mark is on disk
        before the request leaves, even across a power loss. ``False`` uses ``NORMAL``, which
        still survives a killed process but not a power cut.

    Attributes
    ----------
    real_path
        The file the database really is (symlinks resolved): what the run lock is about.
    campaign_key
        The random key this journal drew when it was created; part of every derived id.

    Raises
    ------
    JournalError
        The file is not a journal, has a newer schema, or a running send holds it.

    Notes
    -----
    The object is safe to share between threads: one connection, guarded by a lock.
    """

    # ------------------------------------------------------------ campaign
    def ensure_campaign(self, name: str, *, app: str) -> None:
        """Record campaign *name* for *app*; raise :class:`JournalError` if it was another app."""
        with self._tx() as c:
            row = c.execute("SELECT app FROM campaigns WHERE name = ?", (name,)).fetchone()
            if row is None:
                c.execute("INSERT INTO campaigns VALUES (?, ?, ?)", (name, app, iso_utc()))
            elif row[0] != app:
                raise JournalError(
                    f"{self.path}: campaign {name!r} in this journal is a {row[0]!r} campaign, not {app!r}; "
                    "use another campaign name or journal"
                )

    def campaigns(self) -> dict[str, str]:
        """Campaign name → app, for every campaign in the journal."""
        with self._lock:
            return dict(self._connection().execute("SELECT name, app FROM campaigns ORDER BY name").fetchall())

    def created_at(self, campaign: str) -> str | None:
        """When *campaign* was first recorded in this journal (ISO 8601 UTC), or None for an unknown one."""
        with self._lock:
            found = self._connection().execute("SELECT created_at FROM campaigns WHERE name = ?",
                                               (campaign,)).fetchone()
        return found[0] if found else None

    def payloads(self, campaign: str) -> dict[str, bytes | None]:
        """Instruction id → the JSON bytes sent for it (None for rows of a journal of schema 1 or 2, before waves)."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT instruction_id, payload FROM rows WHERE campaign = ?", (campaign,)).fetchall()
        return {iid: None if p is None else bytes(p) for iid, p in rows}

    def recover(self, campaign: str) -> list[str]:
        """Turn rows left in ``sending`` by a crashed run into ``unknown``; return their ids."""
        with self._tx() as c:
            # The live condition lets SQLite read the few live records through rows_live instead of
            # scanning every record of a big campaign.
            where = f"WHERE {LIVE_SQL} AND state = 'sending' AND +campaign = ?"
            ids = [r[0] for r in c.execute(f"SELECT instruction_id FROM rows {where}", (campaign,))]
            if ids:
                c.execute(
                    f"UPDATE rows SET state = 'unknown', updated_at = ?, error = ? {where}",
                    (iso_utc(),
                     "run ended while the request was in flight (crash or kill): the call may have been placed",
                     campaign),
                )
        if ids:
            log.warning("campaign %r: %d row(s) were mid-request when a previous run ended; marked unknown",
                        campaign, len(ids))
        return ids

    # ------------------------------------------------------------- per row
    def get(self, campaign: str, instruction_id: str) -> JournalRow | None:
        """The record of one row, or None."""
        with self._lock:
            row = self._connection().execute(
                f"SELECT {FIELDS} FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
            ).fetchone()
        return JournalRow(*row) if row else None

    def load(self, campaign: str) -> dict[str, JournalRow]:
        """Every record of *campaign*, keyed by instruction id."""
        with self._lock:
            rows = self._connection().execute(f"SELECT {FIELDS} FROM rows WHERE campaign = ?", (campaign,)).fetchall()
        return {r[1]: JournalRow(*r) for r in rows}

    def called_numbers(self) -> dict[str, list[JournalRow]]:
        """Number → the records (any campaign, earliest first) whose call to it may exist.

        "May exist" means the record is ``sending``, ``queued`` or ``unknown``: these are the
        people the journal's guard refuses to call again.
        """
        with self._lock:
            rows = self._connection().execute(
                f"SELECT {FIELDS} FROM rows WHERE {LIVE_SQL} ORDER BY COALESCE(sent_at, updated_at)"
            ).fetchall()
        out: dict[str, list[JournalRow]] = {}
        for rec in rows:
            record = JournalRow(*rec)
            # The callees table holds exactly the numbers of each record's callee cell.
            for number in callee_numbers(record.callee):
                out.setdefault(number, []).append(record)
        return out

    def statuses(self, campaign: str) -> dict[str, RowStatus]:
        """Instruction id → what a re-run needs of the record (:class:`RowStatus`), for *campaign*.

        The lean counterpart of :meth:`load` for big campaigns: no label, callee, payload or
        wave columns are read, the cursor is consumed as it goes (no list of every record
        first), state names are shared, and records with nothing of their own (never attempted,
        no call id) share one tuple. ``payload_hash`` is given only for records whose call may
        exist (``queued``, ``unknown``, ``sending``: where a changed row matters) and ``error``
        not for ``pending``, ``deferred`` or ``budget`` records (their hold reasons); both are None otherwise.
        """
        shared: dict[RowStatus, RowStatus] = {}
        out: dict[str, RowStatus] = {}
        with self._lock:
            cur = self._connection().execute(
                f"SELECT instruction_id, state, CASE WHEN state IN {CALLED_SQL} THEN payload_hash END, attempts,"
                " http_status, call_ids,"
                " CASE WHEN state IN ('pending', 'deferred', 'budget') THEN NULL ELSE error END, sent_at"
                " FROM rows WHERE campaign = ?", (campaign,))
            while batch := cur.fetchmany(10_000):
                for iid, state, h, attempts, status, call_ids, error, sent_at in batch:
                    rec = RowStatus(STATE_NAMES.get(state, state), h, attempts, status, call_ids, error, sent_at)
                    if h is None and call_ids is None and error is None and sent_at is None:
                        rec = shared.setdefault(rec, rec)
                    out[iid] = rec
        return out

    def live_callees(self, numbers: Container[str] | None = None) -> dict[str, list[LiveCall]]:
        """Number → the calls to it that may exist (any campaign, earliest first), as :class:`LiveCall`.

        The lean counterpart of :meth:`called_numbers`: only the records ``sending``, ``queued``
        or ``unknown`` are read (through the ``rows_live`` index), and with *numbers* only those
        numbers are kept (a re-run passes the numbers of the rows it may still send).
        """
        out: dict[str, list[LiveCall]] = {}
        names: dict[str, str] = {}
        with self._lock:
            cur = self._connection().execute(
                "SELECT campaign, instruction_id, state, call_ids, wave, base_id, outcome, callee FROM rows"
                f" WHERE {LIVE_SQL} ORDER BY COALESCE(sent_at, updated_at)")
            while batch := cur.fetchmany(10_000):
                for campaign, iid, state, call_ids, wave, base_id, outcome, callee in batch:
                    wanted = [n for n in callee_numbers(callee) if numbers is None or n in numbers]
                    if not wanted:
                        continue
                    call = LiveCall(names.setdefault(campaign, campaign), iid, STATE_NAMES.get(state, state), call_ids,
                                    wave, base_id or iid, outcome)
                    for number in wanted:
                        out.setdefault(number, []).append(call)
        return out

    def _earlier_call(self, c: sqlite3.Connection, numbers: list[str], campaign: str, instruction_id: str,
                      base_id: str | None = None, wave: int = 1) -> JournalRow | None:
        if not numbers:
            return None
        marks = ",".join("?" * len(numbers))
        # An earlier attempt of the same row whose call ended (its outcome is recorded) does not
        # block this wave's attempt; every other call that may exist does.
        others = (" AND NOT (r.campaign = ? AND r.instruction_id = ?)"
                  " AND NOT (r.campaign = ? AND COALESCE(r.base_id, r.instruction_id) = ? AND r.wave < ?"
                  " AND r.outcome IS NOT NULL)")
        args = (campaign, instruction_id, campaign, base_id or instruction_id, int(wave))
        # A single callee is found through rows_live, a multi-callee row's numbers (and every
        # number of a journal of schema 1 to 3) through the callees table.
        row = c.execute(
            f"SELECT {FIELDS} FROM (SELECT {R_FIELDS} FROM rows r"
            f" WHERE r.callee IN ({marks}) AND {LIVE_SQL}{others}"
            f" UNION SELECT {R_FIELDS} FROM callees c JOIN rows r"
            " ON r.campaign = c.campaign AND r.instruction_id = c.instruction_id"
            f" WHERE c.number IN ({marks}) AND r.state IN {CALLED_SQL}{others})"
            " ORDER BY COALESCE(sent_at, updated_at) LIMIT 1",
            (*numbers, *args, *numbers, *args),
        ).fetchone()
        return JournalRow(*row) if row else None

    def record_outcomes(self, campaign: str, outcomes: Iterable[tuple[str, str, str | None]]) -> None:
        """Record how calls ended: ``(instruction_id, outcome, finished_on)`` from their callbacks.

        Only a record whose call may exist (``queued``/``unknown``) takes an outcome; it is what
        lets the next wave of the same row call that callee again.
        """
        items = [(o, f, campaign, iid) for iid, o, f in outcomes if o]
        with self._tx() as c:
            c.executemany(
                f"UPDATE rows SET outcome = ?, finished_on = ? WHERE campaign = ? AND instruction_id = ?"
                f" AND state IN {CALLED_SQL}", items)

    def mark_sending(
        self,
        campaign: str,
        instruction_id: str,
        *,
        payload_hash: str | None = None,
        callee: str | None = None,
        resend_unknown: bool = False,
        resend_queued: bool = False,
        allow_repeat: bool = False,
        ended: Iterable[tuple[str, str, str | None]] = (),
        payload: bytes | None = None,
        cost: float | None = None,
    ) -> JournalRow:
        """Commit ``sending`` (attempts + 1) before the request leaves; return the new record.

        A row may leave from ``pending``, ``rejected``, ``failed``, ``deferred``, ``budget`` or
        ``over-contacted``; from ``unknown`` only with *resend_unknown*, from ``queued`` only with
        *resend_queued* (a changed row sent again on purpose). Unless *allow_repeat*, a row whose
        callee already has a call ``sending``, ``queued`` or ``unknown`` under another record of this
        journal is refused.

        *ended* lists earlier attempts of the same row whose call ended, as
        ``(instruction_id, outcome, finished_on)`` from their callbacks: they are recorded (see
        :meth:`record_outcomes`) in the same transaction, so they do not block a follow-up wave.

        *payload_hash* and *callee* are written only when given and different from what the
        row holds (:meth:`register` wrote them for a new row; a corrected row sends new ones).

        *cost*, the call's upper-bound cost, is recorded in the same transaction: it counts in
        :meth:`spent` for as long as the call may exist.

        Raises
        ------
        JournalError
            The row cannot leave from its state, or its callee was already called; in the
            second case the exception's ``earlier`` attribute is that call's :class:`JournalRow`.
        """
        states = list(UNPLACED_STATES)
        if resend_unknown:
            states.append("unknown")
        if resend_queued:
            states.append("queued")
        now = iso_utc()
        with self._tx() as c:
            current = c.execute(
                f"SELECT {FIELDS} FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
            ).fetchone()
            if current is None or current[5] not in states:
                raise JournalError(
                    f"{self.path}: row {instruction_id!r} of campaign {campaign!r} cannot be sent from state "
                    f"{current[5] if current else 'missing'!r}"
                    + (" (resend_unknown=True sends it again)" if current and current[5] == "unknown" else "")
                )
            numbers = callee_numbers(callee if callee is not None else current[3])
            c.executemany(
                f"UPDATE rows SET outcome = ?, finished_on = ? WHERE campaign = ? AND instruction_id = ?"
                f" AND state IN {CALLED_SQL}",
                [(o, f, campaign, iid) for iid, o, f in ended if o])
            if not allow_repeat:
                earlier = self._earlier_call(c, numbers, campaign, instruction_id,
                                             current[COLUMN["base_id"]], current[COLUMN["wave"]])
                if earlier is not None:
                    err = JournalError(
                        f"{self.path}: {', '.join(numbers)} already has a call ({earlier.state}) as "
                        f"{earlier.instruction_id!r} of campaign {earlier.campaign!r}; not called again "
                        "(allow_repeat=True calls them again)"
                    )
                    err.earlier = earlier  # type: ignore[attr-defined]  # the blocking record, for the sender
                    raise err
            changes = {"payload_hash": payload_hash, "callee": callee}
            changes = {k: v for k, v in changes.items() if v is not None and v != current[COLUMN[k]]}
            stored = {} if payload is None else {"payload": bytes(payload)}  # the bytes that leave now
            c.execute(
                "UPDATE rows SET state = 'sending', attempts = attempts + 1, sent_at = ?, updated_at = ?,"
                " error = NULL, http_status = NULL" + "".join(f", {k} = ?" for k in (*changes, *stored))
                + " WHERE campaign = ? AND instruction_id = ?",
                (now, now, *changes.values(), *stored.values(), campaign, instruction_id),
            )
            if cost is not None:
                c.execute("INSERT OR REPLACE INTO costs VALUES (?, ?, ?)", (campaign, instruction_id, float(cost)))
            if "callee" in changes:  # a corrected row dials other numbers now
                c.execute("DELETE FROM callees WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id))
                c.executemany("INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                              [(n, campaign, instruction_id) for n in table_numbers(changes["callee"])])
        return JournalRow(*current)._replace(
            state="sending", attempts=current[6] + 1, payload_hash=changes.get("payload_hash", current[4]),
            callee=changes.get("callee", current[3]), sent_at=now, updated_at=now, error=None,
            http_status=None)

    def mark_done(
        self,
        campaign: str,
        instruction_id: str,
        state: str,
        *,
        http_status: int | None = None,
        call_ids: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome of a request (``queued``, ``rejected``, ``failed``, ``unknown`` or ``pending``)."""
        if state not in STATES or state == "sending":
            raise ValueError(f"state must be one of {STATES[:1] + STATES[2:]}, got {state!r}")
        with self._tx() as c:
            c.execute(
                "UPDATE rows SET state = ?, http_status = ?, call_ids = ?, error = ?, updated_at = ?"
                " WHERE campaign = ? AND instruction_id = ?",
                (state, http_status, call_ids, say(error) if error else error, iso_utc(), campaign, instruction_id),
            )

    # ------------------------------------------------- calling hours, do-not-call
    #: States :meth:`hold` may move a row from: nothing was called (a called row keeps its state).
    HOLDABLE_STATES = ("pending", "deferred", "suppressed", "failed", "rejected", "budget", "holdout",
                       "over-contacted")

    def hold(self, campaign: str, rows: Iterable[tuple[str, str | None, str | None, str | None, str | None]],
             state: str) -> int:
        """Put rows that are not being sent in *state*, with a reason.

        *state* is ``deferred``, ``suppressed``, ``budget``, ``holdout``, ``expired``,
        ``over-contacted`` or ``pending``.

        *rows* are ``(instruction_id, row_label, callee, payload_hash, reason)``; a row new to the
        journal is added (its callees indexed), one the journal holds moves only from a state in
        which nothing was called (:attr:`HOLDABLE_STATES`), and its ``error`` becomes *reason*.
        Returns how many records were written. One transaction for all rows.
        """
        if state not in ("deferred", "suppressed", "budget", "holdout", "pending", "expired", "over-contacted"):
            raise ValueError(f"hold() puts rows in deferred, suppressed, budget, holdout, expired, over-contacted or "
                             f"pending, not {state!r}")
        rows = list(rows)
        now = iso_utc()
        allowed = ",".join(f"'{s}'" for s in self.HOLDABLE_STATES)
        with self._tx() as c:
            c.executemany(
                "INSERT OR IGNORE INTO rows"
                " (campaign, instruction_id, row_label, callee, payload_hash, state, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(campaign, iid, label, callee, h, now) for iid, label, callee, h, _r in rows])
            c.executemany("INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                          [(n, campaign, iid) for iid, _l, callee, _h, _r in rows for n in table_numbers(callee)])
            middle = c.total_changes
            c.executemany(
                f"UPDATE rows SET state = ?, error = ?, updated_at = ? WHERE campaign = ? AND instruction_id = ?"
                f" AND state IN ({allowed})",
                [(state, say(reason) if reason else reason, now, campaign, iid) for iid, _l, _c, _h, reason in rows])
            return c.total_changes - middle
