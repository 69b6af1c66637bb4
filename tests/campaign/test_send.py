"""Sending: pacing, retry only what was provably not processed, journal resume, dry run, stop."""
import _thread
import sqlite3
import threading

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignSender, RetryPolicy, send_campaign
from cmvoice_nb.campaign.journal import Journal
from cmvoice_nb.campaign.send import RESULT_COLUMNS, classify_error
from cmvoice_nb.client import CalleeResult, SendResult
from cmvoice_nb.errors import (
    APIError,
    AuthenticationError,
    CampaignError,
    ConnectError,
    ConnectionDropped,
    InstructionRejected,
    JournalError,
    RateLimited,
    ReadTimeout,
    ServerError,
)
from cmvoice_nb.simulator import SIMULATOR_TOKEN

from .._net import refusing_url
from .._wait import scaled
from ._lists import answering, hello_plan, notification_defaults, phone_list

FAST = RetryPolicy(max_attempts=3, backoff_s=0.001, max_backoff_s=0.01)
OPTS = dict(rate=1000.0, burst=50, concurrency=4, progress=False, retry=FAST)


#: The callee of row i of phone_list(): the scripted client answers per callee.
P = answering(10)


class ScriptedClient:
    """Answers per callee from a script of outcomes: an exception to raise or "ok"."""

    def __init__(self, script=None, default="ok"):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.default = default
        self.sent = []
        self.lock = threading.Lock()

    def send(self, inst):
        with self.lock:
            self.sent.append(inst.callee)
            steps = self.script.get(inst.callee)
            outcome = steps.pop(0) if steps else self.default
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "no-callee":
            return SendResult(200, "[]", (CalleeResult(inst.callee, False, error="invalid number"),))
        return SendResult(200, "[]", (CalleeResult(inst.callee, True, call_id=f"call-{inst.instruction_id}"),))


# ---------------------------------------------------------------------- happy path
def test_every_valid_row_is_queued_once_with_its_call_id(sim, tmp_path):
    res = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    assert list(res.columns) == RESULT_COLUMNS
    assert list(res.index) == list(phone_list().index)
    assert (res["status"] == "queued").all() and (res["http_status"] == 200).all()
    assert sim.calls["instruction_id"].value_counts().max() == 1
    assert set(res["call_ids"]) == set(sim.calls["call_id"])
    assert (res["attempts"] == 1).all() and res["sent_at"].notna().all()
    assert str(res["sent_at"].dt.tz) == "UTC"


