"""``cmvoice status`` and :func:`campaign_status`: where a campaign stands, from its journal alone.

Rows per state and wave, the rows that wait for their calling hours and when they open, the last
run and its exit status, the people reached per wave (with the callbacks) and what the answered
calls cost (with a price table too).
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import campaign_status, plan_followup, send_campaign
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice, scaled
from ._lists import notification_defaults

pytestmark = pytest.mark.simulator(speed=1000.0)

#: ...10 is answered, ...09 rings out (Cancelled), ...11 fails.
NUMBERS = ["+31612340110", "+31612340209", "+31612340311", "+31612340410"]
PRICES = "country,price_per_minute,setup\nNL,0.06,0.01\n"


def two_waves(sim, receiver, tmp_path):
    """The campaign ``spring``: a first wave, then a follow-up of the two who did not answer."""
    journal = tmp_path / "j.sqlite"
    send_campaign(pd.DataFrame({"callee": NUMBERS}), sim.client(), journal=journal, app="notification",
                  name="spring", defaults=notification_defaults("Hello", callback_url=receiver.url), rate=500,
                  progress=False)
    sim.wait_idle(scaled(30))
    receiver.wait_for(len(NUMBERS), timeout=scaled(30))
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    now = calls["finished_on"].max() + pd.Timedelta(hours=1)
    send_campaign(plan_followup(journal, calls, now=now), sim.client(), journal=journal, rate=500, progress=False)
    sim.wait_idle(scaled(30))
    receiver.wait_for(len(NUMBERS) + 2, timeout=scaled(30))
    (tmp_path / "prices.csv").write_text(PRICES)
    return journal


def test_the_status_counts_each_wave_the_people_reached_and_the_cost(sim, receiver, tmp_path):
    journal = two_waves(sim, receiver, tmp_path)
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    [spring] = campaign_status(journal, callbacks=calls, prices=tmp_path / "prices.csv").campaigns
    assert spring["rows"] == 4 and spring["states"] == {"queued": 6}
    assert [(w["wave"], w["states"], w["called"]) for w in spring["waves"]] == [(1, {"queued": 4}, 4),
                                                                               (2, {"queued": 2}, 2)]
    assert spring["people"] == 4
    assert [w["reached"] for w in spring["waves"]] == [2, 2]  # ...09 and ...11 do not answer again
    answered = calls[calls["answered"].astype(bool)]
    minutes = float(answered["talk_seconds"].sum()) / 60
    assert spring["cost"]["answered"] == len(answered) == 2
    assert spring["cost"]["cost"] == pytest.approx(minutes * 0.06 + 2 * 0.01)
    assert spring["last_run"]["wave"] == 2 and spring["last_run"]["exit"] == 0
    assert spring["last_activity"] == spring["last_run"]["ended_at"]


def test_deferred_rows_say_when_their_window_opens(sim, tmp_path):
    sunday_night = dt.datetime(2026, 3, 29, 23, 0, tzinfo=dt.timezone.utc)  # Monday 01:00 in Amsterdam
    res = send_campaign(pd.DataFrame({"callee": ["+31612345610", "+80012345610"]}), sim.client(),
                        journal=tmp_path / "j.sqlite", app="notification", name="night",
                        defaults=notification_defaults("Hi"), calling_hours="09:00-20:00", wait=False,
                        now=ManualClock(sunday_night), progress=False)
    assert res["status"].tolist() == ["deferred", "no-zone"]
    [night] = campaign_status(tmp_path / "j.sqlite").campaigns
    assert night["deferred"] == {"rows": 2, "opens": "2026-03-30T07:00:00.000Z", "no_zone": 1}
    # 75 first: a later run sends the deferred one; then the one without a zone still needs the operator.
    assert night["last_run"]["exit"] == 75 and night["last_run"]["counts"] == {"deferred": 1, "no-zone": 1}


def test_cmvoice_status_prints_it_and_json_for_scripts(sim, receiver, tmp_path):
    journal = two_waves(sim, receiver, tmp_path)
    args = ("status", "--journal", journal, "--callbacks", tmp_path / "callbacks.jsonl", "--prices",
            tmp_path / "prices.csv")
    text = subprocess.run(cmvoice(*args), capture_output=True, text=True, timeout=scaled(120))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"journal {journal}: 1 campaign"
    assert "  4 rows; attempts: queued 6" in lines
    assert "  wave 1: queued 4; 2 of 4 calls answered; reached so far: 2 people (50% of 4 people called)" in lines
    assert any(line.startswith("  cost so far: ") and "2 answered calls (callbacks x prices)" in line for line in lines)
    data = subprocess.run(cmvoice(*args, "--json"), capture_output=True, text=True, timeout=scaled(120))
    assert json.loads(data.stdout)["campaigns"][0]["waves"][1]["reached"] == 2


def test_a_missing_journal_is_a_usage_error_and_nothing_is_created(tmp_path, capsys):
    assert main(["status", "--journal", str(tmp_path / "none.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "none.sqlite").exists()
    with pytest.raises(CampaignError, match="does not exist"):
        campaign_status(tmp_path / "none.sqlite")
