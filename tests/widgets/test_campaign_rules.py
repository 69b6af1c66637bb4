"""The Campaign app's rules, driven through the app against the real simulator on loopback.

Public holidays and a holidays file, a time zone, a validity window, the contact ledger and its
cap, a budget, live calls, the A/B test with its holdout, and the DTMF opt-out key: each control
reaches the library, the rule acts on the calls the simulator receives, bad values are named by
the control's label, and editing any of them withdraws an open confirmation. Time is pinned with
a :class:`~cmvoice_nb.campaign.ops.schedule.ManualClock` given as ``now=``.
"""
from __future__ import annotations

import datetime as dt
import html
import time

import pandas as pd
import pytest

from cmvoice_nb.callbacks import CallbackReceiver
from cmvoice_nb.campaign import Journal
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.simulator import Simulator
from cmvoice_nb.widgets import Campaign
from cmvoice_nb.widgets.campaign import PROVIDER

from .._wait import scaled, wait_until
from ..campaign._lists import CALLER, notification_defaults

UTC = dt.timezone.utc
SECRET = "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"
PLAIN = notification_defaults("Hello")
NL, BE = "+31612345610", "+32470123410"  # both answered by the simulator (ending 10)
KINGS_DAY = dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam and Brussels
DTMF = {"caller": CALLER, "prompt-type": "TTS", "prompt": "Druk 1 voor ja, of 9 om niet meer gebeld te worden",
        "min-digits": "1", "max-digits": "1", "max-attempts": "1"}


def _people(*numbers: str) -> pd.DataFrame:
    return pd.DataFrame({"Naam": [f"P{i}" for i in range(len(numbers))], "Telefoon": list(numbers)})


def _answering(n: int, start: int = 0) -> list[str]:
    return [f"+31612{i:04d}10" for i in range(start, start + n)]


def _app(df: pd.DataFrame, tmp_path, sim: Simulator | None = None, **kw) -> Campaign:
    kw.setdefault("defaults", PLAIN)
    kw.setdefault("name", "r")
    return Campaign(df, journal_dir=tmp_path / "journals", simulator=sim, rate=50,
                    columns={"callee": "Telefoon"}, **kw)


def _send(app: Campaign) -> pd.DataFrame | None:
    app.send.click()
    return app.wait(scaled(60))


def _said(app: Campaign) -> str:
    """The status line as the operator reads it."""
    return html.unescape(app.status.value)


def _prices(tmp_path) -> str:
    path = tmp_path / "prices.csv"
    path.write_text("country;price_per_minute;setup\r\nNL;0,06;0,01\r\n", encoding="utf-8-sig")
    return str(path)


# -- each rule acts on the calls ---------------------------------------------------------------------

def test_on_kings_day_with_public_holidays_the_dutch_number_waits_and_the_belgian_one_is_called(tmp_path,
                                                                                                  simulator):
    app = _app(_people(NL, BE), tmp_path, simulator, now=ManualClock(KINGS_DAY))
    app.calling_hours.value = "09:00-20:00"
    app.public_holidays.value = True
    app.wait_for_hours.value = False  # the Dutch row ends deferred instead of waiting for Tuesday
    results = _send(app)
    assert app.last_error is None, app.last_error
    assert results.set_index("callee")["status"].to_dict() == {NL: "deferred", BE: "queued"}
    assert simulator.calls["callee"].tolist() == [BE]
    assert "King's Day" in str(results.set_index("callee").loc[NL].to_dict())
    assert app.end.kind == "waiting"


def test_without_public_holidays_kings_day_is_a_day_like_any_other_in_the_app(tmp_path, simulator):
    app = _app(_people(NL, BE), tmp_path, simulator, now=ManualClock(KINGS_DAY))
    app.calling_hours.value = "09:00-20:00"
    app.wait_for_hours.value = False
    results = _send(app)
    assert results["status"].tolist() == ["queued", "queued"] and simulator.placed_count() == 2


def test_a_date_in_the_holidays_file_defers_the_row_and_a_time_zone_moves_a_callee_into_the_window(
        tmp_path, simulator):
    closed = tmp_path / "dicht.txt"
    closed.write_text("\ufeff2026-04-28\r\n", encoding="utf-8")
    tuesday = ManualClock(KINGS_DAY + dt.timedelta(days=1))
    app = _app(_people(NL), tmp_path, simulator, now=tuesday, name="h")
    app.calling_hours.value = "09:00-20:00"
    app.holidays.value = str(closed)
    app.wait_for_hours.value = False
    assert _send(app)["status"].tolist() == ["deferred"]
    # 08:00 UTC is 04:00 in New York: outside 09:00-20:00, unless the callee is said to be in Amsterdam.
    new_york = "+12125550110"
    app = _app(_people(new_york), tmp_path, simulator, now=tuesday, name="z1")
    app.calling_hours.value = "09:00-20:00"
    app.wait_for_hours.value = False
    assert _send(app)["status"].tolist() == ["deferred"]
    app = _app(_people(new_york), tmp_path, simulator, now=tuesday, name="z2")
    app.calling_hours.value = "09:00-20:00"
    app.wait_for_hours.value = False
    app.tz.value = "Europe/Amsterdam"
    assert _send(app)["status"].tolist() == ["queued"]
    assert simulator.calls["callee"].tolist() == [new_york]


