"""A/B prompt variants with a holdout: each person gets one variant (or the holdout) by a hash of the
seed and their number, the same on every run and wave; variant fields win over the defaults and the
list's columns; the holdout is planned and never called (status ``holdout``, final).
"""
from __future__ import annotations

import sqlite3
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, ab_report, plan_campaign, plan_followup, send_campaign
from cmvoice_nb.campaign.plan import assign, parse_variants
from cmvoice_nb.campaign.vocabulary import exit_status
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice, scaled
from ._lists import CALLER, notification_defaults

VARIANTS = {"A": {"prompt": "Hallo {name}"}, "B": {"prompt": "Goedemiddag {name}", "voice.gender": "Male"}}


def people_list(n: int, *, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"callee": [f"+31612{start + i:04d}10" for i in range(n)],
                         "name": [f"P{start + i}" for i in range(n)]})


def ab_plan(df, **options):
    options = {"variants": VARIANTS, "holdout": 0.2, "seed": 7, **options}
    return plan_campaign(df, app="notification", name="ab", campaign_key="k0000000",
                         defaults=notification_defaults(), **options)


def variant_of(plan) -> dict[str, str]:
    frame = plan.to_frame()
    return dict(zip(frame["callee"], frame["variant"], strict=True))


def test_each_person_gets_a_variant_or_the_holdout_in_the_shares_asked():
    plan = ab_plan(people_list(2000))
    counts = plan.to_frame()["variant"].value_counts()
    assert set(counts.index) == {"A", "B", "holdout"}
    assert 340 <= counts["holdout"] <= 460  # 20 % of 2000, within a few standard deviations
    assert abs(counts["A"] - counts["B"]) < 180
    assert int(plan.summary()["holdout"]) == counts["holdout"]
    assert int(plan.summary()["to_send"]) == counts["A"] + counts["B"]


def test_the_assignment_is_by_person_not_by_row_order():
    df = people_list(200)
    first = variant_of(ab_plan(df))
    shuffled = df.sample(frac=1.0, random_state=1)
    extended = pd.concat([people_list(50, start=500), shuffled])
    assert {k: v for k, v in variant_of(ab_plan(extended)).items() if k in first} == first
    # The same person spelled otherwise (national, spaces, 00) is the same person.
    spelled = pd.DataFrame({"callee": ["06 1200 0010", "0031612000110"], "name": ["x", "y"]})
    again = variant_of(ab_plan(spelled, region="NL"))
    assert again["+31612000010"] == first["+31612000010"] and again["+31612000110"] == first["+31612000110"]


def test_another_seed_gives_another_assignment():
    df = people_list(200)
    assert variant_of(ab_plan(df, seed=7)) != variant_of(ab_plan(df, seed=8))
    assert assign("31612300010", ("A", "B"), holdout=0.0, seed=7) == assign("31612300010", ("A", "B"), holdout=0.0,
                                                                             seed=7)


def test_a_variants_fields_win_over_the_defaults_and_the_lists_column_and_templates_work():
    df = people_list(60).assign(prompt="from the column", **{"voice-gender": "Female"})
    plan = ab_plan(df)
    frame = plan.to_frame()
    for row in frame.itertuples():
        if row.variant == "A":
            assert row.payload["prompt"] == f"Hallo {row.callee and df.loc[row.Index, 'name']}"
            assert row.payload["voice"]["gender"] == "Female"  # A sets no gender: the column's stands
        elif row.variant == "B":
            assert row.payload["prompt"] == f"Goedemiddag {df.loc[row.Index, 'name']}"
            assert row.payload["voice"]["gender"] == "Male"
    # The preview shows each variant's text before anything is sent.
    assert {"Hallo", "Goedemiddag"} <= {t.split()[0] for t in plan.preview(1)["text"]}


def test_a_variant_mapped_through_columns_wins_over_that_column_too():
    df = people_list(40).rename(columns={"callee": "Telefoon"}).assign(Tekst="kolom")
    plan = plan_campaign(df, app="notification", name="ab", campaign_key="k0000000",
                         columns={"callee": "Telefoon", "prompt": "Tekst"}, defaults={"caller": CALLER,
                                                                                      "prompt-type": "TTS"},
                         variants={"A": {}, "B": {"prompt": "variant B"}}, seed=3)
    frame = plan.to_frame()
    prompts = {v: {p["prompt"] for p, w in zip(frame["payload"], frame["variant"], strict=True) if w == v}
               for v in ("A", "B")}
    assert prompts == {"A": {"kolom"}, "B": {"variant B"}}


def test_ids_do_not_depend_on_the_variant():
    df = people_list(30)
    assert ab_plan(df).instruction_ids.tolist() == plan_campaign(
        df, app="notification", name="ab", campaign_key="k0000000", defaults=notification_defaults()
    ).instruction_ids.tolist()


def test_a_holdout_alone_calls_everyone_else_with_variant_a():
    plan = plan_campaign(people_list(100), app="notification", name="h", campaign_key="k0000000",
                         defaults=notification_defaults(), holdout=0.3)
    assert set(plan.to_frame()["variant"]) == {"A", "holdout"}


