"""Byte readers: files, folders, globs, JSON Lines, JSON, CSV, Parquet and lists into raw frames.

Nothing here types a value; the frames returned carry whatever names and kinds the input had, plus
a ``_seq`` column that keeps source order. A JSON Lines file is read a block at a time
(:class:`_Blocks`); each block is read at column speed by :mod:`._jsonl`, whose notes say how, and
the lines pyarrow must not or cannot take by :mod:`._tolerant`, one by one.
:func:`~cmvoice_nb.callbacks.load.load_callbacks` is the public entry point.
"""
from __future__ import annotations

import glob as _glob
import gzip
import json
import logging
import os
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CallbackError
from ._jsonl import read_jsonl_block
from ._tolerant import records_frames
from .frame import BadLine, LoadReport

__all__ = ["expand", "read_file", "iter_file", "release_memory"]

log = logging.getLogger(__name__)

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".jsonl.gz", ".ndjson.gz", ".json.gz")


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------

def expand(source: Any) -> Iterable[tuple[str, Any]]:
    """Yield ``("file", Path)``, ``("records", list)`` or ``("frame", DataFrame)`` items."""
    if isinstance(source, pd.DataFrame):
        yield ("frame", source)
    elif isinstance(source, Mapping):
        yield ("records", [source])
    elif isinstance(source, (str, os.PathLike)):
        yield from (("file", p) for p in _paths(source))
    elif isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray)):
        items = list(source)
        if all(isinstance(x, Mapping) for x in items):
            yield ("records", items)
            return
        run: list = []
        for x in items:
            if isinstance(x, Mapping):
                run.append(x)
                continue
            if run:
                yield ("records", run)
                run = []
            yield from expand(x)
        if run:
            yield ("records", run)
    else:
        raise CallbackError(
            f"cannot load callbacks from {type(source).__name__}: expected a path, folder, glob, "
            "list of dicts or DataFrame"
        )


def _paths(source: str | os.PathLike) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir()
            if p.is_file() and p.name.lower().endswith(_JSONL_SUFFIXES) and ".quarantine" not in p.name
            and not p.name.startswith(".")
        )
        if not files:
            log.warning("%s: folder holds no callback logs (*.jsonl, *.ndjson, *.json)", path)
        return files
    if path.is_file():
        return [path]
    text = os.fspath(source)
    if path.exists():
        # A named pipe or a device would block the load for ever, or never end.
        raise CallbackError(f"{text}: not a regular file (a pipe or a device?); give the callback log itself")
    if any(ch in text for ch in "*?["):
        files = [Path(p) for p in sorted(_glob.glob(text)) if Path(p).is_file()]
        if files:
            return files
        raise CallbackError(f"{text}: no file matches this pattern")
    raise CallbackError(f"{text}: no such file or folder")


#: A JSON Lines file is read this many bytes at a time, cut after a newline (a longer line extends
#: its block to its own end): memory stays bounded whatever the size of the log. Tests set it small.
_BLOCK_BYTES = 128 << 20


def read_file(path: Path, seq_base: int, report: LoadReport, *, check: bool = True) -> list[pd.DataFrame]:
    """Raw frames from one file (kind from its suffix and first byte); bad lines go to *report*.

    Raises :class:`CallbackError` only when the file cannot be read at all.
    """
    return [frame for block in iter_file(path, seq_base, report, check=check) for frame in block]


