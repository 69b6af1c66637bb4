"""Duplicate callbacks across the blocks of a load: a 64-bit hash of each call id, then a full comparison.

The same callback delivered twice shares its call id, so only the rows whose call id (by its hash)
repeats, or is missing, are compared in full. The hash is computed from the Arrow bytes of the
ids, vectorised: pandas' ``duplicated`` or ``factorize`` would need several times the column's size.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .frame import DERIVED_COLUMNS

__all__ = ["drop_duplicates", "text_hashes"]


def _hashable(series: pd.Series) -> pd.Series:
    if series.dtype != object:
        return series

    def key(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (list, dict)):
            return json.dumps(v, sort_keys=True, default=str)
        return v

    return series.map(key)


def _call_id_hashes(parts: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the call ids of all *parts* (in order), and which ids are given.

    Arrow-backed ids are hashed from their bytes, all parts in one pass so that equal ids hash
    equal (:func:`text_hashes`): pandas' ``duplicated`` or ``factorize`` need several times the
    column's size (1.3-1.5 GB for 10,000,000 ids).
    """
    import pyarrow as pa

    arrays = [p["call_id"].array for p in parts]
    if all(type(a) is pd.arrays.ArrowStringArray for a in arrays):
        chunks = [c for a in arrays for c in a.__arrow_array__().chunks]
        return text_hashes(pa.chunked_array(chunks, type=arrays[0].__arrow_array__().type))
    ids = pd.concat([pd.Series(a, dtype=object) for a in arrays], ignore_index=True)
    given = ids.notna().to_numpy()
    return pd.util.hash_array(ids.where(given, "").to_numpy(dtype=object)), given