def test_a_plan_without_a_test_has_no_variant_column():
    plan = plan_campaign(people_list(3), app="notification", name="x", defaults=notification_defaults())
    assert "variant" not in plan.to_frame().columns and "holdout" not in plan.summary().index


@pytest.mark.parametrize("options, message", [
    ({"variants": {"A": {"promt": "x"}}},
     "variants= A:promt: 'promt' is not a field of notification; did you mean 'prompt'?"),
    ({"variants": {"A": {"callee": "+31612345678"}}}, "a variant changes what is said, not who is called"),
    ({"variants": {"holdout": {}}}, "'holdout' cannot name a variant"),
    ({"variants": {}}, "variants= must be a dict name"),
    ({"variants": {"A": "Hallo"}}, "variants=['A'] must be a dict field"),
    ({"holdout": 1.0}, "holdout= must be a share from 0 to below 1"),
    ({"holdout": "10%"}, "holdout= must be a share from 0 to below 1"),
    ({"variants": {"A": {}}, "seed": 1.5}, "seed= must be a whole number or a text"),
    ({"variants": {"A": {"prompt": "Hi {nam}"}}}, "the template uses {nam}, which is not a column"),
])
def test_a_bad_design_is_a_clear_error(options, message):
    with pytest.raises(CampaignError) as info:
        plan_campaign(people_list(3), app="notification", name="x", defaults=notification_defaults(), **options)
    assert message in str(info.value)


def test_the_command_line_spelling_of_variants_is_parsed():
    assert parse_variants(["A:prompt=Hallo {naam}", "B:prompt=a=b", "B:voice.gender=Male"]) == {
        "A": {"prompt": "Hallo {naam}"}, "B": {"prompt": "a=b", "voice.gender": "Male"}}
    with pytest.raises(CampaignError, match="expected NAME:FIELD=VALUE"):
        parse_variants(["prompt=Hallo"])


# ------------------------------------------------------------------------------ sending
@pytest.mark.simulator(speed=1000)
def test_the_holdout_is_never_called_and_the_journal_keeps_every_persons_variant(tmp_path, sim):
    df = people_list(60)
    plan = ab_plan(df, journal=tmp_path / "j.sqlite")
    res = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", rate=1000, progress=False)
    held = plan.to_frame()["variant"] == "holdout"
    assert set(res.loc[held.to_numpy(), "status"]) == {"holdout"}
    assert set(res.loc[~held.to_numpy(), "status"]) == {"queued"}
    assert exit_status(res["status"]) == 0
    assert not set(sim.calls["callee"]) & set(df.loc[held.to_numpy(), "callee"])
    assert len(sim.calls) == int((~held).sum())
    with Journal(tmp_path / "j.sqlite") as j:
        stored = j.variants("ab")
        assert stored == dict(zip(res["instruction_id"], plan.to_frame()["variant"], strict=True))
        assert j.design("ab") == {"variants": VARIANTS, "holdout": 0.2, "seed": 7}
        assert j.counts("ab")["holdout"] == int(held.sum())
    # A re-run calls nobody: the callees are done, the holdout stays held out.
    again = send_campaign(ab_plan(df, journal=tmp_path / "j.sqlite"), sim.client(), journal=tmp_path / "j.sqlite",
                          rate=1000, progress=False)
    assert len(sim.calls) == int((~held).sum()) and set(again["status"]) == {"queued", "holdout"}


@pytest.mark.simulator(speed=1000)
def test_a_rerun_with_another_design_is_refused_before_any_call(tmp_path, sim):
    df = people_list(20)
    send_campaign(ab_plan(df), sim.client(), journal=tmp_path / "j.sqlite", rate=1000, progress=False)
    before = len(sim.requests)
    with pytest.raises(CampaignError, match="seed: 7 then, 8 now"):
        send_campaign(ab_plan(df, seed=8), sim.client(), journal=tmp_path / "j.sqlite", rate=1000, progress=False)
    assert len(sim.requests) == before


