"""The estimate before sending, on hand-computed fixtures.

Expected seconds are worked out in each test from word counts and the simulator's own rates
(``cmvoice_nb.simulator.defaults.BEHAVIOUR``), never copied from the code under test.
"""
from __future__ import annotations

import math
import random

import pandas as pd
import pytest

from cmvoice_nb.campaign.ops.estimate import FRAME_COLUMNS, Estimate, estimate_payloads, read_prices
from cmvoice_nb.errors import CampaignError
from cmvoice_nb.simulator.defaults import BEHAVIOUR
from cmvoice_nb.simulator.physics import plan_call
from cmvoice_nb.timing import talk_seconds

from .._audio import alaw_riff, write_file

WPS = BEHAVIOUR["words_per_s"]
CHAR_S = BEHAVIOUR["code_char_s"]
DEFAULT_FILE_S = BEHAVIOUR["default_file_s"]


NOTIFY = {"callee": "+31612345678", "caller": "+31201234567",
          "prompt": "Your parcel arrives tomorrow before noon today",
          "prompt-type": "TTS", "max-replays": 2, "replay-prompt": "Press one to repeat", "replay-prompt-type": "TTS"}


def test_a_notification_plays_its_prompt_once_per_replay_plus_the_replay_question():
    prompt_words = len(NOTIFY["prompt"].split())
    assert prompt_words == 7
    play, ask = prompt_words / WPS, 4 / WPS
    # replays="max": 3 plays, the question after the first two.
    assert talk_seconds(NOTIFY, "notification") == pytest.approx(3 * play + 2 * ask)
    # replays="none": one play, the question once (it is asked while replays remain).
    assert talk_seconds(NOTIFY, "notification", replays="none") == pytest.approx(play + ask)
    assert talk_seconds(NOTIFY, "notification", replays=1) == pytest.approx(2 * play + 2 * ask)


def test_auto_replay_plays_every_replay_and_asks_nothing():
    wire = dict(NOTIFY, **{"auto-replay": True})
    play = 7 / WPS
    assert talk_seconds(wire, "notification", replays="none") == pytest.approx(3 * play)


def test_an_otp_call_is_intro_then_code_prompt_and_characters_per_play_then_outro():
    wire = {"callee": "+31612345678", "code": "482913", "intro-prompt": "Hello this is your bank",
            "intro-prompt-type": "TTS", "code-prompt": "Your code is", "code-prompt-type": "TTS",
            "replay-prompt": "Press one", "replay-prompt-type": "TTS", "outro-prompt": "Goodbye",
            "outro-prompt-type": "TTS", "max-replays": 1}
    intro, play, ask, outro = 5 / WPS, 3 / WPS + 6 * CHAR_S, 2 / WPS, 1 / WPS
    assert talk_seconds(wire, "otp") == pytest.approx(intro + 2 * play + 1 * ask + outro)


def test_a_dtmf_call_is_the_prompt_the_full_timeout_and_the_valid_prompt():
    wire = {"callee": "+31612345678", "prompt": "Press one to confirm", "prompt-type": "TTS", "timeout": 3000,
            "valid-prompt": "Thanks", "valid-prompt-type": "TTS", "min-digits": 1, "max-digits": 1, "max-attempts": 3}
    assert talk_seconds(wire, "dtmf") == pytest.approx(4 / WPS + 3.0 + 1 / WPS)
    # Without timeout the contract's default (5000 ms) applies.
    assert talk_seconds({"prompt": "Press one", "prompt-type": "TTS"}, "dtmf") == pytest.approx(2 / WPS + 5.0)


def test_ssml_tags_are_not_words():
    wire = {"prompt": "<speak>Hello <break time='1s'/> there</speak>", "prompt-type": "TTS_SSML"}
    assert talk_seconds(wire, "notification") == pytest.approx(2 / WPS)


def test_the_estimate_agrees_with_the_simulator_on_an_answered_auto_replay_call():
    # The simulator's physics (not this module) decides a magic ...10 callee's talk time.
    wire = {"callee": "+31612345610", "caller": "+31201234567", "prompt": "one two three four five six",
            "prompt-type": "TTS", "max-replays": 2, "auto-replay": True}
    simulated = plan_call("notification", wire, wire["callee"], rng=random.Random(3))
    assert simulated.result_code == 10
    assert talk_seconds(wire, "notification") == pytest.approx(simulated.talk_s)


