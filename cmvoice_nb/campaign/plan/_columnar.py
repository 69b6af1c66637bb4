"""Column-wise campaign planning: the per-row path's rows, at column speed.

A campaign list is mostly the same row with a different callee: the caller, the prompts, the
options and the voice repeat, or come from a few template columns. Planning each row on its own
builds and validates a million equal instructions. Here the frame is read by columns instead:

1. every column the plan reads is reduced to codes of *distinct* values (a value is distinct when
   its type or its printed form differs, so ``0.0`` and ``-0.0``, ``1`` and ``True`` stay apart);
2. each distinct callee (and given instruction id) is read and normalised once, and classed as
   *clean* (a valid number its instruction cannot object to), *absent*, or *other*;
3. rows whose other columns hold the same values, with a clean callee (or callees) and an absent
   or clean id, form a :class:`_RowGroup`: its instruction is built and validated once, from
   its first row, and each row's payload and hash are its group's JSON with the row's callee and
   id filled in (the first time each is read; the frozen row keeps them);
4. every other row (an unreadable number, an id the contract refuses, a callee given twice, a
   group whose instruction cannot be built) is planned by the per-row path itself.

Occurrences and derived ids are then counted over all rows in input order, as the per-row path
counts them. The result equals :func:`~cmvoice_nb.campaign.plan._reference.plan_rows_reference`
row for row, payload bytes included (``tests/campaign/test_plan_fast.py`` checks it on fuzzed
frames); grouped rows build their instruction only when asked, so a million-row plan does not hold
a million instruction objects.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ...instructions import Problem, check_field, instruction_from_json
from ...numbers import normalize_numbers
from ...spec import PHONE_PATTERN, VOICE_FIELDS
from ...wire import canonical_json, encode_body, instruction_hash, json_text
from ._ids import IdMaker, number_content
from ._reference import country_problems, plan_rows_reference
from ._rows import RowPlan, cell_value, memo_key, without_cycle_collection
from .templates import is_blank, template_columns

__all__ = ["plan_rows_columnar"]

_IDENTITY = ("callee", "callees", "instruction-id")
_ABSENT, _CLEAN, _OTHER = 0, 1, 2
#: Stand-ins for a row's number and id in its group's JSON (private-use characters, then checked
#: to occur exactly once: a prompt that happens to hold one leaves the group without a template).
_NUMBER_SLOT = "\ue000cmvoice number\ue001"
_ID_SLOT = "\ue000cmvoice id\ue001"
_PHONE = re.compile(PHONE_PATTERN)
#: How many distinct callee cells are read and normalised at once (one column-wise call each).
_NUMBERS_AT_ONCE = 50_000


def _codes(series: Any):
    """Codes of *series*' values: equal codes for values the planner cannot tell apart.

    Numbers are compared by their bits (``-0.0`` is not ``0.0``, each NaN spelling is its own),
    text by equality; in a column of mixed Python objects two values share a code only when
    their types and values are equal (:func:`~cmvoice_nb.campaign.plan._rows.memo_key`), and a value
    of any other type gets a code of its own.
    """
    import numpy as np
    import pandas as pd

    values = series.to_numpy()
    kind = values.dtype.kind
    if kind in "iub":
        return pd.factorize(values)[0].astype(np.int64, copy=False)
    if kind == "f":
        return pd.factorize(values.astype(np.float64).view(np.int64))[0].astype(np.int64, copy=False)
    if kind in "Mm":
        return pd.factorize(values.view(np.int64))[0].astype(np.int64, copy=False)
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=False) == "string" and not pd.isna(values).any():
        return pd.factorize(values)[0].astype(np.int64, copy=False)  # (infer_dtype calls text with NA "string")
    # Mixed Python objects (text and spreadsheet floats in one column): codes per type, then offset
    values = np.asarray(series.tolist(), dtype=object)
    type_codes, kinds = pd.factorize(np.fromiter((type(v) for v in values), dtype=object, count=len(values)))
    out = np.empty(len(values), dtype=np.int64)
    offset = 0
    for number, kind_of in enumerate(kinds):
        where = np.flatnonzero(type_codes == number)
        part = values[where]
        if kind_of is float:
            codes = pd.factorize(part.astype(np.float64).view(np.int64))[0]
        elif kind_of in (str, int, bool):
            codes = pd.factorize(part)[0]
        else:
            codes = _codes_one_by_one(part)
        out[where] = codes + offset
        offset += int(codes.max()) + 1 if len(codes) else 0
    return out


def _codes_one_by_one(values: Any):
    """Codes for values of one uncommon type: None, NA and NaT share theirs; anything else gets its own."""
    import numpy as np
    import pandas as pd

    seen: dict[Any, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        try:
            key: Any = memo_key(value)
        except TypeError:
            key = ("missing", type(value)) if value is None or value is pd.NA or value is pd.NaT else ("row", i)
        code = seen.get(key)
        if code is None:
            code = seen[key] = len(seen)
        out[i] = code
    return out


def _combine(arrays: list, n: int):
    """One code per distinct combination of the *arrays*' codes (numbered by first appearance)."""
    import numpy as np
    import pandas as pd

    combined = np.zeros(n, dtype=np.int64)
    for codes in arrays:
        width = int(codes.max()) + 1 if n else 1
        combined = pd.factorize(combined * width + codes)[0].astype(np.int64, copy=False)
    return combined


