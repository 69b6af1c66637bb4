"""What the Campaign app says about a plan and a run: computed from the library's objects, touching no widget."""
from __future__ import annotations

import pandas as pd

from cmvoice_nb.campaign import plan_campaign
from cmvoice_nb.widgets._campaign_ends import end_state
from cmvoice_nb.widgets._campaign_facts import (
    countries_text,
    grouped_problems,
    merged_suppression,
    outcome_counts,
    read_upload,
)

from ..campaign._lists import notification_defaults

PLAIN = notification_defaults("Hello")


def test_an_excel_unicode_text_upload_with_bom_crlf_and_semicolons_is_read_by_its_number_column():
    text = "Naam;Telefoon\r\nAnne;06 1234 5610\r\nJörg;+49 30 2345678\r\nBram;geen nummer\r\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")
    for i in range(200):  # a real list is long: one unreadable line in 203 stays under the 1 % limit
        data += f"X{i};+3162000{i:04d}\r\n".encode("utf-16-le")
    dnc = read_upload("bellijst.txt.csv", data, region="NL")
    assert "+31612345610" in dnc and "+49302345678" in dnc and len(dnc) == 202
    assert [u.value for u in dnc.unreadable] == ["geen nummer"]
    assert dnc.source == "bellijst.txt.csv"


def test_a_path_list_and_an_upload_both_apply_and_both_are_named(tmp_path):
    path = tmp_path / "dnc.txt"
    path.write_text("0612345611\n", encoding="cp1252")
    from cmvoice_nb.campaign.ops.suppress import read_suppression

    merged = merged_suppression(read_suppression(path, region="NL"),
                                read_upload("upload.txt", b"+31612345612\n", region="NL"))
    assert sorted(merged) == ["+31612345611", "+31612345612"]
    assert merged.source == f"{path} + upload.txt"


def test_the_confirmation_counts_calls_per_country_from_the_plan_s_estimate_most_first():
    people = pd.DataFrame({"callee": ["+32470123456", "+31612345610", "+31612345611", "not a number"]})
    plan = plan_campaign(people, app="notification", name="c", defaults=PLAIN)
    assert countries_text(plan.estimate()) == "NL 2, BE 1"  # the invalid row is not a call


def test_an_unmapped_callee_is_one_problem_line_naming_its_rows():
    people = pd.DataFrame({"phone": [f"+3161234{i:04d}" for i in range(7)]})
    plan = plan_campaign(people, app="notification", name="c", defaults=PLAIN)  # no column is the callee
    lines = grouped_problems(plan.problem_frame("widget"))
    assert len(lines) == 1 and lines.loc[0, "rows"] == 7
    assert lines.loc[0, "examples"].endswith(" …")  # five rows shown, the rest counted


def test_a_stopped_run_is_waiting_not_finished_and_says_send_again_sends_the_rest():
    results = pd.DataFrame({"status": ["queued", "queued", None, None, "suppressed"]})
    counts = outcome_counts(results, already_done=0)
    assert counts == {"new": 2, "stopped": 2, "suppressed": 1}
    end = end_state({"skipped": 2, "suppressed": 1}, placed=2, stopped=True)
    assert end.kind == "waiting" and end.bar_style == "warning"
    assert end.headline == ("Stopped by you: 2 not sent — Send again sends the rest; 2 calls placed "
                            "(skipped 2, suppressed 1)")
    assert "finished" not in end.headline.lower()


def test_problems_of_a_file_name_spreadsheet_lines_and_of_a_frame_one_based_rows(tmp_path):
    from cmvoice_nb.campaign.inputs import read_table

    path = tmp_path / "lijst.csv"
    path.write_bytes("Naam;callee\r\nAnn;06 1234 5610\r\nBob;3,16123E+10\r\n".encode("cp1252"))
    df = read_table(path)
    plan = plan_campaign(df, app="notification", name="c", defaults=PLAIN, region="NL")
    line = grouped_problems(plan.problem_frame("widget"), index=plan.index)
    assert line.loc[0, "examples"] == "lines 3"  # Bob is on line 3 of the file the operator opens
    assert "scientific notation" in line.loc[0, "problem"] and "letters" not in line.loc[0, "problem"]
    frame = plan_campaign(df.reset_index(drop=True), app="notification", name="c", defaults=PLAIN, region="NL")
    assert grouped_problems(frame.problem_frame("widget"), index=frame.index).loc[0, "examples"] == "rows 2"


def test_with_a_price_table_the_confirmation_gives_each_countrys_cost(tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text("country,price_per_minute,setup\nNL,0.06,0.01\nBE,0.12,0.02\n", encoding="utf-8")
    people = pd.DataFrame({"callee": ["+32470123456", "+31612345610", "+31612345611"]})
    estimate = plan_campaign(people, app="notification", name="c", defaults=PLAIN).estimate(prices=str(prices))
    costs = estimate.to_frame()["cost"]
    assert countries_text(estimate, priced=True) == f"NL 2 (cost {costs['NL']:,.2f}), BE 1 (cost {costs['BE']:,.2f})"
    assert countries_text(estimate) == "NL 2, BE 1"
