"""A hostile workbook never takes the process down: a 3 MB .xlsx whose sheet expands to 600 MB is
refused with a CampaignError before python-calamine (which aborts the process when an allocation
fails) sees it. The reads run in a child process, under a memory cap where the OS has one."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cmvoice_nb.campaign import plan_campaign
from cmvoice_nb.campaign.inputs import read_table
from cmvoice_nb.errors import CampaignError

from .._wait import scaled
from ._lists import notification_defaults

ROOT = Path(__file__).resolve().parents[2]
SHEET = "xl/worksheets/sheet1.xml"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="people" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet"/></Relationships>'),
}


def bomb_workbook(path: Path, cell_bytes: int) -> Path:
    """A valid workbook: a header row, then one inline-string cell of *cell_bytes* "A"s (streamed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        with z.open(SHEET, "w", force_zip64=False) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
                     b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                     b'<row r="1"><c r="A1" t="inlineStr"><is><t>callee</t></is></c></row>'
                     b'<row r="2"><c r="A2" t="inlineStr"><is><t>')
            block, left = b"A" * (1 << 22), cell_bytes
            while left > 0:
                fh.write(block[:left])
                left -= len(block)
            fh.write(b"</t></is></c></row></sheetData></worksheet>")
    return path


def inline_workbook(path: Path, rows: list[list[str]]) -> Path:
    """A workbook of inline-string cells, written directly (pandas would cut a cell at 32,767 characters)."""
    from xml.sax.saxutils import escape

    body = "".join("<row>" + "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>' for v in row) + "</row>"
                   for row in rows)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        z.writestr(SHEET, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
                          f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}'
                          "</sheetData></worksheet>")
    return path


def understate(path: Path, entry: str, size: int) -> None:
    """Make the central directory and the local header declare *size* bytes for *entry*."""
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo(entry)
    struct.pack_into("<L", data, info.header_offset + 22, size)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == entry.encode():
            struct.pack_into("<L", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 46)
    path.write_bytes(bytes(data))


READ = textwrap.dedent("""
    import json, sys
    try:
        import resource
    except ImportError:  # Windows: no caps, no peak from the OS
        resource = None
    if resource is not None and sys.platform.startswith("linux"):
        cap = 1536 * 2**20  # what the unchecked read of this bomb needs is more: it would abort here
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from cmvoice_nb.campaign.inputs import read_table
    from cmvoice_nb.errors import CampaignError
    try:
        outcome = {"rows": len(read_table(sys.argv[1]))}
    except CampaignError as exc:
        outcome = {"error": str(exc)}
    try:  # Linux: this process's own peak (ru_maxrss would carry the parent's over from vfork + exec)
        with open("/proc/self/status") as fh:
            outcome["peak"] = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
    except OSError:
        if resource is not None:
            outcome["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # macOS: bytes
    print(json.dumps(outcome))
""")


def read_in_child(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True, text=True, timeout=scaled(300),
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, f"the read took the process down (exit {proc.returncode}): {proc.stderr[-1500:]}"
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.slow
def test_a_3_mb_xlsx_bomb_is_refused_with_a_clear_error_and_the_process_lives(tmp_path):
    bomb = bomb_workbook(tmp_path / "people.xlsx", 600_000_000)
    assert bomb.stat().st_size < 3_500_000
    outcome = read_in_child(bomb)
    assert "rows" not in outcome, "the bomb was read"
    assert outcome["error"].startswith(f"{bomb}: refused as a zip bomb: entry '{SHEET}' expands to 600,000,")
    assert "(MAX_ENTRY_BYTES)" in outcome["error"]
    if "peak" in outcome:  # reading it unchecked peaks at 1.8 GB (and aborts under a 1.5 GB cap)
        assert outcome["peak"] < 400 * 2**20, f"peak {outcome['peak'] / 2**20:.0f} MB"


def test_a_bomb_below_the_size_limit_is_refused_by_its_ratio(tmp_path):
    bomb = bomb_workbook(tmp_path / "people.xlsm", 200_000_000)
    with pytest.raises(CampaignError, match=r"people\.xlsm: refused as a zip bomb: .* expands [0-9,]+ times"):
        read_table(bomb)


@pytest.mark.slow
def test_a_directory_that_understates_a_sheet_is_caught_by_the_reader_not_inflated(tmp_path):
    """The check trusts the declared sizes because the readers do; this holds them to it."""
    liar = bomb_workbook(tmp_path / "people.xlsx", 400_000_000)
    understate(liar, SHEET, 10_000)
    outcome = read_in_child(liar)
    assert "rows" not in outcome and "declared" in outcome["error"] and "cannot read" in outcome["error"]
    if "peak" in outcome:
        assert outcome["peak"] < 400 * 2**20, f"peak {outcome['peak'] / 2**20:.0f} MB"


def test_a_cell_longer_than_a_spreadsheet_allows_is_a_problem_of_its_row(tmp_path):
    path = inline_workbook(tmp_path / "people.xlsx", [["callee", "prompt"], ["+31612345610", "A" * 40_000],
                                                       ["+31612345611", "Hello"]])
    table = read_table(path)
    assert len(table["prompt"].iloc[0]) == 40_000
    plan = plan_campaign(table, app="notification", name="c", defaults=notification_defaults(prompt=None))
    problems = plan.problems
    assert problems[["row", "field"]].values.tolist() == [[table.index[0], "prompt"]]  # line 2 of the sheet
    assert "40000 characters long; at most 500" in problems.loc[0, "message"]
    assert len(plan.instructions) == 1