def iter_file(path: Path, seq_base: int, report: LoadReport, *, check: bool = True) -> Iterator[list[pd.DataFrame]]:
    """The raw frames of one file, one list per block of about :data:`_BLOCK_BYTES` of JSON Lines.

    Other kinds of file (JSON documents, CSV, Parquet) come as one list. Bad lines go to *report*
    with their line numbers in the file. Raises :class:`CallbackError` only when the file cannot
    be read at all.
    """
    name = path.name.lower()
    src = str(path)
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
            frame["_seq"] = seq_base + np.arange(len(frame), dtype="int64")
            yield [frame]
            return
        if name.endswith(".csv"):
            yield [_read_csv(path, seq_base, report)]
            return
        fh = gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")
    except OSError as exc:
        raise CallbackError(f"{path}: cannot read: {exc}") from exc
    except (ValueError, ImportError) as exc:  # a corrupt Parquet file
        report.bad_lines.append(BadLine(src, 1, f"unreadable file: {exc}"))
        return
    with fh:
        yield from _iter_text(fh, name, src, seq_base, report, check=check)


def _iter_text(fh, name: str, src: str, seq_base: int, report: LoadReport, *,
               check: bool) -> Iterator[list[pd.DataFrame]]:
    blocks = _Blocks(fh, src, report)
    try:
        first = next(blocks, None)
    except OSError as exc:
        raise CallbackError(f"{src}: cannot read: {exc}") from exc
    if first is None:
        return
    if first.startswith(b"\xef\xbb\xbf"):
        first[:3] = b"   "  # a BOM; blanking it in place keeps offsets and avoids a copy
    head = bytes(first[:65536]).lstrip()[:1]
    if head == b"[" or (head == b"{" and name.endswith((".json", ".json.gz")) and _maybe_document(first)):
        # One JSON document (an array, or a pretty-printed object): it is parsed whole.
        data = first
        for more in blocks:
            data += more
        if head == b"[":
            yield _read_json_document(data, src, seq_base, report, check=check)
            return
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            pass
        else:
            yield records_frames([doc], src, seq_base, report, check=check)
            return
        first = data
        del data
    block: bytearray | None = first
    del first  # each block is released once read: only the typed columns accumulate
    while block is not None:
        frames, lines = read_jsonl_block(block, src, seq_base, report, line_base=blocks.lines)
        blocks.lines += lines
        del block
        yield frames
        try:
            block = next(blocks, None)
        except OSError as exc:  # the disk or share went away mid-file
            raise CallbackError(f"{src}: cannot read past line {blocks.lines}: {exc}") from exc


def _maybe_document(first: bytearray) -> bool:
    """Whether a ``.json`` file starting with ``{`` may be one object rather than JSON Lines.

    A file that fits in one block is tried as a document; a longer one only when
    its first line is not a whole object (a pretty-printed document's first line never is).
    """
    if len(first) < _BLOCK_BYTES:
        return True
    cut = first.find(b"\n")
    try:
        return cut < 0 or not isinstance(json.loads(bytes(first[:cut])), dict)
    except (ValueError, RecursionError):
        return True


