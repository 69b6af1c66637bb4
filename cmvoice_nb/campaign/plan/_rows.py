"""A planned row (:class:`RowPlan`), frozen once its plan is made, and how a row's cells are read.

:class:`RowPlan` is what the plan decided for one input row. Its planner fills it in (problems
found later, a repeated callee); the :class:`~cmvoice_nb.campaign.plan.CampaignPlan` that holds
it freezes it: from then on it does not change, and its payload bytes and hash are computed at
most once. A row of a column-wise plan is a view made from the plan's columns
(:class:`~cmvoice_nb.campaign.plan._table.PlanRows`, its *source*), which builds its instruction,
payload and hash when asked. :func:`cell_value` reads one cell as its field's kind;
:class:`CellReader`, :class:`NumberCache` and :class:`TemplateCache` are the same readings
remembered per distinct value.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from ..._gc import paused_gc
from ...errors import NumberError
from ...instructions import Problem, coerce_value
from ...numbers import normalize_number, try_normalize
from ...wire import encode_body, instruction_hash
from .templates import TemplateError, compile_template, template_columns

__all__ = ["RowPlan", "FrozenRowPlan", "without_cycle_collection", "cell_value", "memo_key", "CellReader",
           "NumberCache", "TemplateCache"]


#: Pause Python's cyclic garbage collector for a block (:func:`cmvoice_nb._gc.paused_gc`): a pass over
#: a million rows makes millions of objects, none of them in a reference cycle.
without_cycle_collection = paused_gc


# ------------------------------------------------------------------------------ the row
_SLOTS = ("position", "label", "instruction_id", "callee", "_instruction", "_problems", "duplicate_of", "dropped",
          "content", "occurrence", "id_given", "_payload", "_payload_hash", "wave", "base_id", "ended", "suppressed",
          "variant", "_group", "_at")
#: What the payload is made of: changing one of them in :meth:`RowPlan.replace` makes the payload anew.
_PAYLOAD_SOURCES = frozenset({"instruction_id", "callee", "instruction"})


class RowPlan:
    """What the plan decided for one input row (positional).

    A row is open while its planner fills it in; the plan that holds it freezes it
    (:meth:`freeze`). A frozen row does not change: setting an attribute raises
    ``AttributeError`` and its :attr:`problems` are a tuple. :meth:`replace` makes a changed
    copy; ``copy.copy`` an open one, to change and then put in a new plan.

    Attributes
    ----------
    position, label
        The row's position in the input and its index label.
    instruction_id, callee
        The row's instruction id, and its callee(s) as normalised (``;``-joined), or as written
        when unreadable.
    instruction
        The validated instruction (None when it could not be built). A view of a column-wise plan
        builds it from the plan's columns the first time it is asked for (its group was validated
        once for all its rows).
    problems, duplicate_of, dropped, suppressed
        What is wrong with the row, the earlier row with the same callee, and whether it is left
        out (a repeat with ``drop_duplicates=True``, or a callee on the do-not-call list).
    content, occurrence, id_given
        The derived id's content key and occurrence, and whether the id came from the input.
    payload, payload_hash
        The wire JSON of a valid row as the bytes the sender sends, and
        :func:`~cmvoice_nb.campaign.instruction_hash` of it (the journal's record of the content
        sent). A row planned on its own has them from the moment it is frozen. A view of a
        column-wise plan has its payload made from the plan's frozen columns when asked (the
        same bytes every time) and its hash from the plan's column of hashes, each computed
        once; neither ever changes.
    wave, base_id, ended
        The attempt this row is (1 as planned, 2... in a follow-up wave), its wave-1 id, and the
        earlier attempts whose call ended: ``(instruction_id, outcome, finished_on)``.
    variant
        The A/B variant of the row's person (``"holdout"``: never called), or None without a test.

    Examples
    --------
    >>> import pandas as pd
    >>> from cmvoice_nb.campaign import plan_campaign
    >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610"]}), app="notification", name="c",
    ...                      campaign_key="aaaa0000", defaults={"caller": "+31201234567", "prompt": "Hi",
    ...                      "prompt-type": "TTS"})
    >>> row = plan.rows[0]
    >>> row.dropped = True
    Traceback (most recent call last):
    ...
    AttributeError: a planned row does not change (dropped); make a changed copy with row.replace(dropped=...)
    >>> row.replace(suppressed="listed").suppressed, row.suppressed
    ('listed', None)
    """

    __slots__ = _SLOTS

    _FIELDS = ("position", "label", "instruction_id", "callee", "instruction", "problems", "duplicate_of", "dropped",
               "content", "occurrence", "id_given", "payload", "payload_hash", "wave", "base_id", "ended", "suppressed",
               "variant")

    def __init__(self, position: int, label: Any, instruction_id: str, callee: str, instruction: Any = None,
                 problems: list | None = None, duplicate_of: Any = None, dropped: bool = False, content: str = "none",
                 occurrence: int = 1, id_given: bool = False, payload: bytes | None = None,
                 payload_hash: str | None = None, wave: int = 1, base_id: str | None = None, ended: tuple = (),
                 suppressed: str | None = None, *, group: Any = None, at: int | None = None,
                 variant: str | None = None) -> None:
        self.position = position
        self.label = label
        self.instruction_id = instruction_id
        self.callee = callee
        self._instruction = instruction
        # None: none yet (the list is made when first asked for); a tuple once the row is frozen
        self._problems: list[Problem] | tuple[Problem, ...] | None = problems
        self.duplicate_of = duplicate_of
        self.dropped = dropped
        self.content = content
        self.occurrence = occurrence
        self.id_given = id_given
        self._payload = payload
        self._payload_hash = payload_hash
        self.wave = wave
        self.base_id = base_id
        self.ended = ended
        self.suppressed = suppressed
        self.variant = variant
        self._group = group  # the plan's columns a view is made from (its source), or None
        self._at = position if at is None else at  # the view's position in its source

    # -- freezing and changed copies
    @property
    def frozen(self) -> bool:
        """True once the row is part of a plan: it does not change any more."""
        return isinstance(self, _FrozenRowPlan)

    def freeze(self) -> RowPlan:
        """Fix the row (returns it): from now on it does not change.

        A valid row planned on its own gets its payload and hash here, from its instruction (unless
        its maker gave them); an invalid row has none. A view computes each from its source.
        """
        if isinstance(self, _FrozenRowPlan):
            return self
        problems = self._problems
        self._problems = tuple(problems) if problems else None
        if not self.valid:
            self._payload = self._payload_hash = None
        elif self._group is None and (self._payload is None or self._payload_hash is None):
            wire = self._instruction.to_json()
            if self._payload is None:
                self._payload = encode_body(wire)
            if self._payload_hash is None:
                self._payload_hash = instruction_hash(wire)
        self.__class__ = _FrozenRowPlan
        return self

    def __copy__(self) -> RowPlan:
        """An open copy with its own problems list: change it, then put it in a new plan."""
        new = RowPlan.__new__(RowPlan)
        for name in _SLOTS:
            setattr(new, name, getattr(self, name))
        new._problems = list(self._problems) if self._problems else None
        return new

    def __reduce__(self) -> tuple:
        if self._group is not None:  # a view: pickled as the row it shows, not with its whole plan
            row = copy.copy(self)
            row._instruction, row._payload, row._payload_hash = self.instruction, self.payload, self.payload_hash
            row._group = None
            return _rebuild, (tuple(getattr(row, name) for name in _SLOTS), self.frozen)
        return _rebuild, (tuple(getattr(self, name) for name in _SLOTS), self.frozen)

    def replace(self, **changes: Any) -> RowPlan:
        """A new row with this row's values but *changes*, frozen when this one is (this row does not change).

        Changing the ``instruction_id``, ``callee`` or ``instruction`` makes the payload anew (an
        instruction of a row planned on its own is copied with the new id); any attribute of the
        row can be changed.
        """
        unknown = sorted(set(changes) - set(self._FIELDS))
        if unknown:
            raise TypeError(f"RowPlan has no attribute {', '.join(unknown)}; attributes: {', '.join(self._FIELDS)}")
        new = copy.copy(self)
        if _PAYLOAD_SOURCES & changes.keys():
            if "payload" not in changes:
                new._payload = new._payload_hash = None
            if new._group is not None and "instruction" not in changes:
                new._instruction = None  # built on demand, with the new id and callee
            elif "instruction_id" in changes and "instruction" not in changes and new._instruction is not None:
                inst = copy.copy(new._instruction)
                inst.instruction_id = changes["instruction_id"]
                new._instruction = inst
        for name, value in changes.items():
            setattr(new, name, value)
        return new.freeze() if self.frozen else new

    # -- the instruction and its wire form: explicit, or built on demand from the row's source
    @property
    def instruction(self) -> Any:
        inst = self._instruction
        if inst is None and self._group is not None and self._group.buildable(self):
            inst = self._group.instruction_for(self)
            object.__setattr__(self, "_instruction", inst)  # (a frozen row keeps it too)
        return inst

    @instruction.setter
    def instruction(self, value: Any) -> None:
        self._instruction, self._group = value, None  # an explicit instruction: payload when frozen

    @property
    def payload(self) -> bytes | None:
        payload = self._payload
        if payload is None and self._group is not None and self.valid:
            payload = self._group.payload_for(self)
            if self.frozen:
                object.__setattr__(self, "_payload", payload)
        return payload

    @payload.setter
    def payload(self, value: bytes | None) -> None:
        self._payload = value

    @property
    def payload_hash(self) -> str | None:
        digest = self._payload_hash
        if digest is None and self._group is not None and self.valid:
            digest = self._group.hash_for(self)
            if self.frozen:
                object.__setattr__(self, "_payload_hash", digest)
        return digest

    @payload_hash.setter
    def payload_hash(self, value: str | None) -> None:
        self._payload_hash = value

    def callee_list(self) -> list[str]:
        """The numbers this row dials (as its instruction would list them), without building it."""
        if self._group is not None and self._instruction is None:
            return self._group.numbers_of(self)
        inst = self.instruction
        return list(inst.callee_list()) if inst is not None else []

    def wire(self) -> dict | None:
        """The instruction's wire dict (``instruction.to_json()``), without building it for a grouped row."""
        if self._group is not None and self._instruction is None:
            return self._group.wire_json(self) if self._group.buildable(self) else None
        inst = self.instruction
        return inst.to_json() if inst is not None else None

    def prompt_files(self) -> list[tuple[str, str]]:
        """``(field_key, path)`` of every prompt this row plays from an uploaded file."""
        if self._group is not None and self._instruction is None:
            return self._group.prompt_files_of(self)
        inst = self.instruction
        return inst.prompt_files() if inst is not None else []

    @property
    def problems(self) -> Any:
        """What is wrong with the row: a list to add to while the row is open, a tuple once frozen."""
        found = self._problems
        if found is None:
            if self.frozen:
                return ()
            found = self._problems = []
        return found

    @problems.setter
    def problems(self, value: list) -> None:
        self._problems = list(value)

    @property
    def problem_count(self) -> int:
        """``len(problems)``, without making an empty list for a row that has none (a million-row plan)."""
        return len(self._problems) if self._problems else 0

    @property
    def valid(self) -> bool:
        if self._problems:
            return False
        if self._instruction is not None:
            return True
        return self._group is not None and self._group.buildable(self)

    @property
    def sendable(self) -> bool:
        return self.valid and not self.dropped and not self.suppressed and self.variant != "holdout"

    def _values(self) -> tuple:
        return tuple(tuple(self.problems) if name == "problems" else getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RowPlan):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # equal rows may hold different instruction objects

    def __repr__(self) -> str:
        fields = zip(self._FIELDS, self._values(), strict=True)
        return "RowPlan(" + ", ".join(f"{name}={value!r}" for name, value in fields) + ")"


