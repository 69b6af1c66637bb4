"""The campaign journal: one SQLite database (WAL) that makes sending resumable.

Every sendable row has one record keyed by ``(campaign, instruction_id)``. Its state
moves ``pending`` → ``sending`` → ``queued`` / ``rejected`` / ``failed`` / ``unknown``;
``sending`` is written and committed *before* the HTTP request leaves, so a process
killed mid-request (``kill -9``, a kernel restart) leaves ``sending`` behind, and the
next run turns it into ``unknown``: the call may have been placed, it is never resent
unless the user asks for it.

Rows that are not sent in a run on purpose are put aside with :meth:`Journal.hold`: ``deferred``
(outside their calling hours; a later run sends them) or ``suppressed`` (on a do-not-call list;
never sent). Every calling-hours wait is recorded, with its reason and expected opening, in
the ``waits`` table (:meth:`Journal.waits`). A journal whose state list lacks these states is
widened in place when opened (its ``CHECK`` is rebuilt; no record changes).

The journal stores a SHA-256 of the instruction's JSON (to notice a row edited after it
was sent), the JSON itself as the bytes that were sent (so a follow-up wave can send it
again, see :func:`~cmvoice_nb.campaign.plan_followup`), the callee, the provider's call ids
and error text; never the product token.

**Waves.** Every record is one *attempt*: wave 1 is the campaign as planned, wave *n* a
follow-up. A record's ``base_id`` names the row it belongs to (the wave-1 instruction id)
and its ``wave`` the attempt; the pair is unique, so one row is called at most once per
wave. A follow-up attempt may call a callee whose earlier attempt of the *same row* ended
(a callback said so: the earlier record's ``outcome``); any other call that may exist
still blocks it. A journal of schema 1 or 2 (without waves) gets ``wave = 1`` and no stored
payload: those rows cannot be followed up, and :func:`plan_followup` says so.

**Resuming big campaigns.** :meth:`Journal.statuses` (what a re-run needs of every record, as
compact tuples) and :meth:`Journal.live_callees` (the numbers with a call that may exist, read
through ``rows_live``) are what :func:`~cmvoice_nb.campaign.send_campaign` reads before its
first call; :meth:`Journal.load` and :meth:`Journal.called_numbers` give whole records.
:func:`~cmvoice_nb.campaign.send_campaign` stores a row's payload when it is sent
(:meth:`Journal.mark_sending`), not when it is registered: a follow-up wave only ever resends
what was sent. Schema 4 (the ``rows_live`` index; a single callee is not copied into
``callees``) is added in place to a journal of schema 1 to 3; a cmvoice_nb that reads schema 3
refuses a schema-4 journal, since its guard would not see the callees ``rows_live`` indexes.

**Campaign key.** A new journal draws a random *campaign key* (8 hex digits) when it is
created and keeps it for ever (:attr:`Journal.campaign_key`). Default instruction ids
contain it, so two campaigns with the same name on different journals never share an id,
and every run of a campaign on the same journal derives the same ids.

**People, not positions.** Every number a row dials is indexed: a row's single callee by the
partial index ``rows_live`` (only records whose call may exist are in it, so registering a
million pending rows costs it nothing), the numbers of a multi-callee row (and, in a journal
of schema 1 to 3, every row's) by the table ``callees``.
:meth:`Journal.mark_sending` refuses, in the same transaction that marks the row, a row
whose callee already has a call ``sending``, ``queued`` or ``unknown`` anywhere in this
journal, unless the caller passes ``allow_repeat=True``; and it never lets an ``unknown``
row go out again unless ``resend_unknown=True``.

**One run at a time, whatever path names the file.** :meth:`Journal.lock` switches the
connection to SQLite's ``EXCLUSIVE`` locking mode and takes the write lock: SQLite locks
the database file itself (its inode on POSIX, the file handle on Windows), so a symlink, a
relative path or a second name for the same file meets the same lock. The OS releases it
when the process dies. While a run holds it, other processes cannot open the journal at
all; they get a :class:`JournalError` saying a send is running. Taking the lock needs every
other connection to the file closed (SQLite's rule for exclusive mode in WAL): a ``Journal``
left open in a notebook makes a send refuse to start, with a message that says so.

Examples
--------
>>> import tempfile, os
>>> j = Journal(os.path.join(tempfile.mkdtemp(), "j.sqlite"))
>>> j.ensure_campaign("spring", app="notification")
>>> len(j.campaign_key)
8
>>> j.register("spring", [("spring-k-31612345610-1", "0", "+31612345610", "abc")])
1
>>> j.get("spring", "spring-k-31612345610-1").state
'pending'
>>> j.close()
"""
from __future__ import annotations

from ._open import opened_journal, pick_campaign
from ._records import JournalRow, LiveCall, RowStatus
from ._schema import SCHEMA_VERSION
from ._store import STATES, Journal

__all__ = ["Journal", "JournalRow", "RowStatus", "LiveCall", "STATES", "SCHEMA_VERSION", "opened_journal",
           "pick_campaign"]
