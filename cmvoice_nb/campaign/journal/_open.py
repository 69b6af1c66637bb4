"""Reading a campaign back from its journal: open a path (or take an open :class:`Journal`), pick the campaign.

The report, the status, the A/B report and the follow-up all start this way; each raises its own
error class (an analysis is not a send), so the class is the caller's, the wording is shared.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...errors import CMVoiceError
from ...messages import opt
from ._store import Journal


@contextmanager
def opened_journal(journal: str | os.PathLike[str] | Journal, *, error: type[CMVoiceError],
           wanted: str = "the file cmvoice send wrote") -> Iterator[Journal]:
    """*journal* as an open :class:`Journal`; one opened here is closed on leaving, one given stays open.

    A path that is not an existing file raises *error* (saying what the file was *wanted* for) and
    is never created: opening a :class:`Journal` on a typo would make an empty database there.

    >>> import tempfile, os
    >>> from cmvoice_nb.errors import CampaignError
    >>> with opened_journal(os.path.join(tempfile.mkdtemp(), "typo.sqlite"), error=CampaignError) as j:
    ...     pass
    Traceback (most recent call last):
    cmvoice_nb.errors.CampaignError: journal '...typo.sqlite' does not exist (the file cmvoice send wrote)
    """
    if isinstance(journal, Journal):
        yield journal
        return
    if not Path(journal).is_file():
        problem = "is not a regular file (a folder, a pipe or a device?)" if Path(journal).exists() else \
            "does not exist"
        raise error(f"journal {os.fspath(journal)!r} {problem} ({wanted})")
    own = Journal(journal)
    try:
        yield own
    finally:
        own.close()


def pick_campaign(journal: Journal, campaign: str | None, *, error: type[CMVoiceError]) -> str:
    """The campaign to read: *campaign* when the journal has it, else the journal's only campaign.

    Raises *error* naming the journal and its campaigns when *campaign* is not there, or is not
    given and the journal holds none or several.

    >>> import tempfile, os
    >>> from cmvoice_nb.errors import CampaignError
    >>> j = Journal(os.path.join(tempfile.mkdtemp(), "j.sqlite"))
    >>> j.ensure_campaign("spring", app="notification")
    >>> pick_campaign(j, None, error=CampaignError)
    'spring'
    >>> pick_campaign(j, "autumn", error=CampaignError)
    Traceback (most recent call last):
    cmvoice_nb.errors.CampaignError: ...j.sqlite: no campaign 'autumn'; campaigns: spring
    >>> j.close()
    """
    known = journal.campaigns()
    if campaign is None:
        if len(known) == 1:
            return next(iter(known))
        raise error(f"{journal.path}: " + ("holds no campaign" if not known else
                                           f"holds {len(known)} campaigns ({', '.join(known)}); name one: pass "
                                           f"{opt('campaign')}"))
    if campaign not in known:
        raise error(f"{journal.path}: no campaign {campaign!r}; campaigns: {', '.join(known) or 'none'}")
    return campaign