class _FrozenRowPlan(RowPlan):
    """A :class:`RowPlan` that is part of a plan: setting or deleting an attribute raises AttributeError."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        shown = name.lstrip("_")
        raise AttributeError(f"a planned row does not change ({shown}); make a changed copy with "
                             f"row.replace({shown}=...)")

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)


#: The class of a frozen row: a view made frozen takes it at once (its problems are a tuple already).
FrozenRowPlan = _FrozenRowPlan


def _rebuild(values: tuple, frozen: bool) -> RowPlan:
    """A row from its slots (pickle and deep copies)."""
    row = RowPlan.__new__(RowPlan)
    for name, value in zip(_SLOTS, values, strict=True):
        setattr(row, name, value)
    return row.freeze() if frozen else row


# ------------------------------------------------------------------------ reading cells
def _nested_kind(value: Any) -> str | None:
    """What nested value a cell holds, in words (``"list"``, ``"dict"``, ``"array"``...), or None."""
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, (set, frozenset)):
        return "set"
    if isinstance(value, dict):
        return "dict"
    if type(value).__name__ == "ndarray":
        return "array"
    return None


def cell_value(fld: Any, value: Any) -> Any:
    """A non-blank cell as its field's kind; a ValueError says in plain words what was expected.

    Yes/no words, enum spellings and whole numbers are read by the instructions' own
    coercion (:func:`cmvoice_nb.instructions.coerce_value`); what it leaves unread is a
    problem of the row here, with the value the user wrote.
    """
    kind = fld.kind
    nested = _nested_kind(value)
    if nested is not None:
        if kind != "list" or nested not in ("list", "array") or any(_nested_kind(v) is not None for v in value):
            # A Parquet list or struct cell: speaking or dialling its repr is never what was meant.
            raise ValueError(f"holds a nested value ({nested}): give one text value"
                             + (" or several separated by ';'" if kind == "list" else ""))
        value = [v.item() if hasattr(v, "item") else v for v in value]
    elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars from a DataFrame
    if kind == "str":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # a spreadsheet's 31612345610.0
        return value.strip() if isinstance(value, str) else str(value)
    if kind == "list":
        items = value if isinstance(value, (list, tuple)) else re.split(r"[;,]", str(value))
        items = [str(v).strip() for v in items if str(v).strip()]
        if not items:
            raise ValueError("expected one or more values separated by ';'")
        return items
    coerced = coerce_value(fld, value.strip() if isinstance(value, str) else value)
    if kind == "int":
        if isinstance(coerced, bool):
            raise ValueError("expected a whole number, got a yes/no value")
        if isinstance(coerced, int):
            return coerced
        try:
            number = float(str(coerced).strip())  # "3.0" from a CSV
        except ValueError:
            raise ValueError("expected a whole number") from None
        if number.is_integer():
            return int(number)
        raise ValueError("expected a whole number")
    if kind == "bool":
        if isinstance(coerced, bool):
            return coerced
        raise ValueError("expected true or false (yes/no, 1/0)")
    if kind == "enum":
        if isinstance(coerced, str) and coerced in (fld.choices or ()):
            return coerced
        raise ValueError(f"expected one of {', '.join(fld.choices or ())}")
    return value


def memo_key(value: Any) -> tuple:
    """A cache key that only equal-printing values share: plain text, ints, bools and floats by bit pattern.

    ``0.0 == -0.0`` and ``Decimal("1.0") == Decimal("1.00")`` but they print differently, so
    anything but these exact types raises TypeError (the caller then does not cache).

    Examples
    --------
    >>> memo_key(0.0) == memo_key(-0.0), memo_key(1) == memo_key(True), memo_key("a")
    (False, False, (<class 'str'>, 'a'))
    """
    kind = type(value)
    if kind is float:
        return (kind, value.hex())
    if kind is str or kind is int or kind is bool:
        return (kind, value)
    raise TypeError("not cached")


class NumberCache:
    """:func:`~cmvoice_nb.numbers.normalize_number` remembered per (value, region, style).

    The outcome is a pure function of the three. A NumberError is remembered too and raised
    again (a fresh one, with this row's value and the same reason).
    """

    def __init__(self) -> None:
        self._seen: dict[tuple, tuple] = {}

    def __call__(self, value: Any, *, region: str | None = None, style: str = "e164") -> str:
        try:
            key = (memo_key(value), region, style)
        except TypeError:  # not a plain scalar: not cached
            return normalize_number(value, region=region, style=style)
        hit = self._seen.get(key)
        if hit is None:
            hit = self._seen[key] = try_normalize(value, region=region, style=style)
        if hit[0] is None:
            raise NumberError(value, hit[1])
        return hit[0]


class CellReader:
    """:func:`cell_value` remembered per (field, value) for scalar kinds (see :func:`memo_key`)."""

    def __init__(self) -> None:
        self._seen: dict[tuple, tuple] = {}

    def __call__(self, fld: Any, value: Any) -> Any:
        if fld.kind not in ("str", "int", "bool", "enum"):
            return cell_value(fld, value)  # a list is built afresh for every row
        try:
            key = (fld.key, memo_key(value))
            hit = self._seen.get(key)
        except TypeError:
            return cell_value(fld, value)
        if hit is None:
            try:
                hit = (cell_value(fld, value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            self._seen[key] = hit
        if hit[1] is not None:
            raise ValueError(hit[1])
        return hit[0]


class TemplateCache:
    """:func:`~cmvoice_nb.campaign.plan.render_template` remembered per field, language and placeholder values.

    A rendering is remembered per template field, the row's language and the (type, value) of
    each placeholder (see :func:`memo_key`); *planning* gives the row's language
    (``language_of(record)``) and the column readers (``readers``).
    """

    def __init__(self, templates: Mapping[str, str], planning: Any) -> None:
        self._templates = templates
        self._planning = planning
        self._names = {key: tuple(dict.fromkeys(template_columns(t))) for key, t in templates.items()}
        self._seen: dict[tuple, tuple] = {}
        self._renderers: dict[tuple, Any] = {}

    def _renderer(self, key: str, language: Any) -> Any:
        """The template's renderer for *language* (locale, readers and formatters settled once per plan)."""
        found = self._renderers.get((key, language))
        if found is None:
            found = self._renderers[(key, language)] = compile_template(self._templates[key]).renderer(
                language, self._planning.readers)
        return found

    def __call__(self, key: str, record: Mapping[str, Any]) -> str:
        language = self._planning.language_of(record)
        render = self._renderer(key, language)
        try:
            cache_key = (key, language) + tuple(memo_key(record[n]) for n in self._names[key])
            hit = self._seen.get(cache_key)
        except (TypeError, KeyError):
            return render(record)
        if hit is None:
            try:
                hit = (render(record), None)
            except TemplateError as exc:
                hit = (None, str(exc))
            self._seen[cache_key] = hit
        if hit[1] is not None:
            raise TemplateError(hit[1])
        return hit[0]
