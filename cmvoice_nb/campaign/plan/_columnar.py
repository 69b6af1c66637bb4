"""Column-wise campaign planning: the per-row path's rows, at column speed, for lists of different people.

A contact list has each person once, with their own number, name and message; the rest of a
row (the caller, the prompt type, the options, the voice) repeats or comes from a few columns.
The frame is planned by columns:

1. each row's **number** (and its own id, if it has one) is read per column: the text column is
   normalised at once (:func:`~cmvoice_nb.numbers.normalize_numbers`, the national-number
   patterns of phonenumbers' metadata run by Arrow), each number classed *clean* (its instruction
   cannot object), *absent*, *unreadable* (a problem of its row, with ``normalize_number``'s own
   reason) or *other*;
2. each row's **texts** (template prompts, text columns) are rendered by column
   (:mod:`~cmvoice_nb.campaign.plan._texts`): literal parts around each placeholder's column,
   each distinct date or amount formatted once per voice language, and checked (stripped, not
   empty, within the field's length) on the whole column;
3. the **rest** of each row (every other column the plan reads) is reduced to codes of distinct
   values: rows with the same rest, the same kind of number and id and the same text fields form
   a :class:`~cmvoice_nb.campaign.plan._table.RowGroup`, whose instruction is built and
   validated **once**, from its first clean row; every member's payload is that instruction's
   JSON with the row's number, id and texts filled in;
4. every other row (a number the columns cannot place, a text the per-row path would change, a
   group whose instruction cannot be built, a frame with repeated column names) is planned by
   the per-row path itself and kept as the :class:`~cmvoice_nb.campaign.plan.RowPlan` it makes.

Occurrences and derived ids are then counted over all rows in input order, as the per-row path
counts them. The result (:class:`~cmvoice_nb.campaign.plan._table.PlanRows`) equals
:func:`~cmvoice_nb.campaign.plan._reference.plan_rows_reference` row for row, payload bytes and
hashes included (``tests/campaign/test_plan_fast.py`` checks it on fuzzed frames), and holds no
Python object per row.
"""
from __future__ import annotations

import re
from typing import Any

from ..._gc import paused_gc
from ...instructions import Problem, check_field, instruction_from_json
from ...numbers import normalize_numbers
from ...spec import PHONE_PATTERN, VOICE_FIELDS
from ._cells import (
    arrow_text,
    blank_mask,
    cells,
    codes,
    combine,
    first_positions,
    mask,
    records,
    stripped_mask,
    text_codes,
)
from ._group import Labels, RowGroup, text_array
from ._ids import content_key, derive_ids, number_content
from ._reference import country_problems, plan_rows_reference
from ._rows import cell_value
from ._table import PlanRows
from ._texts import languages, text_column, varying_fields
from .templates import is_blank

__all__ = ["plan_rows_columnar"]

_IDENTITY = ("callee", "callees", "instruction-id")
_ABSENT, _CLEAN, _OTHER, _BAD = 0, 1, 2, 3
_PHONE = re.compile(PHONE_PATTERN)
_PHONE_COLUMN = f"^(?:{PHONE_PATTERN})$"


def plan_rows_columnar(planning: Any, df: Any) -> PlanRows:
    """The rows of *df* planned column-wise (see the module), equal to the per-row path's.

    Parameters
    ----------
    planning
        The plan's :class:`~cmvoice_nb.campaign.plan._reference.Planning` (fields, defaults, caches).
    df
        The input frame (not modified).
    """
    with paused_gc():
        if len(df) == 0 or not df.columns.is_unique:  # to_dict keeps one of repeated columns: per row
            return PlanRows.from_rows(plan_rows_reference(planning, df), index=df.index)
        return _Planner(planning, df).plan()


