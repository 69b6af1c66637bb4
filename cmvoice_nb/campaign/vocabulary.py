"""The campaign's status vocabulary: every set of statuses, what resolves each, and the exit status.

:data:`cmvoice_nb.spec.STATUS` owns the statuses, their flags and their exit classes; everything
here is derived from it, so a status added there reaches the journal's SQL ``CHECK``, the
results, the summary, ``--help`` and the exit status at once. :data:`FIX` says what resolves each
status that needs the operator, naming options through :func:`~cmvoice_nb.messages.opt` so that
every front-end says them in its own words; :func:`exit_status` is a run's exit status from its
rows' statuses, and :data:`EXIT_CLASSES` says what each exit status means.

Examples
--------
>>> "queued" in CALLED_STATES, "invalid" in ATTENTION_STATUSES, "pending" in RESULT_STATUSES
(True, True, False)
>>> from cmvoice_nb.messages import say
>>> say(FIX["unknown"], "cli").endswith("--resend-unknown sends them again (may call twice)")
True
>>> exit_status(["queued", "suppressed"]), exit_status(["queued", "invalid"]), exit_status(["invalid", "skipped"])
(0, 1, 75)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..messages import opt
from ..spec import EXIT_ACT, EXIT_FINAL, EXIT_RETRY, EXIT_USAGE, STATUS, Status

__all__ = ["STATUS", "Status", "RESULT_STATUSES", "ATTENTION_STATUSES", "JOURNAL_STATES", "CALLED_STATES",
           "SENT_STATUSES", "FINAL_STATUSES", "UNPLACED_STATES", "FIX", "EXIT_FINAL", "EXIT_ACT", "EXIT_USAGE",
           "EXIT_RETRY", "EXIT_CLASSES", "exit_status", "statuses_of", "COUNT_ORDER", "count_line",
           "NOTED_STATUSES"]

#: Statuses a results row can have, in the order summaries count them.
RESULT_STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.result)
#: Statuses that need the operator, in the order the summary lists them.
ATTENTION_STATUSES: tuple[str, ...] = ("invalid", "refused-country", "rejected", "unknown", "changed",
                                       "already-called", "budget", "no-zone", "failed", "deferred", "skipped")
#: Final statuses the summary still lists (with what they mean): policy outcomes the operator set up,
#: worth seeing though nothing needs doing.
NOTED_STATUSES: tuple[str, ...] = ("over-contacted", "expired")
#: States the journal stores (its SQL ``CHECK`` lists exactly these).
JOURNAL_STATES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.journal)
#: States whose call may exist: the journal's people guard and callback matching use them.
CALLED_STATES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.may_have_called)
#: Statuses for which a request reached (or may have reached) the provider.
SENT_STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.sent)
#: Statuses with nothing left to do for the row.
FINAL_STATUSES: tuple[str, ...] = tuple(s.name for s in STATUS.values() if s.final)
#: Journal states of a row whose request never placed a call and that a later run may still send.
UNPLACED_STATES: tuple[str, ...] = ("pending", "failed", "rejected", "deferred", "budget", "over-contacted")

#: The order every count is shown in: a forecast's rows ``to send`` and ``already done`` (queued by an
#: earlier run), then the statuses.
COUNT_ORDER: tuple[str, ...] = ("to send", "already done", *RESULT_STATUSES)


def count_line(counts: Mapping[str, int]) -> str:
    """*counts* (``to send``, ``already done``, statuses) as one line in :data:`COUNT_ORDER`, zeros left out.

    Examples
    --------
    >>> count_line({"suppressed": 2, "to send": 5, "invalid": 0, "already done": 1})
    'to send 5, already done 1, suppressed 2'
    """
    return ", ".join(f"{key} {int(counts[key])}" for key in COUNT_ORDER if counts.get(key)) or "nothing"


#: What resolves each status that needs the operator (a message template: options as markers).
FIX: dict[str, str] = {
    "rejected": f"the provider refused them: fix the rows and {opt('again')}",
    "failed": (f"nothing was placed: the provider could not be reached or was busy after the retries; "
               f"{opt('again')} later to retry them"),
    "unknown": (f"the call may have been placed: check the callbacks or CM's logs; {opt('resend_unknown')} sends "
                "them again (may call twice)"),
    "invalid": f"fix the rows (or {opt('columns')}/{opt('defaults')}) and {opt('again')}",
    "refused-country": (f"their number's country is not in {opt('allowed_countries')}: widen it, or take the rows "
                        "off the list"),
    "skipped": f"not sent because the run ended or was stopped first: {opt('again')} to send them",
    "changed": (f"sent earlier with other content and withheld now; {opt('resend_changed')} calls them again with "
                "the new content"),
    "already-called": (f"this journal already called these people; {opt('allow_repeat')} calls them again, "
                       f"{opt('drop_duplicates')} leaves repeats in the list out"),
    "budget": (f"placing them would take the campaign's cost past {opt('max_cost')}: raise it and "
               f"{opt('again')}"),
    "deferred": (f"outside their calling hours and not waited for ({opt('no_wait')}, or the run stopped): "
                 f"{opt('again')} once their window opens"),
    "no-zone": (f"no time zone is known for their number (a country with several zones): {opt('tz')} names it; "
                f"then {opt('again')}"),
    "over-contacted": (f"the contact ledger ({opt('contacts')}) already holds as many calls to these people in the "
                       f"period as {opt('max_contacts')} allows: not called (final); a later run after the period, "
                       "or a higher cap, calls them"),
    "expired": (f"not placed within their validity window ({opt('valid_until')} or {opt('valid_for')}): never "
                "sent later (final); plan a new wave or campaign to reach them"),
}

if (set(FIX) != set(ATTENTION_STATUSES) | set(NOTED_STATUSES)
        or set(ATTENTION_STATUSES) != {s.name for s in STATUS.values() if s.attention and s.result}):
    raise AssertionError("FIX must name every result status that needs the operator (ATTENTION_STATUSES) and "
                         "every final one the summary lists (NOTED_STATUSES)")


def statuses_of(exit_class: int, *, result: bool = True) -> tuple[str, ...]:
    """The statuses of one exit class, in the table's order (results statuses only, by default).

    Examples
    --------
    >>> statuses_of(EXIT_RETRY)
    ('failed', 'skipped', 'deferred')
    """
    return tuple(s.name for s in STATUS.values() if s.exit == exit_class and (s.result or not result))


#: What each exit status of ``cmvoice send`` and ``cmvoice followup`` means, in the order they are
#: decided (the first that matches wins): ``(code, meaning)``.
EXIT_CLASSES: tuple[tuple[int, str], ...] = (
    (EXIT_USAGE, "usage, or input that cannot be trusted, found before any call: bad flags, an unreadable list, "
                 "a do-not-call list that cannot be trusted, a journal that is not one; nothing was sent"),
    (EXIT_RETRY, "run the same command again later: it makes progress without any change (rows stopped by a "
                 "signal, Ctrl-C or a provider that could not be reached, rows waiting for their calling hours, "
                 "another run holding the journal); the summary still lists what needs you"),
    (EXIT_ACT, "you must act: fix the data or decide (the statuses below), or a refused token or wrong base URL "
               "stopped the run"),
    (EXIT_FINAL, "every row is final and nothing needs you"),
)


def exit_status(statuses: Iterable[str], *, stop: int | None = None) -> int:
    """A run's exit status from its rows' statuses: 75, then 1, then 0, the first that matches.

    Parameters
    ----------
    statuses
        Every row's status (a results frame's ``status`` column).
    stop
        The exit class of what stopped the run early, if anything: ``EXIT_RETRY`` for a
        provider that could not be reached (a later run can make progress), ``EXIT_ACT`` for
        what only the operator can fix (a refused token, a wrong base URL). After such a stop no
        re-run can make progress until the operator acts, so the run exits 1 whatever its rows.

    Returns
    -------
    int
        75 (``EXIT_RETRY``) when running the same command again later makes progress; 1
        (``EXIT_ACT``) when some row needs the operator; 0 (``EXIT_FINAL``) otherwise. (2,
        ``EXIT_USAGE``, is decided before any call, never here; the classes are
        :data:`cmvoice_nb.spec.STATUS`'s.) A status the table does not know counts as needing the
        operator.

    Examples
    --------
    >>> exit_status(["queued", "deferred", "unknown"]), exit_status(["dropped", "dry-run"])
    (75, 0)
    >>> exit_status(["queued", "skipped"], stop=EXIT_ACT)
    1
    """
    if stop == EXIT_ACT:
        return EXIT_ACT
    classes = {STATUS[s].exit if s in STATUS else EXIT_ACT for s in set(statuses)}
    if stop == EXIT_RETRY:
        classes.add(EXIT_RETRY)
    for code in (EXIT_RETRY, EXIT_ACT):
        if code in classes:
            return code
    return EXIT_FINAL
