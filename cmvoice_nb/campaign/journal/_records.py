"""The journal's records as Python sees them: :class:`JournalRow`, :class:`RowStatus`, :class:`LiveCall`.

Also the column lists the queries select (:data:`FIELDS`, :data:`R_FIELDS`, :data:`COLUMN`) and
:func:`row_tuple`, the tuple :meth:`~cmvoice_nb.campaign.Journal.register` inserts for one row.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from ..vocabulary import JOURNAL_STATES

__all__ = ["JournalRow", "RowStatus", "LiveCall", "STATE_NAMES", "COLUMN", "FIELDS", "R_FIELDS", "row_tuple", "RowItem",
           "RowValues"]


class JournalRow(NamedTuple):
    """One journal record (a row of the ``rows`` table)."""

    campaign: str
    instruction_id: str
    row_label: str | None
    callee: str | None
    payload_hash: str | None
    state: str
    attempts: int
    http_status: int | None
    call_ids: str | None
    error: str | None
    sent_at: str | None
    updated_at: str
    #: The attempt: 1 for the campaign as planned, 2... for follow-up waves.
    wave: int = 1
    #: The row this attempt belongs to: its wave-1 instruction id (None in a journal of schema 1 or 2, before waves).
    base_id: str | None = None
    #: How the call ended, by its callback, once a follow-up recorded it (``Cancelled``...).
    outcome: str | None = None
    #: When the call ended (ISO 8601 UTC), recorded with :attr:`outcome`.
    finished_on: str | None = None

    @property
    def row_id(self) -> str:
        """The row this attempt belongs to (``base_id``, or the id itself in a journal of schema 1 or 2)."""
        return self.base_id or self.instruction_id


class RowStatus(NamedTuple):
    """What a re-run of a campaign needs of one journal record (see :meth:`Journal.statuses`)."""

    state: str
    #: The record's payload hash, only where a call may exist (None otherwise).
    payload_hash: str | None
    attempts: int
    http_status: int | None
    call_ids: str | None
    #: The record's error, except for ``pending`` and ``deferred`` records (None for them).
    error: str | None
    sent_at: str | None


class LiveCall(NamedTuple):
    """A call that may exist: a ``sending``, ``queued`` or ``unknown`` record (see :meth:`Journal.live_callees`)."""

    campaign: str
    instruction_id: str
    state: str
    call_ids: str | None
    wave: int
    #: The row the attempt belongs to (its wave-1 instruction id).
    row_id: str
    outcome: str | None


#: One shared string per state name (a million records need not hold a million copies of "queued").
STATE_NAMES = {s: s for s in JOURNAL_STATES}

#: Position of each column in a ``SELECT`` of :data:`FIELDS` (the stored payload is read apart).
COLUMN = {name: i for i, name in enumerate(JournalRow._fields)}
FIELDS = ", ".join(JournalRow._fields)
R_FIELDS = ", ".join(f"r.{f}" for f in JournalRow._fields)


#: One row as :meth:`~cmvoice_nb.campaign.Journal.register` takes it:
#: ``(instruction_id, row_label, callee, payload_hash[, payload[, wave[, base_id]]])``.
RowItem = tuple[Any, ...]
#: The values inserted into ``rows`` for one row: campaign, instruction_id, row_label, callee,
#: payload_hash, updated_at, wave, base_id, payload.
RowValues = tuple[str, str, str, str, str, str, int, str, "bytes | None"]


def row_tuple(campaign: str, now: str, item: RowItem) -> RowValues:
    """The values :meth:`~cmvoice_nb.campaign.Journal.register` inserts into ``rows`` for one row.

    *item* is ``(instruction_id, row_label, callee, payload_hash[, payload[, wave[, base_id]]])``;
    *wave* defaults to 1 and *base_id* to the instruction id.

    Examples
    --------
    >>> row_tuple("spring", "2026-03-30T07:00:00.000Z", ("spring-1", "0", "+31612345610", "abc"))
    ('spring', 'spring-1', '0', '+31612345610', 'abc', '2026-03-30T07:00:00.000Z', 1, 'spring-1', None)
    """
    if len(item) == 7:  # send_campaign's shape: no padding per row of a million
        iid, label, callee, h, payload, wave, base = item
    else:
        iid, label, callee, h, payload, wave, base = (tuple(item) + (None, None, None))[:7]
    return (campaign, iid, label, callee, h, now, int(wave or 1), base or iid,
            None if payload is None else bytes(payload))
