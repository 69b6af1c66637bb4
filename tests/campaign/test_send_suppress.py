"""Do-not-call lists, allowed countries and the estimate, wired into plan_campaign, send_campaign, ``cmvoice send``."""
import math

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, RetryPolicy, plan_campaign, send_campaign
from cmvoice_nb.campaign.ops.suppress import apply_suppression
from cmvoice_nb.cli import main

from .._audio import silence, write_telephony_wav
from ._lists import notification_defaults, notification_flags, people

DEFAULTS = notification_defaults()
FAST = dict(rate=1000.0, burst=50, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))
ANN, BOB, CY = "+31612345610", "+31612345710", "+32470123410"


# ------------------------------------------------------------------------- do-not-call in sends
def test_a_listed_callee_in_any_spelling_is_suppressed_never_called_and_needs_no_attention(sim, tmp_path, caplog):
    res = send_campaign(people(ANN, BOB, CY), sim.client(), journal=tmp_path / "j.sqlite", app="notification",
                        name="dnc", defaults=DEFAULTS, region="NL", suppress=["06 1234 5710", "0032 470 12 34 10"],
                        **FAST)
    assert res["status"].tolist() == ["queued", "suppressed", "suppressed"]
    assert res.loc[1, "error"] == f"{BOB} is on the do-not-call list"
    assert sim.calls["callee"].tolist() == [ANN]
    assert "needs" not in caplog.text and "suppressed" not in caplog.text  # final: no attention summary logged
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.counts("dnc") == {"queued": 1, "suppressed": 2}


def test_a_rerun_that_forgets_the_list_still_does_not_call_the_suppressed(sim, tmp_path):
    kwargs = dict(journal=tmp_path / "j.sqlite", app="notification", name="dnc", defaults=DEFAULTS, **FAST)
    send_campaign(people(ANN, BOB), sim.client(), suppress=[BOB], **kwargs)
    again = send_campaign(people(ANN, BOB), sim.client(), **kwargs)
    assert again["status"].tolist() == ["queued", "suppressed"]
    assert "by an earlier run; give the current suppress= list to check again" in again.loc[1, "error"]
    assert sim.calls["callee"].tolist() == [ANN]
    # The current list no longer holds Bob (taken off on request): he is called, once.
    third = send_campaign(people(ANN, BOB), sim.client(), suppress=[], **kwargs)
    assert third["status"].tolist() == ["queued", "queued"]
    assert sorted(sim.calls["callee"]) == [ANN, BOB]


def test_a_row_already_called_keeps_its_outcome_when_the_callee_is_listed_later(sim, tmp_path):
    kwargs = dict(journal=tmp_path / "j.sqlite", app="notification", name="dnc", defaults=DEFAULTS, **FAST)
    send_campaign(people(ANN), sim.client(), **kwargs)
    res = send_campaign(people(ANN), sim.client(), suppress=[ANN], **kwargs)
    assert res["status"].tolist() == ["queued"] and len(sim.calls) == 1


def test_suppress_works_on_a_plan_too_and_apply_suppression_leaves_the_plan_alone(sim, tmp_path):
    plan = plan_campaign(people(ANN, BOB), app="notification", name="p", defaults=DEFAULTS)
    held = apply_suppression(plan, pd.DataFrame({"Phone": [BOB], "note": ["asked us"]}))
    assert [r.suppressed for r in plan.rows] == [None, None]
    assert held.suppressed["callee"].tolist() == [BOB] and int(held.summary()["to_send"]) == 1
    assert held.rekey("ffff0000").rows[1].suppressed == f"{BOB} is on the do-not-call list"
    res = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", suppress=[BOB], **FAST)
    assert res["status"].tolist() == ["queued", "suppressed"]


def test_a_multi_number_row_is_suppressed_when_any_of_its_numbers_is_listed():
    from cmvoice_nb.campaign.ops.suppress import read_suppression, suppression_reason

    dnc = read_suppression([BOB])
    assert suppression_reason(f"{ANN};{BOB}", dnc) == f"{BOB} is on the do-not-call list"
    assert suppression_reason(ANN, dnc) is None


