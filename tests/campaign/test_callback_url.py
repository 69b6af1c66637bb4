"""The callback URL says where outcomes go, not who is called: a new receiver URL changes no row.

Real simulator, real receivers, real journals, all on loopback.
"""
import json
import sqlite3

import pandas as pd
import pytest

from cmvoice_nb.callbacks import CallbackReceiver, load_callbacks
from cmvoice_nb.campaign import plan_campaign, plan_followup, send_campaign
from cmvoice_nb.campaign.journal import Journal
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CampaignError
from cmvoice_nb.wire import instruction_hash, legacy_instruction_hash

from .._wait import scaled
from ._journals import SCHEMA_V3
from ._lists import CALLER, notification_defaults

#: Calls end at once, so each wave's callbacks are in before the next is planned.
pytestmark = pytest.mark.simulator(speed=1000.0)
# Numbers ending in 09 are never answered by the simulator (Cancelled): due for a follow-up.
NUMBERS = ["+31612340109", "+31612340209", "+31612340310", "+31612340409", "+31612340510"]


@pytest.fixture
def new_receiver(tmp_path):
    """The receiver after a move: another URL, another log (``moved.jsonl``)."""
    rx = CallbackReceiver(tmp_path / "moved.jsonl").start()
    yield rx
    rx.stop()


def send(sim, journal, numbers, url, **extra):
    return send_campaign(pd.DataFrame({"callee": numbers}), sim.client(), journal=journal, app="notification",
                         name="spring", defaults=notification_defaults("Hello", callback_url=url),
                         rate=500.0, burst=50, progress=False, **extra)


def bodies(sim):
    return {row["instruction_id"]: json.loads(row["body"]) for _, row in sim.requests.iterrows()}


def test_the_identity_hash_ignores_the_callback_url_but_sees_everything_else():
    wire = {"callee": "+31612345610", "caller": CALLER, "prompt": "Hi", "callback-url": "http://127.0.0.1:1/a"}
    assert instruction_hash(wire) == instruction_hash({**wire, "callback-url": "https://127.0.0.1:2/b"})
    assert instruction_hash(wire) == instruction_hash({k: v for k, v in wire.items() if k != "callback-url"})
    for key, value in (("callee", "+31612345611"), ("prompt", "Hi!"), ("caller", "+31201234568")):
        assert instruction_hash(wire) != instruction_hash({**wire, key: value})
    assert legacy_instruction_hash(wire) != legacy_instruction_hash({**wire, "callback-url": "http://127.0.0.1:2/"})


def test_a_re_run_with_a_new_callback_url_calls_nobody_twice_and_changes_no_row(sim, receiver, new_receiver, tmp_path):
    journal = tmp_path / "j.sqlite"
    send(sim, journal, NUMBERS[:3], receiver.url)
    res = send(sim, journal, NUMBERS, new_receiver.url)  # the receiver restarted elsewhere; two rows added
    assert list(res["status"]) == ["queued"] * 5 and "changed" not in set(res["status"])
    assert sim.calls["callee"].value_counts().max() == 1 and len(sim.calls) == 5
    sent = bodies(sim)
    new_ids = set(res["instruction_id"][3:])
    assert {w["callback-url"] for i, w in sent.items() if i in new_ids} == {new_receiver.url}
    assert {w["callback-url"] for i, w in sent.items() if i not in new_ids} == {receiver.url}


def wave_one(sim, rx, tmp_path, url=None):
    send(sim, tmp_path / "j.sqlite", NUMBERS, url or rx.url)
    sim.wait_idle(scaled(30))
    rx.wait_for(sim.placed_count(), timeout=scaled(30))
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    return calls, (calls["finished_on"].max() + pd.Timedelta(minutes=31)).isoformat()


def test_a_follow_up_with_a_new_callback_url_posts_to_the_new_receiver(sim, receiver, new_receiver, tmp_path):
    calls, now = wave_one(sim, receiver, tmp_path)
    kept = plan_followup(tmp_path / "j.sqlite", calls, now=now)
    assert {json.loads(r.payload)["callback-url"] for r in kept.rows} == {receiver.url}  # default: as first sent
    plan = plan_followup(tmp_path / "j.sqlite", calls, now=now, callback_url=new_receiver.url)
    assert len(plan.rows) == 3 and {json.loads(r.payload)["callback-url"] for r in plan.rows} == {new_receiver.url}
    res = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", rate=500.0, progress=False)
    assert (res["status"] == "queued").all()
    sim.wait_idle(scaled(30))
    new_receiver.wait_for(3, timeout=scaled(30))
    wave2 = load_callbacks(tmp_path / "moved.jsonl", warn=False)
    assert sorted(wave2["instruction_id"]) == sorted(res["instruction_id"])
    assert len(load_callbacks(tmp_path / "callbacks.jsonl", warn=False)) == 5  # nothing more reached the old one


