"""The rows of a plan as columns: :class:`PlanRows`, a read-only sequence of :class:`RowPlan`.

A million-row plan is not a million Python objects. Rows planned column-wise are held as
columns — ids, callees, content keys, occurrences (Arrow text and numpy arrays, each frozen),
the group each row belongs to (:class:`~cmvoice_nb.campaign.plan._group.RowGroup`: the fields its
rows share, validated once) and the pieces of each row's texts (the frame's own Arrow columns
where a placeholder says a cell as written) — and ``rows[i]`` makes a light, frozen
:class:`RowPlan` view of row *i* on access. Rows the per-row path planned (a cell the columns
cannot read as it would, a group whose instruction cannot be built) are kept as the
:class:`RowPlan` it made.

What does not change, and what is computed when:

* a row's payload bytes are its group's JSON with the row's number, id and texts filled in: they
  are made again, identically, from the frozen columns each time a view is asked for them (the
  view keeps them while it lives); nothing per row is stored for them;
* a row's payload hash is computed once, into a column of 32-byte digests filled a block of
  rows at a time on first use, and never changes; :meth:`PlanRows.registration` streams the
  rows the journal registers from the columns, in id order, without a view per row.

The rows of an A/B plan (:mod:`~cmvoice_nb.campaign.plan._abrows`) are columns too: every
variant's groups and texts, and each row's variant as a small code into a tuple of names.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from ...instructions import instruction_from_json
from ...wire import json_text
from ._group import BLOCK, Labels, RowGroup, fill, text_array
from ._rows import FrozenRowPlan, RowPlan

__all__ = ["PlanRows"]


class _Hashes:
    """Every row's payload hash, computed once a block at a time (32 bytes a row) and then kept."""

    def __init__(self, n: int) -> None:
        self.digests = bytearray(32 * n)
        self.done = bytearray((n + BLOCK - 1) // BLOCK)
        self.lock = threading.Lock()


class PlanRows(Sequence[RowPlan]):
    """The rows of a :class:`~cmvoice_nb.campaign.CampaignPlan`: a read-only sequence of frozen :class:`RowPlan`.

    ``rows[i]`` is row *i* (a view made from the columns, or the row the per-row path planned);
    slices are tuples; ``rows[i] = …`` raises ``TypeError``. The planner fills a plan's rows in
    (problems found over all rows, repeated callees) before the plan freezes them.
    """

    def __init__(self, *, index: Any, group: Any, groups: Sequence[RowGroup], ids: Any, callees: Any, contents: Any,
                 occurrence: Any, given: Any, texts: dict | None = None, explicit: dict | None = None,
                 number_problems: dict | None = None, extra: dict | None = None, duplicate: Any = None,
                 dropped: Any = None, suppressed: dict | None = None, variant: tuple | None = None) -> None:
        import numpy as np

        n = len(group)
        # the plan's labels (a pandas index), in place of Sequence.index(): rows are found by position
        self.index = index  # type: ignore[method-assign]
        self._labels, self._n = Labels(index), n
        self._group, self._groups = group, list(groups)
        self._ids, self._callees, self._contents = ids, callees, contents
        self._occurrence, self._given = occurrence, given
        self._texts = dict(texts or {})
        self._explicit: dict[int, RowPlan] = dict(explicit or {})
        self._number_problems = dict(number_problems or {})
        self._extra: dict[int, Any] = {k: list(v) for k, v in (extra or {}).items()}
        self._duplicate = duplicate if duplicate is not None else np.full(n, -1, dtype=np.int64)
        self._dropped = dropped if dropped is not None else np.zeros(n, dtype=bool)
        self._suppressed = dict(suppressed or {})
        # each row's A/B variant as (codes, names): names[codes[i]]; None without a test
        self._variant = variant
        self._valid = None
        self._hashes = _Hashes(n)
        self._cache: tuple | None = None  # the last block of values read for views (see _block)

    @classmethod
    def from_rows(cls, rows: Sequence[RowPlan], *, index: Any = None) -> PlanRows:
        """A sequence of the given rows as they are (each kept as the object it is)."""
        import numpy as np
        import pandas as pd

        rows = list(rows)
        n = len(rows)
        return cls(index=pd.RangeIndex(n) if index is None else index, group=np.full(n, -1, dtype=np.int32),
                   groups=(), ids=text_array([r.instruction_id for r in rows]),
                   callees=text_array([r.callee or "" for r in rows]), contents=text_array([r.content for r in rows]),
                   occurrence=np.array([r.occurrence for r in rows], dtype=np.int64),
                   given=np.array([bool(r.id_given) for r in rows], dtype=bool), explicit=dict(enumerate(rows)))

    # ------------------------------------------------------------------ the sequence
    def __len__(self) -> int:
        return self._n

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            return tuple(self._views(range(*item.indices(self._n))))
        position = int(item)
        if position < 0:
            position += self._n
        if not 0 <= position < self._n:
            raise IndexError("plan row index out of range")
        return self._views([position])[0]

    def __iter__(self) -> Iterator[RowPlan]:
        for start in range(0, self._n, BLOCK):
            yield from self._views(range(start, min(start + BLOCK, self._n)))

    def __reversed__(self) -> Iterator[RowPlan]:
        for position in range(self._n - 1, -1, -1):
            yield self[position]

    def __eq__(self, other: object) -> bool:
        """Equal to any tuple, list or plan rows holding equal rows in the same order (``plan.rows == ()``)."""
        if not isinstance(other, (PlanRows, tuple, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<PlanRows: {self._n} rows, {len(self._explicit)} planned one by one>"

    def __reduce__(self) -> tuple:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_hashes", "_labels", "_cache")}
        return _rebuild, (state,)

    def _views(self, positions: Sequence[int]) -> list[RowPlan]:
        """Rows at *positions*: the kept row of a position planned one by one, else a view from the columns."""
        import numpy as np
        import pyarrow as pa

        at = np.asarray(positions, dtype=np.int64)
        if not len(at):
            return []
        explicit = self._explicit
        grouped = at[self._group[at] >= 0]
        made: dict[int, RowPlan] = {}
        if len(grouped):
            take = pa.array(grouped)
            frozen = self._valid is not None
            variants = self._variants_at(grouped)
            values = zip(grouped.tolist(), self._labels.many(grouped), self._ids.take(take).to_pylist(),
                         self._callees.take(take).to_pylist(), self._contents.take(take).to_pylist(),
                         self._occurrence[grouped].tolist(), self._given[grouped].tolist(),
                         self._duplicate[grouped].tolist(), self._dropped[grouped].tolist(), variants, strict=True)
            for p, label, iid, callee, content, occurrence, given, dup, dropped, variant in values:
                row = RowPlan.__new__(RowPlan)
                row.position, row.label, row.instruction_id, row.callee = p, label, iid, callee
                row._instruction, row._problems = None, self.problems_at(p) or None
                row.duplicate_of = self._labels.at(dup) if dup >= 0 else None
                row.dropped, row.content, row.occurrence, row.id_given = dropped, content, occurrence, given
                row._payload = row._payload_hash = None
                row.wave, row.base_id, row.ended = 1, None, ()
                row.suppressed, row._group, row._at = self._suppressed.get(p), self, p
                row.variant = variant
                if frozen:  # (what freeze() would do: nothing to compute, problems a tuple already)
                    row.__class__ = FrozenRowPlan
                made[p] = row
        return [made[p] if p in made else explicit[p] for p in at.tolist()]

    def _variants_at(self, positions: Any) -> list:
        """The A/B variant of the rows at *positions* (None each without a test)."""
        if self._variant is None:
            return [None] * len(positions)
        codes, names = self._variant
        return [names[c] for c in codes[positions].tolist()]

    def variant_pairs(self) -> Iterator[tuple[str, str]]:
        """``(row id, variant)`` of every row with an A/B variant, in row order, from the columns.

        What :meth:`Journal.assign_variants <cmvoice_nb.campaign.Journal.assign_variants>` stores; a
        plan without a test has none (rows held one by one say their own).
        """
        explicit = self._explicit
        if self._variant is None:
            for p in sorted(explicit):
                held = explicit[p]
                if held.variant is not None:
                    yield (held.base_id or held.instruction_id), held.variant
            return
        codes, names = self._variant
        for start in range(0, self._n, BLOCK):
            ids = self._ids.slice(start, BLOCK).to_pylist()
            for p, (iid, code) in enumerate(zip(ids, codes[start:start + BLOCK].tolist(), strict=True), start):
                row = explicit.get(p)
                if row is None:
                    yield iid, names[code]
                elif row.variant is not None:
                    yield (row.base_id or row.instruction_id), row.variant

    def held_out(self) -> Any:
        """Which rows are in the A/B test's holdout (a numpy bool array; never called)."""
        import numpy as np

        if self._variant is None or "holdout" not in self._variant[1]:
            return np.zeros(self._n, dtype=bool)
        codes, names = self._variant
        return codes == names.index("holdout")

    # ------------------------------------------------------------------ per-row facts from the columns
    def problems_at(self, position: int) -> tuple:
        """The problems of a row held in the columns, in the order the per-row path finds them."""
        group = self._groups[self._group[position]]
        bad = self._number_problems.get(position)
        found = group.head + ((bad,) if bad is not None else ()) + group.tail
        extra = self._extra.get(position)
        return found + tuple(extra) if extra else found

    def add_problem(self, position: int, problem: Any) -> None:
        """Add a problem found over all rows (a repeated id, the audio check) while the plan is being made."""
        if self._valid is not None:
            raise AttributeError("the rows of a plan do not change once it is made")
        row = self._explicit.get(position)
        if row is not None:
            row.problems.append(problem)
        else:
            self._extra.setdefault(position, []).append(problem)

    def mark_duplicates(self, positions: Any, firsts: Any, *, drop: bool) -> None:
        """Mark rows calling the callee of an earlier row (*firsts*: its position), and drop them on request."""
        if self._valid is not None:
            raise AttributeError("the rows of a plan do not change once it is made")
        import numpy as np

        positions, firsts = np.asarray(positions, dtype=np.int64), np.asarray(firsts, dtype=np.int64)
        self._duplicate[positions] = firsts
        self._dropped[positions] = bool(drop)
        if self._explicit:
            own = np.isin(positions, np.fromiter(self._explicit, dtype=np.int64, count=len(self._explicit)))
            for p, f in zip(positions[own].tolist(), firsts[own].tolist(), strict=True):
                row = self._explicit[p]
                row.duplicate_of, row.dropped = self._labels.at(f), bool(drop)

    def valid_mask(self):
        """Which rows are valid (a numpy bool array; read-only once the plan is made)."""
        if self._valid is not None:
            return self._valid
        valid = self._grouped_with([not g.problems for g in self._groups])
        valid[[p for p in list(self._number_problems) + list(self._extra) if self._group[p] >= 0]] = False
        for p, row in self._explicit.items():
            valid[p] = row.valid
        return valid

    def freeze(self) -> PlanRows:
        """Fix the rows (returns them): from now on nothing in them changes."""
        if self._valid is None:
            for p, row in self._explicit.items():
                self._explicit[p] = row.freeze()
            self._extra = {k: tuple(v) for k, v in self._extra.items()}
            self._valid = self.valid_mask()
            self._read_only()
        return self

    def _read_only(self) -> None:
        assert self._valid is not None  # called once the rows are frozen (freeze(), a frozen plan unpickled)
        for arr in (self._valid, self._group, self._occurrence, self._given, self._duplicate, self._dropped):
            arr.flags.writeable = False

    # ------------------------------------------------------------------ what a view asks its source
    def buildable(self, row: RowPlan) -> bool:
        return True

    def _block(self, at: int) -> tuple[int, dict]:
        """``(index in block, lists)``: the ids, callees and texts of the block holding row *at*, as Python lists.

        The last block read is kept (a view asked for its payload is most often next to the last):
        one Arrow conversion per block instead of one per row and field.
        """
        import numpy as np

        block = at // BLOCK
        cached = self._cache
        if cached is None or cached[0] != block:
            start, stop = block * BLOCK, min((block + 1) * BLOCK, self._n)
            lists = {"id": self._ids.slice(start, stop - start).to_pylist(),
                     "callee": self._callees.slice(start, stop - start).to_pylist()}
            for key, texts in self._texts.items():
                lists[key] = texts.many(np.arange(start, stop))
            cached = self._cache = (block, lists)
        return at - block * BLOCK, cached[1]

    def _values(self, row: RowPlan, *, canonical: bool | None = None) -> dict:
        group = self._groups[self._group[row._at]]
        number: Any = row.callee if group.number_key == "callee" else row.callee.split(";")
        values = {"number": number, "id": row.instruction_id}
        if group.text_keys:
            i, lists = self._block(row._at)
            for key in group.text_keys:
                values[key] = lists[key][i]
        if canonical is None:
            return values
        return {slot: json_text(v, canonical=canonical) for slot, v in values.items()}

    def _with_values(self, row: RowPlan, base: dict) -> dict:
        """*base* (its group's values) with the row's number, id and texts; without a number it could not read."""
        group = self._groups[self._group[row._at]]
        values = self._values(row)
        out = dict(base)
        if row._at in self._number_problems:
            out.pop(group.number_key, None)
        else:
            out[group.number_key] = values["number"]
        out["instruction-id"] = values["id"]
        for key in group.text_keys:
            out[key] = values[key]
        return out

    def instruction_for(self, row: RowPlan) -> Any:
        group = self._groups[self._group[row._at]]
        return instruction_from_json(group.app, self._with_values(row, group.data))

    def wire_json(self, row: RowPlan) -> dict:
        """The row's instruction's ``to_json()``, from its group's without building it."""
        group = self._groups[self._group[row._at]]
        return self._with_values(row, group._wire)

    def payload_for(self, row: RowPlan) -> bytes:
        """The row's payload bytes: its group's body with the row's number, id and texts filled in."""
        group = self._groups[self._group[row._at]]
        return fill(group._body, self._values(row, canonical=False)).encode("utf-8")

    def hash_for(self, row: RowPlan) -> str:
        """The row's payload hash: the kept digest of the planned row, else computed for the changed copy."""
        i, lists = self._block(row._at)
        if row.instruction_id == lists["id"][i] and row.callee == lists["callee"][i]:
            self._hash_blocks([row._at])
            return bytes(self._hashes.digests[32 * row._at:32 * row._at + 32]).hex()
        group = self._groups[self._group[row._at]]
        return hashlib.sha256(fill(group._canonical, self._values(row, canonical=True)).encode("utf-8")).hexdigest()

    def numbers_of(self, row: RowPlan) -> list[str]:
        if row._at in self._number_problems:
            return []
        group = self._groups[self._group[row._at]]
        return row.callee.split(";") if group.number_key == "callees" else [row.callee]

    def prompt_files_of(self, row: RowPlan) -> list:
        return list(self._groups[self._group[row._at]].prompt_files)

    # ------------------------------------------------------------------ hashes, a block at a time
    def _hash_blocks(self, positions: Sequence[int]) -> None:
        """Compute the digests of every valid grouped row in the blocks holding *positions* (once each)."""
        hashes = self._hashes
        if len(positions) == 1 and hashes.done[positions[0] // BLOCK]:
            return  # (a view asking for its own hash: most often computed already)
        for block in sorted({int(p) // BLOCK for p in positions}):
            if hashes.done[block]:
                continue
            with hashes.lock:
                if not hashes.done[block]:
                    self._hash_block(block)
                    hashes.done[block] = 1

    def _hash_block(self, block: int) -> None:
        """The digests of a block's valid grouped rows: canonical texts joined by Arrow, SHA-256 per row.

        A value JSON would escape (a quote, a backslash, a control character) or a list of callees
        makes its row's text in Python instead, with :func:`~cmvoice_nb.wire.json_text`.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        start, stop = block * BLOCK, min((block + 1) * BLOCK, self._n)
        group = self._group[start:stop]
        valid = self.valid_mask()[start:stop]
        digests = self._hashes.digests
        quote, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
        for code in np.unique(group[(group >= 0) & valid]).tolist():
            g = self._groups[code]
            rows = np.flatnonzero((group == code) & valid) + start
            take = pa.array(rows)
            columns = {"id": self._ids.take(take), "number": self._callees.take(take)}
            for key in g.text_keys:
                columns[key] = self._texts[key].joined(rows)
            parts = g._canonical
            slots = [parts[i] for i in range(1, len(parts), 2)]
            plain = np.ones(len(rows), dtype=bool)
            for slot in slots:
                plain &= ~pc.fill_null(pc.match_substring_regex(columns[slot], r'[\x00-\x1f"\\]'), True).to_numpy(
                    zero_copy_only=False)
            if g.number_key == "callees":
                plain[:] = False
            args: list = [pa.scalar(parts[0], pa.large_string())]
            for slot, tail in zip(slots, parts[2::2], strict=True):
                args += [quote, columns[slot], quote, pa.scalar(tail, pa.large_string())]
            texts = pc.binary_join_element_wise(*args, empty)
            offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
            data = memoryview(texts.buffers()[2]) if len(texts) else memoryview(b"")
            sha256 = hashlib.sha256
            spans = zip(rows[plain].tolist(), offsets[:-1][plain].tolist(), offsets[1:][plain].tolist(), strict=True)
            for p, a, b in spans:
                digests[32 * p:32 * p + 32] = sha256(data[a:b]).digest()
            for j in np.flatnonzero(~plain).tolist():  # the rare values JSON escapes
                values = {s: columns[s][j].as_py() for s in slots}
                if g.number_key == "callees":
                    values["number"] = values["number"].split(";")
                text = fill(parts, {s: json_text(v, canonical=True) for s, v in values.items()})
                p = int(rows[j])
                digests[32 * p:32 * p + 32] = sha256(text.encode("utf-8")).digest()

    # ------------------------------------------------------------------ the journal's view
    def sendable_mask(self):
        """Valid, not dropped, not on the do-not-call list."""
        import numpy as np

        mask = self.valid_mask() & ~self._dropped & ~self.held_out()
        if self._suppressed:
            mask[np.fromiter(self._suppressed, dtype=np.int64, count=len(self._suppressed))] = False
        for p, row in self._explicit.items():
            mask[p] = row.sendable
        return mask

    def registration(self, positions: Any = None) -> Iterator[tuple]:
        """The journal's facts of the rows at *positions* (default: every sendable row), in id order.

        ``(instruction_id, row_label, callee, payload_hash, None, wave, base_id)`` per row, as
        :meth:`Journal.register <cmvoice_nb.campaign.Journal.register>` takes them; made
        :data:`BLOCK` rows at a time from the columns (no view per row).
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        chosen = np.flatnonzero(self.sendable_mask()) if positions is None else np.asarray(positions, dtype=np.int64)
        if not len(chosen):
            return
        order = chosen[pc.array_sort_indices(self._ids.take(pa.array(chosen))).to_numpy()]
        for start in range(0, len(order), BLOCK):
            part = order[start:start + BLOCK]
            self._hash_blocks(part[self._group[part] >= 0].tolist())
            take = pa.array(part)
            for p, label, iid, callee in zip(part.tolist(), self._labels.many(part), self._ids.take(take).to_pylist(),
                                             self._callees.take(take).to_pylist(), strict=True):
                row = self._explicit.get(p)
                if row is not None:
                    yield (row.instruction_id, str(row.label), row.callee, row.payload_hash, None, row.wave,
                           row.base_id or row.instruction_id)
                else:
                    digest = bytes(self._hashes.digests[32 * p:32 * p + 32]).hex()
                    yield (iid, str(label), callee, digest, None, 1, iid)

    # ------------------------------------------------------------------ changed copies
    def _copy(self, **changes: Any) -> PlanRows:
        new = PlanRows.__new__(PlanRows)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        new._cache = None
        return new

    def with_suppressed(self, reasons: dict) -> PlanRows:
        """A copy whose rows at the keys of *reasons* are suppressed (payloads and hashes shared: they do not change).
        """
        explicit = dict(self._explicit)
        merged = dict(self._suppressed)
        for p, reason in reasons.items():
            if p in explicit:
                explicit[p] = explicit[p].replace(suppressed=reason)
            else:
                merged[p] = reason
        return self._copy(_explicit=explicit, _suppressed=merged)

    def with_ids(self, ids: Any, explicit: dict) -> PlanRows:
        """A copy with new instruction ids (a re-keyed plan): its hashes are computed anew."""
        return self._copy(_ids=ids, _explicit=explicit, _hashes=_Hashes(self._n))

    # ------------------------------------------------------------------ what the plan reads of all rows
    def at(self, positions: Any) -> list[RowPlan]:
        """The rows at *positions* (a list)."""
        return self._views(positions)

    def ids(self) -> Any:
        """Every row's instruction id (a pyarrow text array)."""
        return self._ids

    def callees(self) -> Any:
        """Every row's callee text (a pyarrow text array; ``""`` for none)."""
        return self._callees

    def ids_may_repeat(self) -> bool:
        """False when no id was given and every content key is digits: derived ids cannot repeat then.

        A derived id is its name part (cut to one length per length of the rest, the only ``~`` in
        it) and ``-<key>-<digits>-<occurrence>``, and each (content, occurrence) occurs once.
        """
        import pyarrow.compute as pc

        if self._given.any() or any(r.id_given for r in self._explicit.values()):
            return True
        return not pc.all(pc.match_substring_regex(self._contents, "^[0-9]+$")).as_py()

    def explicit(self) -> dict:
        """Position → the row the per-row path planned (rows not held in the columns)."""
        return self._explicit

    def columns(self) -> dict:
        """The per-row columns (read-only once the plan is made)."""
        return {"group": self._group, "occurrence": self._occurrence, "given": self._given,
                "duplicate": self._duplicate, "dropped": self._dropped, "contents": self._contents}

    def _grouped_with(self, per_group: Any, extra: Any = ()) -> Any:
        """A mask of grouped rows whose group is flagged in *per_group*, plus the grouped rows in *extra*."""
        import numpy as np

        out = np.zeros(self._n, dtype=bool)
        grouped = self._group >= 0
        if grouped.any():
            flags = np.array(list(per_group) + [False], dtype=bool)
            out[grouped] = flags[self._group[grouped]]
        rows = [p for p in extra if self._group[p] >= 0]
        out[rows] = True
        return out

    def problem_positions(self):
        """Positions of the rows that have problems, in order."""
        import numpy as np

        found = self._grouped_with([bool(g.problems) for g in self._groups],
                                   list(self._number_problems) + list(self._extra))
        for p, row in self._explicit.items():
            found[p] = bool(row.problem_count)
        return np.flatnonzero(found)

    def duplicate_positions(self):
        """Positions of the rows whose callee an earlier row calls, in order."""
        import numpy as np

        found = (self._duplicate >= 0) & (self._group >= 0)
        for p, row in self._explicit.items():
            found[p] = row.duplicate_of is not None
        return np.flatnonzero(found)

    def suppressed_positions(self):
        """Positions of the rows on the do-not-call list, in order."""
        found = [p for p in self._suppressed if self._group[p] >= 0]
        found += [p for p, row in self._explicit.items() if row.suppressed]
        return sorted(found)

    def counts(self) -> dict:
        """Counts over all rows: ``valid``, ``problems``, ``duplicates``, ``dropped``, ``suppressed``, ``holdout``,
        ``to_send``."""
        import numpy as np

        grouped = self._group >= 0
        valid = self.valid_mask()
        members = (np.bincount(self._group[grouped], minlength=len(self._groups)) if self._groups
                   else np.zeros(0, dtype=np.int64))
        problems = sum(int(c) * len(g.problems) for c, g in zip(members, self._groups, strict=True))
        problems += sum(1 for p in self._number_problems if grouped[p])
        problems += sum(len(v) for p, v in self._extra.items() if grouped[p])
        suppressed = np.zeros(self._n, dtype=bool)
        suppressed[[p for p in self._suppressed if grouped[p]]] = True
        held = self.held_out() & grouped
        counts = {"valid": int(valid.sum()), "problems": problems,
                  "duplicates": int(((self._duplicate >= 0) & grouped).sum()),
                  "dropped": int((self._dropped & grouped).sum()), "suppressed": int(suppressed.sum()),
                  "to_send": int((valid & grouped & ~self._dropped & ~suppressed & ~held).sum()),
                  "holdout": int(held.sum())}
        for row in self._explicit.values():
            counts["holdout"] += row.variant == "holdout"
            counts["problems"] += row.problem_count
            counts["duplicates"] += row.duplicate_of is not None
            counts["dropped"] += bool(row.dropped)
            counts["suppressed"] += bool(row.suppressed)
            counts["to_send"] += row.sendable
        return counts


def _rebuild(state: dict) -> PlanRows:
    rows = PlanRows.__new__(PlanRows)
    rows.__dict__.update(state)
    rows._labels = Labels(rows.index)
    rows._hashes = _Hashes(rows._n)
    rows._cache = None
    if rows._valid is not None:
        rows._read_only()  # (unpickled arrays are new, writable copies)
    return rows