def _first_positions(codes) -> list[int]:
    """The position of each code's first row, by code."""
    import numpy as np

    _, first = np.unique(codes, return_index=True)
    return first.tolist()


def _template(text: str) -> list | None:
    """*text* split around the two slots (``[text, slot, text, slot, text]``), or None if it cannot be."""
    number, ident = json.dumps(_NUMBER_SLOT, ensure_ascii=False), json.dumps(_ID_SLOT, ensure_ascii=False)
    if text.count(number) != 1 or text.count(ident) != 1:
        return None
    first, second = (number, ident) if text.index(number) < text.index(ident) else (ident, number)
    head, rest = text.split(first)
    middle, tail = rest.split(second)
    return [head, first == number, middle, second == number, tail]


class _RowGroup:
    """Rows that differ only in their callee (or callees) and id: one instruction, built once.

    Attributes
    ----------
    data
        The group's wire values without the number and id (as the per-row path reads them).
    number_key
        ``"callee"`` or ``"callees"``: which field holds the rows' numbers.
    problems
        The problems every member has (its cells', then its instruction's).
    bad_fields
        Fields whose cell could not be read (their instruction problems are not repeated).
    """

    __slots__ = ("app", "data", "number_key", "problems", "bad_fields", "buildable", "prompt_files", "_wire",
                 "_body", "_canonical")

    def __init__(self, app: str, data: dict, number_key: str, problems: list, bad_fields: set) -> None:
        self.app, self.data, self.number_key = app, data, number_key
        self.problems, self.bad_fields = problems, bad_fields
        self.buildable = True
        self.prompt_files: list = []
        self._wire: dict[str, Any] | None = {}
        self._body: list[str] | None = None
        self._canonical: list[str] | None = None

    def value_of(self, row: RowPlan) -> Any:
        """The row's number field as its wire value (a list for ``callees``)."""
        return row.callee if self.number_key == "callee" else row.callee.split(";")

    def numbers_of(self, row: RowPlan) -> list[str]:
        """The numbers the row dials, as its instruction would list them."""
        return row.callee.split(";") if self.number_key == "callees" else [row.callee]

    def wire_for(self, row: RowPlan) -> dict:
        data = dict(self.data)
        data[self.number_key] = self.value_of(row)
        data["instruction-id"] = row.instruction_id
        return data

    def instruction_for(self, row: RowPlan) -> Any:
        return instruction_from_json(self.app, self.wire_for(row))

    def wire_json(self, row: RowPlan) -> dict:
        """The row's instruction's ``to_json()``: the group's, with the row's number and id."""
        if self._wire is None:
            return self.instruction_for(row).to_json()
        wire = dict(self._wire)
        wire[self.number_key] = self.value_of(row)
        wire["instruction-id"] = row.instruction_id
        return wire

    def set_templates(self, instruction: Any) -> None:
        """Keep what every member's instruction shares, and cut its JSON into templates around the number and id."""
        self.prompt_files = instruction.prompt_files()
        wire = self._wire = instruction.to_json()
        if self.number_key not in wire or "instruction-id" not in wire:
            self._wire = None
            return
        if self.problems:
            return  # its rows are invalid: no payload is ever built (the text may not even encode)
        wire = dict(wire)
        wire[self.number_key], wire["instruction-id"] = _NUMBER_SLOT, _ID_SLOT
        self._body = _template(encode_body(wire).decode("utf-8"))
        self._canonical = _template(canonical_json(wire))

    @staticmethod
    def _fill(parts: list, number: str, ident: str) -> str:
        return parts[0] + (number if parts[1] else ident) + parts[2] + (number if parts[3] else ident) + parts[4]

    def payload_for(self, row: RowPlan) -> bytes:
        """The row's payload bytes: the group's body with the row's number and id filled in."""
        if self._body is None:
            return encode_body(self.instruction_for(row).to_json())
        value = self.value_of(row)
        return self._fill(self._body, json_text(value, canonical=False),
                          json_text(row.instruction_id, canonical=False)).encode("utf-8")

    def hash_for(self, row: RowPlan) -> str:
        """The row's payload hash: SHA-256 of the group's canonical JSON with the row's number and id."""
        if self._canonical is None:
            return instruction_hash(self.instruction_for(row).to_json())
        text = self._fill(self._canonical, json_text(self.value_of(row), canonical=True),
                          json_text(row.instruction_id, canonical=True))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def _classify_cells(planning: Any, fld: Any, column: Any, cells: list,
                    countries: list | None = None) -> tuple[bytearray, list]:
    """:func:`_classify` for each distinct cell of an identity column: ``(states, values)``.

    A single phone number (``callee``) is read the way :meth:`Planning.read_field
    <cmvoice_nb.campaign.plan._reference.Planning.read_field>` reads a non-blank cell (as text,
    then normalised), without its per-cell bookkeeping: the texts are normalised all at once
    (:func:`~cmvoice_nb.numbers.normalize_numbers`, exactly ``normalize_number`` per value) and
    each number is checked once. With a country column (``columns={"region": ...}``),
    *countries* holds each cell's country cell: a cell is then distinct per (number, country).
    """
    region_column = planning.region_column

    def record(i: int, cell: Any) -> dict:
        return {column: cell} if countries is None else {column: cell, region_column: countries[i]}

    states, values = bytearray(len(cells)), [None] * len(cells)
    if not (fld.kind == "str" and getattr(fld, "phone", False)):
        for i, cell in enumerate(cells):
            states[i], values[i] = _classify(planning, fld, record(i, cell))
        return states, values
    # each number checked once, whichever spelling it came from; its first text object stands for it
    # in every row (a million rows share a third as many number strings)
    clean: dict[str, str | None] = {}
    for start in range(0, len(cells), _NUMBERS_AT_ONCE):  # in parts: a million cells' texts at once add up
        texts: list[str] = []
        regions: list = []
        where: list[int] = []
        for i in range(start, min(start + _NUMBERS_AT_ONCE, len(cells))):
            cell = cells[i]
            if is_blank(cell):
                states[i], values[i] = _classify(planning, fld, record(i, cell))  # a default, or nothing
                continue
            try:
                texts.append(cell_value(fld, cell))
            except ValueError:
                states[i] = _OTHER
                continue
            where.append(i)
            if countries is not None:
                regions.append(planning.region_of(record(i, cell)))
        if not where:
            continue
        numbers = normalize_numbers(texts, region=regions if countries is not None else planning.region,
                                    style=planning.number_style)[0].tolist()
        for i, number in zip(where, numbers, strict=True):
            if number is not None:
                if number in clean:
                    number = clean[number]
                else:
                    number = clean[number] = number if _is_clean(fld, number) else None
                if number is not None:
                    states[i], values[i] = _CLEAN, number
                    continue
            states[i] = _OTHER  # an unreadable number, or one its instruction objects to: the per-row path's
    return states, values


