"""A campaign's HTML report (write_report with results) and ``cmvoice report --results``."""
import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks, save_calls
from cmvoice_nb.campaign import render_report, write_report
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CallbackError

from ..callbacks._factory import callback, write_jsonl
from ._two_campaigns import two_campaign_calls, two_campaign_results


def items():
    return [callback(i, app=("notification", "otp", "dtmf")[i % 3], code=9 + i % 4, digits="0042" if i % 2 else "")
            for i in range(12)]


def results_frame():
    return pd.DataFrame(
        {"instruction_id": [f"row-{i}" for i in range(14)], "callee": ["+31612345678"] * 14,
         "status": ["queued"] * 13 + ["unknown"], "http_status": [200] * 13 + [None],
         "call_ids": [callback(i)["call-id"] for i in range(13)] + [None], "error": [None] * 14, "attempts": [1] * 14,
         "sent_at": ["2024-03-01T09:00:00Z"] * 14},
        index=pd.Index(range(14), name="row"),
    )


def test_report_with_results_shows_the_funnel_and_waiting_rows(tmp_path):
    html = render_report(load_callbacks(items()), results=results_frame())
    assert "Campaign funnel" in html
    assert "Waiting for a callback (1)" in html  # row-12 was queued, no callback
    assert "without a callback (1)" in html  # row-13 is unknown, no callback


def test_report_command_writes_report_and_exports(tmp_path, capsys):
    log = write_jsonl(tmp_path / "cb.jsonl", items())
    results = tmp_path / "results.csv"
    results_frame().to_csv(results)
    html, parquet, csv = tmp_path / "r.html", tmp_path / "calls.parquet", tmp_path / "calls.csv"
    code = main(["report", str(log), "--results", str(results), "--html", str(html),
                 "--parquet", str(parquet), "--csv", str(csv)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "12 callbacks: 3 answered (25.0% of calls), 3 Cancelled, 3 Failed, 3 Rejected"
    assert "Campaign funnel" in html.read_text()
    assert len(pd.read_parquet(parquet)) == 12
    assert load_callbacks(csv)["digits"].dropna().tolist() == ["0042"] * 2


def test_a_campaign_report_still_refuses_to_overwrite_a_callback_source(tmp_path):
    # The report covers only the campaign's callbacks; the sources it must not overwrite are all of them.
    path = write_jsonl(tmp_path / "cb.jsonl", items())
    before = path.read_bytes()
    with pytest.raises(CallbackError, match="refusing"):
        write_report(load_callbacks(path), results=results_frame(), html_path=path)
    assert path.read_bytes() == before


def test_without_results_the_campaign_report_is_the_callbacks_report(tmp_path):
    from cmvoice_nb.callbacks import render_calls_report

    def after_the_time_of_writing(html):
        return html.split("generated", 1)[1].split(";", 1)[1]

    calls = load_callbacks(items())
    assert after_the_time_of_writing(render_report(calls)) == after_the_time_of_writing(render_calls_report(calls))


# --- a campaign's report: only its calls, the others set aside and said so -------------------------

def test_report_command_with_results_prints_the_funnel_and_limits_the_summary_to_the_campaign(tmp_path, capsys):
    a, _ = two_campaign_results()
    log = tmp_path / "cb.csv"
    save_calls(two_campaign_calls(), log)
    a.to_csv(tmp_path / "a.csv")
    html = tmp_path / "r.html"
    code = main(["report", str(log), "--results", str(tmp_path / "a.csv"), "--html", str(html)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    # Campaign A's five callbacks: a0, a2, a3 answered; a1, a2b cancelled. The other six are set aside.
    assert lines[0] == "5 callbacks: 3 answered (60.0% of calls), 2 Cancelled"
    assert lines[1].startswith("6 callback(s) of other campaigns") and "covers this campaign's 5" in lines[1]
    assert lines[2] == f"campaign funnel ({tmp_path / 'a.csv'}):"
    assert [line.split()[:2] for line in lines[4:9]] == [
        ["rows", "5"], ["sent", "4"], ["queued", "4"], ["callback", "received"], ["answered", "3"]]
    assert lines[6].split()[1:] == ["4", "80.0%", "100.0%", "100.0%"]  # queued: of rows, of sent, of previous
    text = html.read_text(encoding="utf-8")
    assert "Limited to this campaign&#x27;s 5 callback(s); 6 callback(s) of other campaigns" in text
    assert "<p class='muted'>5 callback(s);" in text
    assert "Callbacks set aside: other campaigns or no campaign row (6)" in text


def test_report_command_can_keep_every_callback_in_the_summary(tmp_path, capsys):
    a, _ = two_campaign_results()
    save_calls(two_campaign_calls(), tmp_path / "cb.csv")
    a.to_csv(tmp_path / "a.csv")
    code = main(["report", str(tmp_path / "cb.csv"), "--results", str(tmp_path / "a.csv"), "--all-callbacks",
                 "--html", str(tmp_path / "r.html")])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].startswith("11 callbacks: ")
    assert "the funnel counts this campaign's 5 only" in lines[1]


def test_a_campaign_with_no_callbacks_yet_still_gets_a_report(tmp_path, capsys):
    results = pd.DataFrame({"instruction_id": ["x-0", "x-1"], "callee": ["+31612345678"] * 2,
                            "status": ["queued", "queued"], "call_ids": ["not-arrived-0", "not-arrived-1"]})
    results.to_csv(tmp_path / "x.csv", index_label="row")
    log = write_jsonl(tmp_path / "cb.jsonl", items())
    code = main(["report", str(log), "--results", str(tmp_path / "x.csv"), "--html", str(tmp_path / "r.html")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "0 callbacks: 0 answered"
    assert "none of the 12 loaded callbacks belongs to this campaign's calls (yet)" in out
    assert "Waiting for a callback (2)" in (tmp_path / "r.html").read_text(encoding="utf-8")
