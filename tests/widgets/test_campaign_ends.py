"""The end states, the pace, the results pages and the upload's reader: pure parts of the Campaign app."""
from __future__ import annotations

import pandas as pd
import pytest

from cmvoice_nb.campaign.vocabulary import EXIT_ACT, EXIT_RETRY
from cmvoice_nb.errors import CampaignError
from cmvoice_nb.widgets._campaign_ends import calls_now, duration_text, end_state, outcome_bars, pace, pace_text
from cmvoice_nb.widgets._campaign_list import proposal_text, read_list
from cmvoice_nb.widgets._campaign_results import download_link, filter_results, page_of, readable_headers


@pytest.mark.parametrize("counts, placed, kind", [
    ({"queued": 3, "suppressed": 1}, 3, "finished"),
    ({"queued": 3, "invalid": 1}, 3, "needs you"),
    ({"invalid": 4}, 0, "needs you"),
    ({"unknown": 1, "already done": 3}, 0, "needs you"),
    ({"budget": 2}, 1, "needs you"),
    ({"deferred": 2}, 1, "waiting"),
    ({"failed": 2}, 0, "waiting"),
    ({"already done": 5}, 0, "nothing to send"),
    ({}, 0, "nothing to send"),
])
def test_each_end_matches_the_cli_exit_class(counts, placed, kind):
    assert end_state(counts, placed=placed).kind == kind


def test_nothing_that_ends_without_a_call_is_green():
    for counts, rows in (({}, 0), ({"invalid": 3}, 3), ({"already done": 2}, 2)):
        end = end_state(counts, rows=rows)
        assert end.bar_style != "success" and end.colour != "#1a7f37"
    assert end_state({}, rows=0).headline == "Nothing to send: the list is empty"


def test_a_refused_token_needs_you_and_an_unreachable_provider_waits():
    assert end_state({"skipped": 4}, stop_class=EXIT_ACT).kind == "needs you"
    waiting = end_state({"skipped": 4}, stop_class=EXIT_RETRY)
    assert waiting.kind == "waiting" and "could not be reached" in waiting.headline


def test_a_dry_run_says_nothing_was_sent():
    end = end_state({}, placed=4, dry_run=True)
    assert end.kind == "finished" and end.headline == "Dry run finished: 4 would be called (dry run, nothing was sent)"


def test_the_pace_is_measured_over_the_last_seconds_not_since_the_start():
    samples = [(0.0, 0), (10.0, 10)] + [(10.0 + t, 10 + 25 * t) for t in range(1, 6)]
    rate, left = pace(samples, to_send=1000)
    assert rate == pytest.approx(25.0)
    assert left == pytest.approx((1000 - 135) / 25.0)
    assert pace(samples, to_send=135)[1] == 0.0


def test_the_pace_line_shows_the_actual_rate_beside_the_set_one_and_the_time_left():
    text = pace_text([(0.0, 0), (10.0, 200)], to_send=7660, rate=100)
    assert text == "20.0 calls/s (set 100/s) · time left about 6 min 13 s"
    assert pace_text([(0.0, 0)], to_send=10, rate=5).startswith("measuring calls/s (set 5/s)")
    assert duration_text(float("inf")) == "unknown"


def test_rows_outside_their_calling_hours_are_not_counted_as_placed_now():
    import datetime as dt

    from cmvoice_nb.campaign import forecast, plan_campaign

    from ..campaign._lists import notification_defaults

    plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+12125550123"]}), app="notification", name="c",
                         defaults=notification_defaults("Hi"))
    monday_morning = dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.timezone.utc)  # 10:00 Amsterdam, 04:00 New York
    rows = forecast(plan).rows_to_send()
    assert calls_now(rows, {"calling_hours": "09:00-20:00", "days": "mon-fri"}, now=monday_morning) == (1, 1)
    assert calls_now(rows, {}) == (2, 0)


def test_the_outcome_chart_draws_one_bar_per_outcome():
    chart = outcome_bars({"Finished": 6, "Failed": 2})
    assert chart.count("<b>") == 3 and "8 calls with a callback" in chart


def test_results_pages_hold_every_row_and_the_filter_keeps_one_status():
    frame = pd.DataFrame({"status": ["queued"] * 120 + [None] * 5 + ["invalid"] * 3},
                         index=pd.Index(range(2, 130), name="line"))
    pages = [page_of(frame, p)[0] for p in range(3)]
    assert sum(len(p) for p in pages) == len(frame) == 128
    assert page_of(frame, 99)[1:] == (2, 3)
    assert filter_results(frame, "skipped").index.tolist() == [122, 123, 124, 125, 126]
    assert list(readable_headers(frame.assign(http_status=200, Klantnummer="K1")).columns) == [
        "Status", "HTTP status", "Klantnummer"]
    assert readable_headers(frame).index.name == "Line"


