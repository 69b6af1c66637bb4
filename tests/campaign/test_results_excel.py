"""results.xlsx stores every text as text: an instruction id, callee, call id, provider error or extra
column that looks like a formula is written and read back exactly, never run."""
from __future__ import annotations

import openpyxl

from cmvoice_nb.campaign.results import RESULT_COLUMNS, results_frame, results_to_excel, write_results
from cmvoice_nb.cli import main

from ._lists import notification_flags


def test_formula_text_in_every_result_column_reads_back_as_exact_text_cells(tmp_path):
    record = {"instruction_id": '=HYPERLINK("http://x","y")', "callee": "+31612345678", "status": "rejected",
              "http_status": 400, "call_ids": "-1", "error": '@SUM(A1) =cmd|" /C calc"!A0',
              "attempts": 1, "sent_at": "2024-05-03T10:00:00.000Z", "wave": 1}
    frame = results_frame([record], campaign_key="=1+1")
    frame["note"] = ["#N/A"]  # a column the caller added
    path = write_results(frame, tmp_path / "results.xlsx")
    sheet = openpyxl.load_workbook(path)["results"]
    header = [c.value for c in sheet[1]]
    assert header == ["row", *RESULT_COLUMNS, "note"]
    cells = dict(zip(header, sheet[2], strict=True))
    for col, text in [("instruction_id", record["instruction_id"]), ("callee", "+31612345678"), ("call_ids", "-1"),
                      ("error", record["error"]), ("campaign_key", "=1+1"), ("note", "#N/A"),
                      ("sent_at", "2024-05-03T10:00:00.000000Z"), ("status", "rejected")]:
        cell = cells[col]
        assert (cell.value, cell.data_type) == (text, "s"), col
        assert cell.number_format == "@" and cell.quotePrefix, col
    assert (cells["http_status"].value, cells["http_status"].data_type) == (400, "n")
    assert cells["row"].value == 0 and cells["attempts"].value == 1


def test_a_results_file_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "results.xlsx"
    results_to_excel(results_frame([{"instruction_id": "a", "status": "queued"}]), path)
    assert [p.name for p in tmp_path.iterdir()] == ["results.xlsx"]  # no temporary file left beside it


def test_a_list_whose_instruction_id_is_a_formula_gives_a_results_xlsx_that_does_not_run_it(tmp_path, no_token_env):
    people = tmp_path / "people.csv"
    people.write_text('callee,name,instruction-id\n+31612345610,Ann,"=HYPERLINK(""http://x"",""y"")"\n'
                      "+31612345611,Bob,@SUM(A1)\n")
    assert main(["send", str(people), *notification_flags(), "--region", "NL", "--journal", str(tmp_path / "j.sqlite"),
                 "-o", str(tmp_path / "out.xlsx"), "--dry-run", "--no-progress"]) == 0
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    header = [c.value for c in sheet[1]]
    ids = [row[header.index("instruction_id")] for row in sheet.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in ids] == [('=HYPERLINK("http://x","y")', "s"), ("@SUM(A1)", "s")]