def _with_countries(numbers: list, allowed: Any, problems: list | None, bad_fields: set, cache: dict) -> list | None:
    """*problems* with :func:`~cmvoice_nb.campaign.plan._reference.country_problems` added (None while none)."""
    found = problems if problems is not None else []
    country_problems(numbers, allowed, found, bad_fields, cache)
    return found or problems


def plan_rows_columnar(planning: Any, df: Any) -> list[RowPlan]:
    """The rows of *df* planned column-wise (see the module), equal to the per-row path's.

    Parameters
    ----------
    planning
        The plan's :class:`~cmvoice_nb.campaign.plan._reference.Planning` (fields, defaults, caches).
    df
        The input frame (not modified).
    """
    with without_cycle_collection():
        return _plan_rows(planning, df)


def _plan_rows(planning: Any, df: Any) -> list[RowPlan]:
    import numpy as np
    import pandas as pd

    n = len(df)
    if n == 0:
        return []
    if not df.columns.is_unique:  # to_dict keeps one of the repeated columns: leave it to the per-row path
        return plan_rows_reference(planning, df)

    spec, colmap = planning.spec, planning.colmap
    labels = list(df.index)
    identity = {f.key: f for f in planning.fields if f.key in _IDENTITY}
    rest_fields = [f for f in planning.fields if f.key not in _IDENTITY]

    # 1. the columns the rest of a row is read from, as codes of distinct values
    rest_columns = [colmap[f.key] for f in rest_fields if f.key in colmap]
    for text in planning.templates.values():
        rest_columns += [c for c in dict.fromkeys(template_columns(text)) if c in df.columns]
    rest_columns += [colmap["voice." + f.key] for f in VOICE_FIELDS if "voice." + f.key in colmap]
    region_column = planning.region_column  # each row's country: its numbers (all of them) are read in it
    if region_column is not None:
        rest_columns.append(region_column)
    codes_by_column: dict[Any, Any] = {}

    def codes_of(column: Any):
        if column not in codes_by_column:
            codes_by_column[column] = _codes(df[column])
        return codes_by_column[column]

    rest_group = _combine([codes_of(c) for c in dict.fromkeys(rest_columns)], n)

    # 2. identity fields: each distinct cell read and classed once
    per_key: dict[str, tuple] = {}
    records = _records(df, _first_positions(rest_group))
    for key, fld in identity.items():
        if key in colmap:
            column = colmap[key]
            codes = codes_of(column)
            countries = None
            if region_column is not None and getattr(fld, "phone", False):
                codes = _combine([codes, codes_of(region_column)], n)  # one cell per (number, country)
            firsts = _first_positions(codes)
            cells = _cells(df, column, firsts)
            if region_column is not None and getattr(fld, "phone", False):
                countries = _cells(df, region_column, firsts)
            by_cell, values = _classify_cells(planning, fld, column, cells, countries)
            del cells, countries, firsts
            per_key[key] = (np.frombuffer(bytes(by_cell), dtype=np.int8)[codes], codes, values)
        else:
            state, value = _classify(planning, fld, {})
            per_key[key] = (np.full(n, state, dtype=np.int8), np.zeros(n, dtype=np.int64), [value])

    absent = np.full(n, _ABSENT, dtype=np.int8)
    s_callee = per_key["callee"][0] if "callee" in per_key else absent
    s_callees = per_key["callees"][0] if "callees" in per_key else absent
    s_id = per_key["instruction-id"][0] if "instruction-id" in per_key else absent
    by_callees = (s_callee == _ABSENT) & (s_callees == _CLEAN)
    grouped = (((s_callee == _CLEAN) & (s_callees == _ABSENT)) | by_callees) & (s_id != _OTHER)

    # 3. one group per rest value × number field × id kind; its first row builds the instruction
    group_code = _combine([rest_group, by_callees.astype(np.int64), (s_id == _CLEAN).astype(np.int64)], n)
    group_code = np.where(grouped, group_code, -1)
    groups: dict[int, _RowGroup | None] = {}
    rows_of_group = np.flatnonzero(grouped)
    first_of_group: dict[int, int] = {}
    if len(rows_of_group):
        uniq, first = np.unique(group_code[rows_of_group], return_index=True)
        first_of_group = dict(zip(uniq.tolist(), rows_of_group[first].tolist(), strict=True))
    extra = [p for p in first_of_group.values() if p not in records]
    records.update(_records(df, extra))

    def value_at(key: str, position: int) -> Any:
        states, codes, values = per_key[key]
        return values[codes[position]]

    for code, position in first_of_group.items():
        record = records[position]
        data: dict[str, Any] = {}
        problems: list = []
        bad: set[str] = set()
        planning.read_region(record, problems, bad)
        for fld in rest_fields:
            planning.read_field(fld, record, problems, bad, data)
        planning.read_voice(record, problems, bad, data)
        number_key = "callees" if by_callees[position] else "callee"
        group = _RowGroup(spec.name, data, number_key, problems, bad)
        number = value_at(number_key, position)
        ident = value_at("instruction-id", position) if s_id[position] == _CLEAN else "x"
        wire = dict(data)
        wire[number_key], wire["instruction-id"] = number, ident
        try:
            instruction = instruction_from_json(spec.name, wire)
        except Exception:  # noqa: BLE001 - the per-row path reports it, with its message
            groups[code] = None
            continue
        found = []
        for p in instruction.validate():
            field_key = getattr(p, "field", "") or ""
            if field_key.split(".")[0] in bad:
                continue
            found.append(Problem(field_key, getattr(p, "value", None), getattr(p, "message", str(p))))
        listed = instruction.callee_list()
        expected = number if isinstance(number, list) else [number]
        if any(p.field.split(".")[0] in _IDENTITY for p in found) or list(listed) != expected:
            groups[code] = None  # the number or id matters to validation here: plan these rows one by one
            continue
        group.problems = problems + found
        group.set_templates(instruction)
        groups[code] = group

    # 4. the rest, one by one; then occurrences and ids over all rows in input order
    codes_by_column.clear()  # (a million rows: every array held here is 8 MB more at the peak)
    del rest_group, records
    in_group = np.array([groups.get(c) is not None for c in range(max(groups, default=-1) + 1)] or [False])
    fast = grouped & in_group[np.maximum(group_code, 0)]
    del grouped, in_group, by_callees
    slow_positions = np.flatnonzero(~fast).tolist()
    slow_records = _records(df, slow_positions)
    slow_read = {p: planning.read_row(slow_records[p]) for p in slow_positions}

    contents = np.empty(n, dtype=object)
    number_values = np.empty(n, dtype=object)
    fast_positions = np.flatnonzero(fast)
    for key in ("callee", "callees"):
        if key not in per_key:
            continue
        states, codes, values = per_key[key]
        members = fast_positions[(states[fast_positions] == _CLEAN)]
        used = np.unique(codes[members])
        by_code = np.empty(len(values), dtype=object)
        content_by_code = np.empty(len(values), dtype=object)
        for code in used.tolist():
            by_code[code] = values[code]
            content_by_code[code] = number_content(values[code])
        number_values[members] = by_code[codes[members]]
        contents[members] = content_by_code[codes[members]]
    for position in slow_positions:
        contents[position] = planning.content_of(slow_read[position][0], slow_records[position])
    content_codes = pd.factorize(contents)[0]
    occurrences = (pd.Series(content_codes).groupby(content_codes).cumcount() + 1).to_numpy()
    del content_codes

    make_id = IdMaker(planning.name, planning.campaign_key)
    country_cache: dict[str, str | None] = {}
    allowed = planning.allowed
    id_states, id_codes, id_values = per_key.get("instruction-id", (absent, None, [None]))
    given_ids = id_states == _CLEAN
    per_key.clear()
    built = {code: group for code, group in groups.items() if group is not None}  # every fast row's group
    rows: list[RowPlan] = [None] * n  # type: ignore[list-item]  # every position is filled below, fast or slow
    for position, code, given, content, occurrence, value in zip(
            fast_positions.tolist(), group_code[fast_positions].tolist(), given_ids[fast_positions].tolist(),
            contents[fast_positions], occurrences[fast_positions].tolist(), number_values[fast_positions], strict=True):
        group = built[code]
        iid = str(id_values[id_codes[position]]) if given else make_id(content, occurrence)
        row_problems = list(group.problems) if group.problems else None
        if value.__class__ is str:
            callee = value
            if allowed is not None:
                row_problems = _with_countries([value], allowed, row_problems, group.bad_fields, country_cache)
        else:
            callee = ";".join(value)
            if allowed is not None:
                row_problems = _with_countries(value, allowed, row_problems, group.bad_fields, country_cache)
        rows[position] = RowPlan(position, labels[position], iid, callee, None, row_problems, None, False, content,
                                 occurrence, given, group=group)
    for position in slow_positions:
        data, problems, bad = slow_read[position]
        rows[position] = planning.finish_row(position, labels[position], slow_records[position], data, problems, bad,
                                             contents[position], int(occurrences[position]))
    return rows


def _records(df: Any, positions: Any) -> dict[int, dict]:
    """``{position: record}`` as ``df.to_dict(orient="records")`` gives them, for *positions* only."""
    positions = sorted(set(positions))
    if not positions:
        return {}
    return dict(zip(positions, df.iloc[positions].to_dict(orient="records"), strict=True))


def _cells(df: Any, column: Any, positions: list[int]) -> list:
    """The cells of one column at *positions* (sorted), as ``to_dict(orient="records")`` gives them.

    ``to_dict`` turns numpy scalars held in object and extension columns into Python ones
    (``maybe_box_native``); the same is done here, without a dict per row.
    """
    import pandas as pd

    part = df[column].iloc[positions]
    values = part.tolist()
    if part.dtype == object or isinstance(part.dtype, pd.api.extensions.ExtensionDtype):
        try:
            from pandas.core.dtypes.cast import (  # type: ignore[attr-defined]  # private: not in pandas-stubs
                maybe_box_native,
            )
        except ImportError:  # a pandas without it: the dicts, then
            return [r[column] for r in df.iloc[positions][[column]].to_dict(orient="records")]
        values = [maybe_box_native(v) for v in values]
    return values
