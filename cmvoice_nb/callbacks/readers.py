"""Byte readers: files, folders, globs, JSON Lines, JSON, CSV, Parquet and lists into raw frames.

Nothing here types a value; the frames returned carry whatever names and kinds the input had, plus
a ``_seq`` column that keeps source order. See the notes above ``_read_jsonl_block`` for how a JSON
Lines file is read. :func:`~cmvoice_nb.callbacks.load.load_callbacks` is the public entry point.
"""
from __future__ import annotations

import glob as _glob
import gzip
import json
import logging
import os
import re
import reprlib
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from ..errors import CallbackError
from .frame import INT_COLUMNS, RAW_COLUMNS, TEXT_DTYPE, WIRE_KEYS, BadLine, LoadReport, canonical

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
    if path.exists():
        return [path]
    text = os.fspath(source)
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
        for block in blocks:
            data += block
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
        frames, lines = _read_jsonl_block(block, src, seq_base, report, line_base=blocks.lines)
        blocks.lines += lines
        del block
        yield frames
        try:
            block = next(blocks, None)
        except OSError as exc:  # the disk or share went away mid-file
            raise CallbackError(f"{src}: cannot read past line {blocks.lines}: {exc}") from exc


def _maybe_document(first: bytearray) -> bool:
    """Whether a ``.json`` file starting with ``{`` may be one object rather than JSON Lines.

    A file that fits in one block is tried as a document, as it always was; a longer one only when
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

    def __iter__(self) -> "_Blocks":
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


def _read_json_document(data: bytes, src: str, seq_base: int, report: LoadReport, *,
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
    kw = dict(dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
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


# ---------------------------------------------------------------------------------------------
# JSON Lines: one columnar pyarrow read; json.loads only for the lines pyarrow cannot take
# ---------------------------------------------------------------------------------------------
#
# How a file is read:
#
# 0. In blocks of ~_BLOCK_BYTES cut after a newline (:class:`_Blocks`); each block goes through
#    the steps below on its own, its line numbers offset by the lines before it, and is typed
#    before the next is read (load.py). Keys whose kind differs between blocks are reconciled
#    afterwards as one pass would have read them (frame.reconcile_blocks).
# 1. A vectorised scan over the bytes finds every line. Lines that are not ``{...}`` (torn writes,
#    stray text) and lines pyarrow must never see are set aside for the tolerant path: lines
#    longer than 1 MiB, long lines with more than 1,000 brackets (pyarrow's parser recurses per
#    nesting level and overflows the C stack somewhere near 5,000) and, in files that are not
#    pure ASCII, lines that are not valid UTF-8. All three checks cost nothing on a normal log:
#    the line lengths come from the newline scan and ``bytes.isascii`` is one fast pass.
# 2. The remaining lines are read by pyarrow in one multi-threaded pass, with the set-aside lines
#    blanked in place (pyarrow skips whitespace-only lines) so that nothing is copied.
# 3. A value of an unexpected type (``"sip-disconnect-code": "BYE"`` among numbers, a number in
#    ``digits``, an unknown key that is a number here and a string there) makes pyarrow stop with
#    "Column(/result/code) changed from number to string". That is handled per column: the lines
#    are grouped by the kind of value that key holds (a bytes regex, not a parse), each group is
#    read by pyarrow with the column typed for it, and the column becomes text in every group
#    (converted after, by the typing step). Objects, arrays and booleans where a scalar was
#    expected go to the tolerant path, which keeps them as JSON text.
# 4. Any other refusal pyarrow reports with a row number (a line that looks like an object but is
#    not JSON, a lone surrogate escape such as ``"\ud800"``) sends that line to the tolerant path;
#    refusals without a row number make the read split the lines into smaller pieces.
# 5. The tolerant path is ``json.loads`` per line; a line it cannot use is listed as bad with its
#    reason (not JSON, not UTF-8, nested too deeply, a lone surrogate, not an object).

_LONG_LINE = 1024  # only a line at least this long can hold enough brackets to matter
_MAX_BRACKETS = 1000  # pyarrow survives ~3,000 levels; keep far from that
_HUGE_LINE = 1 << 20  # a callback is ~400 bytes; anything over 1 MiB is read by json.loads
_CHUNK_BYTES = 1 << 20  # piece size when a read has to be split
_MAX_ROW_RETRIES = 8  # bad lines isolated one by one in a piece before it is split further
_MAX_DEPTH = 12  # nested splits (per-column groups and pieces) before the tolerant path takes over
_PROBE_BYTES = 1 << 20  # the head of the file inspected for keys that already mix kinds
_CONFLICT_RE = re.compile(r"Column\((/.*)\) changed from (\w+) to (\w+) in row (\d+)")
_ROW_RE = re.compile(r"in row (\d+)")
#: Keys whose kind is known to vary in the wild: inferred by pyarrow (never declared) and always
#: turned into text afterwards. ``sip-disconnect-code`` is alphanumeric per the contract, yet
#: integrations (and older simulators) send numbers.
_FLEXIBLE = (WIRE_KEYS["sip_disconnect_code"],)


def _arrow_schema():
    """The documented types (:data:`~cmvoice_nb.callbacks.frame.WIRE_KEYS`) as an Arrow schema.

    Keys not declared (new keys, and the :data:`_FLEXIBLE` ones) are inferred by pyarrow.
    """
    import pyarrow as pa

    schema = pa.schema([])
    for column, parts in WIRE_KEYS.items():
        if parts not in _FLEXIBLE:
            schema = _schema_set(schema, parts, pa.int64() if column in INT_COLUMNS else pa.string())
    return schema


def _schema_set(schema, parts: tuple[str, ...], typ):
    """Return *schema* with the field at *parts* typed *typ* (``None``: undeclared, i.e. inferred)."""
    import pyarrow as pa

    name, rest = parts[0], parts[1:]
    index = schema.get_field_index(name)
    if rest:
        inner = schema.field(index).type if index >= 0 and pa.types.is_struct(schema.field(index).type) else pa.struct([])
        new_inner = _schema_set(pa.schema(list(inner)), rest, typ)
        new = pa.field(name, pa.struct(list(new_inner)))
    elif typ is None:
        return schema.remove(index) if index >= 0 else schema
    else:
        new = pa.field(name, typ)
    return schema.set(index, new) if index >= 0 else schema.append(new)


@dataclass
class _Piece:
    """Lines to read with pyarrow: a buffer, each line's offsets in it and its 0-based line index."""

    buffer: Any  # bytes or bytearray; lines not listed are whitespace
    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray  # index into the file's lines (line number - 1)
    schema: Any
    text_cols: frozenset = frozenset()
    depth: int = 0
    renames: tuple = ()  # (b'"~ey"', b'"key"') pairs renamed in place in this buffer

    def take(self, keep: np.ndarray) -> "_Piece":
        """A new piece holding the lines where *keep* is true, copied into a fresh buffer."""
        sel_s, sel_e = self.starts[keep], self.ends[keep]
        view = memoryview(self.buffer)
        parts = [view[s:e] for s, e in zip(sel_s.tolist(), sel_e.tolist())]
        buffer = b"\n".join(parts) + b"\n" if parts else b""
        lengths = sel_e - sel_s
        ends = np.cumsum(lengths + 1) - 1
        return _Piece(buffer, ends - lengths, ends, self.lines[keep], self.schema, self.text_cols, self.depth + 1,
                      self.renames)

    def drop(self, gone: np.ndarray) -> "_Piece":
        """This piece without the lines where *gone* is true: blanked in place (the buffer is ours)."""
        buf = self.buffer if isinstance(self.buffer, bytearray) else bytearray(self.buffer)
        for s, e in zip(self.starts[gone].tolist(), self.ends[gone].tolist()):
            buf[s:e] = b" " * (e - s)
        keep = ~gone
        return _Piece(buf, self.starts[keep], self.ends[keep], self.lines[keep], self.schema, self.text_cols, self.depth,
                      self.renames)

    def line_bytes(self, mask: np.ndarray) -> list[tuple[int, bytes]]:
        """The original bytes of the lines where *mask* is true (keys renamed in place restored)."""
        out = []
        for i, s, e in zip(self.lines[mask].tolist(), self.starts[mask].tolist(), self.ends[mask].tolist()):
            raw = bytes(self.buffer[s:e])
            for shadow, original in self.renames:
                raw = raw.replace(shadow, original)
            out.append((int(i), raw))
        return out


