"""The exit status follows one table: each row status has an exit class; 2, then 75, then 1, then 0.

75 means "run the same command again later and it makes progress without any change"; 1 "you must
act"; 0 "every row is final". A loop that re-runs while the exit is 75 ends at 0 or 1.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignSender, Journal, plan_campaign
from cmvoice_nb.campaign.vocabulary import (
    ATTENTION_STATUSES,
    EXIT_ACT,
    EXIT_CLASSES,
    EXIT_FINAL,
    EXIT_RETRY,
    RESULT_STATUSES,
    STATUS,
    exit_status,
    statuses_of,
)
from cmvoice_nb.cli import main
from cmvoice_nb.spec import EXIT_USAGE

from ._lists import notification_defaults, notification_flags, people

ANN, BOB = "+31612345610", "+31612345710"


# ------------------------------------------------------------------------------ the table
def test_every_status_has_one_exit_class_and_the_classes_are_the_documented_four():
    assert {s.exit for s in STATUS.values()} == {EXIT_FINAL, EXIT_RETRY, EXIT_ACT}
    assert [code for code, _ in EXIT_CLASSES] == [EXIT_USAGE, EXIT_RETRY, EXIT_ACT, EXIT_FINAL]
    assert set(statuses_of(EXIT_FINAL)) == {"queued", "dry-run", "dropped", "suppressed", "holdout", "expired",
                                            "over-contacted"}
    assert set(statuses_of(EXIT_RETRY)) == {"failed", "skipped", "deferred"}
    assert set(statuses_of(EXIT_ACT)) == {"invalid", "refused-country", "rejected", "unknown", "changed",
                                          "already-called", "budget", "no-zone"}
    assert set(ATTENTION_STATUSES) == set(RESULT_STATUSES) - set(statuses_of(EXIT_FINAL))


@pytest.mark.parametrize("statuses, stop, code", [
    (["queued", "suppressed", "dropped"], None, 0),       # every row final
    (["dry-run", "queued"], None, 0),
    (["queued", "holdout"], None, 0),                      # an A/B test's control group: final
    (["queued", "invalid"], None, 1),                       # one invalid row: fix the data
    (["queued", "refused-country"], None, 1),
    (["queued", "budget"], None, 1),                        # raise the budget
    (["queued", "deferred"], None, 75),                     # its window opens later
    (["invalid", "skipped"], None, 75),                     # a run later sends the stopped rows
    (["unknown", "failed"], None, 75),                      # the first that matches wins
    (["queued", "no-zone"], None, 1),                       # name the zone
    (["skipped", "deferred"], EXIT_ACT, 1),                 # a refused token: nothing progresses until fixed
    (["skipped", "queued"], EXIT_RETRY, 75),                # the provider could not be reached
    ([], None, 0),
])
def test_the_exit_status_is_the_first_class_that_matches(statuses, stop, code):
    assert exit_status(statuses, stop=stop) == code


def test_the_help_lists_each_class_with_its_statuses_from_the_table(capsys):
    for command in ("send", "followup"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for code in (EXIT_RETRY, EXIT_ACT, EXIT_FINAL):
            assert f"rows {', '.join(statuses_of(code))}" in text


# ------------------------------------------------------------------------------ through the command line
def csv_of(tmp_path, *rows) -> str:
    path = tmp_path / "people.csv"
    path.write_text("callee,name\n" + "".join(f"{c},{n}\n" for c, n in rows))
    return str(path)


def send(tmp_path, src, sim, *extra):
    return main(["send", src, *notification_flags(), "--region", "NL", "--journal", str(tmp_path / "j.sqlite"),
                 "-o", str(tmp_path / "out.csv"), "--rate", "500", "--no-progress", "--base-url", sim.base_url,
                 *extra])


def statuses(tmp_path) -> list[str]:
    return pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)["status"].tolist()


SCENARIOS = {
    # name: (rows, flags, exit status, statuses)
    "every row queued": ([(ANN, "Ann"), (BOB, "Bob")], [], 0, ["queued", "queued"]),
    "a repeat left out on purpose": ([(ANN, "Ann"), ("0612345610", "Ann")], ["--drop-duplicates"], 0,
                                     ["queued", "dropped"]),
    "a listed person": ([(ANN, "Ann"), (BOB, "Bob")], ["--suppress", "{dnc}"], 0, ["queued", "suppressed"]),
    "an invalid row": ([(ANN, "Ann"), ("12", "Bob")], [], 1, ["queued", "invalid"]),
    "a refused country": ([(ANN, "Ann"), ("+32470123456", "Els")], ["--allow-countries", "NL"], 1,
                          ["queued", "refused-country"]),
    "a repeat in the list": ([(ANN, "Ann"), ("0612345610", "Ann")], [], 1, ["queued", "already-called"]),
    "a number without a known time zone": ([("+80012345610", "Zed")], ["--calling-hours", "00:00-24:00",
                                                                      "--days", "all"], 1, ["no-zone"]),
    "rows deferred to their window": ([(ANN, "Ann")], ["--calling-hours", "00:00-24:00", "--days", "all",
                                                       "--holidays", "{holidays}", "--no-wait"], 75, ["deferred"]),
    "a budget too small": ([(ANN, "Ann"), (BOB, "Bob")], ["--prices", "{prices}", "--max-cost", "0.01"], 1,
                           ["queued", "budget"]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_cmvoice_send_exits_by_the_table(name, tmp_path, sim, token, capsys):
    rows, flags, code, expected = SCENARIOS[name]
    (tmp_path / "dnc.txt").write_text(f"{BOB}\n")
    today = dt.datetime.now(dt.timezone.utc).date()
    (tmp_path / "holidays.txt").write_text("".join(f"{today + dt.timedelta(days=d)}\n" for d in (-1, 0, 1)))
    (tmp_path / "prices.csv").write_text("country,price_per_minute,setup\nNL,0.06,0.005\n")
    files = {"dnc": tmp_path / "dnc.txt", "holidays": tmp_path / "holidays.txt", "prices": tmp_path / "prices.csv"}
    flags = [f.format(**files) for f in flags]
    assert send(tmp_path, csv_of(tmp_path, *rows), sim, *flags) == code, capsys.readouterr().err
    assert statuses(tmp_path) == expected
    assert f"exit status {code}" in capsys.readouterr().err


def test_a_journal_another_run_holds_exits_75_and_sends_nothing(tmp_path, sim, token, capsys):
    src = csv_of(tmp_path, (ANN, "Ann"))
    with Journal(tmp_path / "j.sqlite") as holder:
        holder.lock()
        assert send(tmp_path, src, sim) == 75
    assert "another send is running on this journal" in capsys.readouterr().err and len(sim.requests) == 0
    assert send(tmp_path, src, sim) == 0  # the same command, once the other run let go


def test_usage_errors_and_untrusted_input_exit_2_before_any_call(tmp_path, sim, token, capsys):
    src = csv_of(tmp_path, (ANN, "Ann"))
    (tmp_path / "dnc.txt").write_text("n/a\nunknown\n")
    assert send(tmp_path, src, sim, "--suppress", str(tmp_path / "dnc.txt")) == 2
    assert send(tmp_path, src, sim, "--max-cost", "5") == 2  # a budget needs prices
    assert "--max-cost needs --prices" in capsys.readouterr().err
    (tmp_path / "j2.sqlite").write_text("not a journal")
    argv = ["send", src, *notification_flags(), "--journal", str(tmp_path / "j2.sqlite"), "-o",
            str(tmp_path / "o.csv"), "--base-url", sim.base_url, "--no-progress"]
    assert main(argv) == 2
    assert "not a usable campaign journal" in capsys.readouterr().err
    assert len(sim.requests) == 0


def test_the_deprecated_max_attempts_of_send_warns_and_sets_http_requests_per_row(tmp_path, sim, token, capsys):
    src = csv_of(tmp_path, (ANN, "Ann"))
    assert send(tmp_path, src, sim, "--max-attempts", "2") == 0
    err = capsys.readouterr().err
    assert "--max-attempts is deprecated here" in err and "--http-attempts" in err


# ------------------------------------------------------------------------------ through Python
def test_the_sender_says_its_exit_status_by_the_same_table(sim, tmp_path):
    plan = plan_campaign(people(ANN, "12", "+32470123456"), app="notification", name="c", allowed_countries="NL",
                         defaults=notification_defaults())
    job = CampaignSender(plan, sim.client(), journal=tmp_path / "j.sqlite", rate=500, progress=False)
    job.run()
    assert job.results["status"].tolist() == ["queued", "invalid", "refused-country"]
    assert job.exit_status == 1
    fine = plan_campaign(people(ANN), app="notification", name="c", defaults=notification_defaults())
    dry = CampaignSender(fine, None, journal=None, dry_run=True, progress=False)
    dry.run()
    assert dry.exit_status == 0