def test_invalid_rows_are_not_sent_and_say_why(sim, tmp_path):
    df = phone_list(3)
    df.loc[1, "phone"] = "garbage"
    res = send_campaign(hello_plan(df), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    assert list(res["status"]) == ["queued", "invalid", "queued"]
    assert "callee: not a phone number" in res.loc[1, "error"]
    assert len(sim.requests) == 2


def test_send_campaign_plans_a_plain_dataframe_with_keyword_options(sim, tmp_path):
    res = send_campaign(phone_list(2), sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="c",
                        columns={"callee": "phone"}, defaults=notification_defaults("Hi"),
                        **OPTS)
    key = res["campaign_key"].iloc[0]
    assert list(res["instruction_id"]) == [f"c-{key}-{p[1:]}-1" for p in P[:2]]
    with Journal(tmp_path / "j.sqlite") as j:
        assert key == j.campaign_key
    assert (res["status"] == "queued").all()


def test_the_accessor_sends_like_send_campaign(sim, tmp_path):
    res = phone_list(2).cmvoice.send(sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="c",
                                columns={"callee": "phone"}, defaults=notification_defaults("Hi"), **OPTS)
    assert (res["status"] == "queued").all()


def test_a_send_needs_a_journal():
    with pytest.raises(CampaignError, match="needs journal="):
        send_campaign(hello_plan(phone_list()), ScriptedClient(), journal=None, progress=False)


def test_planning_options_with_a_ready_plan_are_refused(tmp_path):
    with pytest.raises(CampaignError, match="only apply to a DataFrame"):
        send_campaign(hello_plan(phone_list()), ScriptedClient(), journal=tmp_path / "j", app="otp", progress=False)


def test_no_token_is_stored_in_results_or_journal(sim, tmp_path):
    sim.set_faults(rate_429=0.3, retry_after_s=0)
    res = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    sim.set_faults(rate_429=0)
    assert SIMULATOR_TOKEN not in res.to_csv()
    for f in tmp_path.iterdir():
        assert SIMULATOR_TOKEN.encode() not in f.read_bytes()


# ------------------------------------------------------------------ retry policy
@pytest.mark.parametrize(
    "error, state, retry",
    [
        (ConnectError("refused"), "failed", True),
        (RateLimited(429, "slow", retry_after=1), "failed", True),
        (ServerError(503, "busy"), "failed", True),
        (ServerError(500, "boom"), "unknown", False),
        (ServerError(502, "gateway"), "unknown", False),
        (ReadTimeout("slow"), "unknown", False),
        (ConnectionDropped("gone"), "unknown", False),
        (InstructionRejected(400, "bad callee"), "rejected", False),
        (AuthenticationError(401, "unknown token"), "abort", False),
        (APIError(404, "no such endpoint"), "abort", False),
        (APIError(413, "too large"), "rejected", False),  # the provider refused the payload: fix it
        (RuntimeError("bug"), "unknown", False),
    ],
)
def test_each_error_is_classified_by_whether_the_call_may_exist(error, state, retry):
    assert classify_error(error) == (state, retry)


@pytest.mark.parametrize("error", [ConnectError("refused"), ServerError(503, "busy"),
                                   RateLimited(429, "slow", retry_after=0.01)])
def test_provably_unprocessed_requests_are_retried_until_queued(tmp_path, error):
    client = ScriptedClient({P[1]: [error, error]})
    res = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert res.loc[1, "status"] == "queued" and res.loc[1, "attempts"] == 3
    assert client.sent.count(P[1]) == 3


def test_retries_are_bounded_and_then_the_row_is_failed(tmp_path):
    client = ScriptedClient({P[1]: [ServerError(503, "busy")] * 10})
    res = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert res.loc[1, "status"] == "failed"
    assert res.loc[1, "error"].startswith("gave up after 3 attempts")
    assert client.sent.count(P[1]) == 3
    assert (res.drop(index=1)["status"] == "queued").all()


def test_a_429_honours_retry_after_and_reduces_the_pace(tmp_path):
    plan = hello_plan(phone_list())
    client = ScriptedClient({P[0]: [RateLimited(429, "slow", retry_after=0.05)]})
    sender = CampaignSender(plan, client, journal=tmp_path / "j.sqlite", **OPTS)
    res = sender.run()
    assert res.loc[0, "status"] == "queued" and res.loc[0, "attempts"] == 2
    assert sender.bucket.rate < sender.bucket.target_rate


@pytest.mark.parametrize("error", [ReadTimeout("slow"), ConnectionDropped("gone"), ServerError(500, "boom")])
def test_a_request_that_may_have_placed_a_call_is_unknown_and_never_retried(tmp_path, error):
    client = ScriptedClient({P[2]: [error]})
    res = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert res.loc[2, "status"] == "unknown" and client.sent.count(P[2]) == 1
    again = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert again.loc[2, "status"] == "unknown" and client.sent.count(P[2]) == 1


def test_unknown_rows_are_resent_only_when_asked(tmp_path):
    client = ScriptedClient({P[2]: [ReadTimeout("slow")]})
    send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    res = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", resend_unknown=True, **OPTS)
    assert res.loc[2, "status"] == "queued" and client.sent.count(P[2]) == 2
    assert res.loc[2, "attempts"] == 2


def test_a_rejected_row_can_be_fixed_and_is_sent_on_the_next_run(tmp_path):
    client = ScriptedClient({P[3]: [InstructionRejected(400, "callee is blocked")]})
    first = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert first.loc[3, "status"] == "rejected" and first.loc[3, "http_status"] == 400
    assert "callee is blocked" in first.loc[3, "error"]
    second = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert second.loc[3, "status"] == "queued"
    assert client.sent.count(P[0]) == 1 and client.sent.count(P[3]) == 2


def test_a_200_without_any_queued_callee_is_rejected(tmp_path):
    client = ScriptedClient({P[0]: ["no-callee"]})
    res = send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert res.loc[0, "status"] == "rejected" and "invalid number" in res.loc[0, "error"]


def test_an_authentication_error_stops_the_run_and_leaves_unsent_rows_pending(sim, tmp_path):
    from cmvoice_nb.client import VoiceClient

    bad = VoiceClient("not-the-token", base_url=sim.base_url)
    with pytest.raises(AuthenticationError) as info:
        send_campaign(hello_plan(phone_list()), bad, journal=tmp_path / "j.sqlite", results_path=tmp_path / "r.csv",
                      **{**OPTS, "concurrency": 1})
    results = info.value.results
    assert (results["status"] == "skipped").all()
    assert len(sim.calls) == 0 and len(sim.requests) == 1
    assert pd.read_csv(tmp_path / "r.csv")["status"].eq("skipped").all()
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.counts("c") == {"pending": 6}
    res = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    assert (res["status"] == "queued").all()


def test_an_unreachable_provider_stops_the_run_after_one_row(tmp_path):
    from cmvoice_nb.client import VoiceClient

    client = VoiceClient("t", base_url=refusing_url("/voiceapi/v2"))
    with pytest.raises(ConnectError) as info:
        send_campaign(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite", **{**OPTS, "concurrency": 1})
    counts = info.value.results["status"].value_counts().to_dict()
    assert counts == {"failed": 1, "skipped": 5}


# ------------------------------------------------------- simulator faults, end to end
def test_with_429_503_and_dropped_connections_no_one_is_called_twice(sim, tmp_path):
    sim.set_faults(rate_429=0.15, rate_5xx=0.15, status_5xx=503, rate_drop=0.1, retry_after_s=0)
    plan = hello_plan(phone_list(40))
    res = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite",
                        **{**OPTS, "retry": RetryPolicy(max_attempts=8, backoff_s=0.001, max_backoff_s=0.01)})
    placed = sim.calls["instruction_id"].value_counts()
    assert placed.max() == 1
    assert set(res["status"]) <= {"queued", "unknown"}
    dropped = set(sim.calls.loc[sim.calls["response"] == "dropped", "instruction_id"])
    assert set(res.loc[res["status"] == "unknown", "instruction_id"]) == dropped
    assert set(res.loc[res["status"] == "queued", "instruction_id"]) == set(placed.index) - dropped


# -------------------------------------------------------------------------- resume
def test_a_rerun_with_the_same_journal_sends_nothing_again_and_reports_the_same(sim, tmp_path):
    first = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    second = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    assert len(sim.requests) == 6
    pd.testing.assert_frame_equal(first, second)


def test_a_row_edited_after_it_was_queued_is_withheld_as_changed_unless_asked(sim, tmp_path):
    first = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    df = phone_list()
    df.loc[0, "name"] = "Changed"
    res = send_campaign(hello_plan(df), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    assert res.loc[0, "status"] == "changed" and "changed since it was sent" in res.loc[0, "error"]
    assert res.loc[0, "call_ids"] == first.loc[0, "call_ids"]
    assert (res.drop(index=0)["status"] == "queued").all()
    assert len(sim.requests) == 6
    again = send_campaign(hello_plan(df), sim.client(), journal=tmp_path / "j.sqlite", resend_changed=True, **OPTS)
    assert again.loc[0, "status"] == "queued" and again.loc[0, "call_ids"] != first.loc[0, "call_ids"]
    assert len(sim.requests) == 7
    assert "Hello Changed" in sim.requests["body"].iloc[-1]


def test_a_journal_campaign_of_another_app_is_refused(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        j.ensure_campaign("c", app="otp")
    with pytest.raises(JournalError, match="is a 'otp' campaign"):
        send_campaign(hello_plan(phone_list()), ScriptedClient(), journal=tmp_path / "j.sqlite", **OPTS)


def test_a_second_run_on_a_journal_in_use_is_refused(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.lock()
    try:
        with pytest.raises(JournalError, match="another send is running"):
            send_campaign(hello_plan(phone_list()), ScriptedClient(), journal=tmp_path / "j.sqlite", **OPTS)
    finally:
        j.close()


# ------------------------------------------------------------------------- dry run
def test_a_dry_run_sends_nothing_and_writes_no_journal(sim, tmp_path):
    res = send_campaign(hello_plan(phone_list()), sim.client(), journal=tmp_path / "j.sqlite", dry_run=True, **OPTS)
    assert (res["status"] == "dry-run").all()
    assert len(sim.requests) == 0 and not (tmp_path / "j.sqlite").exists()


def test_a_dry_run_over_an_existing_journal_shows_what_is_already_done(sim, tmp_path):
    send_campaign(hello_plan(phone_list(2)), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    res = send_campaign(hello_plan(phone_list(4)), None, journal=tmp_path / "j.sqlite", dry_run=True, **OPTS)
    assert list(res["status"]) == ["queued", "queued", "dry-run", "dry-run"]


# ------------------------------------------------------------------- stop, Ctrl-C
class GatedClient(ScriptedClient):
    """Lets `allowed` sends through at once, then blocks each until the test opens the gate."""

    def __init__(self, allowed):
        super().__init__()
        self.allowed = allowed
        self.gate = threading.Event()
        self.reached = threading.Event()

    def send(self, inst):
        with self.lock:
            n = len(self.sent)
        if n >= self.allowed:
            self.reached.set()
            self.gate.wait(scaled(10))
        return super().send(inst)


def test_stop_from_another_thread_ends_cleanly_and_a_rerun_sends_the_rest(tmp_path):
    client = GatedClient(allowed=3)
    sender = CampaignSender(hello_plan(phone_list(10)), client, journal=tmp_path / "j.sqlite",
                            **{**OPTS, "concurrency": 1})
    sender.start()
    assert client.reached.wait(scaled(10))
    assert sender.running
    threading.Thread(target=sender.stop).start()
    client.gate.set()
    res = sender.wait(scaled(10))
    counts = res["status"].value_counts().to_dict()
    assert counts == {"queued": 4, "skipped": 6}
    assert sender.progress["queued"] == 4 and not sender.running
    assert "done" in repr(sender)
    page = sender._repr_html_()
    # Counts, the end-of-run summary and the results head, in the shared table style; the six
    # rows not sent because of the stop come first (they need the operator).
    assert page.count("<div class='cmvoice-table-box'>") == 2 and "10 rows: queued 4, skipped 6" in page
    rows = page[page.index("Results (10 rows"):]
    assert rows.index(">skipped<") < rows.index(">queued<")
    again = send_campaign(hello_plan(phone_list(10)), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert (again["status"] == "queued").all()
    assert len(client.sent) == 10 and len(set(client.sent)) == 10


def test_ctrl_c_during_send_campaign_returns_partial_results(tmp_path):
    import logging

    client = GatedClient(allowed=2)
    stopped = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record):
            if "interrupted" in record.getMessage():
                stopped.set()

    def interrupt():
        client.reached.wait(scaled(10))
        _thread.interrupt_main()
        stopped.wait(scaled(10))  # the main thread has asked the run to stop
        client.gate.set()

    handler = Seen()
    logging.getLogger("cmvoice_nb.campaign.send").addHandler(handler)
    threading.Thread(target=interrupt).start()
    try:
        res = send_campaign(hello_plan(phone_list(8)), client, journal=tmp_path / "j.sqlite",
                            **{**OPTS, "concurrency": 1})
    finally:
        logging.getLogger("cmvoice_nb.campaign.send").removeHandler(handler)
    assert set(res["status"]) == {"queued", "skipped"}
    assert (res["status"] == "queued").sum() == 3
    con = sqlite3.connect(tmp_path / "j.sqlite")
    states = dict(con.execute("SELECT state, COUNT(*) FROM rows GROUP BY state").fetchall())
    con.close()
    assert states == {"queued": 3, "pending": 5}


def test_progress_counts_add_up_while_and_after_sending(tmp_path):
    sender = CampaignSender(hello_plan(phone_list()), ScriptedClient(), journal=tmp_path / "j.sqlite", **OPTS).start()
    res = sender.wait(scaled(10))
    p = sender.progress
    assert p["total"] == 6 and p["to_send"] == 6 and p["sent"] == 6 and p["queued"] == 6 and p["in_flight"] == 0
    assert res is sender.results


def test_results_csv_has_the_row_column_then_the_result_columns(tmp_path):
    send_campaign(hello_plan(phone_list()), ScriptedClient(), journal=tmp_path / "j.sqlite",
                  results_path=tmp_path / "r.csv",
                  **OPTS)
    csv = pd.read_csv(tmp_path / "r.csv", dtype=str)
    assert list(csv.columns) == ["row", *RESULT_COLUMNS]
    assert list(csv["row"]) == [str(i) for i in range(6)]
    assert csv["sent_at"].str.endswith("Z").all()


def test_retry_after_pauses_the_shared_bucket_and_sets_the_minimum_backoff(tmp_path):
    client = ScriptedClient({P[0]: [RateLimited(429, "slow", retry_after=0.05)]})
    sender = CampaignSender(hello_plan(phone_list(3)), client, journal=tmp_path / "j.sqlite", **OPTS)
    paused = []
    real_pause = sender.bucket.pause
    sender.bucket.pause = lambda seconds: (paused.append(seconds), real_pause(seconds))
    res = sender.run()
    assert (res["status"] == "queued").all()
    assert paused == [0.05]
    assert RetryPolicy(backoff_s=0.01).delay_s(1, retry_after=3.0, jitter=0.0) == 3.0


def test_a_dataframe_without_app_and_name_cannot_be_sent(tmp_path):
    with pytest.raises(CampaignError, match="needs app= and name="):
        send_campaign(phone_list(), ScriptedClient(), journal=tmp_path / "j.sqlite", progress=False)


def test_a_real_send_without_a_client_is_refused_before_anything_is_journaled(tmp_path):
    with pytest.raises(CampaignError, match="client must be a VoiceClient"):
        send_campaign(hello_plan(phone_list()), None, journal=tmp_path / "j.sqlite", progress=False)
    assert not (tmp_path / "j.sqlite").exists()


# ------------------------------------------------------------ guard, summary, dry-run speed
def test_a_large_dry_run_uses_no_pacing_at_all(tmp_path):
    n = 10_000
    df = pd.DataFrame({"phone": [f"+3161{i:07d}" for i in range(n)], "name": ["P"] * n})
    sender = CampaignSender(hello_plan(df), None, journal=None, dry_run=True, rate=0.5, burst=1, progress=False)
    res = sender.run()
    assert (res["status"] == "dry-run").all() and len(res) == n
    assert sender.bucket.granted == 0  # at 0.5 calls/s a paced dry run would take 5.5 hours
    assert sender.progress["to_send"] == n


def test_a_callee_already_called_under_another_id_is_refused_with_the_earlier_call(sim, tmp_path):
    first = send_campaign(hello_plan(phone_list(2)), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    with_ids = phone_list(2).assign(instruction_id=["mine-a", "mine-b"])
    res = send_campaign(hello_plan(with_ids), sim.client(), journal=tmp_path / "j.sqlite", **OPTS)
    assert list(res["status"]) == ["already-called", "already-called"]
    assert list(res["call_ids"]) == list(first["call_ids"])
    assert first.loc[0, "instruction_id"] in res.loc[0, "error"]
    assert sim.placed_count() == 2
    again = send_campaign(hello_plan(with_ids), sim.client(), journal=tmp_path / "j.sqlite", allow_repeat=True, **OPTS)
    assert (again["status"] == "queued").all() and sim.placed_count() == 4
    assert list(again["instruction_id"]) == ["mine-a", "mine-b"]  # the user's own ids, never re-keyed


def test_the_summary_speaks_keyword_names_in_python(tmp_path, caplog):
    client = ScriptedClient({P[2]: [ReadTimeout("slow")]})
    df = phone_list(4)
    df.loc[3, "phone"] = df.loc[0, "phone"]  # the same person twice
    with caplog.at_level("WARNING", logger="cmvoice_nb.campaign.send"):
        res = send_campaign(hello_plan(df), client, journal=tmp_path / "j.sqlite", **OPTS)
    assert list(res["status"]) == ["queued", "queued", "unknown", "already-called"]
    text = caplog.text
    assert "resend_unknown=True" in text and "allow_repeat=True" in text and "--" not in text
    assert client.sent.count(P[0]) == 1


def test_a_404_stops_the_run_and_names_the_url_and_the_keyword(sim, tmp_path):
    from cmvoice_nb.client import VoiceClient

    client = VoiceClient(SIMULATOR_TOKEN, base_url=sim.base_url + "/v9")
    sender = CampaignSender(hello_plan(phone_list()), client, journal=tmp_path / "j.sqlite",
                            **{**OPTS, "concurrency": 1})
    with pytest.raises(APIError) as info:
        sender.run()
    assert info.value.status == 404 and len(sim.requests) == 1
    assert f"HTTP 404 from {sim.base_url}/v9/Notification" in sender.stop_reason and "base_url=" in sender.stop_reason
    assert (info.value.results["status"] == "skipped").all()
    assert "the run stopped: HTTP 404" in sender.summary()