# ------------------------------------------------------------------------------ identity fields
def _classify(planning: Any, fld: Any, record: dict) -> tuple[int, Any]:
    """``(state, value)`` of one identity field of one row: absent, clean (with its value) or other."""
    problems: list = []
    data: dict = {}
    planning.read_field(fld, record, problems, set(), data)
    if problems:
        return _OTHER, None
    if fld.key not in data:
        return _ABSENT, None
    value = data[fld.key]
    return (_CLEAN, value) if _is_clean(fld, value) else (_OTHER, None)


def _is_clean(fld: Any, value: Any) -> bool:
    """True when an instruction cannot object to *value* in identity field *fld* (nor its JSON)."""
    if check_field(fld, value):
        return False
    if fld.key in ("callee", "callees"):
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, str) and _PHONE.fullmatch(v) and ";" not in v for v in items):
            return False
    elif not isinstance(value, str) or not value:
        return False
    return True  # (text that is not valid Unicode is a problem check_field reports)


class _Planner:
    """One frame planned column-wise: each step a method, their results kept as arrays."""

    def __init__(self, planning: Any, df: Any) -> None:
        import numpy as np

        self.planning, self.df, self.n = planning, df, len(df)
        self.colmap = planning.colmap
        self.region_column = planning.region_column
        self.varying = varying_fields(planning)
        keys = {f.key for f in self.varying}
        self.rest_fields = [f for f in planning.fields if f.key not in _IDENTITY and f.key not in keys]
        self.identity = {f.key: f for f in planning.fields if f.key in _IDENTITY}
        self._codes: dict = {}
        self.absent = np.full(self.n, _ABSENT, dtype=np.int8)

    def codes_of(self, column: Any):
        if column not in self._codes:
            self._codes[column] = codes(self.df[column])
        return self._codes[column]

    # -- 1. numbers and ids
    def _regions(self) -> tuple | None:
        """Each row's country column as (codes, first cell per code, region per code), or None."""
        if self.region_column is None:
            return None
        found = self.codes_of(self.region_column)
        firsts = first_positions(found)
        values = cells(self.df, self.region_column, firsts)
        return found, values, [self.planning.region_of({self.region_column: v}) for v in values]

    def read_callee(self, fld: Any) -> tuple:
        """``(states, numbers, unreadable)``: per row; numbers as Arrow (null unless clean); unreadable rows' facts."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        column, n, planning = self.colmap[fld.key], self.n, self.planning
        arr, odd = _number_texts(self.df[column])
        if arr is None:
            return self._per_cell(fld, column) + ({},)
        regions = self._regions()
        states = np.full(n, _OTHER, dtype=np.int8)  # (a nested cell stays "other": the per-row path's)
        blank = blank_mask(arr) & ~odd
        numbers = pa.nulls(n, pa.large_string())
        if blank.any():  # a blank cell takes the default number (read in the row's country), or has none
            per = regions[0] if regions is not None else np.zeros(n, dtype=np.int64)
            fill: dict[int, Any] = {}
            for code in np.unique(per[blank]).tolist():
                record = {column: None}
                if regions is not None:
                    record[self.region_column] = regions[1][code]
                state, value = _classify(planning, fld, record)
                rows = np.flatnonzero(blank & (per == code))
                states[rows] = state
                if state == _CLEAN:
                    fill.update((r, value) for r in rows.tolist())
            if fill:
                where = np.zeros(n, dtype=bool)
                where[list(fill)] = True
                numbers = pc.replace_with_mask(numbers, pa.array(where),
                                               pa.array([fill[r] for r in sorted(fill)], pa.large_string()))
        rows = np.flatnonzero(~blank & ~odd)
        unreadable: dict[int, tuple] = {}
        if len(rows):
            texts = arr.take(pa.array(rows)) if len(rows) < n else arr
            region: Any = planning.region
            if regions is not None:
                region = np.array([r or "" for r in regions[2]], dtype=object)[regions[0][rows]]
            found, reasons = normalize_numbers(texts, region=region, style=planning.number_style, arrow=True)
            clean = mask(pc.and_(pc.match_substring_regex(found, _PHONE_COLUMN),
                                 pc.less_equal(pc.utf8_length(found), pa.scalar(fld.max_length or 10 ** 6))))
            states[rows[clean]] = _CLEAN
            full = np.full(n, -1, dtype=np.int64)
            full[rows] = np.arange(len(rows))
            taken = found.take(pa.array(full, mask=full < 0))
            numbers = pc.if_else(pa.array(full >= 0), taken, numbers)
            bad = np.flatnonzero(reasons != None)  # noqa: E711 - an object array: elementwise
            if len(bad):
                read = texts.take(pa.array(bad)).to_pylist()
                where = rows[bad].tolist()
                found = zip(where, read, cells(self.df, column, where), reasons[bad].tolist(), strict=True)
                for i, text, cell, reason in found:
                    # the per-row path's problem, with the value it read; the row shows the cell as written
                    states[i] = _BAD
                    unreadable[i] = (Problem(fld.key, text.strip(), f"not a phone number: {reason}"),
                                     str(cell).strip(), content_key(str(cell)))
        return states, numbers, unreadable

    def _per_cell(self, fld: Any, column: Any) -> tuple:
        """``(states, values)`` of an identity column read one distinct cell (and country) at a time.

        For a column that is not all text (spreadsheet floats among the numbers, a list of callees).
        A single number's cells are normalised all at once (exactly ``normalize_number`` per value).
        """
        import numpy as np
        import pyarrow as pa

        found = self.codes_of(column)
        with_country = self.region_column is not None and getattr(fld, "phone", False)
        if with_country:
            found = combine([found, self.codes_of(self.region_column)], self.n)  # one cell per (number, country)
        firsts = first_positions(found)
        values = cells(self.df, column, firsts)
        countries = cells(self.df, self.region_column, firsts) if with_country else None
        states = np.full(len(firsts), _OTHER, dtype=np.int8)
        out: list = [None] * len(firsts)
        single = fld.kind == "str" and getattr(fld, "phone", False)
        texts, regions, where = [], [], []
        for i, cell in enumerate(values):
            record = {column: cell} if countries is None else {column: cell, self.region_column: countries[i]}
            if not single or is_blank(cell):
                states[i], out[i] = _classify(self.planning, fld, record)  # (a blank cell: a default, or nothing)
                continue
            try:
                texts.append(cell_value(fld, cell))
            except ValueError:
                continue
            regions.append(self.planning.region_of(record))
            where.append(i)
        if where:
            region = regions if countries is not None else self.planning.region
            got = normalize_numbers(texts, region=region, style=self.planning.number_style)[0].tolist()
            for i, number in zip(where, got, strict=True):
                if number is not None and _is_clean(fld, number):
                    states[i], out[i] = _CLEAN, number
        if fld.kind == "list":
            return states[found], (found, out)
        arr = pa.array([v if s == _CLEAN else None for s, v in zip(states.tolist(), out, strict=True)],
                       type=pa.large_string())
        return states[found], arr.take(pa.array(found))

    def read_id(self, fld: Any) -> tuple:
        """``(states, ids)``: each row's own instruction id, Arrow text (null unless clean)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        column = self.colmap[fld.key]
        arr = arrow_text(self.df[column])
        if arr is None:
            return self._per_cell(fld, column)
        states = np.full(self.n, _OTHER, dtype=np.int8)
        blank = blank_mask(arr)
        fits = pc.less_equal(pc.utf8_length(arr), pa.scalar(fld.max_length or 10 ** 6))
        clean = ~blank & stripped_mask(arr) & mask(fits)
        states[clean] = _CLEAN
        if blank.any():
            state, value = _classify(self.planning, fld, {column: None})  # a default id, or none
            states[blank] = state
            if state == _CLEAN:
                arr = pc.if_else(pa.array(blank), pa.scalar(value, pa.large_string()), arr)
        return states, arr

    # -- 3. groups
    def build_group(self, position: int, record: dict, number: Any, ident: str, number_key: str,
                    text_keys: tuple, texts: dict) -> RowGroup | None:
        """The group of the rows like the one at *position*: its instruction built and validated once."""
        planning = self.planning
        head: list = []
        tail: list = []
        bad: set = set()
        data: dict = {}
        planning.read_region(record, head, bad)
        for fld in self.rest_fields:
            planning.read_field(fld, record, tail, bad, data)
        planning.read_voice(record, tail, bad, data)
        wire = dict(data)
        wire[number_key], wire["instruction-id"] = number, ident
        for key in text_keys:
            wire[key] = texts[key].at(position)
        try:
            instruction = instruction_from_json(planning.spec.name, wire)
        except Exception:  # noqa: BLE001 - the per-row path reports it, with its message
            return None
        found = []
        for p in instruction.validate():
            field_key = getattr(p, "field", "") or ""
            if field_key.split(".")[0] in bad:
                continue
            found.append(Problem(field_key, getattr(p, "value", None), getattr(p, "message", str(p))))
        own = set(_IDENTITY) | set(text_keys)
        expected = number if isinstance(number, list) else [number]
        if any(p.field.split(".")[0] in own for p in found) or list(instruction.callee_list()) != expected:
            return None  # the row's own values matter to validation here: plan these rows one by one
        if {key for key, _ in instruction.prompt_files()} & set(text_keys):
            return None  # a File prompt from a row's own text is checked per row
        group = RowGroup(planning.spec.name, data, number_key, text_keys, head, tail + found, bad)
        return group if group.set_templates(instruction) else None

    def plan(self) -> PlanRows:
        import numpy as np
        import pyarrow as pa

        planning, df, n, colmap = self.planning, self.df, self.n, self.colmap
        # 1. the rest of each row, as codes of distinct values
        rest = [colmap[f.key] for f in self.rest_fields if f.key in colmap]
        rest += [colmap["voice." + f.key] for f in VOICE_FIELDS if "voice." + f.key in colmap]
        if self.region_column is not None:
            rest.append(self.region_column)
        rest_key = combine([self.codes_of(c) for c in dict.fromkeys(rest)], n)

        # 2. numbers and ids
        absent = self.absent
        s_callee, numbers, unreadable = absent, pa.nulls(n, pa.large_string()), {}
        if "callee" in self.identity:
            if "callee" in colmap:
                s_callee, numbers, unreadable = self.read_callee(self.identity["callee"])
            else:
                state, value = _classify(planning, self.identity["callee"], {})
                s_callee = np.full(n, state, dtype=np.int8)
                numbers = pa.array([value] * n, type=pa.large_string()) if state == _CLEAN else numbers
        s_callees, callee_lists = absent, None
        if "callees" in self.identity:
            if "callees" in colmap:
                s_callees, callee_lists = self._per_cell(self.identity["callees"], colmap["callees"])
            else:
                state, value = _classify(planning, self.identity["callees"], {})
                s_callees, callee_lists = np.full(n, state, dtype=np.int8), (np.zeros(n, dtype=np.int64), [value])
        s_id, ids = absent, pa.nulls(n, pa.large_string())
        if "instruction-id" in self.identity:
            if "instruction-id" in colmap:
                s_id, ids = self.read_id(self.identity["instruction-id"])
            else:
                state, value = _classify(planning, self.identity["instruction-id"], {})
                s_id = np.full(n, state, dtype=np.int8)
                ids = pa.array([value] * n, type=pa.large_string()) if state == _CLEAN else ids
        self._codes.clear()

        # 3. texts
        langs = languages(planning, df)
        texts, present, ok = {}, {}, np.ones(n, dtype=bool)
        for fld in self.varying:
            texts[fld.key], present[fld.key], fine = text_column(planning, fld, df, langs)
            ok &= fine

        # 4. groups: one per rest × kind of number × kind of id × which texts; built from a clean row
        by_callees = (s_callee == _ABSENT) & (s_callees == _CLEAN)
        single = ((s_callee == _CLEAN) | (s_callee == _BAD)) & (s_callees == _ABSENT)
        candidate = (single | by_callees) & (s_id != _OTHER) & ok
        parts = [rest_key, by_callees.astype(np.int64), (s_id == _CLEAN).astype(np.int64)]
        parts += [present[f.key].astype(np.int64) for f in self.varying]
        group_code = combine(parts, n)
        del rest_key, parts
        stand_ins = np.flatnonzero(candidate & (s_callee != _BAD))
        firsts: dict[int, int] = {}
        if len(stand_ins):
            uniq, at = np.unique(group_code[stand_ins], return_index=True)
            firsts = dict(zip(uniq.tolist(), stand_ins[at].tolist(), strict=True))
        first_records = records(df, list(firsts.values()))
        groups: list[RowGroup] = []
        number_of: dict[int, int] = {}
        for code, position in firsts.items():
            if by_callees[position]:
                assert callee_lists is not None  # a row read by its callees list has the lists
                number: Any = callee_lists[1][callee_lists[0][position]]
            else:
                number = numbers[position].as_py()
            ident = ids[position].as_py() if s_id[position] == _CLEAN else "x"
            keys = tuple(f.key for f in self.varying if present[f.key][position])
            built = self.build_group(position, first_records[position], number, ident,
                                     "callees" if by_callees[position] else "callee", keys, texts)
            if built is not None:
                number_of[code] = len(groups)
                groups.append(built)
        lookup = np.full(int(group_code.max()) + 1, -1, dtype=np.int32)
        for code, index in number_of.items():
            lookup[code] = index
        group = np.where(candidate, lookup[group_code], -1).astype(np.int32)
        del group_code, candidate
        return self.finish(group, groups, s_callee, numbers, unreadable, by_callees, callee_lists, s_id, ids, texts)

    # -- 5. the rest row by row; then contents, occurrences and ids over all rows
    def finish(self, group, groups, s_callee, numbers, unreadable, by_callees, callee_lists, s_id, ids,
               texts) -> PlanRows:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        planning, n = self.planning, self.n
        fast = group >= 0
        slow = np.flatnonzero(~fast).tolist()
        slow_records = records(self.df, slow)
        slow_read = {p: planning.read_row(slow_records[p]) for p in slow}

        # content keys: a clean number's digits, column-wise; every other row's on its own
        clean = fast & (s_callee == _CLEAN) & ~by_callees
        cut = 1 if planning.number_style == "e164" else 2
        contents = pc.if_else(pa.array(clean), pc.utf8_slice_codeunits(numbers, cut), pa.nulls(n, pa.large_string()))
        own: dict[int, str] = {}
        for p in np.flatnonzero(fast & by_callees).tolist():
            own[p] = number_content(callee_lists[1][callee_lists[0][p]])
        for p, (_problem, _text, content) in unreadable.items():
            if fast[p]:
                own[p] = content
        for p in slow:
            own[p] = planning.content_of(slow_read[p][0], slow_records[p])
        contents = _patched(contents, own)
        occurrences = _occurrences(contents)

        given = fast & (s_id == _CLEAN)
        made = derive_ids(planning.name, planning.campaign_key, contents, occurrences)
        ids = pc.if_else(pa.array(given), ids, made)
        callees = pc.if_else(pa.array(clean), numbers, pa.nulls(n, pa.large_string()))
        own_ids: dict[int, str] = {}
        own_callees: dict[int, str] = {p: ";".join(callee_lists[1][callee_lists[0][p]])
                                       for p in np.flatnonzero(fast & by_callees).tolist()}
        for p, (_problem, text, _content) in unreadable.items():
            if fast[p]:
                own_callees[p] = text
        explicit = {}
        labels = Labels(self.df.index)
        for p in slow:
            data, problems, bad = slow_read[p]
            row = planning.finish_row(p, labels.at(p), slow_records[p], data, problems, bad,
                                      own[p], int(occurrences[p]))
            explicit[p] = row
            own_ids[p], own_callees[p] = row.instruction_id, row.callee
        ids = _patched(ids, own_ids)
        callees = pc.fill_null(_patched(callees, own_callees), "")

        extra: dict[int, list] = {}
        if planning.allowed is not None:
            self._countries(extra, group, groups, clean | (fast & by_callees), callees)
        return PlanRows(index=self.df.index, group=group, groups=groups, ids=ids, callees=callees, contents=contents,
                        occurrence=occurrences, given=given, texts=texts, explicit=explicit,
                        number_problems={p: v[0] for p, v in unreadable.items() if fast[p]}, extra=extra)

    def _countries(self, extra: dict, group: Any, groups: list, numbered: Any, callees: Any) -> None:
        """Problems of rows calling a country that is not allowed (``allowed_countries=``), each number checked once."""
        import numpy as np
        import pyarrow as pa

        rows = np.flatnonzero(numbered)
        cache: dict[str, str | None] = {}
        for p, callee in zip(rows.tolist(), callees.take(pa.array(rows)).to_pylist(), strict=True):
            g = groups[group[p]]
            found: list = []
            country_problems(callee.split(";") if g.number_key == "callees" else [callee], self.planning.allowed,
                             found, set(g.bad_fields), cache)
            if found:
                extra[p] = found


