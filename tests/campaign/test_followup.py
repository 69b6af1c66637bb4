"""Follow-up waves: the real simulator, the real receiver and an injected clock.

The simulator's magic endings decide each outcome (cmvoice_nb/simulator/physics.py
MAGIC_ENDINGS): a callee ending 09 is Cancelled, 10 Finished (answered), 11 Failed,
12 Rejected, whatever the wave.
"""
import json
import sqlite3

import pandas as pd
import pytest

import cmvoice_nb as cm
from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import Journal, plan_followup, reach_by_wave, send_campaign, wave_instruction_id
from cmvoice_nb.errors import CampaignError
from cmvoice_nb.spec import INSTRUCTION_ID_MAX_LENGTH

from .._wait import scaled
from ._lists import notification_defaults

#: Calls end at once, so each wave's callbacks are in before the next is planned.
pytestmark = pytest.mark.simulator(speed=1000.0)
OPTS = dict(rate=500.0, burst=50, progress=False)
# Two Cancelled, one Failed, one answered, one Rejected.
PEOPLE = {"ann": "+31612340109", "bob": "+31612340209", "cem": "+31612340311", "dora": "+31612340410",
          "eve": "+31612340512"}
UNANSWERED = {PEOPLE["ann"], PEOPLE["bob"], PEOPLE["cem"]}


class Rig:
    """A simulator and a receiver on loopback, and one journal: a campaign's whole life."""

    def __init__(self, sim, rx, tmp_path):
        self.sim, self.rx = sim, rx
        self.log = tmp_path / "callbacks.jsonl"
        self.journal = tmp_path / "j.sqlite"

    def first_wave(self, people=PEOPLE, name="spring"):
        df = pd.DataFrame({"name": list(people), "phone": list(people.values())})
        res = send_campaign(df, self.sim.client(), journal=self.journal, app="notification", name=name,
                            columns={"callee": "phone"},
                            defaults=notification_defaults(callback_url=self.rx.url), **OPTS)
        return self.settle(res)

    def send(self, plan):
        return self.settle(send_campaign(plan, self.sim.client(), journal=self.journal, **OPTS))

    def settle(self, res):
        self.sim.wait_idle(scaled(30))
        self.rx.wait_for(self.sim.placed_count(), timeout=scaled(30))
        return res

    def calls(self):
        return load_callbacks(self.log, warn=False)

    def after(self, minutes):
        """A clock *minutes* after the latest call in the log ended (the simulator's time runs ahead)."""
        return self.calls()["finished_on"].max() + pd.Timedelta(minutes=minutes)

    def placed(self):
        return self.sim.calls


@pytest.fixture
def rig(sim, receiver, tmp_path):
    return Rig(sim, receiver, tmp_path)


def test_a_follow_up_wave_calls_exactly_the_unanswered_once_each(rig):
    first = rig.first_wave()
    assert set(first["wave"]) == {1}
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31))
    assert {r.callee for r in plan.rows} == UNANSWERED
    assert [r.wave for r in plan.rows] == [2, 2, 2]
    assert all(r.instruction_id == f"{r.base_id}-w2" for r in plan.rows)
    left = plan.left_out.set_index("callee")["reason"].to_dict()
    assert left == {PEOPLE["dora"]: "answered", PEOPLE["eve"]: "rejected"}
    assert plan.left_out_summary().to_dict() == {"answered": 1, "rejected": 1}

    second = rig.send(plan)
    assert second["status"].tolist() == ["queued"] * 3 and set(second["wave"]) == {2}
    placed = rig.placed()
    wave2 = placed[placed["instruction_id"].str.endswith("-w2")]
    assert sorted(wave2["callee"]) == sorted(UNANSWERED)
    assert placed["instruction_id"].is_unique
    # The callbacks of wave 2 come back under the wave's own ids.
    calls = rig.calls()
    assert set(calls.loc[calls["instruction_id"].str.endswith("-w2"), "callee"]) == UNANSWERED


def test_the_follow_up_plan_keeps_the_first_waves_payload_with_only_the_id_changed(rig):
    rig.first_wave()
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31))
    with Journal(rig.journal) as j:
        stored = j.payloads("spring")
    for row in plan.rows:
        before, now = json.loads(stored[row.base_id]), json.loads(row.payload)
        assert now.pop("instruction-id") == f"{row.base_id}-w2"
        assert before.pop("instruction-id") == row.base_id
        assert now == before and now["prompt"].startswith("Hello ")


