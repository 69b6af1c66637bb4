"""One payload per row: built and validated by the plan, sent as those exact bytes, journaled once."""
import dataclasses
import json
import sqlite3

import pandas as pd
import pytest

import cmvoice_nb
from cmvoice_nb.campaign import CampaignSender, RetryPolicy, SendOptions, load_results, plan_campaign, send_campaign
from cmvoice_nb.campaign.journal import Journal
from cmvoice_nb.campaign.results import RESULT_COLUMNS, results_frame
from cmvoice_nb.campaign.send import classify_error
from cmvoice_nb.client import CalleeResult, SendResult
from cmvoice_nb.errors import CampaignError, CMVoiceError
from cmvoice_nb.wire import instruction_hash

from ._lists import answering, hello_plan, notification_defaults

FAST = dict(rate=1000.0, burst=50, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))


def people(n=3):
    # Names with non-ASCII text and an emoji check the bytes survive as UTF-8, unescaped.
    names = ["Zoë", "Łukasz", "Ann 📞"][:n] + [f"P{i}" for i in range(3, n)]
    return pd.DataFrame({"phone": answering(n), "name": names})


class PayloadClient:
    """Records what the sender hands over; answers every call as queued."""

    def __init__(self):
        self.payloads, self.instructions = [], []

    def send_payload(self, app, body, *, instruction_id=None):
        self.payloads.append((app, body, instruction_id))
        callee = json.loads(body)["callee"]
        return SendResult(200, "[]", (CalleeResult(callee, True, call_id="call-" + callee[-6:]),))

    def send(self, instruction):  # must not be used when send_payload exists
        self.instructions.append(instruction)
        raise AssertionError("the sender rebuilt the instruction instead of sending the plan's payload")


def test_every_valid_row_carries_one_frozen_payload_and_its_hash():
    plan = hello_plan(people())
    for row in plan.rows:
        wire = row.instruction.to_json()
        assert isinstance(row.payload, bytes)
        assert json.loads(row.payload) == wire
        assert row.payload_hash == instruction_hash(wire)
    assert "Zoë" in plan.rows[0].payload.decode("utf-8")  # non-ASCII kept, not \\u-escaped


def test_an_invalid_row_has_no_payload_to_send():
    df = pd.DataFrame({"phone": ["+31612345610", "not a number"], "name": ["A", "B"]})
    plan = hello_plan(df)
    assert plan.rows[0].payload is not None
    assert not plan.rows[1].valid and plan.rows[1].payload is None and plan.rows[1].payload_hash is None


def test_the_sender_sends_exactly_the_plans_bytes_and_journals_their_hash(tmp_path):
    plan = hello_plan(people())
    client = PayloadClient()
    journal = tmp_path / "j.sqlite"
    sender = CampaignSender(plan, client, journal=journal, **FAST)
    res = sender.run()
    plan = sender.plan  # re-keyed to the journal's campaign key
    assert list(res["status"]) == ["queued"] * 3
    assert not client.instructions
    sent = {iid: body for _app, body, iid in client.payloads}
    with Journal(journal) as j:
        rows = j.load("c")
    for row in plan.rows:
        assert sent[row.instruction_id] == row.payload  # byte for byte
        assert rows[row.instruction_id].payload_hash == row.payload_hash


def test_a_rekeyed_plan_sends_payloads_with_the_new_ids(tmp_path):
    plan = plan_campaign(people(2), app="notification", name="c", columns={"callee": "phone"}, campaign_key="aaaa0000",
                         defaults=notification_defaults("Hi"))
    rekeyed = plan.rekey("bbbb1111")
    for row in rekeyed.rows:
        assert json.loads(row.payload)["instruction-id"] == row.instruction_id == f"c-bbbb1111-{row.content}-1"
        assert row.payload_hash == instruction_hash(row.instruction.to_json())
    assert plan.rows[0].payload != rekeyed.rows[0].payload  # the original plan is untouched


def test_a_new_row_is_written_once_and_sending_rewrites_nothing_it_already_holds(tmp_path):
    plan = hello_plan(people(1))
    path = tmp_path / "j.sqlite"
    statements = []
    with Journal(path) as j:
        j._connection().set_trace_callback(statements.append)
        CampaignSender(plan, PayloadClient(), journal=j, **FAST).run()
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    sending = [s for s in writes if s.startswith("UPDATE rows SET state = 'sending'")]
    assert len(sending) == 1
    assert "payload_hash" not in sending[0] and "callee =" not in sending[0]
    assert sum("INSERT OR IGNORE INTO rows" in s for s in writes) == 1


