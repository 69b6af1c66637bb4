"""Campaign: generated controls, plan/send equal the library, token hygiene, and a Stop that stops."""
from __future__ import annotations

import pandas as pd
import pytest

from cmvoice_nb.campaign import plan_campaign, send_campaign
from cmvoice_nb.spec import APPS, VOICE_FIELDS
from cmvoice_nb.widgets import Campaign
from cmvoice_nb.widgets.campaign import PROVIDER, SIMULATOR

from .._wait import scaled, wait_until
from ..campaign._lists import CALLER, notification_defaults

SECRET = "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"
DEFAULTS = notification_defaults()
PLAIN = notification_defaults("Hello")


@pytest.fixture()
def people():
    return pd.DataFrame({"name": ["Ann", "Bob", "Cem", "Dora"],
                         "phone": ["06 1234 5610", "+31612345611", "nonsense", "0612345609"]})


def _app(people, tmp_path, **kw):
    kw.setdefault("defaults", DEFAULTS)
    return Campaign(people, name="t", journal_dir=tmp_path / "journals", **kw)


def test_mapping_and_default_controls_are_generated_from_the_spec(people, tmp_path):
    app = _app(people, tmp_path, app="dtmf")
    spec = APPS["dtmf"]
    expected = {f.key for f in spec.fields if not f.forbidden and f.kind not in ("voice", "list")}
    expected |= {f"voice.{f.key}" for f in VOICE_FIELDS}
    assert set(app.mapping) == expected
    assert "voicemail-response" not in app.default_inputs  # forbidden for DTMF by the contract
    assert list(app.default_inputs["prompt-type"].options)[1:] == [(c, c) for c in spec.field("prompt-type").choices]
    app.app.value = "otp"
    assert "code" in app.mapping and "min-digits" not in app.mapping


def test_validate_click_equals_plan_campaign(people, tmp_path):
    app = _app(people, tmp_path)
    app.mapping["callee"].value = "phone"
    app.default_inputs["max-replays"].value = "2"
    app.drop_duplicates.value = True
    app.validate.click()
    direct = plan_campaign(people, app="notification", name="t", columns={"callee": "phone"},
                           defaults=notification_defaults(max_replays=2), region="NL", drop_duplicates=True,
                           campaign_key=app.plan.campaign_key)
    assert app.last_error is None
    assert app.plan.problems.equals(direct.problems)
    assert app.plan.to_frame().equals(direct.to_frame())
    assert "3 of 4 rows valid" in app.status.value


def test_a_template_naming_a_missing_column_is_explained_in_the_output(people, tmp_path):
    app = _app(people, tmp_path, defaults=notification_defaults("Hi {surname}"))
    app.validate.click()
    assert "surname" in str(app.last_error)
    # Said once, in the status line, in red; not repeated in the output area.
    assert "surname" in app.status.value and "#cf222e" in app.status.value
    assert "surname" not in str(app.out.outputs)
    assert "the default of prompt" in app.status.value and "defaults[" not in app.status.value


def test_simulator_is_preselected_without_a_token(people, tmp_path, no_token_env):
    assert _app(people, tmp_path).target.value == SIMULATOR


def test_a_token_from_the_environment_is_used_but_never_shown_and_the_simulator_stays_selected(
        people, tmp_path, monkeypatch):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", SECRET)
    app = _app(people, tmp_path)
    assert app.target.value == SIMULATOR and app.has_token
    assert app.token.value == ""
    assert SECRET not in repr(app) and SECRET not in str(app.get_state())


def test_a_typed_token_is_taken_out_of_the_password_field(people, tmp_path, no_token_env):
    app = _app(people, tmp_path)
    app.token.value = SECRET
    assert app.has_token and app.target.value == SIMULATOR  # typing a token never switches the target
    assert app.token.value == ""  # never kept in the widget state, never saved with the notebook
    assert SECRET not in str(app.token.get_state()) and SECRET not in repr(app)
    app.validate.click()
    assert SECRET not in str(app.out.outputs)


def test_sending_to_the_provider_without_a_token_explains_what_to_do(people, tmp_path, no_token_env):
    app = _app(people, tmp_path)
    app.target.value = PROVIDER
    app.send.click()
    assert "no product token" in str(app.last_error)


