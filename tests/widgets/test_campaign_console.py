"""The Campaign app as an operator's console, driven against the real simulator on loopback.

A confirmation bound to one snapshot, a list loaded in the app, honest ends, a form locked while
it sends, its pace and live outcomes, and every results row paged with a filter and downloads.
"""
from __future__ import annotations

import base64

import pandas as pd
import pytest

from cmvoice_nb.callbacks import CallbackReceiver
from cmvoice_nb.simulator import Simulator
from cmvoice_nb.widgets import Campaign
from cmvoice_nb.widgets.campaign import PROVIDER, SIMULATOR

from .._wait import scaled, wait_until
from ..campaign._lists import notification_defaults
from ._uploads import upload_entry

SECRET = "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"
PLAIN = notification_defaults("Hello")
SEMICOLON_LIST = ("\ufeffNaam;Telefoon;Land;Klantnummer\r\nAnn;06 1234 5610;NL;K-1\r\nBob;0470 12 34 56;BE;K-2\r\n"
                  "Cem;3,16123E+10;NL;K-3\r\n").encode("utf-8")


@pytest.fixture()
def provider():
    """A real HTTP server on loopback standing in for the provider; it counts every request."""
    with Simulator(seed=4, token=SECRET) as sim:
        yield sim


def _people(n: int = 3, start: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"Naam": [f"P{i}" for i in range(n)],
                         "Telefoon": [f"+3161234{start + i:04d}" for i in range(n)]})


def _real(app: Campaign, provider: Simulator) -> Campaign:
    app.target.value = PROVIDER
    app.base_url.value = provider.base_url
    return app


def _editable(app: Campaign) -> list:
    """The inputs an operator can edit when nothing runs (the opt-out key is the DTMF app's only)."""
    return [w for w in app.inputs() if w is not app.opt_out_digit]


def _ask(app: Campaign) -> None:
    app.send.click()
    assert app.confirm_box.pending is not None, app.status.value
    app.confirm_text.value = app.campaign_name()
    assert not app.confirm.disabled


# -- the confirmation is bound to one snapshot -------------------------------------------------------

def test_every_input_is_locked_while_the_confirmation_is_open_and_unlocked_after_cancel(tmp_path, provider,
                                                                                         no_token_env):
    app = _real(Campaign(_people(), name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET), provider)
    _ask(app)
    locked = app.inputs()
    assert app.upload in locked and app.mapping["callee"] in locked and app.default_inputs["caller"] in locked
    assert all(w.disabled for w in locked) and app.validate.disabled and app.dry_run.disabled and app.send.disabled
    assert not app.confirm.disabled and not app.cancel.disabled and not app.confirm_text.disabled
    app.cancel.click()
    assert app.confirm_box.pending is None and not any(w.disabled for w in _editable(app))
    assert app.opt_out_digit.disabled  # a Notification call hears no key: off before, off after
    assert not app.send.disabled and "cancelled: nothing was sent" in app.status.value


@pytest.mark.parametrize("edit", [
    lambda app: setattr(app.name, "value", "other"),
    lambda app: setattr(app.default_inputs["prompt"], "value", "Goodbye"),
    lambda app: setattr(app.mapping["callee"], "value", "Naam"),
    lambda app: setattr(app.rate, "value", 50.0),
    lambda app: setattr(app.token, "value", "another-token"),
    lambda app: app.set_list(_people(5, start=40), source="new.csv"),
], ids=["name", "default", "mapping", "rate", "token", "list"])
def test_an_edit_after_the_name_was_typed_withdraws_the_confirmation_and_nothing_is_sent(
        tmp_path, provider, no_token_env, edit):
    app = _real(Campaign(_people(), name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET), provider)
    _ask(app)
    edit(app)
    assert app.confirm_box.pending is None and app.confirm.disabled
    app.confirm_text.value = "c"
    app.confirm.click()  # a click from code after the edit: nothing is confirmed any more
    app.wait(scaled(5))
    assert len(provider.requests) == 0 and app.sender is None
    assert not app.journal_path().exists() and not (tmp_path / "other.sqlite").exists()


def test_a_change_the_observers_miss_is_caught_by_the_snapshot_when_confirming(tmp_path, provider, no_token_env):
    app = _real(Campaign(_people(), name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET), provider)
    _ask(app)
    app._token = "changed-behind-the-form"  # no widget saw it
    app.confirm.click()
    assert app.sender is None and len(provider.requests) == 0
    assert "changed since the confirmation was shown" in app.status.value


def test_confirm_sends_exactly_the_plan_it_showed(tmp_path, provider, no_token_env):
    app = _real(Campaign(_people(), name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET), provider)
    _ask(app)
    shown = app.confirm_box.pending
    app.confirm.click()
    results = app.wait(scaled(30))
    assert app.plan is shown and app.sender.plan.rows[0].payload is not None
    assert results["callee"].tolist() == [r.callee for r in shown.rows] and len(provider.requests) == 3