def _number_texts(series: Any) -> tuple[Any, Any]:
    """``(texts, odd)``: a number column's cells as the per-row path reads them (``cell_value``), as Arrow text.

    Missing cells are null (blank). A spreadsheet's whole float is its digits (``31612345610``),
    any other number or yes/no value its ``str``; a nested cell (a list) is *odd*: the per-row
    path says why. ``(None, None)`` for a column this cannot read (dates, text that is not
    valid Unicode): it is read one distinct cell at a time.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(series)
    none = np.zeros(n, dtype=bool)
    arr = arrow_text(series)
    if arr is not None:
        return arr, none
    values = series.to_numpy()
    kind = values.dtype.kind
    if kind in "iu":
        return pc.cast(pa.array(values), pa.large_string()), none
    texts = np.full(n, None, dtype=object)
    odd = none.copy()
    if kind == "f":
        finite = np.isfinite(values)
        whole = finite & (np.floor(values) == values) & (np.abs(values) < 1e17)
        texts[whole] = pc.cast(pa.array(values[whole].astype(np.int64)), pa.string()).to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(~whole & ~np.isnan(values)).tolist():
            texts[i] = str(values[i].item())
    elif kind == "O":
        from pandas.api.types import is_scalar

        for i, value in enumerate(values):
            if isinstance(value, str):
                texts[i] = value
            elif not is_scalar(value) or _nested(value):
                odd[i] = True
            elif not is_blank(value):
                texts[i] = cell_value_text(value)
    else:
        return None, None
    try:
        return pa.array(texts, type=pa.large_string()), odd
    except (UnicodeError, pa.ArrowException):
        return None, None


def _nested(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, dict)) or getattr(value, "ndim", 0) > 0


def cell_value_text(value: Any) -> str:
    """``cell_value`` of a scalar cell that is not text, for a text field: a whole float's digits, else ``str``."""
    if hasattr(value, "item"):
        value = value.item()  # numpy scalars from a DataFrame
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _patched(arr: Any, values: dict) -> Any:
    """*arr* with the rows at the keys of *values* set to those texts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not values:
        return arr
    where = np.zeros(len(arr), dtype=bool)
    keys = sorted(values)
    where[keys] = True
    return pc.replace_with_mask(arr, pa.array(where), text_array([values[k] for k in keys]))


def _occurrences(contents: Any):
    """Each row's occurrence among the rows with its content key (1 for the first), in input order."""
    import numpy as np

    found = text_codes(contents)
    counts = np.bincount(found)
    if counts.max(initial=0) <= 1:
        return np.ones(len(found), dtype=np.int64)
    order = np.argsort(found, kind="stable")
    ranked = found[order]
    starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    run = np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
    out = np.empty(len(found), dtype=np.int64)
    out[order] = np.arange(len(found)) - run + 1
    return out
