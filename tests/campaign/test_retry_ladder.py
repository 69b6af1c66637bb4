"""The retry ladder end to end: a first wave on the simulator, its callbacks through the receiver, the next wave.

The simulator ends each call by the callee's last two digits (09 Cancelled, 10 answered, 11 Failed,
12 Rejected) and gives failed and rejected calls a SIP cause at random (503, 404, 480; 603, 486,
403). Who is due again is worked out here from the callbacks, with the ladder's table written
out, not with the package's own classification.
"""

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import plan_followup, send_campaign
from cmvoice_nb.campaign.followup.ladder import DEFAULT_RETRY_LADDER, outcome_key, parse_retry_ladder
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CampaignError

from .._wait import wait_until
from ._lists import notification_defaults

pytestmark = pytest.mark.simulator(speed=1000.0, seed=11)
CALLEES = [f"+316123{i:03d}{end}" for i in range(6) for end in ("09", "10", "11", "12")]


def first_wave(sim, receiver, tmp_path):
    send_campaign(pd.DataFrame({"callee": CALLEES}), sim.client(), journal=tmp_path / "j.sqlite", app="notification",
                  name="spring", defaults=notification_defaults("Hello", callback_url=receiver.url), rate=500.0,
                  burst=50, progress=False)
    sim.wait_idle(30)
    receiver.wait_for(len(CALLEES), timeout=30)
    def read():  # counted once received; read back once every line is in the log file
        calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
        return [calls] if len(calls) >= len(CALLEES) else None

    return wait_until(read, timeout=30, what="every callback in the log")[0]


def due_by_default(calls):
    """Callees the documented default ladder calls again an hour after the last call ended (its first step)."""
    due = set()
    sips = calls["sip_disconnect_code"].astype("string")
    for callee, outcome, sip in zip(calls["callee"], calls["outcome"], sips, strict=True):
        sip = None if pd.isna(sip) else str(sip)
        if outcome == "Cancelled":
            due.add(callee)  # not answered: 30 min
        elif sip in ("486", "600"):
            due.add(callee)  # busy: 10 min
        elif outcome == "Failed" and sip not in ("404", "410", "484", "604"):
            due.add(callee)  # another failure: 30 min
    return {"+" + c.lstrip("+0") if not c.startswith("+") else c for c in due}


def test_the_default_ladder_calls_again_the_rung_out_the_busy_and_the_failed_but_never_the_declined_or_unknown_number(
        sim, receiver, tmp_path):
    calls = first_wave(sim, receiver, tmp_path)
    assert set(calls["sip_disconnect_code"].dropna().astype(str)) & {"404", "603"}  # the seed has both kinds
    now = (calls["finished_on"].max() + pd.Timedelta(hours=1)).isoformat()
    wave = plan_followup(tmp_path / "j.sqlite", calls, retry_ladder="default", now=now)
    assert {r.callee for r in wave.rows} == due_by_default(calls)
    reasons = wave.left_out.groupby("reason").size().to_dict()
    assert reasons["answered"] == 6 and reasons["never again"] == len(CALLEES) - 6 - len(wave.rows)
    assert wave.options["followup"]["retry_ladder"].startswith("not-answered=30m,2h,4h; busy=10m,30m,1h")
    res = send_campaign(wave, sim.client(), journal=tmp_path / "j.sqlite", rate=500.0, progress=False)
    assert set(res["status"]) == {"queued"}


def test_a_busy_line_is_called_after_10_minutes_when_a_rung_out_call_still_waits(sim, receiver, tmp_path):
    calls = first_wave(sim, receiver, tmp_path)
    now = (calls["finished_on"].max() + pd.Timedelta(minutes=15)).isoformat()
    wave = plan_followup(tmp_path / "j.sqlite", calls, retry_ladder="default", now=now)
    busy = calls[calls["sip_disconnect_code"].astype("string").isin(["486", "600"])]
    assert len(busy) and {r.callee for r in wave.rows} == set(busy["callee"].map(lambda c: "+" + c.lstrip("+0")))
    assert (wave.left_out["reason"] == "too recent").sum() >= 6  # the rung-out calls wait their 30 minutes