def test_file_prompts_take_their_duration_from_the_wav_header_under_audio_root(tmp_path):
    write_file(tmp_path / "prompts" / "welcome.wav", alaw_riff(1.5))
    wires = [{"callee": "+31612345678", "prompt": "prompts/welcome.wav", "prompt-type": "File"},
             {"callee": "+31612345679", "prompt": "/prompts/welcome.wav"},          # File is the default type
             {"callee": "+31612345670", "prompt": "prompts/missing.wav", "prompt-type": "File"},
             {"callee": "+31612345671", "prompt": "../outside.wav", "prompt-type": "File"}]
    write_file(tmp_path.parent / "outside.wav", alaw_riff(9.0))                    # must never be read
    est = estimate_payloads(wires, app="notification", audio_root=tmp_path)
    assert est.per_call["talk_s"].tolist() == pytest.approx([1.5, 1.5, DEFAULT_FILE_S, DEFAULT_FILE_S])
    said = [a for a in est.assumptions if "File prompt" in a]
    assert said == [f"2 File prompt(s) counted as {DEFAULT_FILE_S:g} s each (not found or unreadable under "
                    f"{tmp_path}): prompts/missing.wav, ../outside.wav"]


def test_without_audio_root_file_prompts_count_the_default_and_say_so():
    est = estimate_payloads([{"callee": "+31612345678", "prompt": "a.wav", "prompt-type": "File"}], app="notification")
    assert est.per_call.loc[0, "talk_s"] == DEFAULT_FILE_S
    assert any("(no audio_root given): a.wav" in a for a in est.assumptions)