class _Blocks:
    """Iterate over a binary file in mutable blocks of about :data:`_BLOCK_BYTES`, each cut after a
    newline (the last one may end without).

    A line longer than a block extends its block to the line's end. A file that grows while it is
    read (a receiver appending) is read to its new end. A compressed file that breaks off (a
    truncated or corrupt archive) yields its complete lines so far and lists the break as a bad
    line; ``lines`` (the lines before the current block, kept up to date by the reader) numbers it.
    """

    def __init__(self, fh, src: str, report: LoadReport) -> None:
        self.fh, self.src, self.report = fh, src, report
        self.carry = b""
        self.lines = 0
        self.done = False

    def __iter__(self) -> _Blocks:
        return self

    def __next__(self) -> bytearray:
        if self.done:
            raise StopIteration
        # Read straight into the block (readinto): no second copy of each block's bytes. A small
        # file gets a block its size; a compressed one (size unknown) a block that doubles.
        block = bytearray(max(len(self.carry) + 1, min(_BLOCK_BYTES, self._size_hint())))
        block[:len(self.carry)] = self.carry
        filled, self.carry = len(self.carry), b""
        try:
            filled, eof = self._fill(block, filled)
            while not eof and len(block) < _BLOCK_BYTES:
                block.extend(bytes(min(len(block), _BLOCK_BYTES - len(block))))
                filled, eof = self._fill(block, filled)
            cut = block.rfind(b"\n", 0, filled)
            while cut < 0 and not eof:  # one line longer than a block: read on to its end
                at = filled
                block.extend(bytes(_BLOCK_BYTES))
                filled, eof = self._fill(block, filled)
                cut = block.find(b"\n", at, filled)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            # Only a compressed file breaks off like this: its complete lines so far are kept.
            self.done = True
            cut = block.rfind(b"\n", 0, filled)
            del block[cut + 1:]
            line = self.lines + block.count(b"\n") + 1
            self.report.bad_lines.append(BadLine(self.src, line, f"not a readable gzip file from this line on: {exc}"))
            if not block:
                raise StopIteration from None
            return block
        if eof:
            self.done = True
            del block[filled:]
            if not block:
                raise StopIteration
        elif cut < filled - 1:
            self.carry = bytes(block[cut + 1:filled])
            del block[cut + 1:]
        else:
            del block[filled:]
        return block

    def _size_hint(self) -> int:
        """Bytes left to read plus one (so that the end is seen without growing), or 1 MiB."""
        if isinstance(self.fh, gzip.GzipFile):
            return 1 << 20
        try:
            return max(os.fstat(self.fh.fileno()).st_size - self.fh.tell(), 0) + 1
        except (OSError, AttributeError, ValueError):
            return 1 << 20

    def _fill(self, block: bytearray, filled: int) -> tuple[int, bool]:
        """Read into *block* from offset *filled* until it is full; (bytes in it, at end of file)."""
        with memoryview(block) as view:
            while filled < len(block):
                n = self.fh.readinto(view[filled:])
                if not n:
                    return filled, True
                filled += n
        return filled, False


def release_memory() -> None:
    """Hand freed memory back to the system, so that a block-by-block read's peak is what it holds.

    Arrow's allocator keeps what it freed, and so does the C library's ``malloc`` for the many
    small NumPy arrays of the blocks (glibc: ``malloc_trim``; elsewhere only Arrow's is released).
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_TRIM: list = []


def _malloc_trim():
    """glibc's ``malloc_trim``, or None (macOS, Windows, musl): looked up once."""
    if not _TRIM:
        trim = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
            except (OSError, AttributeError):
                trim = None
        _TRIM.append(trim)
    return _TRIM[0]


def _read_json_document(data: bytes | bytearray, src: str, seq_base: int, report: LoadReport, *,
                        check: bool = True) -> list[pd.DataFrame]:
    try:
        doc = json.loads(data)
    except RecursionError:
        report.bad_lines.append(BadLine(src, 1, "nested too deeply, file skipped"))
        return []
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        report.bad_lines.append(BadLine(src, line, f"not valid JSON, file skipped: {exc}"))
        return []
    items = doc if isinstance(doc, list) else [doc]
    return records_frames(items, src, seq_base, report, item_label=True, check=check)


def _read_csv(path: Path, seq_base: int, report: LoadReport) -> pd.DataFrame:
    kw: dict[str, Any] = {"dtype": str, "keep_default_na": False, "na_values": [""], "encoding": "utf-8-sig"}
    try:
        frame = pd.read_csv(path, **kw)
    except pd.errors.ParserError:
        # Only a malformed CSV pays for the slower Python engine, which can report bad rows.
        bad: list[list[str]] = []

        def keep(fields: list[str]) -> None:
            bad.append(fields)
            return None

        frame = pd.read_csv(path, engine="python", on_bad_lines=keep, **kw)
        for fields in bad:
            report.bad_lines.append(BadLine(str(path), 0, "wrong number of CSV fields", ",".join(fields)[:120]))
    except (UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        report.bad_lines.append(BadLine(str(path), 1, f"unreadable CSV: {exc}"))
        return pd.DataFrame()
    frame["_seq"] = seq_base + np.arange(len(frame), dtype="int64")
    return frame