def test_sending_the_same_wave_again_calls_nobody_twice(rig):
    rig.first_wave()
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31))
    rig.send(plan)
    n = rig.sim.placed_count()
    again = rig.send(plan)
    assert rig.sim.placed_count() == n
    assert again["status"].tolist() == ["queued"] * 3  # already done, not sent again


def test_a_wave_waits_for_the_callbacks_of_the_one_before(rig):
    rig.first_wave()
    calls_before_wave2 = rig.calls()
    rig.send(plan_followup(rig.journal, calls_before_wave2, now=rig.after(31)))
    # Planning again with the old callbacks only: the wave-2 calls have not reported yet.
    plan = plan_followup(rig.journal, calls_before_wave2, now=rig.after(600))
    assert plan.rows == ()
    assert plan.left_out_summary().to_dict() == {"waiting": 3, "answered": 1, "rejected": 1}


def test_max_attempts_counts_every_wave(rig):
    rig.first_wave()
    rig.send(plan_followup(rig.journal, rig.calls(), now=rig.after(31)))
    capped = plan_followup(rig.journal, rig.calls(), max_attempts=2, now=rig.after(31))
    assert capped.rows == () and capped.left_out_summary()["max attempts"] == 3
    third = plan_followup(rig.journal, rig.calls(), max_attempts=3, now=rig.after(31))
    assert sorted(r.instruction_id[-3:] for r in third.rows) == ["-w3"] * 3
    rig.send(third)
    assert plan_followup(rig.journal, rig.calls(), now=rig.after(31)).left_out_summary()["max attempts"] == 3
    placed = rig.placed()
    assert placed.groupby("callee").size().to_dict() == {
        PEOPLE["ann"]: 3, PEOPLE["bob"]: 3, PEOPLE["cem"]: 3, PEOPLE["dora"]: 1, PEOPLE["eve"]: 1}


def test_min_gap_is_measured_from_the_end_of_the_latest_call_on_the_injected_clock(rig):
    rig.first_wave()
    calls = rig.calls()
    ended = calls.set_index("callee")["finished_on"]
    # Just before the latest unanswered call is 30 minutes old: that row is too recent.
    latest = ended[list(UNANSWERED)].max()
    plan = plan_followup(rig.journal, calls, min_gap="30min", now=latest + pd.Timedelta(minutes=29))
    assert "too recent" in set(plan.left_out["reason"])
    plan = plan_followup(rig.journal, calls, min_gap="30m", now=lambda: latest + pd.Timedelta(minutes=30))
    assert {r.callee for r in plan.rows} == UNANSWERED


def test_outcomes_choose_who_is_called_again(rig):
    rig.first_wave()
    only_failed = plan_followup(rig.journal, rig.calls(), outcomes=("Failed",), now=rig.after(31))
    assert [r.callee for r in only_failed.rows] == [PEOPLE["cem"]]
    assert only_failed.left_out_summary()["other outcome"] == 2
    with_rejected = plan_followup(rig.journal, rig.calls(), outcomes="Cancelled,Failed,Rejected", now=rig.after(31))
    assert PEOPLE["eve"] in {r.callee for r in with_rejected.rows}


def test_suppressed_numbers_are_left_out_in_any_spelling(rig):
    rig.first_wave()
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31), suppress=["0031 6 1234 0109"])
    assert PEOPLE["ann"] not in {r.callee for r in plan.rows}
    assert plan.left_out.set_index("callee").loc[PEOPLE["ann"], "reason"] == "suppressed"


def test_a_row_suppressed_in_wave_1_never_appears_in_wave_2_even_without_the_list(rig):
    df = pd.DataFrame({"phone": [PEOPLE["ann"], PEOPLE["bob"]]})
    first = send_campaign(df, rig.sim.client(), journal=rig.journal, app="notification", name="spring",
                          columns={"callee": "phone"}, suppress=["06 1234 0109"], region="NL",
                          defaults=notification_defaults("Hi", callback_url=rig.rx.url), **OPTS)
    rig.settle(first)
    assert first["status"].tolist() == ["suppressed", "queued"]
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31))   # no list given this time
    assert {r.callee for r in plan.rows} == {PEOPLE["bob"]}
    left = plan.left_out.set_index("callee")
    assert left.loc[PEOPLE["ann"], "reason"] == "suppressed" and left.loc[PEOPLE["ann"], "attempts"] == 0
    assert plan.left_out_summary().to_dict() == {"suppressed": 1}
    rig.send(plan)
    assert PEOPLE["ann"] not in set(rig.placed()["callee"])