# ------------------------------------------------------------------------- allowed countries
def test_a_number_of_another_country_is_a_problem_of_its_row():
    plan = plan_campaign(people(ANN, "+33612345610", CY), app="notification", name="c", defaults=DEFAULTS,
                         allowed_countries=("NL", "BE"))
    assert plan.summary()["invalid"] == 1
    problem = plan.problems.iloc[0]
    assert (problem["row"], problem["field"], problem["message"]) == (1, "callee",
                                                                      "country FR not allowed (allowed: BE, NL)")


def test_numbers_are_judged_after_normalising_national_and_00_spellings():
    plan = plan_campaign(people("0612345610", "0032 470 12 34 10"), app="notification", name="c", defaults=DEFAULTS,
                         region="NL", allowed_countries="NL")
    assert plan.problems[["row", "value", "message"]].values.tolist() == \
        [[1, "+32470123410", "country BE not allowed (allowed: NL)"]]


# ------------------------------------------------------------------------- the estimate
def priced_plan(**extra):
    df = pd.DataFrame({"callee": [ANN, BOB, CY, "+33612345610", "+31612345810"]})
    # Five words at 2.5 words per second = 2.0 s per call, no replays.
    return plan_campaign(df, app="notification", name="e", allowed_countries="NL,BE", suppress=["+31612345810"],
                         defaults=notification_defaults("one two three four five", max_replays=0), **extra)


def test_the_estimate_counts_only_rows_that_will_be_sent_and_prices_them_by_hand(tmp_path):
    prices = pd.DataFrame({"country": ["NL", "BE"], "price_per_minute": [0.06, 0.12], "setup": [0.01, 0.0]})
    est = priced_plan().estimate(prices)
    assert est.calls == 3 and est.calls_per_country == {"BE": 1, "NL": 2}   # FR invalid, one NL suppressed
    frame = est.to_frame()
    # NL: 2 calls x 2 s = 4 s = 1/15 min x 0.06 + 2 x 0.01 setup = 0.024; BE: 2 s = 1/30 min x 0.12 = 0.004.
    assert math.isclose(frame.loc["NL", "cost"], 0.024) and math.isclose(frame.loc["BE", "cost"], 0.004)
    assert math.isclose(est.cost, 0.028) and math.isclose(est.total_minutes, 0.1)
    half = priced_plan().estimate(prices, answer_rate=0.5)
    assert math.isclose(half.cost, 0.014) and "50% of calls are answered (answer_rate=0.5)" in half.assumptions


def test_the_estimate_times_file_prompts_from_the_audio_root(tmp_path):
    write_telephony_wav(tmp_path / "audio" / "hello.wav", silence(3.0), target="pcm16")
    plan = plan_campaign(people(ANN), app="notification", name="f",
                         defaults=notification_defaults("hello.wav", prompt_type="File", max_replays=0))
    assert plan.estimate(audio_root=tmp_path / "audio").talk_s_per_call == {ANN: 3.0}


