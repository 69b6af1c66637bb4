"""Check a zip container (``.xlsx``, ``.xlsm``, ``.ods``) before any spreadsheet reader opens it.

A workbook is a zip archive of XML files. A few megabytes of deflated, repetitive XML expand
to gigabytes ("zip bomb"), and the readers do not stop: python-calamine, a Rust library,
aborts the whole process (SIGABRT) when an allocation fails, so a notebook kernel dies with
no Python exception to catch. :func:`check_zip` reads only the archive's directory (the end
record, the central directory and each entry's local header), never the compressed data, and
refuses, naming the file, the entry and the limit:

* more than :data:`MAX_ENTRIES` entries (counted from the end record, before any is listed);
* an entry larger than :data:`MAX_ENTRY_BYTES` or all together larger than
  :data:`MAX_TOTAL_BYTES` uncompressed;
* an entry over 1 MiB that expands more than :data:`MAX_RATIO` times (real sheets: 5-20 times);
* duplicate names, absolute or ``..`` names, compression methods no spreadsheet program
  writes, and entries whose data overlap (the "non-recursive" bomb, where many entries
  share one compressed stream) or run past the central directory.

The readers trust the sizes the central directory declares (python-calamine stops with "File is
larger than its declared uncompressed size", Python's :mod:`zipfile` reads at most that many
bytes), so checking the declared sizes bounds what they decompress.

Examples
--------
>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
...     z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
>>> check_zip(buf, name="people.xlsx").entries
1
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
...     z.writestr("xl/worksheets/sheet1.xml", "<row/>" * 2_000_000)
>>> check_zip(buf, name="bomb.xlsx")
Traceback (most recent call last):
...
ValueError: bomb.xlsx: refused as a zip bomb: entry 'xl/worksheets/sheet1.xml' expands ... times ...
"""
from __future__ import annotations

import os
import struct
import zipfile
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["check_zip", "ZipSummary", "MAX_ENTRIES", "MAX_ENTRY_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO"]

#: Most entries an archive may hold (a workbook has a dozen or two; a few hundred with many sheets).
MAX_ENTRIES = 10_000
#: Largest uncompressed entry: Excel's 1,048,576 rows of a few columns fit with room to spare.
MAX_ENTRY_BYTES = 256 * 2**20
#: Largest uncompressed total of all entries.
MAX_TOTAL_BYTES = 512 * 2**20
#: Most an entry may expand (uncompressed / compressed); spreadsheets' XML expands 5-20 times.
MAX_RATIO = 100
#: Entries smaller than this are not judged by their ratio (a tiny file can compress very well).
_RATIO_FLOOR = 2**20
#: Largest central directory read (its entries are listed in memory): room for MAX_ENTRIES long names.
_MAX_DIRECTORY_BYTES = 4 * 2**20
#: Compression methods spreadsheet programs write: stored and deflate.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}

_EOCD = struct.Struct("<4s4H2LH")             # end of central directory record (22 bytes)
_ZIP64_LOCATOR = struct.Struct("<4sLQL")      # zip64 end of central directory locator (20 bytes)
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")     # zip64 end of central directory record (56 bytes)
_LOCAL = struct.Struct("<4s5H3L2H")           # local file header (30 bytes)


@dataclass(frozen=True)
class ZipSummary:
    """What :func:`check_zip` found: entry count and the total uncompressed and compressed bytes."""

    entries: int
    uncompressed: int
    compressed: int


#: Said after a size limit: a real list that large reads fine (and faster) from CSV or Parquet.
_TOO_BIG = "; if it is a real list, save it as CSV or Parquet instead"


def _refuse(error: type, where: str, text: str) -> None:
    raise error(f"{where}: refused as a zip bomb: {text}")


def _size(n: int) -> str:
    return f"{n:,} bytes ({n / 2**20:,.0f} MiB)" if n >= 2**20 else f"{n:,} bytes"


def _directory(fh: IO[bytes], size: int, where: str, error: type) -> tuple[int, int]:
    """``(entries, central directory bytes)`` from the end record, read before :mod:`zipfile` lists any entry."""
    tail_len = min(size, _EOCD.size + 0xFFFF)  # the record, then a comment of at most 64 KiB
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        raise error(f"{where}: cannot read as a spreadsheet: not a valid zip archive (no end of central directory "
                    "record): a damaged download, or not a spreadsheet saved by Excel or LibreOffice")
    _sig, _disk, _cd_disk, _here, entries, directory, _offset, _comment = _EOCD.unpack_from(tail, at)
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at:locator_at + 4] == b"PK\x06\x07":
        offset = _ZIP64_LOCATOR.unpack_from(tail, locator_at)[2]
        if offset + _ZIP64_EOCD.size <= size:
            fh.seek(offset)
            record = fh.read(_ZIP64_EOCD.size)
            if record[:4] == b"PK\x06\x06":
                fields = _ZIP64_EOCD.unpack(record)
                entries, directory = max(entries, fields[6], fields[7]), max(directory, fields[8])
    return entries, directory


def _safe_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not (name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts)


