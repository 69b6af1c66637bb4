"""The campaign's status vocabulary: every set of statuses, and what resolves each, from one table.

:data:`cmvoice_nb.spec.STATUS` owns the statuses and their flags; everything here is derived
from it, so a status added there reaches the journal's SQL ``CHECK``, the results, the summary,
``--help`` and the exit status at once. :data:`FIX` says what resolves each status that needs
the operator, naming options through :func:`~cmvoice_nb.messages.opt` so that every front-end
says them in its own words.

Examples
--------
>>> "queued" in CALLED_STATES, "invalid" in ATTENTION_STATUSES, "pending" in RESULT_STATUSES
(True, True, False)
>>> from cmvoice_nb.messages import say
>>> say(FIX["unknown"], "cli").endswith("--resend-unknown sends them again (may call twice)")
True
"""
from __future__ import annotations

from ..messages import opt
from ..spec import STATUS, Status

__all__ = ["STATUS", "Status", "RESULT_STATUSES", "ATTENTION_STATUSES", "JOURNAL_STATES", "CALLED_STATES",
           "SENT_STATUSES", "FINAL_STATUSES", "FIX"]

#: Statuses a results row can have, in the order summaries count them.
RESULT_STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.result)
#: Statuses that need the operator, in the order the summary lists them.
ATTENTION_STATUSES: tuple[str, ...] = ("invalid", "failed", "rejected", "unknown", "changed", "already-called",
                                       "deferred", "skipped")
#: States the journal stores (its SQL ``CHECK`` lists exactly these).
JOURNAL_STATES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.journal)
#: States whose call may exist: the journal's people guard and callback matching use them.
CALLED_STATES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.may_have_called)
#: Statuses for which a request reached (or may have reached) the provider.
SENT_STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.sent)
#: Statuses with nothing left to do for the row.
FINAL_STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.final)

#: What resolves each status that needs the operator (a message template: options as markers).
FIX: dict[str, str] = {
    "rejected": f"the provider refused them: fix the rows and {opt('again')}",
    "failed": f"nothing was placed: {opt('again')} to retry them",
    "unknown": (f"the call may have been placed: check the callbacks or CM's logs; {opt('resend_unknown')} sends "
                "them again (may call twice)"),
    "invalid": f"fix the rows (or {opt('columns')}/{opt('defaults')}) and {opt('again')}",
    "skipped": f"not sent because the run ended first: {opt('again')} to send them",
    "changed": (f"sent earlier with other content and withheld now; {opt('resend_changed')} calls them again with "
                "the new content"),
    "already-called": (f"this journal already called these people; {opt('allow_repeat')} calls them again, "
                       f"{opt('drop_duplicates')} leaves repeats in the list out"),
    "deferred": (f"outside their calling hours and not waited for ({opt('no_wait')}, the run stopped, or no known "
                 f"time zone: {opt('tz')} names it): {opt('again')} later to send them"),
}

if set(FIX) != set(ATTENTION_STATUSES) or not set(ATTENTION_STATUSES) <= {s.name for s in STATUS.values()
                                                                           if s.attention}:
    raise AssertionError("FIX and ATTENTION_STATUSES must name the same statuses, each an attention status")
