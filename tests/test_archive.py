"""The zip check before a spreadsheet reader: real workbooks pass, every kind of bomb is refused by
its directory alone. Every archive is built here."""
from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib

import pandas as pd
import pytest

from cmvoice_nb import _archive
from cmvoice_nb._archive import MAX_ENTRIES, check_spreadsheet, check_zip
from cmvoice_nb.errors import CampaignError


def deflated_entry(z: zipfile.ZipFile, name: str, piece: bytes, total: int) -> None:
    """An entry of *total* bytes repeating *piece*, streamed with the archive's compression."""
    with z.open(name, "w", force_zip64=total > 2**31) as fh:
        block = piece * max(1, (1 << 22) // len(piece))
        left = total
        while left > 0:
            fh.write(block[:left])
            left -= len(block)


def zipped(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": that is the point
        with zipfile.ZipFile(buf, "w", method) as z:
            for name, data in entries.items() if isinstance(entries, dict) else entries:
                z.writestr(name, data)
    buf.seek(0)
    return buf


def test_workbooks_written_by_pandas_and_libreoffice_readers_pass(tmp_path):
    frame = pd.DataFrame({"callee": [f"+3161234{i:04d}" for i in range(2_000)], "name": ["Ann"] * 2_000})
    for suffix, engine in ((".xlsx", "openpyxl"), (".ods", "odf")):
        path = tmp_path / f"people{suffix}"
        frame.to_excel(path, index=False, engine=engine)
        summary = check_spreadsheet(path, error=CampaignError)
        assert 3 <= summary.entries < 20 and summary.uncompressed > 100_000


def test_a_file_that_is_not_a_zip_is_left_to_the_reader(tmp_path):
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))  # an .xls saved as .xlsx
    assert check_spreadsheet(old) is None


def test_a_highly_compressible_entry_is_refused_by_its_ratio_before_anything_is_inflated():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        deflated_entry(z, "xl/worksheets/sheet1.xml", b"<row/>", 100 * 2**20)
    assert len(buf.getvalue()) < 2 * 2**20
    with pytest.raises(CampaignError, match=r"bomb\.xlsx: refused as a zip bomb: entry 'xl/worksheets/sheet1\.xml' "
                                            r"expands [0-9,]+ times .* \(MAX_RATIO\)"):
        check_zip(buf, name="bomb.xlsx", error=CampaignError)


def test_an_entry_above_the_size_limit_is_refused_whatever_its_ratio(monkeypatch):
    monkeypatch.setattr(_archive, "MAX_ENTRY_BYTES", 2**20)
    noise = bytes(zlib.crc32(i.to_bytes(4, "little")) & 0xFF for i in range(3 * 2**20))  # barely compresses
    with pytest.raises(ValueError, match=r"expands to 3,145,728 bytes \(3 MiB\), more than 1,048,576 bytes "
                                         r"\(1 MiB\) \(MAX_ENTRY_BYTES\); if it is a real list, save it as CSV"):
        check_zip(zipped({"xl/worksheets/sheet1.xml": noise}), name="big.xlsx")


def test_entries_above_the_total_limit_together_are_refused(monkeypatch):
    monkeypatch.setattr(_archive, "MAX_TOTAL_BYTES", 250_000)
    entries = {f"xl/worksheets/sheet{i}.xml": b"<row>%d</row>" % i * 10_000 for i in range(3)}
    with pytest.raises(ValueError, match=r"expand to more than 250,000 bytes together \(MAX_TOTAL_BYTES\)"):
        check_zip(zipped(entries))


def test_too_many_entries_are_refused_from_the_end_record_before_they_are_listed():
    buf = zipped({f"x/{i}": b"" for i in range(MAX_ENTRIES + 1)}, method=zipfile.ZIP_STORED)
    with pytest.raises(ValueError, match=r"10,001 entries, more than the 10,000 a spreadsheet holds \(MAX_ENTRIES\)"):
        check_zip(buf)


def test_an_end_record_that_understates_the_entries_is_caught_by_the_directory_size():
    buf = zipped({f"{i:05d}" + "n" * 5000: b"" for i in range(1000)}, method=zipfile.ZIP_STORED)
    data = bytearray(buf.getvalue())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # "one entry"
    with pytest.raises(ValueError, match=r"central directory is [0-9,]+ bytes, more than 4,194,304"):
        check_zip(io.BytesIO(bytes(data)))


def test_duplicate_names_are_refused():
    buf = zipped([("xl/worksheets/sheet1.xml", b"<a/>"), ("xl/worksheets/sheet1.xml", b"<b/>")])
    with pytest.raises(ValueError, match="entry 'xl/worksheets/sheet1.xml' appears twice"):
        check_zip(buf)


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/etc/passwd", "C:/Windows/x.xml", "xl/..\\..\\x"])
def test_names_leaving_the_archive_are_refused(name):
    with pytest.raises(ValueError, match="absolute or '..' name"):
        check_zip(zipped({name: b"x"}))


def test_a_compression_no_spreadsheet_uses_is_refused():
    with pytest.raises(ValueError, match="compression method 12, which no spreadsheet program writes"):
        check_zip(zipped({"xl/worksheets/sheet1.xml": b"<row/>" * 100}, method=zipfile.ZIP_BZIP2))


def test_entries_sharing_one_compressed_stream_are_refused():
    """The "non-recursive" bomb: many directory entries point at the same compressed data."""
    buf = zipped({"a.xml": b"<row/>" * 1000})
    data = bytearray(buf.getvalue())
    end = data.rfind(b"PK\x05\x06")
    start = struct.unpack_from("<L", data, end + 16)[0]
    record = bytearray(data[start:end])
    record[46:51] = b"b.xml"  # a second entry, same local header and data
    directory = bytes(data[start:end]) + bytes(record)
    eocd = bytearray(data[end:])
    struct.pack_into("<HHL", eocd, 8, 2, 2, len(directory))
    forged = io.BytesIO(bytes(data[:start]) + directory + bytes(eocd))
    with pytest.raises(ValueError, match="entries 'a.xml' and 'b.xml' share compressed data"):
        check_zip(forged)


def test_a_damaged_archive_says_it_cannot_be_read_as_a_spreadsheet():
    with pytest.raises(ValueError, match="cannot read as a spreadsheet: not a valid zip archive"):
        check_zip(io.BytesIO(b"PK\x03\x04 not really a workbook"))