def test_a_subdivision_column_counts_its_public_holidays_and_an_unknown_one_is_named(tmp_path, simulator):
    # 6 January (Epiphany) is a public holiday in Bavaria, not in Berlin.
    epiphany = ManualClock(dt.datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
    by, be = "+491701234510", "+491701234610"
    df = _people(by, be).assign(Bundesland=["BY", "BE"])
    app = _app(df, tmp_path, simulator, now=epiphany)
    assert ("Bundesland", "Bundesland") in app.subdivision_column.options
    app.subdivision_column.value = "Bundesland"
    app.calling_hours.value = "09:00-20:00"
    app.public_holidays.value = True
    app.wait_for_hours.value = False
    app.df.loc[app.df.index[1], "Bundesland"] = "XX"
    app.validate.click()
    assert "Public holidays" in app.status.value and "public_holidays=" not in app.status.value
    assert "XX" in app.status.value and simulator.placed_count() == 0
    df.loc[df.index[1], "Bundesland"] = "BE"
    app.set_list(df, source="bundeslaender.csv")
    app.mapping["callee"].value = "Telefoon"
    app.subdivision_column.value = "Bundesland"
    results = _send(app)
    assert app.last_error is None, app.last_error
    assert results.set_index("callee")["status"].to_dict() == {by: "deferred", be: "queued"}


def test_a_validity_window_already_past_ends_every_row_expired_and_calls_nobody(tmp_path, simulator):
    app = _app(_people(*_answering(3)), tmp_path, simulator)
    app.valid_until.value = "2020-01-01T00:00+01:00"
    app.validate.click()
    assert "expired 3" in app.status.value and app.send.disabled
    assert "valid until 2019-12-31 23:00 UTC" in app.estimate.value
    app.send.click()  # a click from code on the disabled button
    assert simulator.placed_count() == 0


def test_an_otp_campaign_shows_its_ten_minute_default_and_none_turns_it_off(tmp_path):
    df = pd.DataFrame({"Telefoon": [NL], "code": ["123456"]})
    app = _app(df, tmp_path, app="otp", defaults={"caller": CALLER})
    assert app.valid_for.placeholder.startswith("10m: the OTP default")
    app.validate.click()
    assert app.last_error is None, app.last_error
    assert "valid for 10m (the OTP default)" in app.estimate.value
    app.valid_for.value = "none"
    app.validate.click()
    assert "valid for" not in app.estimate.value
    app.app.value = "notification"
    assert app.valid_for.placeholder.startswith("e.g. 30m")


def test_a_ledger_cap_ends_the_second_campaigns_repeated_person_over_contacted(tmp_path, simulator):
    ledger = tmp_path / "contacten.sqlite"
    first = _app(_people(*_answering(2)), tmp_path, simulator, name="voorjaar")
    first.contacts.value, first.max_contacts.value = str(ledger), "1/7d"
    assert _send(first)["status"].tolist() == ["queued", "queued"]
    second = _app(_people(*_answering(2, start=1)), tmp_path, simulator, name="zomer")
    second.contacts.value, second.max_contacts.value = str(ledger), "1/7d"
    results = _send(second)
    assert second.last_error is None, second.last_error
    assert results["status"].tolist() == ["over-contacted", "queued"]
    assert simulator.placed_count() == 3 and simulator.calls["callee"].tolist().count(_answering(2)[1]) == 1
    assert second.end.kind == "finished" and "over-contacted 1" in second.status.value
    assert "over-contacted — contact cap reached <b>1</b>" in second.counts.value


def test_a_budget_too_small_for_one_call_places_none_and_needs_you(tmp_path, simulator):
    app = _app(_people(*_answering(3)), tmp_path, simulator)
    app.prices.value = _prices(tmp_path)
    app.max_cost.value = "0,001"  # a decimal comma, as typed in the Netherlands
    app.send.click()
    app.wait(scaled(30))
    assert app.last_error is None, app.last_error
    assert app.end.kind == "needs you" and "budget 3" in app.status.value
    assert simulator.placed_count() == 0
    app.max_cost.value = "100"
    results = _send(app)
    assert results["status"].tolist() == ["queued"] * 3 and simulator.placed_count() == 3


class _Timed:
    """The simulator as the app uses it, noting when each request left (``time.monotonic``)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim, self.left = sim, {}
        self.base_url = sim.base_url

    def client(self):
        return self

    def send_payload(self, app, payload, *, instruction_id=None):
        self.left[instruction_id] = time.monotonic()
        return self.sim.client().send_payload(app, payload, instruction_id=instruction_id)


def test_with_live_calls_1_a_call_starts_only_once_the_previous_one_called_back(tmp_path):
    log = tmp_path / "callbacks.jsonl"
    arrived: dict = {}
    with Simulator(seed=3, speed=200) as sim, CallbackReceiver(log) as rx:
        rx.on_callback = lambda record: arrived.setdefault(record.get("instruction-id"), time.monotonic())
        timed = _Timed(sim)
        app = _app(_people(*_answering(4)), tmp_path, timed, callbacks=log,
                   defaults=notification_defaults("Hello", callback_url=rx.url))
        app.max_live_calls.value = "1"
        results = _send(app)
        assert app.last_error is None, app.last_error
        wait_until(lambda: len(arrived) >= 4, timeout=scaled(60), what="the 4 callbacks")
    assert results["status"].tolist() == ["queued"] * 4
    spans = sorted((timed.left[i], arrived[i]) for i in timed.left)
    assert all(nxt[0] >= prev[1] for prev, nxt in zip(spans, spans[1:], strict=False))  # never two alive at once


def test_holdout_rows_are_planned_but_never_reach_the_simulator(tmp_path, simulator):
    people = _answering(20)
    app = _app(_people(*people), tmp_path, simulator, defaults={k: v for k, v in PLAIN.items() if k != "prompt"})
    app.variants.value = "A:prompt=Hallo {Naam}\r\n\r\nB:prompt=Goedemiddag {Naam}\r\n"
    app.holdout.value = "0,3"
    app.seed.value = "7"
    results = _send(app)
    assert app.last_error is None, app.last_error
    held = set(results.loc[results["status"] == "holdout", "callee"])
    assert held and set(results.loc[results["status"] == "queued", "callee"]) == set(people) - held
    assert not held & set(simulator.calls["callee"]) and simulator.placed_count() == len(people) - len(held)
    assert app.end.kind == "finished" and f"holdout {len(held)}" in app.status.value
    assert set(app.plan.to_frame()["variant"]) == {"A", "B", "holdout"}
    with Journal(app.journal_path()) as journal:
        assert set(journal.variants("r").values()) == {"A", "B", "holdout"}


def test_the_opt_out_key_is_enabled_for_dtmf_only_and_kept_in_the_plan(tmp_path):
    app = _app(_people(NL), tmp_path, defaults=DTMF)
    assert app.opt_out_digit.disabled
    app.app.value = "dtmf"
    assert not app.opt_out_digit.disabled
    app.opt_out_digit.value = "9"
    app.validate.click()
    assert app.last_error is None, app.last_error
    assert app.plan.options["opt_out_digit"] == "9" and "opt-out key 9" in app.estimate.value
    app.app.value = "notification"
    assert app.opt_out_digit.disabled


# -- bad values are named by the control's label, block the send, and go once fixed -------------------

@pytest.mark.parametrize("edit, named", [
    ({"contacts": "ledger.sqlite", "max_contacts": "1/7x"}, "Contacts cap: '7x' is not a duration (write e.g. 30m"),
    ({"max_contacts": "1/7d"}, "Contacts cap needs Contact ledger"),
    ({"holdout": "abc"}, "Holdout must be a share from 0 to below 1"),
    ({"holdout": "1,5"}, "Holdout must be a share from 0 to below 1"),
    ({"valid_for": "soon"}, "Valid for: 'soon' is not a duration (write e.g. 30m"),
    ({"valid_until": "2026-04-27 18:00"}, "Valid until: '2026-04-27 18:00' has no time zone"),
    ({"variants": "A:prompt=Hallo\nB prompt Hoi\nC:=x"}, "line 2: Variants 'B prompt Hoi': expected NAME:FIELD=VALUE"),
    ({"seed": "7"}, "Seed needs Variants or Holdout"),
    ({"calling_hours": "09:00-20:00", "tz": "Europe/Amsterdm"}, "Time zone: unknown time zone 'Europe/Amsterdm'"),
    ({"tz": "Europe/Amsterdam"}, "Time zone needs Calling hours"),
    ({"max_live_calls": "abc"}, "Live calls must be a whole number of 1 or more"),
    ({"max_live_calls": "0"}, "Live calls must be a whole number of 1 or more"),
    ({"max_cost": "25"}, "Budget needs Prices"),
    ({"holidays": "gone.txt"}, "gone.txt"),
], ids=["cap", "cap-without-ledger", "holdout", "holdout-range", "valid-for", "valid-until", "variants", "seed",
        "tz-unknown", "tz-without-hours", "live-calls", "live-calls-zero", "budget-without-prices", "holidays-file"])
def test_a_bad_value_is_named_by_its_control_blocks_the_send_and_goes_once_fixed(tmp_path, simulator, edit, named):
    app = _app(_people(*_answering(2)), tmp_path, simulator)
    for control, value in edit.items():
        getattr(app, control).value = value if control not in ("contacts", "holidays") else str(tmp_path / value)
    app.validate.click()
    assert app.last_error is not None and named in _said(app), _said(app)
    assert "=:" not in _said(app) and "--" not in _said(app)  # the app's words, not Python's or the CLI's
    app.send.click()
    app.wait(scaled(30))
    assert simulator.placed_count() == 0 and named in _said(app)
    for control in edit:
        getattr(app, control).value = ""
    assert app.last_error is None and "changed since the error" in _said(app)
    app.validate.click()
    assert app.last_error is None and "2 of 2 rows valid" in _said(app)


def test_every_bad_variants_line_is_named_not_only_the_first(tmp_path):
    app = _app(_people(NL), tmp_path)
    app.variants.value = "A:prompt=Hallo\nB prompt Hoi\n\nC:=x"
    app.validate.click()
    assert "line 2:" in app.status.value and "line 4:" in app.status.value


# -- the confirmation ----------------------------------------------------------------------------------

def _real(app: Campaign, provider: Simulator) -> Campaign:
    app.target.value = PROVIDER
    app.base_url.value = provider.base_url
    return app


@pytest.fixture()
def provider():
    with Simulator(seed=4, token=SECRET) as sim:
        yield sim


def test_the_confirmation_names_each_active_rule_in_one_line(tmp_path, provider, no_token_env):
    app = _real(_app(_people(*_answering(4)), tmp_path, token=SECRET,
                     defaults={k: v for k, v in PLAIN.items() if k != "prompt"}), provider)
    app.public_holidays.value = True
    app.valid_for.value = "30m"
    app.contacts.value, app.max_contacts.value = str(tmp_path / "ledger.sqlite"), "1/7d"
    app.prices.value, app.max_cost.value = _prices(tmp_path), "25"
    app.max_live_calls.value = "5"
    app.variants.value = "A:prompt=Hallo\nB:prompt=Hoi"
    app.holdout.value = "0.1"
    app.send.click()
    summary = app.confirm_summary.value
    assert app.confirm_box.pending is not None, app.status.value
    for line in ("no calls on public holidays of each callee&#x27;s country", "valid for 30m",
                 f"at most 1 call per person per 7d (ledger {tmp_path / 'ledger.sqlite'})", "budget 25.00",
                 "at most 5 live calls", "A/B: A 45 %, B 45 %, holdout 10 %"):
        assert line in summary, line
    assert "opt-out key" not in summary and len(provider.requests) == 0


@pytest.mark.parametrize("control, value", [
    ("public_holidays", True), ("holidays", "dicht.txt"), ("tz", "Europe/Amsterdam"), ("valid_for", "30m"),
    ("valid_until", "2030-01-01T00:00Z"), ("contacts", "ledger.sqlite"), ("max_contacts", "1/7d"),
    ("max_cost", "25"), ("max_live_calls", "5"), ("variants", "A:prompt=Hoi"), ("holdout", "0.1"), ("seed", "7"),
    ("subdivision_column", "Naam"),
])
def test_editing_a_rule_withdraws_the_confirmation_and_every_rule_is_locked_while_it_is_open(
        tmp_path, provider, no_token_env, control, value):
    app = _real(_app(_people(*_answering(2)), tmp_path, token=SECRET), provider)
    app.send.click()
    assert app.confirm_box.pending is not None, app.status.value
    widget = getattr(app, control)
    assert widget in app.inputs() and widget.disabled  # locked while the confirmation is open
    assert app.opt_out_digit in app.inputs()
    widget.value = value  # a change from code reaches the observers all the same
    assert app.confirm_box.pending is None and app.confirm.disabled
    app.confirm_text.value = "r"
    app.confirm.click()
    app.wait(scaled(5))
    assert len(provider.requests) == 0 and app.sender is None