def test_a_download_link_embeds_the_file_and_a_missing_file_has_none(tmp_path):
    import base64

    path = tmp_path / "c-results.csv"
    path.write_text("row,status\n2,queued\n", encoding="utf-8")
    link = download_link(path)
    data = link.split("base64,")[1].split("'")[0]
    assert base64.b64decode(data) == path.read_bytes() and "download='c-results.csv'" in link
    assert download_link(tmp_path / "none.csv") == ""
    assert "is large" in download_link(path, limit=3)


def test_an_uploaded_list_is_read_like_a_file_and_its_errors_name_the_upload_not_a_copy():
    df = read_list("../../etc/klanten.csv", "\ufeffNaam;Telefoon\r\nJosé;06 1234 5610\r\n".encode("utf-8"))
    assert df.to_dict("index") == {2: {"Naam": "José", "Telefoon": "06 1234 5610"}}
    utf16 = b"\xff\xfe" + "Naam\tTel\r\nAnn\t0612345610\r\n".encode("utf-16-le")
    assert read_list("k.txt", utf16)["Tel"].tolist() == ["0612345610"]
    with pytest.raises(CampaignError) as err:
        read_list("leeg.csv", b"  \r\n")
    assert str(err.value) == "leeg.csv: the file is empty"
    assert "tmp" not in str(err.value)


def test_the_proposal_line_names_each_column_and_its_field():
    assert "No column was recognised" in proposal_text({}, rows=2, name="x.csv")


@pytest.mark.parametrize("counts, placed, kind", [
    ({"queued": 3, "holdout": 1}, 3, "finished"),
    ({"queued": 2, "expired": 2}, 2, "finished"),
    ({"queued": 1, "over-contacted": 1}, 1, "finished"),
    ({"expired": 3}, 0, "nothing to send"),
    ({"over-contacted": 2, "holdout": 1}, 0, "nothing to send"),
    ({"queued": 1, "budget": 2}, 1, "needs you"),
    ({"budget": 3}, 0, "needs you"),
    ({"expired": 1, "deferred": 1}, 0, "waiting"),
])
def test_the_rules_final_statuses_end_by_the_cli_exit_class_and_budget_needs_you(counts, placed, kind):
    from cmvoice_nb.campaign.vocabulary import exit_status

    end = end_state(counts, placed=placed)
    assert end.kind == kind
    expected = {0: ("finished", "nothing to send"), 1: ("needs you",), 75: ("waiting",)}[exit_status(list(counts))]
    assert end.kind in expected
    assert all(f"{status} {n}" in end.headline for status, n in counts.items() if status != "queued")


def test_every_results_status_is_counted_and_has_words_in_the_app():
    from cmvoice_nb.campaign.vocabulary import RESULT_STATUSES
    from cmvoice_nb.widgets._campaign_facts import COUNT_LABELS, outcome_counts, render_counts

    results = pd.DataFrame({"status": list(RESULT_STATUSES)})
    counts = outcome_counts(results)
    shown = {"queued": "new", "skipped": "stopped", "dropped": "left_out"}
    assert set(counts) == {shown.get(s, s) for s in RESULT_STATUSES} and set(counts) <= set(COUNT_LABELS)
    line = render_counts(outcome_counts(pd.DataFrame({"status": ["holdout", "expired", "over-contacted", "budget"]})))
    assert "holdout — A/B control group, never called <b>1</b>" in line and "expired — validity window ended" in line
    assert "over-contacted — contact cap reached" in line and "past the budget" in line


def test_the_rows_counted_now_follow_each_row_s_subdivision_as_the_sender_does():
    import datetime as dt

    from cmvoice_nb.campaign import forecast, plan_campaign

    from ..campaign._lists import notification_defaults

    # Epiphany, 6 January, is a public holiday in Bavaria but not in Berlin.
    plan = plan_campaign(pd.DataFrame({"callee": ["+4915123456789", "+4915123456780"], "state": ["BY", "BE"]}),
                         app="notification", name="c", columns={"subdivision": "state"},
                         defaults=notification_defaults("Hallo"))
    tuesday_morning = dt.datetime(2026, 1, 6, 9, 0, tzinfo=dt.timezone.utc)  # 10:00 in Germany
    rows = forecast(plan).rows_to_send()
    options = {"calling_hours": "09:00-20:00", "days": "mon-fri", "public_holidays": True}
    assert calls_now(rows, options, now=tuesday_morning, plan=plan) == (1, 1)
    # Without the plan's subdivisions only nationwide holidays count: both rows would be called.
    assert calls_now(rows, options, now=tuesday_morning) == (2, 0)