def check_zip(source: str | os.PathLike | IO[bytes], *, name: str | None = None,
              error: type = ValueError) -> ZipSummary:
    """Refuse a zip archive that would expand beyond the limits; return its summary otherwise.

    Reads only the archive's directory and local headers: cheap on any size.

    Parameters
    ----------
    source
        A path or a seekable binary file.
    name
        What messages call it (default: the path).
    error
        The exception class raised (the caller's own, e.g. ``CampaignError``).

    Raises
    ------
    error
        The archive is damaged, or breaks one of the limits in this module; the message names
        the file, the entry and the limit (the module constant that holds it).
    """
    where = name or (os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<archive>")
    fh: Any = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
    try:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        entries, directory = _directory(fh, size, where, error)
        if entries > MAX_ENTRIES:
            _refuse(error, where, f"{entries:,} entries, more than the {MAX_ENTRIES:,} a spreadsheet holds "
                                  "(MAX_ENTRIES)")
        if directory > _MAX_DIRECTORY_BYTES:
            # zipfile lists every entry the directory holds, whatever count the end record gives.
            _refuse(error, where, f"its central directory is {directory:,} bytes, more than "
                                  f"{_MAX_DIRECTORY_BYTES:,} ({MAX_ENTRIES:,} entries with long names)")
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as archive:
                infos = archive.infolist()
                directory_start = getattr(archive, "start_dir", size)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise error(f"{where}: cannot read as a spreadsheet: not a valid zip archive ({exc}): a damaged download, "
                        "or not a spreadsheet saved by Excel or LibreOffice") from None
        if len(infos) > MAX_ENTRIES:
            _refuse(error, where, f"{len(infos):,} entries, more than {MAX_ENTRIES:,} (MAX_ENTRIES)")
        return _check_entries(fh, infos, min(directory_start, size), where, error)
    finally:
        if fh is not source:
            fh.close()


def _check_entries(fh: IO[bytes], infos: list, directory_start: int, where: str, error: type) -> ZipSummary:
    seen: set[str] = set()
    total = packed = 0
    for info in infos:
        entry = info.filename
        if entry in seen:
            _refuse(error, where, f"entry {entry!r} appears twice (readers would disagree on which one counts)")
        seen.add(entry)
        if not _safe_name(entry):
            _refuse(error, where, f"entry {entry!r} has an absolute or '..' name, which no spreadsheet holds")
        if info.compress_type not in _METHODS:
            _refuse(error, where, f"entry {entry!r} uses compression method {info.compress_type}, which no "
                                  "spreadsheet program writes (only stored and deflate are read)")
        if info.file_size > MAX_ENTRY_BYTES:
            _refuse(error, where, f"entry {entry!r} expands to {_size(info.file_size)}, more than "
                                  f"{_size(MAX_ENTRY_BYTES)} (MAX_ENTRY_BYTES){_TOO_BIG}")
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            _refuse(error, where, f"entry {entry!r} expands {ratio:,.0f} times ({info.file_size:,} bytes from "
                                  f"{info.compress_size:,}), more than the {MAX_RATIO} times a real spreadsheet "
                                  "does (MAX_RATIO)")
        total += info.file_size
        packed += info.compress_size
        if total > MAX_TOTAL_BYTES:
            _refuse(error, where, f"its entries expand to more than {_size(MAX_TOTAL_BYTES)} together "
                                  f"(MAX_TOTAL_BYTES){_TOO_BIG}")
    _check_layout(fh, infos, directory_start, where, error)
    return ZipSummary(entries=len(infos), uncompressed=total, compressed=packed)


def _check_layout(fh: IO[bytes], infos: list, directory_start: int, where: str, error: type) -> None:
    """Each entry's local header is where the directory says, and no two entries' data overlap."""
    end_of_previous, previous = 0, None
    for info in sorted(infos, key=lambda i: i.header_offset):
        start = info.header_offset
        if start < end_of_previous:
            _refuse(error, where, f"entries {previous!r} and {info.filename!r} share compressed data "
                                  "(overlapping entries: a bomb's trick)")
        fh.seek(start)
        header = fh.read(_LOCAL.size)
        if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise error(f"{where}: cannot read as a spreadsheet: not a valid zip archive (entry {info.filename!r} has "
                        "no local header where the directory says): a damaged download?")
        name_len, extra_len = _LOCAL.unpack(header)[9:11]
        end_of_previous = start + _LOCAL.size + name_len + extra_len + info.compress_size
        previous = info.filename
        if end_of_previous > directory_start:
            raise error(f"{where}: cannot read as a spreadsheet: not a valid zip archive (entry {info.filename!r} runs "
                        "into the central directory): a damaged download?")


def _is_zip(path: str | os.PathLike) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def check_spreadsheet(path: str | os.PathLike, *, error: type = ValueError) -> ZipSummary | None:
    """:func:`check_zip` for a workbook file; ``None`` (nothing to check) when it is not a zip at all.

    An ``.xlsx`` that is not a zip (an old ``.xls`` renamed, a CSV saved under that name) is
    left to the reader, whose own message says what it is; it cannot be a zip bomb.
    """
    try:
        if not _is_zip(path):
            return None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    return check_zip(path, error=error)

