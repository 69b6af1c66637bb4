"""Reading a campaign back from its journal: every reader opens it and picks the campaign the same way.

The report, the status, the A/B report and the follow-up each take a journal path or an open
:class:`Journal` and a campaign name (or none, when the journal holds one); they raise their own
error class with the same words.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cmvoice_nb.callbacks import AnalysisError
from cmvoice_nb.campaign import ab_report, campaign_status, plan_followup
from cmvoice_nb.campaign.journal import Journal, opened_journal, pick_campaign
from cmvoice_nb.campaign.report import campaign_results
from cmvoice_nb.errors import CampaignError

NO_CALLS = pd.DataFrame()

#: Each reader, how it is called with a journal and a campaign name, and the error class it raises.
READERS = {
    "report": (lambda journal, campaign: campaign_results(journal, campaign), AnalysisError),
    "ab_report": (lambda journal, campaign: ab_report(NO_CALLS, journal, campaign=campaign), AnalysisError),
    "status": (lambda journal, campaign: campaign_status(journal, campaign=campaign), CampaignError),
    "followup": (lambda journal, campaign: plan_followup(journal, NO_CALLS, campaign=campaign), CampaignError),
}


@pytest.fixture
def two_campaigns(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.ensure_campaign("spring", app="notification")
    journal.ensure_campaign("autumn", app="notification")
    journal.close()
    return path


@pytest.mark.parametrize("reader", READERS)
def test_a_journal_that_does_not_exist_is_named_and_never_created(reader, tmp_path):
    call, error = READERS[reader]
    with pytest.raises(error, match="typo.sqlite' does not exist"):
        call(tmp_path / "typo.sqlite", None)
    assert not (tmp_path / "typo.sqlite").exists()


@pytest.mark.parametrize("reader", [r for r in READERS if r != "status"])  # status shows every campaign
def test_two_campaigns_and_no_name_asks_for_one_naming_both(reader, two_campaigns):
    call, error = READERS[reader]
    with pytest.raises(error, match=r"holds 2 campaigns \(autumn, spring\); name one: pass campaign="):
        call(two_campaigns, None)


@pytest.mark.parametrize("reader", READERS)
def test_an_unknown_campaign_is_named_with_the_ones_there_are(reader, two_campaigns):
    call, error = READERS[reader]
    with pytest.raises(error, match=r"no campaign 'winter'; campaigns: autumn, spring"):
        call(two_campaigns, "winter")


def test_the_command_line_is_told_its_own_flag(two_campaigns):
    with pytest.raises(CampaignError) as caught:
        plan_followup(two_campaigns, NO_CALLS)
    assert caught.value.say("cli").endswith("name one: pass --campaign")


def test_an_empty_journal_says_it_holds_no_campaign(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    try:
        with pytest.raises(CampaignError, match="holds no campaign$"):
            pick_campaign(journal, None, error=CampaignError)
    finally:
        journal.close()


def test_a_journal_given_open_stays_open_and_one_opened_from_a_path_is_closed(two_campaigns):
    given = Journal(two_campaigns)
    try:
        with opened_journal(given, error=CampaignError) as journal:
            assert journal is given
        assert given.campaigns()  # still usable
    finally:
        given.close()
    with opened_journal(two_campaigns, error=CampaignError) as journal:
        opened = journal
    # Closed: a send could now take the journal's exclusive lock.
    locking = Journal(two_campaigns)
    try:
        locking.lock()
    finally:
        locking.close()
    with pytest.raises(Exception, match="closed"):
        opened.campaigns()


@pytest.mark.parametrize("reader", READERS)
def test_a_folder_given_as_the_journal_is_named_as_such(reader, tmp_path):
    call, error = READERS[reader]
    folder = tmp_path / "j.sqlite"
    folder.mkdir()
    with pytest.raises(error, match="j.sqlite' is not a regular file"):
        call(folder, None)