def _line_table(data) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offset of every line (the end excludes the newline)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    step = 8 << 20  # scanned in cache-sized slices: no file-sized temporary to allocate and fault in
    parts = [np.flatnonzero(buf[a:a + step] == 10) + a for a in range(0, len(buf), step)]
    newlines = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    return starts, ends


def _screen(data, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split line indices into (for pyarrow, for the tolerant path); blank lines are in neither."""
    buf = np.frombuffer(data, dtype=np.uint8)
    length = ends - starts
    nonempty = length > 0
    last = np.zeros(len(starts), dtype=np.uint8)
    last[nonempty] = buf[ends[nonempty] - 1]
    crlf = nonempty & (last == 13)  # CRLF line endings
    last[crlf & (length > 1)] = buf[ends[crlf & (length > 1)] - 2]
    blank = ~nonempty | (crlf & (length == 1))
    first = np.zeros(len(starts), dtype=np.uint8)
    first[nonempty] = buf[starts[nonempty]]
    good = ~blank & (first == ord("{")) & (last == ord("}"))
    # Nesting deep enough to crash pyarrow needs a long line: only long lines are counted.
    for i in np.flatnonzero(good & (length >= _LONG_LINE)).tolist():
        s, e = int(starts[i]), int(ends[i])
        if e - s > _HUGE_LINE:
            good[i] = False
            continue
        line = bytes(data[s:e])
        if line.count(b"{") + line.count(b"[") > _MAX_BRACKETS:
            good[i] = False
    if not _is_ascii(data):
        good &= ~_invalid_utf8(data, starts, ends, good)
    return np.flatnonzero(good), np.flatnonzero(~blank & ~good)


def _is_ascii(data) -> bool:
    return data.isascii() if hasattr(data, "isascii") else bytes(data).isascii()


def _invalid_utf8(data, starts: np.ndarray, ends: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Mask of candidate lines that are not valid UTF-8, checked a ~1 MB run of lines at a time."""
    import codecs

    bad = np.zeros(len(starts), dtype=bool)
    view = memoryview(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    a = 0
    n = len(starts)
    while a < n:
        b = int(np.searchsorted(starts, starts[a] + _CHUNK_BYTES, side="right"))
        b = max(b, a + 1)
        s, e = int(starts[a]), int(ends[b - 1])
        if e > s and buf[s:e].max() >= 0x80:
            try:
                codecs.utf_8_decode(view[s:e], "strict", True)
            except UnicodeDecodeError:
                for i in range(a, b):
                    if candidates[i]:
                        try:
                            codecs.utf_8_decode(view[int(starts[i]):int(ends[i])], "strict", True)
                        except UnicodeDecodeError:
                            bad[i] = True
        a = b
    return bad


def _shadow(key: str) -> str:
    """The stand-in name for the minority kind of a key: same length, so renaming is done in place."""
    return "~" + key[1:]


def _key_pattern(key: str, value_start: bytes) -> "re.Pattern[bytes]":
    """``"key"`` followed by a colon and a value starting with *value_start* (a regex class).

    Inside a JSON string a quote is always escaped, so ``"key"`` followed by a colon only matches a
    key (a false match only sends a line down a slower, still correct path).
    """
    return re.compile(b'"' + re.escape(key.encode("utf-8")) + rb'"\s*:\s*' + value_start)


def _kind_counts(key: str, buf) -> tuple[int, int]:
    """How many values of *key* in *buf* are text, and how many are numbers."""
    return len(_key_pattern(key, b'"').findall(buf)), len(_key_pattern(key, rb"[-0-9]").findall(buf))


def _lines_of(piece: _Piece, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line index (into the piece) of each byte offset, and whether it falls on a listed line."""
    line = np.searchsorted(piece.starts, positions, side="right") - 1
    valid = (line >= 0) & (positions < piece.ends[np.maximum(line, 0)])
    return line, valid


def _split_on_column(piece: _Piece, parts: tuple[str, ...], out: list, tolerant: list, *,
                     majority_is_text: bool | None = None) -> bool:
    """Resolve a key that holds text in some lines and numbers in others; False without progress.

    Where the key holds the less common kind, it is renamed in place (``"sip-disconnect-code"`` ->
    ``"~ip-disconnect-code"``, same length), so one pyarrow read yields two columns of one kind
    each; both become text and are merged after (:func:`_text_columns`). Nothing is copied or
    reordered. Lines where the key holds an object, array or boolean go to the tolerant path.
    """
    import pyarrow as pa

    key = parts[-1]
    if not key or len(key.encode("utf-8")) != len(key):
        return False  # renaming in place needs a first byte that is a whole character
    buf = piece.buffer
    if majority_is_text is None:
        text, number = _kind_counts(key, buf)
        majority_is_text = text >= number
    # One scan for every value that is neither the majority kind nor null: the minority kind, or
    # an object / array / boolean.
    other = _key_pattern(key, rb'([^\s"n])' if majority_is_text else rb"([^\s0-9n-])")
    found = [(m.start(), m.group(1)) for m in other.finditer(buf)]
    at = np.fromiter((p for p, _ in found), dtype=np.int64, count=len(found))
    first = np.frombuffer(b"".join(c for _, c in found), dtype=np.uint8)
    is_odd = np.isin(first, np.frombuffer(b"[{tf", dtype=np.uint8))
    odd_at, minority_at = at[is_odd], at[~is_odd]
    odd = np.zeros(len(piece.starts), dtype=bool)
    line, valid = _lines_of(piece, odd_at)
    odd[line[valid]] = True
    line, valid = _lines_of(piece, minority_at)
    minority_at = minority_at[valid & ~odd[line]]
    new_schema = _schema_set(piece.schema, parts, pa.string() if majority_is_text else None)
    if not odd.any() and not len(minority_at) and new_schema.equals(piece.schema):
        return False
    if odd.any():
        tolerant.extend(piece.line_bytes(odd))
        piece = piece.drop(odd)  # blanking keeps every other byte where it was
    if len(minority_at):
        if not isinstance(piece.buffer, bytearray):
            piece.buffer = bytearray(piece.buffer)
        tilde = ord("~")
        buf = piece.buffer
        for p in minority_at.tolist():
            buf[p + 1] = tilde
        quoted = f'"{key}"'.encode()
        piece.renames = piece.renames + ((b'"~' + quoted[2:], quoted),)
    piece.schema = new_schema
    piece.text_cols = piece.text_cols | {".".join(parts), ".".join(parts[:-1] + (_shadow(key),))}
    piece.depth += 1
    _read_piece(piece, out, tolerant)
    return True


def _chunks(piece: _Piece) -> list[_Piece]:
    """Cut *piece* into runs of lines of ~_CHUNK_BYTES (at least two), each with its own buffer."""
    n = len(piece.starts)
    total = int(piece.ends[-1] - piece.starts[0]) if n else 0
    size = min(_CHUNK_BYTES, max(total // 2, 1))
    cuts, a = [], 0
    while a < n:
        b = int(np.searchsorted(piece.starts, piece.starts[a] + size, side="left"))
        b = min(max(b, a + 1), n)
        cuts.append((a, b))
        a = b
    if len(cuts) == 1 and n > 1:
        cuts = [(0, n // 2), (n // 2, n)]
    out = []
    for a, b in cuts:
        s, e = int(piece.starts[a]), int(piece.ends[b - 1])
        out.append(_Piece(bytes(piece.buffer[s:e]), piece.starts[a:b] - s, piece.ends[a:b] - s,
                          piece.lines[a:b], piece.schema, piece.text_cols, piece.depth + 1, piece.renames))
    return out


def _read_piece(piece: _Piece, out: list, tolerant: list) -> None:
    """Read *piece* with pyarrow into ``out`` as (table, lines, text columns); see the notes above."""
    import pyarrow as pa
    import pyarrow.json as pj

    retries = 0
    while len(piece.lines):
        if piece.depth > _MAX_DEPTH:
            tolerant.extend(piece.line_bytes(np.ones(len(piece.lines), dtype=bool)))
            return
        parse = pj.ParseOptions(explicit_schema=piece.schema, unexpected_field_behavior="infer")
        big = len(piece.buffer) > 4 * _CHUNK_BYTES
        read = pj.ReadOptions(use_threads=big, block_size=16 << 20 if big else max(len(piece.buffer) + 1, 1 << 16))
        try:
            table = pj.read_json(pa.py_buffer(piece.buffer), read_options=read, parse_options=parse)
        except (pa.ArrowException, UnicodeDecodeError) as exc:
            message = str(exc)
            conflict = _CONFLICT_RE.search(message)
            if conflict is not None:
                parts = tuple(conflict.group(1).strip("/").split("/"))
                if parts != ("",) and _split_on_column(piece, parts, out, tolerant):
                    return
            row = _ROW_RE.search(message)
            if row is not None and not big and retries < _MAX_ROW_RETRIES and int(row.group(1)) < len(piece.lines):
                gone = np.zeros(len(piece.lines), dtype=bool)
                gone[int(row.group(1))] = True
                tolerant.extend(piece.line_bytes(gone))
                piece = piece.drop(gone)
                retries += 1
                continue
            if len(piece.lines) == 1:
                tolerant.extend(piece.line_bytes(np.ones(1, dtype=bool)))
                return
            _read_pieces(_chunks(piece), out, tolerant)
            return
        if table.num_rows != len(piece.lines):
            # More rows than lines: two objects glued on one line. Narrow it down.
            if len(piece.lines) == 1:
                tolerant.extend(piece.line_bytes(np.ones(1, dtype=bool)))
            else:
                _read_pieces(_chunks(piece), out, tolerant)
            return
        out.append((table, piece.lines, piece.text_cols))
        return


def _read_pieces(pieces: list[_Piece], out: list, tolerant: list) -> None:
    if len(pieces) > 2 and (os.cpu_count() or 1) > 1:
        # pyarrow releases the GIL while parsing, so pieces parse in parallel.
        with ThreadPoolExecutor(max_workers=min(len(pieces), os.cpu_count() or 1)) as pool:
            list(pool.map(lambda p: _read_piece(p, out, tolerant), pieces))
    else:
        for p in pieces:
            _read_piece(p, out, tolerant)


def _probe(data, schema) -> tuple[Any, list[tuple[tuple[str, ...], bool]]]:
    """Types for the flexible keys from the file's head, and the keys already mixing kinds there.

    A key seen only as text is declared text; one seen only as numbers is left to inference; one
    seen as both is resolved before the first read (see :func:`_split_on_column`), with the kind
    more common in the head taken as the majority, rather than after a failed read.
    """
    import pyarrow as pa

    head = bytes(data[:_PROBE_BYTES])
    mixed = []
    for parts in _FLEXIBLE:
        text, number = _kind_counts(parts[-1], head)
        if text and number:
            mixed.append((parts, text >= number))
        elif text:
            schema = _schema_set(schema, parts, pa.string())
    return schema, mixed


def _read_jsonl_block(data, src: str, seq_base: int, report: LoadReport, *,
                      line_base: int = 0) -> tuple[list[pd.DataFrame], int]:
    """Raw frames from a block of JSON Lines whose first line is line ``line_base + 1`` of *src*,
    and the number of newlines in the block."""
    starts, ends = _line_table(data)
    kept, odd = _screen(data, starts, ends)
    tolerant: list[tuple[int, bytes]] = []
    out: list = []
    if len(odd):
        mask = np.zeros(len(starts), dtype=bool)
        mask[odd] = True
        whole = _Piece(data, starts, ends, np.arange(len(starts)), None)
        tolerant.extend(whole.line_bytes(mask))
    if len(kept):
        buffer = data
        if len(odd):
            # Blank the set-aside lines (pyarrow skips whitespace-only lines) instead of copying.
            buffer = data if isinstance(data, bytearray) else bytearray(data)
            for i in odd.tolist():
                buffer[starts[i]:ends[i]] = b" " * int(ends[i] - starts[i])
        schema, mixed = _probe(buffer, _arrow_schema())
        text = frozenset(".".join(p) for p in _FLEXIBLE)
        piece = _Piece(buffer, starts[kept], ends[kept], kept, schema, text)
        if not (mixed and _split_on_column(piece, mixed[0][0], out, tolerant, majority_is_text=mixed[0][1])):
            _read_piece(piece, out, tolerant)
    records: list = []
    bad: list = []
    tolerant.sort(key=lambda item: item[0])
    report.tolerant_lines += len(tolerant)
    _parse_lines([(line_base + i + 1, raw) for i, raw in tolerant], records, bad)
    report.bad_lines.extend(BadLine(src, line, reason, text) for line, reason, text in bad)
    frames = []
    for table, lines, text_cols in out:
        frame = _arrow_to_pandas(_text_columns(_flatten_table(table), text_cols))
        frame["_seq"] = seq_base + line_base + lines.astype("int64") + 1
        frames.append(frame)
    if records:
        frame = _records_to_frame([r for _, r in records])
        frame["_seq"] = seq_base + np.asarray([line for line, _ in records], dtype="int64")
        frames.append(frame)
    return frames, len(starts) - 1


def _text_columns(table, names: frozenset):
    """Turn the named columns (values of mixed kinds) into text, 486 -> "486", and fold each
    renamed minority column (``result.~ip-disconnect-code``) back into its own."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(column):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            return column
        try:
            return pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None  # nested values stay as they are; the typing step turns them into JSON text

    shadows = {_shadow(n.rsplit(".", 1)[-1]): n.rsplit(".", 1)[-1] for n in names
               if not n.rsplit(".", 1)[-1].startswith("~")}
    for name in list(table.column_names):
        prefix, _, last = name.rpartition(".")
        if last in shadows:
            continue
        if name in names:
            cast = text(table.column(name))
            if cast is not None:
                table = table.set_column(table.schema.get_field_index(name), name, cast)
    for name in list(table.column_names):
        prefix, _, last = name.rpartition(".")
        if last not in shadows:
            continue
        real = (prefix + "." if prefix else "") + shadows[last]
        minority = text(table.column(name))
        index = table.schema.get_field_index(name)
        if minority is None:
            continue
        table = table.remove_column(index)
        at = table.schema.get_field_index(real)
        if at < 0:
            table = table.add_column(index, real, minority)
            continue
        majority = text(table.column(at))
        if majority is None:
            continue
        table = table.set_column(at, real, pc.coalesce(majority, minority))
    return table


def _parse_lines(lines: list[tuple[int, bytes]], records: list, bad: list) -> None:
    """The tolerant path: one ``json.loads`` per line; records keep their line numbers."""
    for line, raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((line, f"not valid UTF-8 (byte {exc.start + 1})", _snippet(raw)))
            continue
        try:
            value = json.loads(text)
        except RecursionError:
            bad.append((line, "nested too deeply", _snippet(raw)))
            continue
        except ValueError as exc:
            glued = _split_glued(text)
            if glued:
                if "\\u" in text and any(has_lone_surrogate(obj) for obj in glued):
                    bad.append((line, "contains a lone surrogate escape (not valid Unicode)", _snippet(raw)))
                    continue
                records.extend((line, obj) for obj in glued)
                continue
            bad.append((line, f"not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}", _snippet(raw)))
            continue
        if not isinstance(value, dict):
            bad.append((line, f"expected a JSON object, got {type(value).__name__}", _snippet(raw)))
            continue
        if _too_deep(value):
            # json.loads of some Pythons (3.13) reads thousands of levels; flattening and checking
            # such a value would then recurse past the interpreter's limit
            bad.append((line, "nested too deeply", _snippet(raw)))
            continue
        if "\\u" in text and has_lone_surrogate(value):
            bad.append((line, "contains a lone surrogate escape (not valid Unicode)", _snippet(raw)))
            continue
        records.append((line, value))


#: Deeper than any callback (the contract's objects nest two levels): a line nested deeper is
#: refused as a bad line rather than walked.
MAX_NESTING = 64


def _too_deep(value: Any) -> bool:
    """True when *value* nests dicts or lists more than :data:`MAX_NESTING` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def has_lone_surrogate(value: Any) -> bool:
    """True when a string anywhere in *value* holds a lone surrogate (it cannot be stored as UTF-8)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (TypeError, ValueError, RecursionError):
        return False
    return False


def _split_glued(text: str) -> list[dict] | None:
    """Objects written back to back on one line (a lost newline): all of them, or None."""
    decoder = json.JSONDecoder()
    out, pos = [], 0
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, dict):
            return None
        out.append(value)
        pos = end
        while pos < len(text) and text[pos] in " \t\r":
            pos += 1
    return out if len(out) > 1 else None


def _snippet(raw: bytes) -> str:
    return raw[:120].decode("utf-8", "replace").encode("utf-8", "replace").decode("utf-8")


def _flatten_table(table):
    import pyarrow as pa

    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _arrow_to_pandas(table) -> pd.DataFrame:
    import pyarrow as pa

    def mapper(t):
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return TEXT_DTYPE
        if pa.types.is_int64(t):
            return pd.Int64Dtype()
        return None

    return table.to_pandas(types_mapper=mapper)


_SCALAR_COLUMNS = frozenset(RAW_COLUMNS)


def _flatten_dict(d: Mapping, prefix: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    for key, value in d.items():
        name = f"{prefix}{key}"
        # An object where the contract has a scalar (``"digits": {...}``) stays whole: JSON text later.
        if isinstance(value, Mapping) and canonical(name) not in _SCALAR_COLUMNS:
            _flatten_dict(value, name + ".", out)
        else:
            out[name] = value
    return out


def _records_to_frame(records: list[Mapping]) -> pd.DataFrame:
    flat = [_flatten_dict(r) for r in records]
    return pd.DataFrame.from_records(flat) if flat else pd.DataFrame()


def records_frames(items: list, src: str, seq_base: int, report: LoadReport, *, item_label: bool = False,
                    check: bool = True) -> list[pd.DataFrame]:
    """A raw frame from a list of dicts (nested keys flattened); anything else in it goes to *report*."""
    good, seq = [], []
    label = "item" if item_label else "record"
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            if _too_deep(dict(item)):
                report.bad_lines.append(BadLine(src, i + 1, f"{label} {i + 1}: nested too deeply",
                                                reprlib.repr(item)[:120]))  # (repr would recurse as deep)
                continue
            if check and has_lone_surrogate(item):
                report.bad_lines.append(BadLine(src, i + 1, f"{label} {i + 1}: contains a lone surrogate (not valid Unicode)",
                                                repr(item)[:120]))
                continue
            good.append(item)
            seq.append(i)
        else:
            report.bad_lines.append(
                BadLine(src, i + 1, f"{label} {i + 1}: expected a JSON object, got {type(item).__name__}", repr(item)[:120])
            )
    if not good:
        return []
    frame = _records_to_frame(good)
    frame["_seq"] = seq_base + np.asarray(seq, dtype="int64")
    return [frame]


__all__ = ["expand", "read_file", "iter_file", "records_frames", "has_lone_surrogate", "release_memory"]
