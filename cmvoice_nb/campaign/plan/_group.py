"""What the rows of a column-wise plan share: their group, their texts' pieces, their labels.

:class:`RowGroup` holds the fields its rows share, validated once, and its JSON cut around each
row's own values; :class:`TextColumn` one text field of every row as literal parts around
per-row Arrow pieces; :class:`Labels` reads the plan's index by position. Used by
:class:`~cmvoice_nb.campaign.plan._table.PlanRows` and the column-wise planner.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["BLOCK", "Labels", "TextColumn", "RowGroup", "text_array", "fill"]

#: Rows whose views, texts or hashes are made at once (one Arrow take and one to_pylist each).
BLOCK = 65_536
#: Stand-ins for a row's own values in its group's JSON (private-use characters, checked to occur
#: exactly once: a shared value that happens to hold one leaves the group to the per-row path).
_SLOT = "\ue000cmvoice {}\ue001"


class Labels:
    """The plan's index read by position, each label as iterating the index gives it."""

    __slots__ = ("index", "_start", "_step")

    def __init__(self, index: Any) -> None:
        import pandas as pd

        self.index = index
        ranged = isinstance(index, pd.RangeIndex)
        self._start: int | None = index.start if ranged else None
        self._step: int | None = index.step if ranged else None

    def at(self, position: int) -> Any:
        if self._start is not None and self._step is not None:
            return self._start + self._step * position
        return self.index[position:position + 1].tolist()[0]

    def many(self, positions: Any) -> list:
        if self._start is not None:
            return (self._start + self._step * positions).tolist()
        return self.index.take(positions).tolist()


class TextColumn:
    """One text field of every row: literal parts around per-row pieces (``l0 + p1[i] + l1 + …``).

    A piece is an Arrow text array as long as the plan (the frame's own column when the
    placeholder says the cell as written); a text given whole is one piece between empty literals.
    """

    __slots__ = ("literals", "pieces")

    def __init__(self, literals: Sequence[str], pieces: Sequence[Any]) -> None:
        self.literals, self.pieces = tuple(literals), tuple(pieces)

    def at(self, position: int) -> str:
        lits = self.literals
        out = [lits[0]]
        for piece, lit in zip(self.pieces, lits[1:], strict=True):
            out += [piece[position].as_py(), lit]
        return "".join(out)

    def joined(self, positions: Any) -> Any:
        """The texts of the rows at *positions* as one Arrow text array."""
        import pyarrow as pa
        import pyarrow.compute as pc

        lits = self.literals
        take = pa.array(positions)
        if not self.pieces:
            return pa.array([lits[0]] * len(positions), type=pa.large_string())
        if len(self.pieces) == 1 and lits == ("", ""):
            return self.pieces[0].take(take)
        args: list = [pa.scalar(lits[0], pa.large_string())]
        for piece, lit in zip(self.pieces, lits[1:], strict=True):
            args += [piece.take(take), pa.scalar(lit, pa.large_string())]
        return pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))

    def many(self, positions: Any) -> list:
        """The texts of the rows at *positions* (None where a piece is missing: a row without this text)."""
        import pyarrow as pa

        lits = self.literals
        if not self.pieces:
            return [lits[0]] * len(positions)
        taken = [piece.take(pa.array(positions)).to_pylist() for piece in self.pieces]
        if len(taken) == 1:
            head, tail = lits
            if not head and not tail:
                return taken[0]
            return [None if v is None else head + v + tail for v in taken[0]]
        rest = lits[1:]
        return [None if None in values
                else "".join([lits[0], *(x for pair in zip(values, rest, strict=True) for x in pair)])
                for values in zip(*taken, strict=True)]


def text_array(texts: Sequence[Any]) -> Any:
    """Python texts as a pyarrow text array; one that is not valid Unicode is held escaped.

    (Its row is invalid and keeps its own value; escaped with a private-use mark, equal values
    still compare equal and no other text can look like one.)
    """
    import pyarrow as pa

    try:
        return pa.array(texts, type=pa.large_string())
    except (UnicodeError, pa.ArrowException):
        from ...errors import is_valid_unicode

        return pa.array([t if t is None or is_valid_unicode(t) else "\ue002" + ascii(t) for t in texts],
                        type=pa.large_string())


def _cut(text: str, slots: Sequence[str]) -> list[str] | None:
    """*text* cut around the JSON form of each slot: ``[text, slot, text, slot, …, text]``, or None."""
    import json

    marks = {json.dumps(_SLOT.format(s), ensure_ascii=False): s for s in slots}
    if any(text.count(m) != 1 for m in marks):
        return None
    order = sorted(marks, key=text.index)
    parts: list[str] = []
    rest = text
    for mark in order:
        head, rest = rest.split(mark)
        parts += [head, marks[mark]]
    return parts + [rest]


def fill(parts: list, values: dict) -> str:
    """*parts* (``[text, slot, text, …]``) with each slot's value from *values*."""
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        out += [values[parts[i]], parts[i + 1]]
    return "".join(out)


class RowGroup:
    """Rows that differ only in their number(s), id and texts: one instruction, built and validated once.

    Attributes
    ----------
    data
        The wire values its rows share (as the per-row path reads them).
    number_key
        ``"callee"`` or ``"callees"``: the field holding each row's numbers.
    text_keys
        The text fields each row has its own value of (rendered templates, a text column).
    head, tail
        Every member's problems: those read before its number field (its country cell), and the
        rest (other cells, the voice, the instruction's validation). A member whose number could
        not be read has that problem between the two.
    bad_fields
        Fields whose cell could not be read (their instruction problems are not repeated).
    """

    __slots__ = ("app", "data", "number_key", "text_keys", "head", "tail", "bad_fields", "prompt_files", "_wire",
                 "_body", "_canonical")

    def __init__(self, app: str, data: dict, number_key: str, text_keys: tuple, head: list, tail: list,
                 bad_fields: set) -> None:
        self.app, self.data, self.number_key, self.text_keys = app, data, number_key, tuple(text_keys)
        self.head, self.tail, self.bad_fields = tuple(head), tuple(tail), frozenset(bad_fields)
        self.prompt_files: list = []
        self._wire: dict | None = None
        self._body: list[str] | None = None  # the JSON body cut around the row's own values
        self._canonical: list[str] | None = None

    @property
    def problems(self) -> tuple:
        return self.head + self.tail

    def set_templates(self, instruction: Any) -> bool:
        """Keep what every member shares and cut its JSON around the row's own values; False if it cannot be."""
        from ...wire import canonical_json, encode_body

        self.prompt_files = instruction.prompt_files()
        wire = instruction.to_json()
        slots = ("number", "id") + self.text_keys
        keys = (self.number_key, "instruction-id") + self.text_keys
        if any(k not in wire for k in keys):
            return False
        self._wire = wire
        if self.problems:
            return True  # its rows are invalid: no payload is ever built (the text may not even encode)
        marked = dict(wire)
        for slot, key in zip(slots, keys, strict=True):
            marked[key] = _SLOT.format(slot)
        self._body = _cut(encode_body(marked).decode("utf-8"), slots)
        self._canonical = _cut(canonical_json(marked), slots)
        return self._body is not None and self._canonical is not None