def test_a_follow_up_without_a_callback_url_can_drop_it_for_the_accounts_own(sim, receiver, tmp_path):
    calls, now = wave_one(sim, receiver, tmp_path)
    plan = plan_followup(tmp_path / "j.sqlite", calls, now=now, callback_url="")
    assert plan.rows and all("callback-url" not in json.loads(r.payload) for r in plan.rows)
    with pytest.raises(CampaignError, match="callback_url= must be an http:// or https:// URL"):
        plan_followup(tmp_path / "j.sqlite", calls, now=now, callback_url="ftp://127.0.0.1/cb")


def test_cmvoice_followup_sends_the_wave_to_the_callback_url_given(sim, receiver, new_receiver, tmp_path, token,
                                                                   capsys):
    _calls, now = wave_one(sim, receiver, tmp_path)
    args = ["followup", "--journal", str(tmp_path / "j.sqlite"), "--callbacks", str(tmp_path / "callbacks.jsonl"),
            "--now", now, "-o", str(tmp_path / "wave2.csv"), "--rate", "500", "--base-url", sim.base_url,
            "--no-progress"]
    assert main([*args, "--callback-url", "gopher://127.0.0.1/"]) == 2
    assert "--callback-url must be an http:// or https:// URL" in capsys.readouterr().err
    assert main([*args, "--callback-url", new_receiver.url]) == 0
    new_receiver.wait_for(3, timeout=scaled(30))
    out = pd.read_csv(tmp_path / "wave2.csv", dtype=str, keep_default_na=False)
    moved = load_callbacks(tmp_path / "moved.jsonl", warn=False)
    assert sorted(moved["instruction_id"]) == sorted(out["instruction_id"])


@pytest.mark.parametrize("stored_payload", [True, False], ids=["payload stored", "no payload stored"])
def test_a_schema_3_journal_hashed_with_the_callback_url_reports_no_changed_row(tmp_path, sim, stored_payload):
    """Schema-3 journals hashed the whole wire dict, URL included: the open rehashes what it can."""
    url = "http://127.0.0.1:9/old"
    df = pd.DataFrame({"callee": NUMBERS[:3]})
    plan = plan_campaign(df, app="notification", name="spring", campaign_key="0badc0de",
                         defaults=notification_defaults("Hello", callback_url=url))
    path = tmp_path / "j.sqlite"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_V3)
    con.execute("INSERT INTO meta VALUES ('campaign_key', '0badc0de')")
    con.execute("INSERT INTO campaigns VALUES ('spring', 'notification', '2026-01-01T00:00:00Z')")
    for r in plan.rows:
        old_hash = legacy_instruction_hash(json.loads(r.payload))
        assert old_hash != r.payload_hash
        con.execute("INSERT INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state, attempts,"
                    " call_ids, sent_at, updated_at, base_id, payload) VALUES ('spring', ?, ?, ?, ?, 'queued', 1, ?,"
                    " '2026-01-01T09:00:00Z', '2026-01-01T09:00:00Z', ?, ?)",
                    (r.instruction_id, str(r.label), r.callee, old_hash, f"call-{r.position}", r.instruction_id,
                     r.payload if stored_payload else None))
        con.execute("INSERT INTO callees VALUES (?, 'spring', ?)", (r.callee, r.instruction_id))
    con.execute("PRAGMA user_version=3")
    con.commit()
    con.close()
    same = send(sim, path, NUMBERS[:3], url)
    assert list(same["status"]) == ["queued"] * 3  # the old whole-wire hash still matches
    moved = send(sim, path, NUMBERS[:3], "http://127.0.0.1:9/new")
    assert len(sim.requests) == 0  # nobody called again, whatever the URL
    expected = ["queued"] * 3 if stored_payload else ["changed"] * 3
    assert list(moved["status"]) == expected
    if stored_payload:  # rehashed from the stored payload when the journal was opened
        with Journal(path) as j:
            assert {r.instruction_id: r.payload_hash for r in j.load("spring").values()} == \
                   {r.instruction_id: r.payload_hash for r in plan.rows}
