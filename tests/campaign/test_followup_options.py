"""Every sending option of ``cmvoice send`` that applies to a wave is an option of ``cmvoice followup``.

Both parsers are built from one table (:data:`cmvoice_nb.messages.OPTIONS`), which also names the
Python keywords and the Campaign app's labels, so the three cannot drift. A follow-up wave honours
calling hours, allowed countries and the campaign's budget like a first wave.
"""
from __future__ import annotations

import argparse
import inspect
import json

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import Journal, plan_campaign, plan_followup, send_campaign
from cmvoice_nb.campaign.ops.estimate import upper_bound_costs
from cmvoice_nb.cli import build_parser, main
from cmvoice_nb.client import VoiceClient
from cmvoice_nb.messages import OPTIONS, SENDING, command_options

from .._wait import scaled
from ._lists import notification_defaults

pytestmark = pytest.mark.simulator(speed=1000.0)

#: What only a first send reads (the list and how to read it; the A/B design and the opt-out key, which
#: the journal keeps for every later wave), and what only a follow-up reads.
SEND_ONLY = {"--app", "--name", "--map", "--set", "--journal", "-o", "--sep", "--encoding", "--sheet",
             "--number-style", "--audio-root", "--spelling-root", "--preview", "--keep", "--dayfirst",
             "--monthfirst", "--date-format", "--decimal", "--drop-duplicates", "--resend-changed",
             "--resend-unknown", "--max-attempts", "--variant", "--holdout", "--seed", "--opt-out-digit",
             "--callbacks"}
FOLLOWUP_ONLY = {"--journal", "-o", "--callbacks", "--campaign", "--outcomes", "--max-attempts", "--after", "--now",
                 "--retry-ladder"}


