"""The A/B report on a simulated campaign whose variants answer at KNOWN different rates.

The simulator answers prompt B ("Goedemiddag...") four times in five and prompt A one time in
three (``behaviour_by=``, seeded); the calls go through the callback receiver. The report must
find B's answer rate significantly higher, and say in words that two identical variants cannot be
told apart.
"""
from __future__ import annotations

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.callbacks.analysis import AnalysisError
from cmvoice_nb.campaign import ab_report, plan_campaign, send_campaign, write_report
from cmvoice_nb.campaign.abtest import two_proportion_test, wilson_interval
from cmvoice_nb.cli import main

from .._wait import scaled
from ._lists import notification_defaults

VARIANTS = {"A": {"prompt": "Hallo {name}, dit is uw herinnering"},
            "B": {"prompt": "Goedemiddag {name}, dit is uw herinnering"}}
KNOWN = {"prompt:Goedemiddag": {"p_answer": 0.8}}


def people(n: int) -> pd.DataFrame:
    # Endings 13..: no magic ending (the simulator's 09/10/11/12), so chance decides.
    return pd.DataFrame({"callee": [f"+31612{i:04d}13" for i in range(n)], "name": [f"P{i}" for i in range(n)]})


def run_campaign(tmp_path, sim, receiver, *, variants=VARIANTS, n=300):
    journal = tmp_path / "j.sqlite"
    plan = plan_campaign(people(n), app="notification", name="ab", journal=journal,
                         defaults=notification_defaults(callback_url=receiver.url), variants=variants,
                         holdout=0.1, seed=11)
    # One request at a time: the simulator draws each call's fate from its seeded stream in the order the
    # calls arrive, so the same seed gives the same calls on every run.
    res = send_campaign(plan, sim.client(), journal=journal, rate=1000, concurrency=1, progress=False)
    sim.wait_idle(scaled(120))
    receiver.wait_for(int((res["status"] == "queued").sum()), timeout=scaled(120))
    return plan, journal


@pytest.mark.simulator(speed=2000, seed=5, p_answer=1 / 3, p_rejected=0.0, p_failed=0.0, p_voicemail=0.0,
                       behaviour_by=KNOWN)