def test_the_confirmation_counts_only_the_calls_the_journal_has_not_placed(tmp_path, provider, no_token_env):
    people = _people(6)
    first = Campaign(people.head(4), name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET,
                     simulator=provider)
    first.send.click()  # the simulator target: the same journal, four people called
    first.wait(scaled(30))
    app = _real(Campaign(people, name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET), provider)
    _ask(app)
    assert app.confirm.description == "Place 2 real calls"
    assert "Calls</th><td>2 now (already done 4)" in app.confirm_summary.value
    assert "Estimate</th><td>2 calls" in app.confirm_summary.value
    assert "Callback URL</th><td>none" in app.confirm_summary.value
    assert "List</th><td>the list given: 6 rows" in app.confirm_summary.value


def test_a_loopback_callback_url_on_the_real_api_is_refused_unless_reachable_is_ticked(tmp_path, no_token_env):
    defaults = notification_defaults("Hello", callback_url="http://127.0.0.1:9/cb")
    app = Campaign(_people(), name="c", journal_dir=tmp_path, defaults=defaults, token=SECRET)
    app.target.value = PROVIDER
    app.base_url.value = "https://api.example.invalid/voiceapi"  # never contacted: nothing is confirmed
    app.send.click()
    summary = app.confirm_summary.value
    assert "http://127.0.0.1:9/cb" in summary and "loopback address" in summary and "Refused unless ticked" in summary
    assert app.reachable.layout.display != "none"
    app.confirm_text.value = "c"
    assert app.confirm.disabled  # the name alone is not enough
    app.confirm.click()
    assert app.sender is None and "callback URL cannot be reached" in app.status.value
    app.reachable.value = True
    assert not app.confirm.disabled


def test_nothing_to_place_means_nothing_to_confirm(tmp_path, provider, no_token_env):
    people = pd.DataFrame({"Telefoon": ["nonsense", "12"]})
    app = _real(Campaign(people, name="c", journal_dir=tmp_path, defaults=PLAIN, token=SECRET,
                         columns={"callee": "Telefoon"}), provider)
    app.send.click()
    assert app.confirm_box.pending is None and app.confirm_box.layout.display == "none"
    assert app.end.kind == "needs you" and "invalid 2" in app.status.value
    assert app.send.disabled and "invalid 2" in app.send.tooltip
    assert "Problems" in str(app.out.outputs)


# -- the list in the app -----------------------------------------------------------------------------

def test_an_uploaded_semicolon_csv_with_telefoon_is_mapped_and_planned(tmp_path, simulator):
    app = Campaign(name="k", journal_dir=tmp_path, defaults=PLAIN, simulator=simulator, rate=50)
    app.upload.value = (upload_entry("klanten.csv", SEMICOLON_LIST),)
    assert app.upload.value == ()  # the bytes do not stay in the widget state
    assert app.mapping["callee"].value == "Telefoon" and app.country_column.value == "Land"
    assert "<b>Telefoon</b> → callee" in app.list_info.value and "klanten.csv" in app.list_info.value
    assert set(app.keep.value) == {"Naam", "Klantnummer"}
    app.validate.click()
    assert [r.callee for r in app.plan.rows if r.valid] == ["+31612345610", "+32470123456"]
    assert "2 of 3 rows valid" in app.status.value
    problems = [o for o in app.out.outputs if "Problems" in str(o)]
    assert "lines 4" in str(problems) and "scientific notation" in str(problems)
    assert "contains letters" not in str(problems)


def test_an_unreadable_upload_is_named_and_the_previous_list_stays(tmp_path):
    app = Campaign(_people(), name="k", journal_dir=tmp_path, defaults=PLAIN)
    app.upload.value = (upload_entry("leeg.csv", b"\r\n\r\n"),)
    assert "leeg.csv: the file is empty" in app.status.value and "cmvoice-list" not in app.status.value
    assert len(app.df) == 3


