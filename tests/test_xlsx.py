"""The one .xlsx writer: text is stored as text (never a formula, error or number), exactly as given,
and it is the only place in the package that writes a workbook."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from cmvoice_nb._xlsx import MAX_CELL_CHARS, excel_value, frame_to_xlsx, write_xlsx

#: Text a spreadsheet would run or reinterpret if it were not a text cell.
HOSTILE = ['=HYPERLINK("http://x","y")', "+31612345678", "-1", "@SUM(A1)", "=1+1", "#N/A", "#DIV/0!",
           "=cmd|' /C calc'!A0", "0042", "1e5", "TRUE", "2024-01-02", "\tTAB", " =lead space", "'quoted"]


def read_back(path: Path):
    return openpyxl.load_workbook(path).active


def test_every_hostile_text_reads_back_as_a_string_cell_with_the_exact_text(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ["value"], [[v] for v in HOSTILE])
    sheet = read_back(path)
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == HOSTILE
    assert {c.data_type for c in cells} == {"s"}
    assert all(c.number_format == "@" and c.quotePrefix for c in cells)


def test_no_cell_of_the_file_holds_a_formula_even_in_the_raw_xml(tmp_path):
    import zipfile

    path = write_xlsx(tmp_path / "t.xlsx", ["=HEADER()"], [[v] for v in HOSTILE])
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml
    assert read_back(path)["A1"].value == "=HEADER()"


def test_numbers_and_yes_no_values_keep_their_own_cell_types(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ["a", "b", "c", "d", "e"],
                      [[np.int64(200), 1.5, True, None, 31612345678901234]])
    row = [c for c in read_back(path)[2]]
    assert [c.value for c in row] == [200, 1.5, True, None, "31612345678901234"]
    assert [c.data_type for c in row] == ["n", "n", "b", "n", "s"]


def test_what_xml_cannot_carry_is_made_visible_instead_of_crashing_the_writer(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ["v"], [["a\x01b\x1fc"], ["bad-" + chr(0xD800)], ["x" * 40_000]])
    values = [row[0].value for row in read_back(path).iter_rows(min_row=2)]
    assert values == ["a\u2401b\u241fc", "bad-\ufffd", "x" * MAX_CELL_CHARS]


def test_a_frame_with_missing_values_timestamps_and_categories_is_written_as_shown(tmp_path):
    frame = pd.DataFrame({"callee": pd.array(["+31612345678", None], dtype="string"),
                          "kind": pd.Categorical(["=1", "ok"]),
                          "at": pd.to_datetime(["2024-05-03 10:00:00", None], utc=True),
                          "n": pd.array([3, None], dtype="Int64")}, index=[7, 8])
    path = frame_to_xlsx(frame, tmp_path / "f.xlsx", index_label="row")
    rows = list(read_back(path).iter_rows(values_only=True))
    assert rows == [("row", "callee", "kind", "at", "n"),
                    (7, "+31612345678", "=1", "2024-05-03T10:00:00.000000Z", 3),
                    (8, None, "ok", None, None)]


def test_excel_value_keeps_text_as_is():
    assert [excel_value(v) for v in HOSTILE] == HOSTILE
    assert excel_value(float("inf")) == "inf" and excel_value(pd.NaT) is None and excel_value(pd.NA) is None


def test_the_package_writes_workbooks_only_through_the_shared_writer():
    root = Path(__file__).resolve().parents[1] / "cmvoice_nb"
    writers = re.compile(r"\.to_excel\(|ExcelWriter|openpyxl\.Workbook\(|xlsxwriter|\.save\(.*xlsx")
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if p.name != "_xlsx.py" and writers.search(p.read_text(encoding="utf-8")))
    assert found == [], f"a workbook is written outside cmvoice_nb/_xlsx.py: {found}"

