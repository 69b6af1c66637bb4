"""An A/B plan's rows as columns: each row read from its variant's plan, its variant a column of small codes.

A plan with ``variants=`` is the whole list planned once per variant; row *i* of the A/B plan is
row *i* of its person's variant's plan (the holdout's: of the first variant's). Those plans agree
on who each row calls and how it is named — ids, callees, content keys, occurrences (the first
plan fixes the campaign key) — and differ only in what is said: their groups, texts and problems.
:func:`combine_rows` checks that agreement and then makes one
:class:`~cmvoice_nb.campaign.plan._table.PlanRows` sharing the first plan's id and callee columns,
every plan's groups (numbered one after the other), each row's texts from its own plan
(:class:`MixedText`) and the variant of each row as codes into a tuple of names. Where the plans
do not agree it gives None and the caller takes the rows one by one.

:func:`assign_codes` gives every row its person's variant as :func:`~cmvoice_nb.campaign.plan.assign`
does, with one hash per distinct person and the rest column-wise.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._ids import content_key
from ._table import PlanRows

__all__ = ["MixedText", "assign_many", "people_of", "assign_codes", "combine_rows"]


class MixedText:
    """One text field of an A/B plan: each row's text from its source plan's text column (None where it has none).

    *source* is each row's plan (a numpy int array), *columns* that field's
    :class:`~cmvoice_nb.campaign.plan._group.TextColumn` in each plan (None: the plan has no such field).
    """

    __slots__ = ("source", "columns")

    def __init__(self, source: Any, columns: Sequence[Any]) -> None:
        self.source, self.columns = source, tuple(columns)

    def _split(self, positions: Any) -> list[tuple[Any, Any]]:
        """``(column, where)`` per source plan of the rows at *positions* (*where*: indexes into *positions*)."""
        import numpy as np

        source = self.source[positions]
        first = int(source[0]) if len(source) else 0
        if not len(source) or (source == first).all():
            return [(self.columns[first], np.arange(len(source)))]
        return [(self.columns[k], np.flatnonzero(source == k)) for k in np.unique(source).tolist()]

    def many(self, positions: Any) -> list:
        """The texts of the rows at *positions* (None where a row's plan has none of this field)."""
        import numpy as np

        positions = np.asarray(positions, dtype=np.int64)
        parts = self._split(positions)
        if len(parts) == 1:
            column = parts[0][0]
            return column.many(positions) if column is not None else [None] * len(positions)
        out = np.empty(len(positions), dtype=object)
        for column, where in parts:
            if column is not None:
                values = column.many(positions[where])
                for j, value in zip(where.tolist(), values, strict=True):
                    out[j] = value
        return out.tolist()

    def joined(self, positions: Any) -> Any:
        """The texts of the rows at *positions* as one Arrow text array (null where a row's plan has none)."""
        import numpy as np
        import pyarrow as pa

        positions = np.asarray(positions, dtype=np.int64)
        arrays, order = [], []
        for column, where in self._split(positions):
            if column is None:
                arrays.append(pa.nulls(len(where), pa.large_string()))
            else:
                arrays.append(column.joined(positions[where]).cast(pa.large_string()))
            order.append(where)
        if len(arrays) == 1:
            return arrays[0]
        inverse = np.empty(len(positions), dtype=np.int64)
        inverse[np.concatenate(order)] = np.arange(len(positions))
        take: Any = pa.array(inverse)
        return pa.concat_arrays(arrays).take(take)


def assign_many(people: Sequence[str], names: tuple[str, ...], *, holdout: float, seed: Any) -> Any:
    """Each person's variant as an index into *names* (``len(names)``: the holdout), as
    :func:`~cmvoice_nb.campaign.plan.assign` gives it: its hash per person, its arithmetic per column.

    Examples
    --------
    >>> assign_many(["31612345610", "31612345611", "31612345610"], ("A", "B"), holdout=0.0, seed=7).tolist()
    [0, 1, 0]
    """
    import hashlib

    import numpy as np

    prefix = f"{seed}\x1f".encode("utf-8", "surrogatepass")
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(prefix + p.encode("utf-8", "surrogatepass"), digest_size=8).digest()
                        for p in people])
    # (a uint64 to float64 rounds to nearest, as Python's int / float does; the rest is the same float arithmetic)
    u = np.frombuffer(digests, dtype=">u8").astype(np.float64) / 2.0 ** 64
    codes = np.full(len(people), len(names), dtype=np.int32)
    if names:
        called = ~(u < holdout)
        share = (u[called] - holdout) / (1.0 - holdout)
        codes[called] = np.minimum((share * len(names)).astype(np.int64), len(names) - 1)
    return codes