def test_the_command_line_reads_a_ladder_and_its_short_form_stays(sim, receiver, tmp_path, token, capsys):
    calls = first_wave(sim, receiver, tmp_path)
    now = (calls["finished_on"].max() + pd.Timedelta(hours=1)).isoformat()
    common = ["followup", "--journal", str(tmp_path / "j.sqlite"), "--callbacks", str(tmp_path / "callbacks.jsonl"),
              "--now", now, "--rate", "500", "--base-url", sim.base_url, "--no-progress", "--dry-run"]
    assert main([*common, "-o", str(tmp_path / "a.csv"), "--retry-ladder", "not-answered=30m",
                 "--retry-ladder", "failed=never"]) == 0
    err = capsys.readouterr().err
    assert "6 row(s) to call in wave 2" in err and "never again 12" in err
    assert main([*common, "-o", str(tmp_path / "b.csv"), "--outcomes", "Cancelled", "--after", "30m"]) == 0
    err = capsys.readouterr().err
    assert "6 row(s) to call in wave 2" in err and "other outcome 6, rejected 6" in err


def test_a_ladder_the_command_line_cannot_read_exits_2_naming_every_bad_entry(sim, receiver, tmp_path, token, capsys):
    calls = first_wave(sim, receiver, tmp_path)
    assert main(["followup", "--journal", str(tmp_path / "j.sqlite"), "--callbacks", str(tmp_path / "callbacks.jsonl"),
                 "-o", str(tmp_path / "a.csv"), "--base-url", sim.base_url, "--retry-ladder", "unanswered=30m",
                 "--retry-ladder", "busy=soon", "--retry-ladder", "failed:abc=never"]) == 2
    err = capsys.readouterr().err
    assert "--retry-ladder: 'unanswered' is not an outcome" in err and "busy: 'soon' is neither" in err
    assert "'failed:abc' is not an outcome" in err
    assert len(sim.calls) == len(calls)


def test_the_default_ladder_is_the_documented_one():
    ladder = parse_retry_ladder("default")
    assert ladder.describe() == ("not-answered=30m,2h,4h; busy=10m,30m,1h; failed=30m,2h; failed:404=never; "
                                 "failed:410=never; failed:484=never; failed:604=never; rejected=never; "
                                 "voicemail=never")
    assert set(DEFAULT_RETRY_LADDER) >= {"not-answered", "busy", "rejected", "failed", "voicemail"}
    with pytest.raises(CampaignError, match=r"^retry_ladder= must be a mapping"):
        parse_retry_ladder(42)


def test_reasons_left_out_as_often_as_each_other_are_listed_by_name_whatever_order_the_rows_came_in():
    from cmvoice_nb.campaign import CampaignPlan

    frames = [pd.DataFrame({"reason": ["rejected", "other outcome", "answered", "other outcome", "rejected"]}),
              pd.DataFrame({"reason": ["other outcome", "rejected", "rejected", "answered", "other outcome"]})]
    summaries = []
    for frame in frames:
        plan = CampaignPlan.__new__(CampaignPlan)
        object.__setattr__(plan, "left_out", frame)
        summaries.append(list(plan.left_out_summary().items()))
    assert summaries[0] == summaries[1] == [("other outcome", 2), ("rejected", 2), ("answered", 1)]


def test_a_failed_call_whose_cause_is_the_providers_documented_bye_waits_like_any_other_failure():
    # API-CONTRACT.md's example callback says "sip-disconnect-code": "BYE": a cause that is not a number.
    ladder = parse_retry_ladder("default")
    assert outcome_key("Failed", "BYE") == "failed:BYE"
    assert ladder.wait("failed:BYE", wave=2) == ladder.wait("failed", wave=2) is not None
    assert ladder.wait(outcome_key("Rejected", "BYE"), wave=2) is None  # rejected: never, whatever the cause