def test_a_corrupt_wav_counts_the_default(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00")
    est = estimate_payloads([{"callee": "+31612345678", "prompt": "bad.wav", "prompt-type": "File"}],
                            app="notification", audio_root=tmp_path)
    assert est.per_call.loc[0, "talk_s"] == DEFAULT_FILE_S


# ------------------------------------------------------------------ countries, minutes, cost

def campaign():
    # 3 Dutch calls of 5 words, 1 Belgian of 10 words, 1 French of 5 words; no replays.
    five, ten = "a b c d e", "a b c d e f g h i j"
    return [{"callee": c, "prompt": p, "prompt-type": "TTS"} for c, p in
            [("+31612345678", five), ("+31612345679", five), ("+31612345670", five),
             ("+32470123456", ten), ("+33612345678", five)]]


def test_calls_per_country_and_minutes_are_counted_per_country_and_in_total():
    est = estimate_payloads(campaign(), app="notification")
    assert est.calls == 5 and est.calls_per_country == {"BE": 1, "FR": 1, "NL": 3}
    seconds = 4 * (5 / WPS) + 10 / WPS
    assert est.total_minutes == pytest.approx(seconds / 60)
    assert est.minutes_per_call == pytest.approx(seconds / 5 / 60)
    frame = est.to_frame()
    assert list(frame.columns) == FRAME_COLUMNS and list(frame.index) == ["BE", "FR", "NL", "total"]
    assert frame.loc["NL", "minutes"] == pytest.approx(3 * 5 / WPS / 60)
    assert frame.loc["total", "calls"] == 5
    assert est.cost is None and math.isnan(frame.loc["total", "cost"])
    assert est.assumptions[0] == "every call is answered (answer_rate=1.0): an upper bound"


def test_cost_with_a_price_table_an_answer_rate_and_a_missing_country():
    prices = pd.DataFrame({"country": ["NL", "BE"], "price_per_minute": [0.06, 0.12], "setup": [0.01, 0.0]})
    est = estimate_payloads(campaign(), app="notification", prices=prices, answer_rate=0.5)
    nl = 0.5 * 3 * ((5 / WPS) / 60 * 0.06 + 0.01)
    be = 0.5 * 1 * ((10 / WPS) / 60 * 0.12)
    assert est.cost == pytest.approx(nl + be)
    frame = est.to_frame()
    assert frame.loc["NL", "cost"] == pytest.approx(nl) and math.isnan(frame.loc["FR", "cost"])
    assert "no price for FR (1 call): left out of the cost" in est.assumptions
    assert "50% of calls are answered (answer_rate=0.5)" in est.assumptions


def test_a_star_row_prices_every_other_country(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("country;price_per_minute;setup\nNL;0,06;0\n*;0,30;0,02\n", encoding="utf-8")
    assert read_prices(path) == {"NL": (0.06, 0.0), "*": (0.30, 0.02)}
    est = estimate_payloads(campaign(), app="notification", prices=path)
    other = (10 / WPS) / 60 * 0.30 + 0.02 + (5 / WPS) / 60 * 0.30 + 0.02
    assert est.cost == pytest.approx(3 * (5 / WPS) / 60 * 0.06 + other)
    assert not any(a.startswith("no price") for a in est.assumptions)


def test_a_bad_price_table_names_every_bad_row(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("country,price_per_minute\nNL,cheap\nBE,-1\n,0.1\nDE,0.1\n", encoding="utf-8")
    with pytest.raises(CampaignError, match=r"3 problem\(s\): row 1 price_per_minute: 'cheap'.*row 2 "
                                            r"price_per_minute: '-1'.*row 3: empty country"):
        read_prices(path)
    with pytest.raises(CampaignError, match="missing price_per_minute"):
        read_prices(pd.DataFrame({"country": ["NL"], "price": [1]}))
    with pytest.raises(CampaignError, match="no such file"):
        read_prices(tmp_path / "none.csv")
    with pytest.raises(CampaignError, match="not a regular file"):
        read_prices(tmp_path)  # a folder exists: "no such file" would send the operator looking for a typo


def test_payloads_may_name_their_own_app_and_bad_input_is_refused():
    mixed = [{"app": "dtmf", "callee": "+31612345678", "prompt": "Press one", "prompt-type": "TTS", "timeout": 1000},
             {"app": "notification", "callee": "+31612345679", "prompt": "Hi", "prompt-type": "TTS"}]
    est = estimate_payloads(mixed)
    assert est.per_call["talk_s"].tolist() == pytest.approx([2 / WPS + 1.0, 1 / WPS])
    assert any(a.startswith("DTMF: one attempt") for a in est.assumptions)
    with pytest.raises(CampaignError, match="payload 0: unknown app None: pass app="):
        estimate_payloads([{"callee": "+31612345678"}])
    with pytest.raises(CampaignError, match="answer_rate must be a number between 0 and 1"):
        estimate_payloads([], app="otp", answer_rate=1.5)
    with pytest.raises(CampaignError, match="payload 0: expected a dict"):
        estimate_payloads(["+31612345678"], app="otp")


def test_the_displays_show_the_figures_and_escape_what_they_quote():
    est = estimate_payloads([{"callee": "+31612345678", "prompt": "<b>.wav", "prompt-type": "File"}],
                            app="notification")
    assert repr(est) == (f"Estimate(1 call, {DEFAULT_FILE_S / 60:.2f} talk minutes ({DEFAULT_FILE_S:.1f} s per call), "
                         "100% answered)")
    html = est._repr_html_()
    assert "&lt;b&gt;.wav" in html and "<b>.wav" not in html
    assert "cmvoice-table-box" in html
    text = est.to_text()
    assert text.splitlines()[0] == f"Estimate: {repr(est)[9:-1]}" and "Assumptions:" in text
    assert isinstance(est, Estimate)


def test_the_notebook_view_is_the_shared_table_with_money_to_four_decimals():
    import pandas as pd

    wires = [{"callee": "+31612345678", "prompt": "one two three four five", "prompt-type": "TTS"},
             {"callee": "+32470123456", "prompt": "one two three four five", "prompt-type": "TTS"}]
    prices = pd.DataFrame({"country": ["NL"], "price_per_minute": [0.06], "setup": [0.01]})
    page = estimate_payloads(wires, app="notification", prices=prices)._repr_html_()
    assert "<div class='cmvoice-table-box'>" in page
    # NL: 2 s x 0.06/min + 0.01 setup = 0.0120 (the two-decimal rule would show 0.01); BE has no price.
    assert ">0.0120<" in page and ">0.0600<" in page and ">nan<" not in page


def test_an_empty_campaign_estimates_nothing():
    est = estimate_payloads([], app="notification")
    assert est.calls == 0 and est.total_minutes == 0 and est.minutes_per_call == 0
    assert est.to_frame().loc["total", "calls"] == 0