def _repeated(hashes: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Mask of the given entries whose hash occurs more than once (a superset of repeated ids)."""
    repeated = np.zeros(len(hashes), dtype=bool)
    present = hashes[given]
    ordered = np.sort(present)
    repeats = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    if len(repeats):
        repeats = np.unique(repeats)
        at = np.minimum(np.searchsorted(repeats, present), len(repeats) - 1)
        repeated[given] = repeats[at] == present
    return repeated


_HASH_SLICE = 1 << 20  # bytes of text hashed at once: the temporaries are ~16 bytes per byte
_MUL = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime, as the polynomial's base


def text_hashes(array) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of every string of an Arrow string array (chunked or not), and its validity.

    Equal strings in one call hash equal; different ones collide rarely, and callers compare the
    values of rows that collide. Vectorised over the bytes: when every non-empty string has the
    same length (call ids are UUIDs) eight bytes at a time, otherwise a slice of strings at a time.
    """
    import pyarrow as pa

    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    views = []
    widths: set[int] = set()
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        large = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
        buffers = chunk.buffers()
        offset_buffer, data_buffer = buffers[1], buffers[2]
        assert offset_buffer is not None  # a text or binary array always has its offsets
        offsets = np.frombuffer(memoryview(offset_buffer), dtype=np.int64 if large else np.int32)
        offsets = offsets[chunk.offset:chunk.offset + len(chunk) + 1].astype(np.int64)
        data = np.frombuffer(memoryview(data_buffer), dtype=np.uint8) if data_buffer is not None \
            else np.zeros(0, np.uint8)
        widths.update(np.unique(np.diff(offsets)).tolist())
        views.append((chunk, offsets, data))
    widths.discard(0)
    fixed = widths.pop() if len(widths) == 1 else None
    out = np.zeros(sum(len(c) for c in chunks), dtype=np.uint64)
    valid = np.zeros(len(out), dtype=bool)
    at = 0
    for chunk, offsets, data in views:
        n = len(chunk)
        valid[at:at + n] = chunk.is_valid().to_numpy(zero_copy_only=False)
        a = 0
        while a < n:
            b = int(np.searchsorted(offsets, offsets[a] + _HASH_SLICE, side="right")) - 1
            b = min(max(b, a + 1), n)
            out[at + a:at + b] = (_hash_fixed(data, offsets[a:b + 1], fixed) if fixed
                                  else _hash_slice(data, offsets[a:b + 1]))
            a = b
        at += n
    return out, valid


def _hash_fixed(data: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """Strings all *width* bytes long (or empty): their bytes taken eight at a time as words."""
    lengths = np.diff(offsets)
    h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    full = np.flatnonzero(lengths == width)
    if len(full):
        starts = offsets[:-1][full]
        rows = data[starts[:, None] + np.arange(width)]  # (strings, width) bytes
        acc = h[full]
        if width >= 8:
            words = np.ascontiguousarray(rows[:, :width // 8 * 8]).view(np.uint64)
            for k in range(words.shape[1]):
                acc ^= words[:, k]
                acc *= _MUL
        for j in range(width // 8 * 8, width):
            acc ^= rows[:, j].astype(np.uint64)
            acc *= _MUL
        h[full] = acc
    return _mix(h)


def _hash_slice(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    lo, hi = int(offsets[0]), int(offsets[-1])
    lengths = np.diff(offsets)
    h = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    if hi > lo:
        starts = offsets[:-1] - lo
        pos = np.arange(hi - lo, dtype=np.int64) - np.repeat(starts, lengths)
        powers = np.ones(int(lengths.max()), dtype=np.uint64)  # P**0, P**1, ... (wrapping)
        powers[1:] = np.cumprod(np.full(len(powers) - 1, _MUL, dtype=np.uint64))
        terms = data[lo:hi].astype(np.uint64) * powers[pos]
        nonempty = lengths > 0
        h[nonempty] += np.add.reduceat(terms, starts[nonempty])
    return _mix(h)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole hash."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def drop_duplicates(parts: list[pd.DataFrame], *, dedupe: bool) -> tuple[list[pd.DataFrame], int, int]:
    """Drop exact duplicates across *parts* (in source order; the first delivery is kept).

    Returns (parts, duplicates removed, call ids with differing callbacks). The same callback
    delivered twice differs only in when we received it. Two copies share their call id, so only
    rows whose call id (by its hash) repeats somewhere, or is missing, are compared in full: those
    few rows are gathered from every part, so that a duplicate in the last block of a file of a
    call first seen in its first block is found without joining the parts first.
    """
    if not parts:
        return parts, 0, 0
    hashes, given = _call_id_hashes(parts)
    repeated = _repeated(hashes, given)
    del hashes
    candidates = repeated | ~given
    if not candidates.any():
        return parts, 0, 0
    bounds = np.cumsum([0] + [len(p) for p in parts])
    subset = list(dict.fromkeys(c for p in parts for c in p.columns
                                if c not in ("received_at", "_seq") and c not in DERIVED_COLUMNS))
    pieces = []
    for p, lo, hi in zip(parts, bounds[:-1], bounds[1:], strict=True):
        rows = np.flatnonzero(candidates[lo:hi])
        if len(rows):
            piece = p.iloc[rows]
            pieces.append(pd.DataFrame({c: (piece[c].astype(object) if isinstance(piece[c].dtype, pd.CategoricalDtype)
                                            else piece[c]) for c in subset if c in piece.columns}))
    keyed = pd.concat(pieces, ignore_index=True, sort=False).reindex(columns=subset)
    del pieces
    keyed = pd.DataFrame({c: _hashable(keyed[c]) for c in subset})
    exact = np.zeros(len(candidates), dtype=bool)
    exact[np.flatnonzero(candidates)[keyed.duplicated(keep="first").to_numpy()]] = True
    del keyed
    left_rows = np.flatnonzero(repeated & ~exact)
    left = pd.concat([p["call_id"].iloc[left_rows[(left_rows >= lo) & (left_rows < hi)] - lo].astype(object)
                      for p, lo, hi in zip(parts, bounds[:-1], bounds[1:], strict=True)], ignore_index=True)
    conflicting = int(left[left.duplicated()].nunique())
    if not dedupe or not exact.any():
        return parts, 0, conflicting
    out = []
    for p, lo, hi in zip(parts, bounds[:-1], bounds[1:], strict=True):
        gone = exact[lo:hi]
        out.append(_keep_rows(p, ~gone) if gone.any() else p)
    return out, int(exact.sum()), conflicting


def _keep_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame[keep]``, consuming *frame*: each column is released once filtered, so that the peak
    is one frame plus one column, not two frames. Arrow-backed text is filtered by Arrow itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pa.array(keep)
    names = list(frame.columns)
    index = frame.index[keep]
    columns = {}
    for i, name in enumerate(names):
        array = frame[name].array
        if type(array) is pd.arrays.ArrowStringArray:
            columns[i] = pd.arrays.ArrowStringArray(pc.filter(array.__arrow_array__(), mask))
        else:
            columns[i] = array[keep]
        del array
        del frame[name]
    out = pd.DataFrame(columns, index=index, copy=False)
    out.columns = names
    return out