def test_send_click_equals_send_campaign_on_the_simulator(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"}, rate=50)
    app.send.click()
    results = app.wait(scaled(30))
    assert app.last_error is None
    with_widget = results[["callee", "status", "http_status", "input_position"]]

    direct = send_campaign(people, simulator.client(), journal=tmp_path / "direct.sqlite", app="notification",
                           name="t", columns={"callee": "phone"}, defaults=DEFAULTS, region="NL", rate=50,
                           progress=False)
    assert with_widget.equals(direct[["callee", "status", "http_status", "input_position"]])
    # Each journal has its own campaign key: the same list in two journals never shares an id.
    assert set(results["instruction_id"]).isdisjoint(direct["instruction_id"])
    assert (results["status"] == "queued").sum() == 3
    assert app.results_path().exists() and app.journal_path().exists()
    # An invalid row needs the operator: the run ends "needs you" (the CLI's exit 1), never green.
    assert app.progress.value == 3 and app.progress.bar_style == "danger" and app.end.kind == "needs you"
    assert app.last_counts == {"new": 3, "invalid": 1}
    assert "new this run <b>3</b>" in app.counts.value


def test_dry_run_places_no_call(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"})
    app.dry_run.click()
    results = app.wait(scaled(30))
    assert set(results["status"]) == {"dry-run", "invalid"}
    assert simulator.placed_count() == 0
    assert not app.journal_path().exists()


def test_stop_really_stops_a_running_send(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316100{i:05d}" for i in range(60)]})
    simulator.set_faults(latency_s=0.05)
    app = Campaign(many, name="big", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    wait_until(lambda: app.sender is not None and app.sender.running)
    assert not app.stop.disabled  # the click returned while sending goes on
    wait_until(lambda: app.sender is not None and app.sender.progress["sent"] >= 2)
    app.stop.click()
    results = app.wait(scaled(30))

    assert app.sender.done and app.sender.stopped_by_user
    placed = simulator.placed_count()
    assert 2 <= placed < len(many)
    assert (results["status"] == "skipped").sum() == len(many) - placed
    # The run has ended (its workers are joined) and the simulator has no request in progress:
    # every call placed is counted, and each is a row this run recorded as queued.
    assert simulator.wait_idle(scaled(10))
    assert simulator.placed_count() == placed == (results["status"] == "queued").sum()
    assert app.stop.disabled and not app.send.disabled
    assert app.progress.bar_style == "warning"


def test_sending_again_after_stop_sends_only_the_rest(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316200{i:05d}" for i in range(20)]})
    app = Campaign(many, name="resume", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    wait_until(lambda: app.sender is not None and app.sender.progress["sent"] >= 1)
    app.stop.click()
    app.wait(scaled(30))
    first = simulator.placed_count()
    app.rate.value = 100
    app.send.click()
    results = app.wait(scaled(30))
    assert simulator.placed_count() == len(many)  # every person called exactly once over both runs
    assert (results["status"] == "queued").sum() == len(many)
    assert first < len(many)


# -- honest counts, a form that keeps what was typed, a deliberate step before real calls -------------

def test_counts_after_stop_and_on_each_rerun_say_what_happened(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316300{i:05d}" for i in range(20)]})
    simulator.set_faults(latency_s=0.05)
    app = Campaign(many, name="honest", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    wait_until(lambda: app.sender is not None and app.sender.progress["sent"] >= 2)
    app.stop.click()
    app.wait(scaled(30))
    placed = simulator.placed_count()
    assert app.last_counts == {"new": placed, "stopped": len(many) - placed}
    assert f"not sent — stopped <b>{len(many) - placed}</b>" in app.counts.value
    assert "skipped" not in app.counts.value  # the word duplicates use is not used for Stop
    assert app.progress.value == placed and app.progress.max == len(many)  # filled from the final results
    assert f"Stopped by you: {len(many) - placed} not sent — Send again sends the rest; {placed} calls placed" \
        in app.status.value
    assert app.end.kind == "waiting" and app.progress.bar_style == "warning"  # never "finished" after a stop

    app.rate.value = 100
    app.send.click()
    app.wait(scaled(30))
    assert app.last_counts == {"new": len(many) - placed, "already_done": placed}
    assert app.progress.value == app.progress.max == len(many) - placed
    assert app.end.kind == "finished" and app.progress.bar_style == "success"
    # Every row is settled: a third Send offers nothing, and says why.
    assert app.send.disabled and "nothing left to send" in app.send.tooltip

    app.send.click()  # a click from code on the disabled button: nothing starts
    assert simulator.placed_count() == len(many)
    assert "nothing to send" in app.status.value and app.sender.done


def test_send_on_a_finished_campaign_offers_nothing_in_a_new_app_too(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316310{i:05d}" for i in range(5)]})
    first = Campaign(many, name="done", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=50)
    first.send.click()
    first.wait(scaled(30))
    again = Campaign(many, name="done", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=50)
    again.send.click()
    again.wait(scaled(30))
    assert simulator.placed_count() == 5 and again.sender is None  # no sender was even started
    assert again.end.kind == "nothing to send" and again.progress.bar_style != "success"
    assert "Nothing to send: every row is already final (already done 5)" in again.status.value
    assert again.send.disabled


def test_switching_app_and_back_keeps_typed_defaults_and_column_choices(people, tmp_path):
    app = _app(people, tmp_path, defaults={})
    app.mapping["callee"].value = "phone"
    app.default_inputs["caller"].value = CALLER
    app.default_inputs["prompt"].value = "Hello {name}"
    app.default_inputs["max-replays"].value = "2"
    app.app.value = "otp"
    # Fields that exist in both apps keep their values.
    assert app.mapping["callee"].value == "phone" and app.default_inputs["caller"].value == CALLER
    assert "prompt" not in app.default_inputs
    app.app.value = "notification"
    assert app.default_inputs["prompt"].value == "Hello {name}"
    assert app.default_inputs["max-replays"].value == "2"
    assert app.defaults() == {"caller": CALLER, "prompt": "Hello {name}", "max-replays": 2}


def test_one_form_row_per_field_a_column_or_a_default_satisfies_it(people, tmp_path):
    app = _app(people, tmp_path, defaults={})
    # The column of phone numbers is proposed as the callee (its header is "phone", not "callee").
    assert app.satisfied() == {"callee": True, "caller": False, "prompt": False}
    row_of = {}
    for row in app.fields_box.children[1:-1]:
        row_of[row.children[1]] = row
    caller_row = row_of[app.mapping["caller"]]
    assert "✗ needed" in caller_row.children[-1].value
    app.default_inputs["caller"].value = CALLER
    assert "✓ default" in caller_row.children[-1].value
    app.mapping["callee"].value = "phone"
    app.mapping["prompt"].value = "name"
    assert app.satisfied() == {"callee": True, "caller": True, "prompt": True}
    # Unmapped reads as a dash, not a blank: the selected option's label is "—".
    assert app.mapping["caller"].label == "—" and app.default_inputs["prompt-type"].label == "—"
    assert isinstance(app.default_inputs["prompt"], __import__("ipywidgets").Textarea)
    # Rarely used fields are in the accordion, not in the first rows.
    more = app.fields_box.children[-1]
    assert "More fields" in more.get_title(0)
    assert app.mapping["max-ringing-timeout"] in [r.children[1] for r in more.children[0].children]


def test_an_unmapped_callee_is_one_problem_line_in_red_when_nothing_is_valid(tmp_path):
    people = pd.DataFrame({"phone": ["+31612345610", "+31612345611", "+31612345612"]})
    app = Campaign(people, name="t", journal_dir=tmp_path, defaults=PLAIN, columns={"callee": None})
    app.validate.click()
    assert "0 of 3 rows valid" in app.status.value and "#cf222e" in app.status.value
    html_out = str(app.out.outputs)
    problems = [o for o in app.out.outputs if "Problems" in str(o)]
    assert len(problems) == 1  # shown once
    assert html_out.count("is required (or give callees)") == 1


def test_buttons_that_would_conflict_are_disabled_while_sending(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316400{i:05d}" for i in range(12)]})
    simulator.set_faults(latency_s=0.05)
    app = Campaign(many, name="busy", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    wait_until(lambda: app.sender is not None and app.sender.running)
    assert app.validate.disabled and app.dry_run.disabled and app.send.disabled
    assert app.app.disabled and app.target.disabled and app.name.disabled
    assert not app.stop.disabled
    app.validate.click()  # a click from code while disabled must not overwrite the send's status
    assert "sending" in app.status.value
    app.stop.click()
    app.wait(scaled(30))
    assert not any(b.disabled for b in (app.validate, app.dry_run, app.send, app.app, app.target, app.name))
    assert app.stop.disabled


def test_no_request_reaches_the_real_api_before_the_campaign_name_is_typed(people, tmp_path, no_token_env):
    from cmvoice_nb.simulator import Simulator

    # A real HTTP server on loopback standing in for the provider; it counts every request.
    with Simulator(seed=4, token=SECRET) as provider:
        app = _app(people, tmp_path, columns={"callee": "phone"})
        app.token.value = SECRET
        assert app.target.value == SIMULATOR
        app.target.value = PROVIDER
        app.base_url.value = provider.base_url
        assert "REAL CALLS" in app.banner.value and provider.base_url in app.banner.value
        app.send.click()
        assert app.confirm_box.layout.display != "none"
        assert "Countries</th><td>NL 3" in app.confirm_summary.value
        assert "Estimate" in app.confirm_summary.value and "Calling hours" in app.confirm_summary.value
        assert app.confirm.disabled and len(provider.requests) == 0
        app.confirm_text.value = "not the name"
        assert app.confirm.disabled
        app.confirm.click()  # a click from code ignores `disabled`: the name is checked again
        app.wait(scaled(5))
        assert len(provider.requests) == 0 and app.sender is None
        app.confirm_text.value = "t"
        assert not app.confirm.disabled
        app.confirm.click()
        results = app.wait(scaled(30))
        assert app.last_error is None, app.last_error
        assert (results["status"] == "queued").sum() == 3
        assert len(provider.requests) == 3
        assert app.confirm_box.layout.display == "none"


def test_switching_back_to_the_simulator_cancels_a_pending_confirmation(people, tmp_path, no_token_env):
    app = _app(people, tmp_path, columns={"callee": "phone"}, token=SECRET)
    app.target.value = PROVIDER
    app.send.click()
    assert app.confirm_box.layout.display != "none"
    app.target.value = SIMULATOR
    assert app.confirm_box.layout.display == "none"
    app.confirm_text.value = "t"
    app.confirm.click()
    assert app.sender is None  # nothing was started
    assert "SIMULATOR" in app.banner.value


def test_a_campaign_name_with_markup_is_shown_as_text_in_the_confirmation(people, tmp_path, no_token_env):
    app = _app(people, tmp_path, columns={"callee": "phone"}, token=SECRET)
    app.name.value = "<b>june</b>"
    app.target.value = PROVIDER
    app.send.click()
    assert "<b>june</b>" not in app.confirm_summary.value and "&lt;b&gt;june&lt;/b&gt;" in app.confirm_summary.value
    assert SECRET not in app.confirm_summary.value and SECRET not in str(app.get_state())


def test_the_controls_keep_the_public_names_the_issue_lists(people, tmp_path):
    import ipywidgets as W

    app = _app(people, tmp_path)
    for name in ("target", "token", "base_url", "app", "name", "preview", "validate", "dry_run", "send", "stop",
                 "progress", "counts", "confirm_text", "confirm", "upload"):
        assert isinstance(getattr(app, name), W.Widget), name
        assert name in repr(app)
    assert isinstance(app.mapping, dict) and isinstance(app.default_inputs, dict)
    assert all(isinstance(w, W.Dropdown) for w in app.mapping.values())
    assert "caller" in app.default_inputs and "callee" in app.mapping  # keyed by wire key


# -- calling hours, do-not-call list, allowed countries and the estimate in the form -------------------

def _closed_days():
    """A weekday three days from now in Amsterdam: the window is closed today whatever the hour."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    day = dt.datetime.now(ZoneInfo("Europe/Amsterdam")) + dt.timedelta(days=3)
    return day.strftime("%a").lower()


def test_a_do_not_call_csv_with_the_numbers_in_the_second_column_leaves_the_row_unsent(people, tmp_path, simulator):
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("who,telefoon\nBob,0031 6 1234 5611\n", encoding="utf-8")
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"}, rate=50)
    app.suppress.value = str(dnc)
    app.send.click()
    results = app.wait(scaled(30))
    assert app.last_error is None, app.last_error
    assert results.set_index("callee").loc["+31612345611", "status"] == "suppressed"
    assert simulator.placed_count() == 2 and "+31612345611" not in set(simulator.calls["callee"])
    assert app.last_counts == {"new": 2, "suppressed": 1, "invalid": 1}
    assert "do-not-call (not sent) <b>1</b>" in app.counts.value
    assert "Needs you: invalid 1, suppressed 1 — 2 calls placed" in app.status.value


def test_an_uploaded_do_not_call_list_is_read_then_its_bytes_are_dropped(people, tmp_path, simulator):
    from ._uploads import upload_entry

    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"}, rate=50)
    others = b"".join(b"+3162000%04d\n" % i for i in range(120))  # one bad line in 122: under the 1 % limit
    app.suppress_upload.value = (upload_entry("dnc.txt", b"06 1234 5610  # asked us\n" + others + b"not a number\n"),)
    assert app.suppress_upload.value == ()  # nothing of the file stays in the widget state
    assert "+31612345610" in app.uploaded_suppression and len(app.uploaded_suppression) == 121
    assert "dnc.txt" in app.suppress_info.value and "not a number" in app.suppress_info.value
    app.send.click()
    results = app.wait(scaled(30))
    assert results.set_index("callee").loc["+31612345610", "status"] == "suppressed"
    assert sorted(simulator.calls["callee"]) == ["+31612345609", "+31612345611"]


def test_a_missing_do_not_call_file_is_named_and_nothing_is_sent(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"})
    app.suppress.value = str(tmp_path / "gone.csv")
    app.send.click()
    app.wait(scaled(30))
    assert "gone.csv" in app.status.value and "no such file" in app.status.value
    assert simulator.placed_count() == 0


def test_allowed_countries_make_a_french_number_invalid(tmp_path):
    people = pd.DataFrame({"callee": ["+31612345610", "+33612345678"]})
    app = Campaign(people, name="t", journal_dir=tmp_path, defaults=PLAIN)
    app.allowed_countries.value = "NL"
    app.validate.click()
    assert app.last_error is None, app.last_error
    assert [r.valid for r in app.plan.rows] == [True, False]
    assert "country FR not allowed (allowed: NL)" in str(app.out.outputs)
    assert "1 of 2 rows valid" in app.status.value


def test_validate_and_dry_run_show_the_estimate_priced_with_the_prices_file(people, tmp_path, simulator):
    prices = tmp_path / "prices.csv"
    prices.write_text("country,price_per_minute,setup\nNL,0.06,0.01\n", encoding="utf-8")
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"})
    app.validate.click()
    assert "Estimate: 3 calls" in app.estimate.value and "answered, cost" not in app.estimate.value
    app.prices.value = str(prices)
    app.dry_run.click()
    app.wait(scaled(30))
    expected = app.plan.estimate(prices=str(prices))
    assert expected.cost > 0 and f"answered, cost {expected.cost:.4f}" in app.estimate.value
    assert "Calling hours</b>: none" in app.estimate.value
    assert simulator.placed_count() == 0


def test_a_closed_window_without_waiting_defers_the_rows_and_calls_nobody(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"}, rate=50)
    app.calling_hours.value = "09:00-20:00"
    app.days.value = _closed_days()
    app.wait_for_hours.value = False
    app.send.click()
    results = app.wait(scaled(30))
    assert app.last_error is None, app.last_error
    assert (results["status"] == "deferred").sum() == 3 and simulator.placed_count() == 0
    assert app.last_counts == {"deferred": 3, "invalid": 1}
    assert "deferred — outside calling hours <b>3</b>" in app.counts.value
    assert app.end.kind == "waiting" and "deferred 3" in app.status.value


def test_rows_waiting_for_their_calling_hours_are_shown_while_the_send_runs(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"}, rate=50)
    app.calling_hours.value = "09:00-20:00"
    app.days.value = _closed_days()
    app.send.click()  # wait ticked (the default): the rows wait for their window
    wait_until(lambda: "waiting" in app.counts.value)
    assert "wait for their calling hours" in app.counts.value and "opens" in app.counts.value
    assert simulator.placed_count() == 0
    app.stop.click()
    app.wait(scaled(30))
    assert app.sender.done and simulator.placed_count() == 0


def test_the_real_api_confirmation_shows_the_estimate_and_the_calling_hours(people, tmp_path, no_token_env):
    app = _app(people, tmp_path, columns={"callee": "phone"}, token=SECRET)
    app.calling_hours.value = "09:00-20:00"
    app.days.value = _closed_days()
    app.target.value = PROVIDER
    app.send.click()
    summary = app.confirm_summary.value
    assert "Estimate</th><td>3 calls" in summary and "no price table" in summary
    assert f"09:00-20:00 on {_closed_days()}" in summary and "3 rows wait" in summary
    assert "0 now, 3 when their calling hours open" in summary
    app.cancel.click()
    app.wait_for_hours.value = False  # not waiting: nothing would be placed now, so nothing to confirm
    app.send.click()
    assert app.confirm_box.pending is None and "nothing would be placed now" in app.status.value


def test_the_new_controls_have_public_names(people, tmp_path):
    import ipywidgets as W

    app = _app(people, tmp_path)
    for name in ("calling_hours", "days", "wait_for_hours", "suppress", "suppress_upload", "allowed_countries",
                 "prices", "estimate"):
        assert isinstance(getattr(app, name), W.Widget), name
        assert name in repr(app)


def test_bad_calling_hours_are_said_in_the_forms_words_and_nothing_is_sent(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"})
    app.calling_hours.value = "25:00-26:00"
    app.send.click()
    app.wait(scaled(30))
    assert "Calling hours: start time 25:00" in app.status.value and "calling_hours=" not in app.status.value
    assert simulator.placed_count() == 0 and not app.send.disabled


def test_the_default_rate_is_the_senders_single_value(tmp_path):
    import inspect

    from cmvoice_nb import spec

    assert inspect.signature(Campaign.__init__).parameters["rate"].default is spec.DEFAULT_RATE
    assert Campaign(name="r", journal_dir=tmp_path).rate.value == spec.DEFAULT_RATE


# ------------------------------------------------------------------ the operator's own locale
DUTCH = pd.DataFrame({"Telefoon": ["06 12345610", "030 2345678"], "Land": ["NL", "DE"], "Naam": ["Anne", "Jörg"],
                      "Datum": ["09-12-2025", "10-12-2025"], "Bedrag": ["12,50", "1.250,00"]})
DUTCH_DEFAULTS = notification_defaults("Beste {Naam}, op {Datum:%-d %B} betaalt u {Bedrag:,.2f} euro",
                                       **{"voice.language": "nl-NL"})


def test_after_validate_the_preview_shows_what_each_listed_row_will_hear(tmp_path):
    app = Campaign(DUTCH, name="t", journal_dir=tmp_path / "j", defaults=DUTCH_DEFAULTS,
                   columns={"callee": "Telefoon"})
    assert "Validate to see what each row will hear" in app.preview.value
    app.dates.value = True  # every date reads both ways: the operator says day first
    app.validate.click()
    assert app.last_error is None, app.last_error
    assert "Beste Anne, op 9 december betaalt u 12,50 euro" in app.preview.value
    assert "Beste Jörg, op 10 december betaalt u 1.250,00 euro" in app.preview.value


def test_an_ambiguous_date_column_is_explained_with_the_form_s_own_control(tmp_path):
    app = Campaign(DUTCH, name="t", journal_dir=tmp_path / "j", defaults=DUTCH_DEFAULTS,
                   columns={"callee": "Telefoon"})
    app.validate.click()
    assert "'Datum'" in str(app.last_error)
    assert "the Dates choice" in app.status.value and "dayfirst=" not in app.status.value


def test_the_country_column_is_proposed_from_its_contents_and_reads_each_row_in_its_country(tmp_path):
    app = Campaign(DUTCH, name="t", journal_dir=tmp_path / "j", defaults=DUTCH_DEFAULTS,
                   columns={"callee": "Telefoon", "region": None})
    assert Campaign(DUTCH, name="t", journal_dir=tmp_path / "j").country_column.value == "Land"  # its cells
    app.dates.value = True
    app.validate.click()
    assert app.country_column.value == ""  # the operator said no country column
    assert [r.callee for r in app.plan.rows] == ["+31612345610", "+31302345678"]
    assert "choosing Land as Country column" in str(app.out.outputs)
    app.country_column.value = "Land"
    app.validate.click()
    assert [r.callee for r in app.plan.rows] == ["+31612345610", "+49302345678"]