def test_replacing_the_list_during_a_send_is_refused_and_between_sends_resets_the_plan(tmp_path, simulator):
    many = pd.DataFrame({"Telefoon": [f"+316125{i:05d}" for i in range(12)]})
    simulator.set_faults(latency_s=0.05)
    app = Campaign(many, name="r", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    wait_until(lambda: app.sender is not None and app.sender.running)
    assert app.upload.disabled
    app.upload.value = (upload_entry("other.csv", SEMICOLON_LIST),)
    assert "cannot be replaced while a send runs" in app.status.value and len(app.df) == 12
    app.stop.click()
    app.wait(scaled(30))
    assert app.results is not None
    app.upload.value = (upload_entry("other.csv", SEMICOLON_LIST),)
    assert len(app.df) == 3 and app.plan is None and app.results is None
    assert app.results_view.frame is None and app.progress.value == 0 and app.counts.value == ""


# -- honest ends ---------------------------------------------------------------------------------------

def test_an_empty_list_ends_grey_with_send_disabled(tmp_path, simulator):
    app = Campaign(pd.DataFrame({"callee": []}), name="e", journal_dir=tmp_path, defaults=PLAIN, simulator=simulator)
    app.send.click()
    app.wait(scaled(30))
    assert app.end.kind == "nothing to send" and "the list is empty" in app.status.value
    assert app.progress.bar_style == "" and app.send.disabled and simulator.placed_count() == 0


def test_an_all_invalid_list_needs_you_and_is_never_green(tmp_path, simulator):
    people = pd.DataFrame({"callee": ["nonsense", "3.16123E+10"]})
    app = Campaign(people, name="i", journal_dir=tmp_path, defaults=PLAIN, simulator=simulator)
    app.dry_run.click()
    app.wait(scaled(30))
    assert app.end.kind == "needs you" and app.progress.bar_style == "danger" and "#cf222e" in app.status.value
    assert app.send.disabled
    app.default_inputs["prompt"].value = "Hi"  # any change may make rows sendable: Send comes back
    assert not app.send.disabled


def test_switching_target_or_app_clears_the_results_of_the_previous_one(tmp_path, simulator, no_token_env):
    app = Campaign(_people(), name="s", journal_dir=tmp_path, defaults=PLAIN, simulator=simulator, rate=50,
                   token=SECRET)
    app.send.click()
    app.wait(scaled(30))
    assert app.results is not None and app.results_view.layout.display != "none"
    app.target.value = PROVIDER
    assert app.results is None and app.results_view.frame is None and app.counts.value == ""
    assert app.progress.bar_style == "" and app.status.value == "" and app.out.outputs == ()
    app.target.value = SIMULATOR
    app.name.value = "s2"  # another campaign: its rows are new to its journal
    app.send.click()
    app.wait(scaled(30))
    assert app.results is not None
    app.app.value = "otp"
    assert app.results is None and app.results_view.frame is None


def test_an_error_goes_once_the_form_is_edited(tmp_path):
    app = Campaign(_people(), name="x", journal_dir=tmp_path, defaults=notification_defaults("Hi {surname}"))
    app.validate.click()
    assert app.last_error is not None and "surname" in app.status.value
    app.default_inputs["prompt"].value = "Hi {Naam}"
    assert app.last_error is None and "surname" not in app.status.value


# -- while sending -----------------------------------------------------------------------------------

def test_the_form_is_locked_and_the_pace_and_live_counts_show_while_sending(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316126{i:05d}" for i in range(40)]})
    simulator.set_faults(latency_s=0.02)
    app = Campaign(many, name="p", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=5)
    app.send.click()
    wait_until(lambda: app.sender is not None and app.sender.progress["sent"] >= 3)
    assert all(w.disabled for w in app.inputs()) and not app.stop.disabled
    wait_until(lambda: "calls/s (set 5/s)" in app.pace.value and "time left about" in app.pace.value)
    assert "queued <b>" in app.counts.value
    app.stop.click()
    app.wait(scaled(30))
    assert not any(w.disabled for w in _editable(app)) and app.pace.value == ""


def test_outcomes_are_drawn_while_the_send_runs_as_the_callbacks_arrive(tmp_path):
    log = tmp_path / "callbacks.jsonl"
    # A fast clock: each call ends (and calls back) within milliseconds, while the send itself goes at 2/s.
    with Simulator(seed=3, speed=1000) as sim, CallbackReceiver(log) as rx:
        defaults = notification_defaults("Hello", callback_url=rx.url)
        app = Campaign(_people(12), name="o", simulator=sim, journal_dir=tmp_path, defaults=defaults, rate=2,
                       callbacks=log)
        app.send.click()
        wait_until(lambda: "Outcomes so far" in app.outcomes.value, timeout=30)
        assert app.sender.running  # drawn during the run, not after it
        app.stop.click()
        app.wait(scaled(30))
    assert "call" in app.outcomes.value and "with a callback" in app.outcomes.value


# -- results ------------------------------------------------------------------------------------------

def test_every_results_row_is_paged_with_kept_columns_a_status_filter_readable_headers_and_downloads(
        tmp_path, simulator):
    people = pd.DataFrame({"Klantnummer": [f"K{i}" for i in range(62)],
                           "Telefoon": [f"+316127{i:05d}" for i in range(60)] + ["nonsense", "x"]})
    app = Campaign(people, name="r", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=100)
    app.send.click()
    results = app.wait(scaled(60))
    view = app.results_view
    assert len(results) == 62 and "rows 1–50 of 62 · page 1 of 2" in view.page_label.value
    shown = view.shown()
    assert {"Klantnummer", "Callee", "Status", "HTTP status"} <= set(shown.columns)
    assert "instruction_id" not in shown.columns
    view.next.click()
    assert len(view.shown()) == 12 and view.next.disabled
    view.status_filter.value = "invalid"
    assert view.shown()["Status"].tolist() == ["invalid", "invalid"] and "of 2" in view.page_label.value
    assert "cmvoice-results-table" in view.table.value and "width:100%" in view.table.value
    links = view.downloads.value
    assert "download='r-results.csv'" in links and "download='r-results.xlsx'" in links
    csv = base64.b64decode(links.split("data:text/csv;base64,")[1].split("'")[0]).decode("utf-8")
    assert "Klantnummer" in csv and csv.count("\n") == 63