def people_of(rows: PlanRows) -> Any:
    """Every row's person, :func:`~cmvoice_nb.campaign.plan.content_key` of its callee, as an Arrow text array.

    A callee of one number in digits (``+31612345610``, ``0031612345610``, ``12345``) is read
    column-wise; any other with ``content_key`` itself, once per distinct text; a row planned one
    by one from its own callee (the column may hold an escaped form of it).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text: Any = rows.callees()
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = pc.fill_null(text, "")
    plain: Any = pc.and_(pc.match_substring_regex(text, r"^\+?[0-9]+$"), pc.not_equal(text, pa.scalar("00", text.type)))
    keys = pc.if_else(pc.starts_with(text, "00"), pc.utf8_slice_codeunits(text, 2),
                      pc.replace_substring_regex(text, r"^\+", "")).cast(pa.large_string())
    own: dict[int, str] = {}
    odd = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
    if len(odd):
        seen: dict[str, str] = {}
        for p, callee in zip(odd.tolist(), text.take(pa.array(odd)).to_pylist(), strict=True):
            found = seen.get(callee)
            if found is None:
                found = seen[callee] = content_key(callee)
            own[p] = found
    for p, row in rows.explicit().items():
        own[p] = content_key(row.callee)
    if own:
        where = np.zeros(len(rows), dtype=bool)
        at = sorted(own)
        where[at] = True
        keys = pc.replace_with_mask(keys, pa.array(where), pa.array([own[p] for p in at], type=pa.large_string()))
    return keys


def assign_codes(rows: PlanRows, names: tuple[str, ...], *, holdout: float, seed: Any) -> Any:
    """Each row's variant as an index into *names* (``len(names)``: the holdout): one hash per distinct person."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(people_of(rows))
    per_person = assign_many(encoded.dictionary.to_pylist(), names, holdout=holdout, seed=seed)
    return per_person[encoded.indices.to_numpy(zero_copy_only=False)]


def _same_people(first: PlanRows, other: PlanRows) -> bool:
    """True when *other* names and calls every row as *first* does (ids, callees, contents, occurrences)."""
    import numpy as np

    mine: Any = first.index
    theirs: Any = other.index
    if len(first) != len(other) or other._variant is not None or not mine.equals(theirs):
        return False
    if type(mine) is not type(theirs):
        return False
    return (first._ids.equals(other._ids) and first._callees.equals(other._callees)
            and first._contents.equals(other._contents)
            and np.array_equal(first._occurrence, other._occurrence) and np.array_equal(first._given, other._given))


def combine_rows(plans: Sequence[PlanRows], source: Any, codes: Any, names: tuple[str, ...]) -> PlanRows | None:
    """The rows of an A/B plan: row *i* from ``plans[source[i]]``, its variant ``names[codes[i]]``.

    None when the plans do not agree on who each row calls and how it is named (see
    :func:`_same_people`): the caller then takes each row from its plan one by one.
    """
    import numpy as np

    first = plans[0]
    if first._variant is not None or not all(_same_people(first, other) for other in plans[1:]):
        return None
    n = len(first)
    source = np.asarray(source, dtype=np.int32)
    codes = np.asarray(codes, dtype=np.int32)
    group = np.full(n, -1, dtype=np.int32)
    duplicate, dropped = first._duplicate.copy(), first._dropped.copy()
    groups: list = []
    explicit: dict = {}
    number_problems: dict = {}
    extra: dict = {}
    suppressed: dict = {}
    for k, plan in enumerate(plans):
        mine = source == k
        theirs = plan._group
        grouped = mine & (theirs >= 0)
        group[grouped] = theirs[grouped] + len(groups)
        groups += plan._groups
        if k:
            duplicate[mine] = plan._duplicate[mine]
            dropped[mine] = plan._dropped[mine]
        for p, row in plan._explicit.items():
            if mine[p] and theirs[p] < 0:
                explicit[p] = row.replace(variant=names[codes[p]])
        number_problems.update((p, v) for p, v in plan._number_problems.items() if mine[p])
        extra.update((p, v) for p, v in plan._extra.items() if mine[p])
        suppressed.update((p, v) for p, v in plan._suppressed.items() if mine[p])
    explicit = dict(sorted(explicit.items()))
    keys = dict.fromkeys(key for plan in plans for key in plan._texts)
    texts = {key: MixedText(source, [plan._texts.get(key) for plan in plans]) for key in keys}
    codes.flags.writeable = False
    source.flags.writeable = False
    return PlanRows(index=first.index, group=group, groups=groups, ids=first._ids, callees=first._callees,
                    contents=first._contents, occurrence=first._occurrence, given=first._given, texts=texts,
                    explicit=explicit, number_problems=number_problems, extra=extra, duplicate=duplicate,
                    dropped=dropped, suppressed=suppressed, variant=(codes, tuple(names)))
