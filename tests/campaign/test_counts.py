"""One set of counts: the plan line, the dry run, the estimate, the summary and ``cmvoice status`` agree.

The list has everything that used to make them disagree: a person twice (the repeat ends
already-called, it is not a call), people on the do-not-call list (one of them also in a refused
country: suppressed wins), a refused country (its own count, not invalid), an invalid row, and a
campaign resumed after an earlier run sent three of its rows (the estimate covers what is left).
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignSender, campaign_status, forecast, plan_campaign
from cmvoice_nb.campaign.inputs import read_table
from cmvoice_nb.cli import main

from ._lists import notification_defaults, notification_flags

ROWS = [
    ("+31612345610", "Ann"), ("+31612345611", "Bob"), ("+31612345612", "Cem"),  # sent by an earlier run
    ("+31612345613", "Dora"), ("0612345613", "Dora"),                             # the same person twice
    ("+31612345614", "Eve"),                                                      # on the do-not-call list
    ("+33612345615", "Fay"),                                                      # listed, and refused too
    ("+32470123456", "Els"),                                                      # outside NL
    ("12", "Gus"),                                                                # invalid
    ("+31612345616", "Hans"), ("+31612345617", "Ida"),
]
#: What happens to each row of the whole list once the first three were sent.
EXPECTED = {"to send": 3, "already done": 3, "invalid": 1, "refused-country": 1, "already-called": 1,
            "suppressed": 2}


def write_list(path, rows):
    path.write_text("callee;name\r\n" + "".join(f"{c};{n}\r\n" for c, n in rows), encoding="utf-8-sig")
    return path


def counted(text: str) -> dict[str, int]:
    """``to send 3, already done 3, ...`` (a plan line or a summary's first line) as a dict."""
    return {key: int(n) for key, n in re.findall(r"([a-z][a-z -]*?) (\d+)(?: \(\d+ already done[^)]*\))?(?:,|$)",
                                                 text)}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "dnc.txt").write_text("06 1234 5614\n+33 6 12 34 56 15\n")
    return {"first": write_list(tmp_path / "first.csv", ROWS[:3]), "all": write_list(tmp_path / "all.csv", ROWS),
            "journal": tmp_path / "j.sqlite", "out": tmp_path / "out.csv"}


def send(files, which, sim, *extra):
    return main(["send", str(files[which]), *notification_flags(), "--name", "spring", "--region", "NL",
                 "--allow-countries", "NL", "--suppress", str(files["first"].parent / "dnc.txt"),
                 "--journal", str(files["journal"]), "-o", str(files["out"]), "--rate", "500", "--no-progress",
                 "--base-url", sim.base_url, *extra])


def test_the_plan_line_dry_run_estimate_summary_and_status_count_the_same(files, sim, token, capsys):
    assert send(files, "first", sim) == 0
    capsys.readouterr()

    assert send(files, "all", sim, "--dry-run", "--preview", "0") == 1  # invalid and refused rows need you
    out, err = capsys.readouterr()
    plan_line = next(line for line in err.splitlines() if line.startswith("plan: "))
    assert plan_line == "plan: 11 rows: to send 3, already done 3, invalid 1, refused-country 1, " \
                        "already-called 1, suppressed 2"
    assert counted(plan_line.split("rows: ")[1]) == EXPECTED
    assert out.splitlines()[0].startswith("Estimate: 3 calls,")  # what is left, not the whole list
    dry = counted(next(line for line in err.splitlines() if line.startswith("11 rows: ")).split("rows: ")[1])
    assert dry == {"queued": 3, "invalid": 1, "refused-country": 1, "dry-run": 3, "already-called": 1,
                   "suppressed": 2}
    assert "queued 3 (3 already done by an earlier run)" in err

    assert send(files, "all", sim) == 1
    err = capsys.readouterr().err
    assert next(line for line in err.splitlines() if line.startswith("plan: ")) == plan_line
    assert "Estimate: 3 calls," in err
    summary = counted(next(line for line in err.splitlines() if line.startswith("11 rows: ")).split("rows: ")[1])
    assert summary == {"queued": 6, "invalid": 1, "refused-country": 1, "already-called": 1, "suppressed": 2}
    assert "queued 6 (3 already done by an earlier run)" in err
    assert len(sim.calls) == 6  # three then three: the repeat and the listed were never called

    assert main(["status", "--journal", str(files["journal"]), "--json"]) == 0
    [status] = json.loads(capsys.readouterr().out)["campaigns"]
    assert status["last_run"]["counts"] == {**summary, "already done": 3}
    assert status["states"] == {"queued": 6, "suppressed": 2}  # the rows the journal holds
    assert status["last_run"]["exit"] == 1


def test_python_counts_what_the_command_line_counts(files, sim, tmp_path):
    def plan_of(which):
        return plan_campaign(read_table(files[which]), app="notification", name="spring", region="NL",
                             allowed_countries="NL", suppress=tmp_path / "dnc.txt",
                             defaults=notification_defaults())

    CampaignSender(plan_of("first"), sim.client(), journal=files["journal"], rate=500, progress=False).run()
    plan = plan_of("all")
    fc = forecast(plan, files["journal"])
    assert fc.counts == EXPECTED and fc.estimate().calls == 3
    assert fc.line() == "11 rows: to send 3, already done 3, invalid 1, refused-country 1, already-called 1, " \
                        "suppressed 2"
    dry = CampaignSender(plan, None, journal=files["journal"], dry_run=True, progress=False)
    dry.run()
    assert dry.counts == EXPECTED
    job = CampaignSender(plan, sim.client(), journal=files["journal"], rate=500, progress=False)
    results = job.run()
    assert job.counts == EXPECTED and job.already_done == 3
    assert results["status"].value_counts().to_dict() == {"queued": 6, "suppressed": 2, "invalid": 1,
                                                         "refused-country": 1, "already-called": 1}
    [status] = campaign_status(files["journal"]).campaigns
    assert status["last_run"]["counts"]["already done"] == 3 and status["states"]["queued"] == 6


def test_a_listed_person_is_suppressed_whatever_else_is_wrong_with_the_row(tmp_path):
    df = pd.DataFrame({"callee": ["+33612345615", "+31612345614", "+31612345619"], "name": ["Fay", None, "Ivo"]},
                      dtype=object)
    plan = plan_campaign(df, app="notification", name="c", allowed_countries="NL", defaults=notification_defaults(
        "Hello {name}", **{"max-replays": "many"}), suppress=["+33612345615", "+31612345614"])
    assert forecast(plan).counts == {"invalid": 1, "suppressed": 2}
