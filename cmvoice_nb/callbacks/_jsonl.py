"""JSON Lines at column speed: one pyarrow read per block; the lines it cannot take go to the tolerant path.

:func:`read_jsonl_block` is the reader of one block of a file (:mod:`.readers` cuts the blocks);
the notes below say how a block is read.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._tolerant import parse_lines, records_to_frame, screen
from .frame import INT_COLUMNS, TEXT_DTYPE, WIRE_KEYS, BadLine, LoadReport

__all__ = ["read_jsonl_block"]

# ---------------------------------------------------------------------------------------------
# JSON Lines: one columnar pyarrow read; json.loads only for the lines pyarrow cannot take
# ---------------------------------------------------------------------------------------------
#
# How a file is read:
#
# 0. In blocks of ~128 MB cut after a newline (``readers._Blocks``); each block goes through
#    the steps below on its own, its line numbers offset by the lines before it, and is typed
#    before the next is read (load.py). Keys whose kind differs between blocks are reconciled
#    afterwards as one pass would have read them (frame.reconcile_blocks).
# 1. A vectorised scan over the bytes finds every line. Lines that are not ``{...}`` (torn writes,
#    stray text) and lines pyarrow must never see are set aside for the tolerant path
#    (``_tolerant.screen``): lines
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
# 5. The tolerant path (``_tolerant.parse_lines``) is ``json.loads`` per line; a line it cannot
#    use is listed as bad with its reason (not JSON, not UTF-8, nested too deeply, a lone
#    surrogate, not an object).

_CHUNK_BYTES = 1 << 20  # piece size when a read has to be split
_MAX_ROW_RETRIES = 8  # bad lines isolated one by one in a piece before it is split further
_MAX_DEPTH = 12  # nested splits (per-column groups and pieces) before the tolerant path takes over
_PROBE_BYTES = 1 << 20  # the head of the file inspected for keys that already mix kinds
_CONFLICT_RE = re.compile(r"Column\((/.*)\) changed from (\w+) to (\w+) in row (\d+)")
_ROW_RE = re.compile(r"in row (\d+)")
#: Keys whose kind is known to vary in the wild: inferred by pyarrow (never declared) and always
#: turned into text afterwards. ``sip-disconnect-code`` is alphanumeric per the contract, yet
#: some integrations send numbers.
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
        nested = index >= 0 and pa.types.is_struct(schema.field(index).type)
        inner = schema.field(index).type if nested else pa.struct([])
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

    def take(self, keep: np.ndarray) -> _Piece:
        """A new piece holding the lines where *keep* is true, copied into a fresh buffer."""
        sel_s, sel_e = self.starts[keep], self.ends[keep]
        view = memoryview(self.buffer)
        parts = [view[s:e] for s, e in zip(sel_s.tolist(), sel_e.tolist(), strict=True)]
        buffer = b"\n".join(parts) + b"\n" if parts else b""
        lengths = sel_e - sel_s
        ends = np.cumsum(lengths + 1) - 1
        return _Piece(buffer, ends - lengths, ends, self.lines[keep], self.schema, self.text_cols, self.depth + 1,
                      self.renames)

    def drop(self, gone: np.ndarray) -> _Piece:
        """This piece without the lines where *gone* is true: blanked in place (the buffer is ours)."""
        buf = self.buffer if isinstance(self.buffer, bytearray) else bytearray(self.buffer)
        for s, e in zip(self.starts[gone].tolist(), self.ends[gone].tolist(), strict=True):
            buf[s:e] = b" " * (e - s)
        keep = ~gone
        return _Piece(buf, self.starts[keep], self.ends[keep], self.lines[keep], self.schema,
                      self.text_cols, self.depth,
                      self.renames)

    def line_bytes(self, mask: np.ndarray) -> list[tuple[int, bytes]]:
        """The original bytes of the lines where *mask* is true (keys renamed in place restored)."""
        out = []
        for i, s, e in zip(self.lines[mask].tolist(), self.starts[mask].tolist(), self.ends[mask].tolist(),
                           strict=True):
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


def _shadow(key: str) -> str:
    """The stand-in name for the minority kind of a key: same length, so renaming is done in place."""
    return "~" + key[1:]


def _key_pattern(key: str, value_start: bytes) -> re.Pattern[bytes]:
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
            # read_json takes a buffer as well as a file; its stubs name only files
            table = pj.read_json(pa.py_buffer(piece.buffer),  # type: ignore[arg-type]
                                 read_options=read, parse_options=parse)
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


def read_jsonl_block(data, src: str, seq_base: int, report: LoadReport, *,
                      line_base: int = 0) -> tuple[list[pd.DataFrame], int]:
    """Raw frames from a block of JSON Lines whose first line is line ``line_base + 1`` of *src*,
    and the number of newlines in the block."""
    starts, ends = _line_table(data)
    kept, odd = screen(data, starts, ends)
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
    parse_lines([(line_base + i + 1, raw) for i, raw in tolerant], records, bad)
    report.bad_lines.extend(BadLine(src, line, reason, text) for line, reason, text in bad)
    frames = []
    for table, lines, text_cols in out:
        frame = _arrow_to_pandas(_text_columns(_flatten_table(table), text_cols))
        frame["_seq"] = seq_base + line_base + lines.astype("int64") + 1
        frames.append(frame)
    if records:
        frame = records_to_frame([r for _, r in records])
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