def test_a_row_deferred_by_its_calling_hours_is_left_out_as_not_sent_not_as_waiting(rig):
    import datetime as dt

    df = pd.DataFrame({"phone": [PEOPLE["ann"], PEOPLE["bob"]]})
    sunday = dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.timezone.utc)
    first = send_campaign(df, rig.sim.client(), journal=rig.journal, app="notification", name="spring",
                          columns={"callee": "phone"}, calling_hours="09:00-20:00", days="mon-fri", wait=False,
                          now=sunday, defaults=notification_defaults("Hi", callback_url=rig.rx.url), **OPTS)
    assert first["status"].tolist() == ["deferred", "deferred"] and rig.sim.placed_count() == 0
    plan = plan_followup(rig.journal, [], now="2026-03-30T12:00:00Z")
    assert plan.rows == ()
    assert plan.left_out_summary().to_dict() == {"not sent": 2}


def test_a_csv_suppression_list_with_the_numbers_in_the_second_column_is_read(rig, tmp_path):
    rig.first_wave()
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("name,telefoon,note\nAnn,+31 6 1234 0109,asked\nCem,0031612340311,moved\n", encoding="utf-8")
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31), suppress=dnc)
    assert {r.callee for r in plan.rows} == {PEOPLE["bob"]}
    reasons = plan.left_out.set_index("callee")["reason"]
    assert reasons[PEOPLE["ann"]] == reasons[PEOPLE["cem"]] == "suppressed"


def test_a_suppression_list_without_names_is_read_from_the_column_holding_numbers(rig, tmp_path):
    rig.first_wave()
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("Ann;0612340109\nBob;0612340209\n", encoding="utf-8")
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31), suppress=dnc, region="NL")
    assert {r.callee for r in plan.rows} == {PEOPLE["cem"]}


def test_a_missing_suppression_file_is_named(rig, tmp_path):
    rig.first_wave()
    with pytest.raises(CampaignError, match="nope.csv: no such file"):
        plan_followup(rig.journal, rig.calls(), now=rig.after(31), suppress=tmp_path / "nope.csv")


def test_another_campaign_still_may_not_call_someone_a_wave_called(rig):
    rig.first_wave()
    rig.send(plan_followup(rig.journal, rig.calls(), now=rig.after(31)))
    res = rig.first_wave({"ann": PEOPLE["ann"]}, name="autumn")
    assert res["status"].tolist() == ["already-called"]


def test_reach_per_wave_counts_people_answered_after_each_attempt(rig):
    first = rig.first_wave()
    second = rig.send(plan_followup(rig.journal, rig.calls(), now=rig.after(31)))
    table = reach_by_wave([first, second], rig.calls())
    assert table.index.tolist() == [1, 2]
    assert table.loc[1, "called"] == 5 and table.loc[1, "answered"] == 1
    assert table.loc[2, "called"] == 3 and table.loc[2, "answered"] == 0  # magic endings never answer
    assert table["answered_cumulative"].tolist() == [1, 1]
    assert table["reach_cumulative"].tolist() == [0.2, 0.2]
    with Journal(rig.journal) as j:
        pd.testing.assert_frame_equal(reach_by_wave(j, rig.calls(), campaign="spring"), table)
    f = cm.funnel(pd.concat([first, second], ignore_index=True), rig.calls())
    assert f.waves is not None and f.waves["called"].tolist() == [5, 3]
    assert "answered after 2 attempts: 1 (20%)" in f.to_text()