@pytest.mark.simulator(speed=1000, p_answer=0.0, p_rejected=0.0, p_failed=0.0)
def test_a_follow_up_wave_keeps_each_persons_variant_and_never_calls_the_holdout(tmp_path, sim, receiver):
    df = pd.DataFrame({"callee": [f"+316123{i:03d}45" for i in range(40)], "name": "x"})  # nobody answers
    plan = plan_campaign(df, app="notification", name="ab", defaults=notification_defaults(
        callback_url=receiver.url), variants=VARIANTS, holdout=0.2, seed=7, journal=tmp_path / "j.sqlite")
    first = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", rate=1000, progress=False)
    sim.wait_idle(scaled(60))
    receiver.wait_for(int((first["status"] == "queued").sum()), timeout=scaled(60))
    later = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=1)
    wave = plan_followup(tmp_path / "j.sqlite", receiver.frame(), min_gap="30min", now=later)
    assert "holdout" in set(wave.left_out["reason"])
    wave_frame = wave.to_frame()
    first_variant = dict(zip(plan.to_frame()["callee"], plan.to_frame()["variant"], strict=True))
    assert len(wave_frame) == int((first["status"] == "queued").sum())
    assert all(first_variant[c] == v for c, v in zip(wave_frame["callee"], wave_frame["variant"], strict=True))
    assert all(p["prompt"].startswith("Goedemiddag" if v == "B" else "Hallo")
               for p, v in zip(wave_frame["payload"], wave_frame["variant"], strict=True))
    # Sent: the A/B report from the journal counts both waves' calls, each for its person's variant.
    second = send_campaign(wave, sim.client(), journal=tmp_path / "j.sqlite", rate=1000, progress=False)
    sim.wait_idle(scaled(60))
    placed = int((first["status"] == "queued").sum() + (second["status"] == "queued").sum())
    receiver.wait_for(placed, timeout=scaled(60))
    table = ab_report(receiver.frame(), tmp_path / "j.sqlite").table
    assert int(table["calls"].sum()) == placed == 2 * len(wave_frame)
    assert table.loc["holdout", "calls"] == 0


def test_a_journal_of_the_previous_release_takes_holdout_rows_in_place(tmp_path):
    import shutil
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data" / "journal-schema4.sqlite"
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(data, copy)
    con = sqlite3.connect(copy)
    assert "'holdout'" not in con.execute("SELECT sql FROM sqlite_master WHERE name = 'rows'").fetchone()[0]
    before = con.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    con.close()
    with Journal(copy) as j:
        assert j.hold("spring", [("spring-new", "9", "+31612345699", None, "held out of the A/B test")],
                      "holdout") == 1
        assert j.assign_variants("spring", [("spring-new", "holdout")]) == 1
        assert j.variants("spring") == {"spring-new": "holdout"}
        assert j.counts("spring")["holdout"] == 1
    con = sqlite3.connect(copy)
    assert con.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == before + 1
    con.close()


# ------------------------------------------------------------------------------ the command line
def run_send(tmp_path, sim, *extra):
    people = tmp_path / "people.csv"
    people.write_bytes(b"\xef\xbb\xbfTelefoon;Naam\r\n" + b"".join(
        f"06 12{i:04d}10;P{i}\r\n".encode() for i in range(30)))
    return subprocess.run(cmvoice(
        "send", people, "--app", "notification", "--set", f"caller={CALLER}", "--set", "prompt-type=TTS",
        "--set", "prompt=Hallo {Naam}", "--map", "callee=Telefoon", "--region", "NL",
        "--journal", tmp_path / "j.sqlite",
        "-o", tmp_path / "out.csv", "--base-url", sim.base_url, "--rate", "500", "--no-progress", *extra),
        capture_output=True, text=True, timeout=scaled(120))


AB_FLAGS = ("--variant", "A:prompt=Hallo {Naam}", "--variant", "B:prompt=Goedemiddag {Naam}",
            "--variant", "B:voice.gender=Male", "--holdout", "0.2", "--seed", "7")


@pytest.mark.simulator(speed=1000)
def test_cmvoice_send_runs_an_ab_test_with_a_holdout(tmp_path, sim, token):
    proc = run_send(tmp_path, sim, *AB_FLAGS)
    assert proc.returncode == 0, proc.stderr
    out = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert set(out["status"]) == {"queued", "holdout"}
    assert len(sim.calls) == int((out["status"] == "queued").sum())
    prompts = set(sim.requests["body"].map(lambda b: b if isinstance(b, str) else str(b)).str.contains("Goedemiddag"))
    assert prompts == {True, False}  # both variants were sent
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.design("people") == {"variants": {"A": {"prompt": "Hallo {Naam}"},
                                                   "B": {"prompt": "Goedemiddag {Naam}", "voice.gender": "Male"}},
                                      "holdout": 0.2, "seed": 7}
    # The same command again calls nobody; another seed is refused before any call.
    calls = len(sim.calls)
    assert run_send(tmp_path, sim, *AB_FLAGS).returncode == 0 and len(sim.calls) == calls
    other = run_send(tmp_path, sim, *AB_FLAGS[:-1], "8")
    assert other.returncode == 2 and "seed: 7 then, 8 now" in other.stderr and "--seed" in other.stderr
    assert len(sim.calls) == calls


@pytest.mark.parametrize("extra, message", [
    (("--seed", "7"), "--seed needs --variant or --holdout"),
    (("--variant", "prompt=Hallo"), "--variant 'prompt=Hallo': expected NAME:FIELD=VALUE"),
    (("--variant", "A:promt=Hallo"), "--variant A:promt: 'promt' is not a field of notification"),
    (("--holdout", "1.5"), "--holdout must be a share from 0 to below 1"),
])
def test_cmvoice_send_refuses_a_bad_design_with_exit_2(tmp_path, sim, token, extra, message):
    proc = run_send(tmp_path, sim, *extra)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(sim.requests) == 0