def test_a_corrected_row_records_its_new_hash_and_callee_when_it_is_sent_again(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.ensure_campaign("c", app="notification")
        j.register("c", [("c-1", "0", "+31612345610", "h-old")])
        j.mark_sending("c", "c-1")
        j.mark_done("c", "c-1", "failed", error="refused")
        assert j.get("c", "c-1").payload_hash == "h-old"  # nothing given: kept
        row = j.mark_sending("c", "c-1", payload_hash="h-new", callee="+31612345611")
        assert (row.payload_hash, row.callee) == ("h-new", "+31612345611")
        assert j.get("c", "c-1").payload_hash == "h-new"
        assert "+31612345611" in j.called_numbers()


def test_through_the_simulator_the_real_client_sends_the_payload(tmp_path, sim):
    res = send_campaign(hello_plan(people()), sim.client(), journal=tmp_path / "j.sqlite", **FAST)
    assert list(res["status"]) == ["queued"] * 3 and res["call_ids"].notna().all()


# --- one status vocabulary -----------------------------------------------------------------------

def test_the_journal_refuses_a_state_outside_the_spec_and_accepts_each_of_its_states(tmp_path):
    from cmvoice_nb.campaign.vocabulary import JOURNAL_STATES

    with Journal(tmp_path / "j.sqlite"):
        pass
    con = sqlite3.connect(tmp_path / "j.sqlite")
    for i, state in enumerate(JOURNAL_STATES):
        con.execute("INSERT INTO rows (campaign, instruction_id, state, updated_at) VALUES ('c', ?, ?, 'now')",
                    (f"i{i}", state))
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO rows (campaign, instruction_id, state, updated_at) VALUES ('c', 'x', 'done', 'now')")
    con.close()


def test_every_status_that_needs_attention_says_what_resolves_it_in_every_front_end():
    from cmvoice_nb.campaign.vocabulary import ATTENTION_STATUSES, FIX, RESULT_STATUSES, STATUS
    from cmvoice_nb.messages import MARKER, say

    assert set(ATTENTION_STATUSES) == {s.name for s in STATUS.values() if s.attention and s.result}
    assert set(ATTENTION_STATUSES) <= set(RESULT_STATUSES)
    for name in ATTENTION_STATUSES:
        python, cli, widget = (say(FIX[name], front) for front in ("python", "cli", "widget"))
        assert python and cli and widget and MARKER not in python + cli + widget
        assert "--" not in python and "=" not in cli.replace("--", "")


def test_cmvoice_send_help_lists_every_attention_status_from_the_spec(capsys):
    from cmvoice_nb.campaign.vocabulary import ATTENTION_STATUSES, FIX
    from cmvoice_nb.cli import main
    from cmvoice_nb.messages import say

    with pytest.raises(SystemExit):
        main(["send", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in ATTENTION_STATUSES:
        assert " ".join(say(FIX[name], "cli").split()) in text


# --- errors classified by their own flags --------------------------------------------------------

class _Flagged(CMVoiceError):
    pass


def test_an_error_is_retried_because_it_says_it_is_safe_not_because_of_its_class():
    safe = _Flagged("try later")
    safe.retry_safe = True
    placed = _Flagged("sent, then lost")
    placed.may_have_been_placed = True
    assert classify_error(safe) == ("failed", True)
    assert classify_error(placed) == ("unknown", False)
    assert classify_error(_Flagged("neither")) == ("unknown", False)
    assert classify_error(RuntimeError("a bug")) == ("unknown", False)


# --- options travel together ---------------------------------------------------------------------

def test_options_are_given_once_either_as_send_options_or_as_keywords():
    plan = hello_plan(people())
    sender = CampaignSender(plan, None, journal=None, options=SendOptions(dry_run=True, rate=7.0))
    assert sender.options.rate == 7.0 and sender.dry_run
    with pytest.raises(CampaignError, match="not both"):
        CampaignSender(plan, None, journal=None, options=SendOptions(dry_run=True), rate=3.0)
    with pytest.raises(CampaignError, match="unknown option.*rtae"):
        CampaignSender(plan, None, journal=None, dry_run=True, rtae=3.0)
    with pytest.raises(CampaignError, match="concurrency"):
        SendOptions(concurrency=0)


def test_send_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SendOptions().rate = 1.0  # type: ignore[misc]


# --- one results frame ---------------------------------------------------------------------------

def test_results_read_back_from_csv_have_the_types_of_the_run(tmp_path, sim):
    res = send_campaign(hello_plan(people()), sim.client(), journal=tmp_path / "j.sqlite",
                        results_path=tmp_path / "r.csv", **FAST)
    back = load_results(tmp_path / "r.csv")
    assert list(back.columns) == RESULT_COLUMNS
    for col in RESULT_COLUMNS:
        assert back[col].dtype == res[col].dtype, col
    pd.testing.assert_series_equal(back["callee"], res["callee"], check_index=False)


def test_load_results_keeps_its_public_names():
    from cmvoice_nb.campaign.results import load_results as from_results

    assert from_results is load_results is cmvoice_nb.load_results


def test_an_unreadable_results_file_is_a_campaign_error_naming_it(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(CMVoiceError, match="r.csv"):
        load_results(path)


def test_an_empty_run_gives_an_empty_frame_with_every_column():
    frame = results_frame([])
    assert list(frame.columns) == RESULT_COLUMNS and len(frame) == 0