def parser_of(command: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def flags(command: str) -> dict[str, argparse.Action]:
    return {option: action for action in parser_of(command)._actions for option in action.option_strings
            if option.startswith("-") and option not in ("-h", "--help", "--output")}


def test_followup_has_every_option_of_send_that_applies_to_a_wave():
    send, followup = flags("send"), flags("followup")
    assert set(send) - SEND_ONLY == set(followup) - FOLLOWUP_ONLY
    for option in ("--calling-hours", "--days", "--holidays", "--tz", "--no-wait", "--suppress", "--allow-countries",
                   "--prices", "--max-cost", "--rate", "--region", "--http-attempts", "--allow-private-callback-url"):
        assert option in followup


def test_both_parsers_read_each_shared_option_from_the_one_table():
    send, followup = flags("send"), flags("followup")
    for o in command_options("followup"):
        assert o.commands == SENDING
        for action in (send[o.cli], followup[o.cli]):
            assert (action.dest, action.help) == (o.key, o.help)


def test_every_shared_option_names_a_documented_python_keyword():
    from cmvoice_nb.campaign.send import send_campaign as send_fn

    owners = [send_fn, plan_campaign, plan_followup, VoiceClient.__init__]
    for o in command_options("followup"):
        keyword = o.python.split("=")[0]
        owner = next((f for f in owners if keyword in inspect.signature(f).parameters), None)
        assert owner is not None, f"{o.cli}: no Python keyword {keyword!r}"
        doc = inspect.getdoc(owner if owner is not VoiceClient.__init__ else VoiceClient) or ""
        assert keyword in doc, f"{keyword} is not documented in {owner.__qualname__}"


def test_the_campaign_app_labels_its_controls_from_the_same_table():
    from cmvoice_nb.widgets._campaign_ops import OperationsPanel

    panel = OperationsPanel(region=lambda: "NL")
    for key, control in (("calling_hours", panel.calling_hours), ("days", panel.days),
                         ("allowed_countries", panel.allowed_countries), ("suppress", panel.suppress),
                         ("prices", panel.prices)):
        assert control.description == OPTIONS[key].widget


# ------------------------------------------------------------------------------ a wave honours them
def first_wave(sim, receiver, tmp_path, numbers, **extra):
    send_campaign(pd.DataFrame({"callee": numbers}), sim.client(), journal=tmp_path / "j.sqlite",
                  app="notification", name="spring", rate=500, progress=False,
                  defaults=notification_defaults("Hello", callback_url=receiver.url), **extra)
    sim.wait_idle(scaled(30))
    receiver.wait_for(len(numbers), timeout=scaled(30))
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    return (calls["finished_on"].max() + pd.Timedelta(minutes=31)).isoformat()


def followup(tmp_path, sim, now, *extra):
    return main(["followup", "--journal", str(tmp_path / "j.sqlite"), "--callbacks", str(tmp_path / "callbacks.jsonl"),
                 "--now", now, "-o", str(tmp_path / "wave.csv"), "--rate", "500", "--base-url", sim.base_url,
                 "--no-progress", *extra])


def wave(tmp_path) -> list[str]:
    return pd.read_csv(tmp_path / "wave.csv", dtype=str, keep_default_na=False)["status"].tolist()


def test_a_wave_waits_for_its_calling_hours(sim, receiver, tmp_path, token, capsys):
    import datetime as dt

    now = first_wave(sim, receiver, tmp_path, ["+31612340109"])
    today = dt.datetime.now(dt.timezone.utc).date()
    (tmp_path / "holidays.txt").write_text("".join(f"{today + dt.timedelta(days=d)}\n" for d in (-1, 0, 1)))
    placed = sim.placed_count()
    assert followup(tmp_path, sim, now, "--calling-hours", "00:00-24:00", "--days", "all", "--holidays",
                    str(tmp_path / "holidays.txt"), "--no-wait") == 75
    assert wave(tmp_path) == ["deferred"] and sim.placed_count() == placed
    assert followup(tmp_path, sim, now) == 0  # the same wave once its hours come: sent under the same id
    assert wave(tmp_path) == ["queued"] and sim.placed_count() == placed + 1


def test_a_wave_refuses_countries_outside_the_allowed_ones(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+32470123409"])
    assert followup(tmp_path, sim, now, "--allow-countries", "NL") == 1
    assert sorted(wave(tmp_path)) == ["queued", "refused-country"]
    assert "refused-country: 1 row - their number's country is not in --allow-countries" in capsys.readouterr().err
    again = plan_followup(tmp_path / "j.sqlite", load_callbacks(tmp_path / "callbacks.jsonl", warn=False), now=now,
                          allowed_countries="NL")
    assert [r.problems[0].message for r in again.rows if r.problems] == ["country BE not allowed (allowed: NL)"]


def test_a_wave_counts_against_the_campaign_s_budget_with_the_first(sim, receiver, tmp_path, token, capsys):
    prices = pd.DataFrame({"country": ["NL"], "price_per_minute": [0.06], "setup": [0.01]})
    (tmp_path / "prices.csv").write_text("country,price_per_minute,setup\nNL,0.06,0.01\n")
    numbers = ["+31612340109", "+31612340209"]
    plan = plan_campaign(pd.DataFrame({"callee": numbers}), app="notification", name="spring",
                         defaults=notification_defaults("Hello"))
    one = upper_bound_costs([json.loads(plan.rows[0].payload)], app="notification", prices=prices)[0]
    now = first_wave(sim, receiver, tmp_path, numbers, prices=prices, max_cost=2 * one)
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.spent("spring") == pytest.approx(2 * one)
    assert followup(tmp_path, sim, now, "--prices", str(tmp_path / "prices.csv"), "--max-cost", f"{3.5 * one}") == 1
    assert wave(tmp_path) == ["queued", "budget"]  # the first wave's two calls count too
    assert "plan: 2 rows: to send 1, budget 1" in capsys.readouterr().err


def test_region_reads_the_national_numbers_of_the_do_not_call_list(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+31612340209"])
    (tmp_path / "dnc.txt").write_text("06 1234 0209\n")
    assert followup(tmp_path, sim, now, "--suppress", str(tmp_path / "dnc.txt"), "--region", "NL") == 0
    assert wave(tmp_path) == ["queued"] and "suppressed 1" in capsys.readouterr().err
