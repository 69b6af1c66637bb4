"""A campaign's report from its journal: every row it ever sent, every wave, the cost, the people not reached.

The journal is the campaign's truth. A row deleted from the list after it was called still owns its
callbacks (with only the last results file they looked like another campaign's); reach per wave
comes from every attempt; ``--prices`` adds what the answered calls cost beside the estimate;
``--not-reached`` writes the people no call reached, with the operator's own columns.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import plan_followup, send_campaign, write_report
from cmvoice_nb.campaign.report import campaign_results, not_reached
from cmvoice_nb.cli import main

from .._net import refusing_url
from .._wait import scaled
from ._lists import notification_defaults

pytestmark = pytest.mark.simulator(speed=1000.0)

#: ...10 answered, ...09 Cancelled, ...11 Failed; a long campaign name makes ids longer than pandas shows.
LIST = pd.DataFrame({"callee": ["+31612340110", "+31612340209", "+31612340311", "+31612340410"],
                     "Klant": ["K-1", "K-2", "K-3", "K-4"], "name": ["Ann", "Bob", "Cem", "Dora"]})
NAME = "spring-reminders-for-the-dental-practice"


def send(sim, df, journal, receiver, **extra):
    return send_campaign(df, sim.client(), journal=journal, app="notification", name=NAME, rate=500,
                         progress=False, keep=["Klant"], columns={"callback-url": "cb"} if "cb" in df else None,
                         defaults=notification_defaults("Hello {name}",
                                                        **({} if "cb" in df else {"callback_url": receiver.url})),
                         **extra)


@pytest.fixture
def campaign(sim, receiver, tmp_path):
    """The campaign's four rows sent, the list then cut to three and sent again, then a second wave."""
    journal = tmp_path / "j.sqlite"
    send(sim, LIST, journal, receiver)
    send(sim, LIST.iloc[[0, 1, 2]], journal, receiver, results_path=tmp_path / "last.csv")  # Dora deleted
    sim.wait_idle(scaled(30))
    receiver.wait_for(4, timeout=scaled(30))
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    wave = plan_followup(journal, calls, now=calls["finished_on"].max() + pd.Timedelta(hours=1))
    send_campaign(wave, sim.client(), journal=journal, rate=500, progress=False)
    sim.wait_idle(scaled(30))
    receiver.wait_for(6, timeout=scaled(30))
    (tmp_path / "prices.csv").write_text("country,price_per_minute,setup\nNL,0.06,0.01\n")
    return journal


def test_the_journal_owns_the_callbacks_of_a_row_deleted_from_the_list(campaign, tmp_path, capsys):
    log = tmp_path / "callbacks.jsonl"
    assert main(["report", str(log), "--results", str(tmp_path / "last.csv"), "--html", str(tmp_path / "a.html")]) == 0
    assert "callback(s) of other campaigns" in capsys.readouterr().out  # only the last run's rows: Dora is lost
    assert main(["report", str(log), "--journal", str(campaign), "--html", str(tmp_path / "b.html")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "6 callbacks: 2 answered (33.3% of calls), 2 Cancelled, 2 Failed"
    assert "other campaigns" not in out
    assert "reach per wave (4 people called)" in out
    assert "people: 2 of 4 reached (50.0% of the people called, every wave)" in out


def test_reach_per_wave_comes_from_every_attempt_in_the_journal(campaign, tmp_path):
    html = write_report(tmp_path / "callbacks.jsonl", journal=campaign, html_path=tmp_path / "r.html")
    text = html.read_text(encoding="utf-8")
    assert "Reach per wave (4 people called" in text
    results = campaign_results(campaign)
    assert sorted(results["wave"].tolist()) == [1, 1, 1, 1, 2, 2]


def test_prices_add_the_actual_cost_beside_the_estimate(campaign, tmp_path):
    html = write_report(tmp_path / "callbacks.jsonl", journal=campaign, prices=tmp_path / "prices.csv",
                        html_path=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Cost</h2>" in html and "Actual: the answered calls&#x27; talk time" not in html
    assert "Actual: the answered calls' talk time" in html
    assert "Estimate of the 6 call(s) placed, every one answered and heard in full (an upper bound)" in html


def test_the_people_not_reached_are_written_with_the_kept_columns(campaign, tmp_path, capsys):
    out = tmp_path / "not-reached.csv"
    assert main(["report", str(tmp_path / "callbacks.jsonl"), "--journal", str(campaign), "--html",
                 str(tmp_path / "r.html"), "--not-reached", str(out)]) == 0
    assert f"wrote {out} (the people no call reached)" in capsys.readouterr().out
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["callee"].tolist() == ["+31612340209", "+31612340311"]
    assert table["Klant"].tolist() == ["K-2", "K-3"]
    assert table["why"].tolist() == ["not answered", "not answered"]
    assert table["calls"].tolist() == ["2", "2"] and table["waves"].tolist() == ["2", "2"]
    frame = not_reached(campaign_results(campaign), load_callbacks(tmp_path / "callbacks.jsonl", warn=False))
    assert frame["instruction_id"].str.endswith("-w2").all()


def test_a_row_still_waiting_shows_its_whole_instruction_id(sim, receiver, tmp_path):
    df = LIST.assign(cb=[receiver.url, receiver.url, receiver.url, refusing_url("/cb")])  # Dora's never arrives
    send(sim, df, tmp_path / "j.sqlite", receiver)
    sim.wait_idle(scaled(30))
    receiver.wait_for(3, timeout=scaled(30))
    html = write_report(tmp_path / "callbacks.jsonl", journal=tmp_path / "j.sqlite", html_path=tmp_path / "r.html")
    text = html.read_text(encoding="utf-8")
    dora = campaign_results(tmp_path / "j.sqlite").query("callee == '+31612340410'")["instruction_id"].iloc[0]
    assert len(dora) > 50 and "Waiting for a callback (1)" in text and dora in text  # not cut at 50 characters