def test_a_journal_from_before_waves_is_migrated_and_its_rows_cannot_be_followed_up(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE campaigns (name TEXT PRIMARY KEY, app TEXT NOT NULL, created_at TEXT NOT NULL);"
        "CREATE TABLE rows (campaign TEXT NOT NULL, instruction_id TEXT NOT NULL, row_label TEXT, callee TEXT,"
        " payload_hash TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER,"
        " call_ids TEXT, error TEXT, sent_at TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (campaign, instruction_id));"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE callees (number TEXT NOT NULL, campaign TEXT NOT NULL, instruction_id TEXT NOT NULL,"
        " PRIMARY KEY (campaign, instruction_id, number));"
        "INSERT INTO meta VALUES ('campaign_key', 'abcd1234');"
        "INSERT INTO campaigns VALUES ('old', 'notification', '2026-01-01T00:00:00Z');"
        "INSERT INTO rows VALUES ('old', 'old-0', '0', '+31612345609', 'h', 'queued', 1, 200, 'call-9', NULL,"
        " '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z');"
        "PRAGMA user_version=2;")
    con.close()
    calls = [{"call-id": "call-9", "instruction-id": "old-0", "callee": "+31612345609", "result": {"code": 9},
              "finished-on": "2026-01-01T00:01:00Z"}]
    plan = plan_followup(path, calls, now="2026-01-01T02:00:00Z")
    assert plan.rows == () and plan.left_out["reason"].tolist() == ["no payload"]
    with Journal(path) as j:
        row = j.get("old", "old-0")
        assert (row.wave, row.row_id, row.campaign) == (1, "old-0", "old")
        assert j.campaign_key == "abcd1234"


def test_wave_ids_stay_within_the_contracts_length():
    long = "x" * INSTRUCTION_ID_MAX_LENGTH
    ids = {wave_instruction_id(long, w) for w in range(2, 12)}
    assert len(ids) == 10 and all(len(i) <= INSTRUCTION_ID_MAX_LENGTH for i in ids)
    assert wave_instruction_id(long, 2) == wave_instruction_id(long, 2)


def test_bad_options_are_named(tmp_path, rig):
    rig.first_wave()
    calls = rig.calls()
    with pytest.raises(CampaignError, match="not an unanswered outcome"):
        plan_followup(rig.journal, calls, outcomes=("Finished",))
    with pytest.raises(CampaignError, match="min_gap"):
        plan_followup(rig.journal, calls, min_gap="soon")
    with pytest.raises(CampaignError, match="max_attempts"):
        plan_followup(rig.journal, calls, max_attempts=0)
    with pytest.raises(CampaignError, match="does not exist"):
        plan_followup(tmp_path / "missing.sqlite", calls)
    assert not (tmp_path / "missing.sqlite").exists()
    rig.first_wave({"x": "+31612349910"}, name="other")
    with pytest.raises(CampaignError, match="pass campaign="):
        plan_followup(rig.journal, calls)
    assert plan_followup(rig.journal, calls, campaign="other", now=rig.after(60)).left_out["reason"].tolist() \
        == ["waiting"]


def test_a_payload_holding_the_token_is_never_stored_and_cannot_be_followed_up(rig):
    from cmvoice_nb.simulator import SIMULATOR_TOKEN

    df = pd.DataFrame({"phone": [PEOPLE["ann"]]})
    send_campaign(df, rig.sim.client(), journal=rig.journal, app="notification", name="oops",
                  columns={"callee": "phone"},
                  defaults=notification_defaults(f"your token is {SIMULATOR_TOKEN}", callback_url=rig.rx.url), **OPTS)
    rig.settle(None)
    with Journal(rig.journal) as j:
        assert list(j.payloads("oops").values()) == [None]
    for path in rig.journal.parent.glob("j.sqlite*"):
        assert SIMULATOR_TOKEN.encode() not in path.read_bytes()
    plan = plan_followup(rig.journal, rig.calls(), now=rig.after(31))
    assert plan.rows == () and plan.left_out["reason"].tolist() == ["no payload"]


def test_the_operator_s_kept_columns_follow_each_person_into_the_next_wave(rig):
    df = pd.DataFrame({"name": list(PEOPLE), "phone": list(PEOPLE.values()),
                       "Klantnummer": ["K1", "K2", "K3", "K4", "K5"]})
    rig.settle(send_campaign(df, rig.sim.client(), journal=rig.journal, app="notification", name="spring",
                             columns={"callee": "phone", "id": "Klantnummer"}, keep=["name"],
                             defaults=notification_defaults(callback_url=rig.rx.url), **OPTS))
    wave = plan_followup(rig.journal, rig.calls(), now=pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=2))
    results = rig.send(wave)
    by_callee = dict(zip(results["callee"], zip(results["Klantnummer"], results["name"], strict=True), strict=True))
    assert by_callee == {PEOPLE["ann"]: ("K1", "ann"), PEOPLE["bob"]: ("K2", "bob"), PEOPLE["cem"]: ("K3", "cem")}
