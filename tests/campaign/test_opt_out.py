"""Opt-out by keypress end to end: a DTMF campaign declares its key, the receiver writes who pressed it,
and the next campaign's ``--suppress`` never calls them. Through Python and the ``cmvoice`` command.
"""
from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from cmvoice_nb.callbacks import CallbackReceiver, load_callbacks, opt_outs
from cmvoice_nb.campaign import Journal, plan_campaign, send_campaign
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice, scaled
from ._lists import CALLER, notification_flags

DTMF = {"caller": CALLER, "prompt-type": "TTS",
        "prompt": "Druk 1 voor ja, 2 voor nee, of 9 om niet meer gebeld te worden",
        "min-digits": 1, "max-digits": 1, "max-attempts": 1}
PEOPLE = [f"+31612{i:04d}10" for i in range(8)]  # the simulator answers numbers ending in 10


def dtmf_plan(defaults=DTMF, **options):
    return plan_campaign(pd.DataFrame({"callee": PEOPLE[:2]}), app="dtmf", name="survey", campaign_key="k0000000",
                         defaults=defaults, opt_out_digit="9", **options)


def notes(plan) -> list[str]:
    return [str(n) for n in plan.notes if str(n).startswith("opt-out key")]


def test_a_plan_that_says_its_key_gets_no_warning():
    assert dtmf_plan().options["opt_out_digit"] == "9" and notes(dtmf_plan()) == []
    assert notes(dtmf_plan({**DTMF, "prompt": "Toets negen om af te melden"})) == []  # the key in words


@pytest.mark.parametrize("change, warning", [
    ({"min-digits": 2, "max-digits": 4}, "min-digits is 2 on some rows: pressing only 9 is no valid input there"),
    ({"regex": "[12]"}, "the regex '[12]' refuses 9"),
    ({"terminators": "9#"}, "9 is a terminator"),
    ({"prompt": "Druk 1 voor ja"}, "a prompt does not mention 9 ('Druk 1 voor ja'"),
])
def test_a_key_that_cannot_work_is_warned(change, warning):
    found = notes(dtmf_plan({**DTMF, **change}))
    assert len(found) == 1 and warning in found[0]


def test_the_warning_checks_every_variant_prompt():
    plan = plan_campaign(pd.DataFrame({"callee": PEOPLE}), app="dtmf", name="s", campaign_key="k0000000",
                         defaults=DTMF, opt_out_digit="9", seed=3,
                         variants={"A": {}, "B": {"prompt": "Druk 1 voor ja"}})
    assert set(plan.to_frame()["variant"]) == {"A", "B"}
    assert len(notes(plan)) == 1 and "a prompt does not mention 9 ('Druk 1 voor ja'" in notes(plan)[0]


@pytest.mark.parametrize("app, digit, message", [
    ("notification", "9", "opt_out_digit= needs a DTMF campaign"),
    ("dtmf", "12", "opt_out_digit= must be one keypad key (0-9, * or #), got '12'"),
    ("dtmf", "x", "must be one keypad key"),
])
def test_a_key_outside_a_dtmf_campaign_or_not_a_key_is_refused(app, digit, message):
    defaults = DTMF if app == "dtmf" else {"caller": CALLER, "prompt": "Hi", "prompt-type": "TTS"}
    with pytest.raises(CampaignError) as info:
        plan_campaign(pd.DataFrame({"callee": PEOPLE[:1]}), app=app, name="x", defaults=defaults, opt_out_digit=digit)
    assert message in str(info.value)


# Every callee's key press is scripted: a generated one could be 9 by chance.
@pytest.mark.simulator(speed=1000, dtmf_script={PEOPLE[0]: ["1"], PEOPLE[1]: ["9"], PEOPLE[2]: ["1"],
                                                PEOPLE[3]: ["2"], PEOPLE[4]: ["9"], PEOPLE[5]: ["19"]})
def test_who_presses_the_key_is_never_called_by_the_next_campaign(tmp_path, sim):
    dnc = tmp_path / "afmeldingen.txt"
    with CallbackReceiver(tmp_path / "cb.jsonl", opt_out_digit="9", opt_out_list=dnc,
                          opt_out_instructions="survey-") as rx:
        survey = plan_campaign(pd.DataFrame({"callee": PEOPLE[:6]}), app="dtmf", name="survey",
                               defaults={**DTMF, "callback-url": rx.url}, opt_out_digit="9")
        res = send_campaign(survey, sim.client(), journal=tmp_path / "j.sqlite", rate=1000, progress=False)
        assert set(res["status"]) == {"queued"}
        sim.wait_idle(scaled(60))
        rx.wait_for(6, timeout=scaled(60))
    assert sorted(dnc.read_text().splitlines()) == sorted([PEOPLE[1], PEOPLE[4]])
    assert sorted(opt_outs(load_callbacks(tmp_path / "cb.jsonl"), digit="9")) == sorted([PEOPLE[1], PEOPLE[4]])
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.design("survey") == {"opt_out_digit": "9"}
    before = len(sim.calls)
    reminder = send_campaign(pd.DataFrame({"callee": PEOPLE}), sim.client(), journal=tmp_path / "j2.sqlite",
                             app="notification", name="reminder", rate=1000, progress=False, suppress=dnc,
                             defaults={"caller": CALLER, "prompt": "Tot morgen", "prompt-type": "TTS"})
    assert reminder.set_index("callee").loc[[PEOPLE[1], PEOPLE[4]], "status"].tolist() == ["suppressed"] * 2
    assert not {PEOPLE[1], PEOPLE[4]} & set(sim.calls["callee"].iloc[before:])


def test_cmvoice_send_takes_the_key_and_an_empty_opt_out_list(tmp_path, sim, token):
    people = tmp_path / "people.csv"
    people.write_text("callee\r\n" + "\r\n".join(PEOPLE[:2]) + "\r\n", encoding="utf-8-sig")
    empty = tmp_path / "afmeldingen.txt"
    empty.write_text("")  # what cmvoice receive --opt-out-list creates before the first opt-out
    proc = subprocess.run(cmvoice(
        "send", people, "--app", "dtmf", "--set", f"caller={CALLER}", "--set", "prompt=Druk 1 voor ja",
        "--set", "prompt-type=TTS", "--set", "min-digits=2", "--set", "max-digits=4", "--set", "max-attempts=1",
        "--opt-out-digit", "9", "--suppress", empty, "--journal", tmp_path / "j.sqlite", "-o", tmp_path / "out.csv",
        "--base-url", sim.base_url, "--rate", "500", "--no-progress"),
        capture_output=True, text=True, timeout=scaled(120))
    assert proc.returncode == 0, proc.stderr
    assert "note: opt-out key 9: min-digits is 2 on some rows" in proc.stderr
    assert "note: opt-out key 9: a prompt does not mention 9" in proc.stderr
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.design("people")["opt_out_digit"] == "9"
    notification = subprocess.run(cmvoice(
        "send", people, *notification_flags("Hallo"), "--opt-out-digit", "9", "--journal", tmp_path / "j2.sqlite",
        "-o", tmp_path / "out2.csv", "--base-url", sim.base_url),
        capture_output=True, text=True, timeout=scaled(120))
    assert notification.returncode == 2 and "--opt-out-digit needs a DTMF campaign" in notification.stderr