def test_cmvoice_send_dry_run_prints_the_estimate_with_the_price_table(tmp_path, no_token_env, capsys):
    src = tmp_path / "people.csv"
    src.write_text(f"callee,name\n{ANN},Ann\n{BOB},Bob\n{CY},Cy\n+33612345610,Dee\n+31612345810,Eve\n")
    (tmp_path / "prices.csv").write_text("country;price_per_minute;setup\nNL;0,06;0,01\nBE;0,12;0\n")
    (tmp_path / "dnc.txt").write_text("# do not call\n06 1234 5810\nnot a number\n")
    code = main(["send", str(src), *notification_flags("one two three four five"), "--set", "max-replays=0",
                 "--region", "NL", "--journal", str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"),
                 "--dry-run", "--no-progress", "--prices", str(tmp_path / "prices.csv"),
                 "--suppress", str(tmp_path / "dnc.txt"), "--allow-unreadable-suppress", "--allow-countries", "NL,BE"])
    out, err = capsys.readouterr()
    assert code == 1  # the French row is refused: the operator decides
    assert out.splitlines()[:5] == [
        "Estimate: 3 calls, 0.10 talk minutes (2.0 s per call), 100% answered, cost 0.0280",
        "  country  calls  minutes/call  minutes  price/min  setup    cost",
        "  BE           1          0.03     0.03     0.1200 0.0000  0.0040",
        "  NL           2          0.03     0.07     0.0600 0.0100  0.0240",
        "  total        3          0.03     0.10                    0.0280",
    ]
    assert "country FR not allowed (allowed: BE, NL)" in err
    assert "plan: 5 rows: to send 3, refused-country 1, suppressed 1" in err and "1 entries are not numbers" in err
    res = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert res["status"].tolist() == ["dry-run", "dry-run", "dry-run", "refused-country", "suppressed"]


def test_cmvoice_send_with_suppress_sends_the_rest_and_exits_0(tmp_path, sim, token, capsys):
    src = tmp_path / "people.csv"
    src.write_text(f"callee,name\n{ANN},Ann\n{BOB},Bob\n")
    (tmp_path / "dnc.csv").write_text("name;telefoon\nBob;+31 6 1234 5710\n")
    code = main(["send", str(src), *notification_flags("Hi {name}"), "--journal", str(tmp_path / "j.sqlite"),
                 "-o", str(tmp_path / "out.csv"), "--no-progress", "--rate", "500", "--base-url", sim.base_url,
                 "--suppress", str(tmp_path / "dnc.csv")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "2 rows: queued 1, suppressed 1" in err and "Estimate: 1 call" in err
    assert sim.calls["callee"].tolist() == [ANN]


def test_cmvoice_send_no_wait_defers_rows_on_a_holiday_and_a_later_run_sends_them(tmp_path, sim, token, capsys):
    import datetime as dt

    src = tmp_path / "people.csv"
    src.write_text(f"callee,name\n{ANN},Ann\n")
    today = dt.datetime.now(dt.timezone.utc).date()
    (tmp_path / "holidays.txt").write_text("".join(f"{today + dt.timedelta(days=d)}\n" for d in (-1, 0, 1)))
    base = ["send", str(src), *notification_flags("Hi"), "--journal", str(tmp_path / "j.sqlite"), "-o",
            str(tmp_path / "out.csv"),
            "--no-progress", "--rate", "500", "--base-url", sim.base_url]
    code = main(base + ["--calling-hours", "00:00-24:00", "--days", "all", "--holidays",
                        str(tmp_path / "holidays.txt"), "--no-wait"])
    err = capsys.readouterr().err
    assert code == 75 and "deferred: 1 row - outside their calling hours" in err and "--no-wait" in err
    assert len(sim.calls) == 0
    assert main(base) == 0 and sim.calls["callee"].tolist() == [ANN]


@pytest.mark.parametrize("extra, message", [
    (["--calling-hours", "9am-5pm"], "--calling-hours must look like '09:00-20:00'"),
    (["--days", "sat"], "--days needs --calling-hours"),
    (["--calling-hours", "09:00-20:00", "--tz", "Mars/Olympus"], "--tz: unknown time zone 'Mars/Olympus'"),
    (["--allow-countries", "NL,Belgium"], "--allow-countries: 'Belgium' is not a two-letter ISO country code"),
    (["--suppress", "missing.txt"], "--suppress: missing.txt: no such file"),
    (["--prices", "missing.csv"], "prices: missing.csv: no such file"),
])
def test_wrong_flags_are_usage_errors_that_name_the_flag(tmp_path, no_token_env, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.csv").write_text(f"callee,name\n{ANN},Ann\n")
    code = main(["send", "p.csv", *notification_flags("Hi"), "--journal", "j.sqlite", "-o", "out.csv",
                 "--dry-run", *extra])
    assert code == 2
    assert message in capsys.readouterr().err
