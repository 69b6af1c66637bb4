"""Campaign: generated controls, plan/send equal the library, token hygiene, and a Stop that stops."""
from __future__ import annotations

import time

import pandas as pd
import pytest

from cmvoice_nb.campaign import plan_campaign, send_campaign
from cmvoice_nb.spec import APPS, VOICE_FIELDS
from cmvoice_nb.widgets import Campaign
from cmvoice_nb.widgets.campaign import PROVIDER, SIMULATOR

SECRET = "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"
DEFAULTS = {"caller": "+31201234567", "prompt": "Hello {name}", "prompt-type": "TTS"}
PLAIN = {"caller": "+31201234567", "prompt": "Hello", "prompt-type": "TTS"}


@pytest.fixture()
def people():
    return pd.DataFrame({"name": ["Ann", "Bob", "Cem", "Dora"],
                         "phone": ["06 1234 5610", "+31612345611", "nonsense", "0612345609"]})


def _app(people, tmp_path, **kw):
    kw.setdefault("defaults", DEFAULTS)
    return Campaign(people, name="t", journal_dir=tmp_path / "journals", **kw)


def _wait_until(predicate, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


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
                           defaults={**DEFAULTS, "max-replays": 2}, region="NL", drop_duplicates=True,
                           campaign_key=app.plan.campaign_key)
    assert app.last_error is None
    assert app.plan.problems.equals(direct.problems)
    assert app.plan.to_frame().equals(direct.to_frame())
    assert "3 of 4 rows valid" in app.status.value


def test_a_template_naming_a_missing_column_is_explained_in_the_output(people, tmp_path):
    app = _app(people, tmp_path, defaults={**DEFAULTS, "prompt": "Hi {surname}"})
    app.validate.click()
    assert "surname" in str(app.last_error)
    assert "surname" in "".join(o.get("text", "") for o in app.out.outputs)


def test_simulator_is_preselected_without_a_token(people, tmp_path, no_token_env):
    assert _app(people, tmp_path).target.value == SIMULATOR


def test_a_token_from_the_environment_preselects_the_provider_and_is_never_shown(people, tmp_path, monkeypatch):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", SECRET)
    app = _app(people, tmp_path)
    assert app.target.value == PROVIDER and app.has_token
    assert app.token.value == ""
    assert SECRET not in repr(app) and SECRET not in str(app.get_state())


def test_a_typed_token_is_taken_out_of_the_password_field(people, tmp_path, no_token_env):
    app = _app(people, tmp_path)
    app.token.value = SECRET
    assert app.has_token and app.target.value == PROVIDER
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
    results = app.wait(30)
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
    assert app.progress.value == 3 and app.progress.bar_style == "success"
    assert "queued: <b>3</b>" in app.counts.value


def test_dry_run_places_no_call(people, tmp_path, simulator):
    app = _app(people, tmp_path, simulator=simulator, columns={"callee": "phone"})
    app.dry_run.click()
    results = app.wait(30)
    assert set(results["status"]) == {"dry-run", "invalid"}
    assert simulator.placed_count() == 0
    assert not app.journal_path().exists()


def test_stop_really_stops_a_running_send(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316100{i:05d}" for i in range(60)]})
    simulator.set_faults(latency_s=0.05)
    app = Campaign(many, name="big", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    assert app.sender.running and not app.stop.disabled  # the click returned while sending goes on
    _wait_until(lambda: app.sender.progress["sent"] >= 2)
    app.stop.click()
    results = app.wait(30)

    assert app.sender.done and app.sender.stopped_by_user
    placed = simulator.placed_count()
    assert 2 <= placed < len(many)
    assert (results["status"] == "skipped").sum() == len(many) - placed
    time.sleep(0.3)
    assert simulator.placed_count() == placed  # nothing more goes out after Stop
    assert app.stop.disabled and not app.send.disabled
    assert app.progress.bar_style == "warning"


def test_sending_again_after_stop_sends_only_the_rest(tmp_path, simulator):
    many = pd.DataFrame({"callee": [f"+316200{i:05d}" for i in range(20)]})
    app = Campaign(many, name="resume", simulator=simulator, journal_dir=tmp_path, defaults=PLAIN, rate=4)
    app.send.click()
    _wait_until(lambda: app.sender.progress["sent"] >= 1)
    app.stop.click()
    app.wait(30)
    first = simulator.placed_count()
    app.rate.value = 100
    app.send.click()
    results = app.wait(30)
    assert simulator.placed_count() == len(many)  # every person called exactly once over both runs
    assert (results["status"] == "queued").sum() == len(many)
    assert first < len(many)