def test_the_report_finds_the_known_difference_between_the_variants(tmp_path, sim, receiver):
    plan, journal = run_campaign(tmp_path, sim, receiver)
    report = ab_report(load_callbacks(receiver.path), journal)
    table = report.table
    assert list(table.index) == ["A", "B", "holdout"]
    variants = plan.to_frame()["variant"].value_counts()
    assert table["people"].to_dict() == {k: int(variants[k]) for k in ("A", "B", "holdout")}
    assert table.loc["holdout", "calls"] == 0  # never called
    assert table.loc["A", "calls"] == variants["A"] and table.loc["B", "calls"] == variants["B"]
    a, b = table.loc["A", "answered_rate"], table.loc["B", "answered_rate"]
    assert 0.2 < a < 0.47 and 0.68 < b < 0.9  # the simulator's 1/3 and 4/5, within sampling error
    assert table.loc["A", "answered_low"] < a < table.loc["A", "answered_high"]
    assert table.loc["A", "answered_high"] < table.loc["B", "answered_low"]  # the intervals do not overlap
    test = report.tests.set_index("metric").loc["answered"]
    assert test["significant"] and test["p_value"] < 1e-6 and test["difference"] > 0.3
    assert any(v.startswith("B answered") and "significant (p = " in v and "not significant" not in v
               for v in report.verdicts)
    # Talk time: only answered calls talk, so B (more answered) talks longer.
    assert table.loc["B", "talk_s"] > table.loc["A", "talk_s"] > 0
    assert table.loc["A", "completed"] == table.loc["A", "answered"]  # no voicemail: every answer heard it all
    # The HTML report of the campaign's journal has the A/B section.
    html = write_report(receiver.path, journal=journal, html_path=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>A/B test</h2>" in html and "B answered" in html


@pytest.mark.simulator(speed=2000, seed=5, p_answer=0.5, p_rejected=0.0, p_failed=0.0, p_voicemail=0.0)
def test_identical_variants_are_said_not_to_differ(tmp_path, sim, receiver):
    same = {"A": {"prompt": "Hallo {name}"}, "B": {"prompt": "Hallo {name}!"}}
    _plan, journal = run_campaign(tmp_path, sim, receiver, variants=same, n=200)
    report = ab_report(load_callbacks(receiver.path), journal)
    answered = report.tests.set_index("metric").loc["answered"]
    assert not answered["significant"] and answered["p_value"] > 0.05
    assert any("not significant" in v and "cannot tell the variants apart" in v for v in report.verdicts)


@pytest.mark.simulator(speed=2000, seed=5, p_answer=1.0, p_rejected=0.0, p_failed=0.0, p_voicemail=0.0)
def test_a_call_cut_short_is_answered_but_not_completed(tmp_path, sim, receiver):
    # Voicemail that stops the call as the greeting starts: answered (code 10), the message never heard.
    sim.behaviour_by = (("prompt", "Goedemiddag", {"p_voicemail": 1.0}),)
    variants = {"A": {"prompt": "Hallo {name}, dit is een wat langer bericht over uw afspraak van morgen"},
                "B": {"prompt": "Goedemiddag {name}, dit is een wat langer bericht over uw afspraak van morgen",
                      "voicemail-response": "Stop"}}
    _plan, journal = run_campaign(tmp_path, sim, receiver, variants=variants, n=60)
    table = ab_report(load_callbacks(receiver.path), journal).table
    assert table.loc["B", "answered"] == table.loc["B", "calls"] > 0 and table.loc["B", "completed"] == 0
    assert table.loc["A", "completed"] == table.loc["A", "answered"] == table.loc["A", "calls"]


@pytest.mark.simulator(speed=2000, seed=5, p_answer=1 / 3, p_rejected=0.0, p_failed=0.0, p_voicemail=0.0,
                       behaviour_by=KNOWN)
def test_cmvoice_report_ab_prints_the_test(tmp_path, sim, receiver, capsys):
    _plan, journal = run_campaign(tmp_path, sim, receiver, n=200)
    code = main(["report", str(receiver.path), "--journal", str(journal), "--ab", "--html", str(tmp_path / "r.html")])
    out = capsys.readouterr().out
    assert code == 0
    assert "A/B test of campaign ab" in out and "holdout:" in out and "never called" in out
    assert "B answered" in out and "significant" in out
    assert main(["report", str(receiver.path), "--ab", "--html", str(tmp_path / "r2.html")]) == 2


def test_a_campaign_without_a_test_is_said_so(tmp_path):
    plan = plan_campaign(people(3), app="notification", name="x", campaign_key="k0000000",
                         defaults=notification_defaults())
    with pytest.raises(AnalysisError, match="has no A/B test"):
        ab_report([], plan)


def test_the_plan_works_as_the_design_when_its_ids_are_the_sent_ones():
    plan = plan_campaign(people(40), app="dtmf", name="d", campaign_key="k0000000", seed=2,
                         defaults={"caller": "+31201234567", "prompt-type": "TTS", "prompt": "Druk 1 of 2",
                                   "min-digits": 1, "max-digits": 1, "max-attempts": 1},
                         variants={"A": {}, "B": {"prompt": "Toets 1 of 2"}})
    calls = [{"type": "dtmf-finished", "call-id": f"c{i}",
              "instruction-id": r.instruction_id + ("-w2" if i % 3 else ""),
              "result": {"code": 10}, "digits": "1" if r.variant == "B" else "", "callee": r.callee,
              "answered-on": "2026-01-01T10:00:02Z", "started-on": "2026-01-01T10:00:00Z",
              "finished-on": "2026-01-01T10:00:20Z"} for i, r in enumerate(plan.rows)]
    table = ab_report(calls, plan).table
    assert table.loc["B", "dtmf_valid"] == table.loc["B", "calls"] and table.loc["A", "dtmf_valid"] == 0
    assert table.loc["B", "completed"] == table.loc["B", "calls"]  # DTMF: completed means valid input
    assert table["calls"].sum() == 40  # second-wave attempts (-w2) count for their person's variant


def test_the_interval_and_the_test_are_the_textbook_ones():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and 0.27 < high < 0.28  # Wilson never leaves [0, 1]
    assert wilson_interval(5, 0) != wilson_interval(5, 0)  # nan: no calls
    z, p = two_proportion_test(30, 100, 30, 100)
    assert z == 0 and p == 1.0
