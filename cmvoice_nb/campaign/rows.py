"""Reading campaign rows: instruction ids, cells, numbers and templates, one row at a time.

The per-row half of :func:`~cmvoice_nb.campaign.plan_campaign`: :class:`RowPlan` (what the
plan decided for one row), the derived instruction ids (see :mod:`cmvoice_nb.campaign.plan`,
"Instruction ids"), and :class:`_Planning`, which reads a row's cells into a validated
instruction. :mod:`cmvoice_nb.campaign.columnar` plans whole frames with the same reading.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import re
import secrets
from typing import Any, Iterator, Mapping

from ..client import encode_body
from ..errors import NumberError
from ..instructions import Problem, coerce_value
from ..spec import INSTRUCTION_ID_MAX_LENGTH
from .journal import instruction_hash
from .templates import TemplateError, is_blank, render_template, template_columns

MAX_ID_LENGTH = INSTRUCTION_ID_MAX_LENGTH


@contextlib.contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a plan's rows are made (reference counting goes on).

    A million-row plan makes millions of objects, none of them in a reference cycle; the cyclic
    collector would walk all of them again and again (a fifth of the planning time at 400,000
    rows). It is switched back on afterwards, however the block ends.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:\-]+")


def new_campaign_key() -> str:
    """A fresh random campaign key: 8 hex digits (what a new journal records).

    Examples
    --------
    >>> len(new_campaign_key())
    8
    """
    return secrets.token_hex(4)


def content_key(callee: Any) -> str:
    """The part of a derived id that names the row's content: its callee(s) as digits.

    Normalised numbers (``+31612345610``, ``0031612345610``) give their digits without the
    ``+``/``00`` prefix; several callees are joined with ``_``; text that is not a number
    (an invalid row) is kept in id-safe characters.

    Examples
    --------
    >>> content_key("+31612345610")
    '31612345610'
    >>> content_key(["+31612345610", "0031612345611"])
    '31612345610_31612345611'
    >>> content_key("")
    'none'
    """
    items = callee if isinstance(callee, (list, tuple)) else str(callee or "").split(";")
    parts = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        digits = re.sub(r"\D", "", text)
        if digits and re.fullmatch(r"[+0-9 ()./-]+", text):
            parts.append(digits[2:] if text.startswith("00") else digits)
        else:
            parts.append(_ID_UNSAFE.sub("_", text)[:24])
    return "_".join(parts) or "none"


def _with_hash(text: str, room: int) -> str:
    """*text* cut to *room* characters, ending in 6 hex digits of its SHA-1 when it had to be cut."""
    if len(text) <= room:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
    return f"{text[: max(0, room - len(digest) - 1)]}~{digest}" if room > len(digest) else digest[:room]


def derive_instruction_id(name: str, campaign_key: str, content: str, occurrence: int = 1, *,
                          max_length: int = MAX_ID_LENGTH) -> str:
    """Return the derived id ``f"{name}-{campaign_key}-{content}-{occurrence}"``, at most 64 characters.

    Characters outside ``A-Z a-z 0-9 . _ : -`` become ``_``. When the whole does not fit,
    a long content key (many callees) becomes 12 hex digits of its SHA-1, then the name is
    cut and ends in ``~`` plus 6 hex digits of a SHA-1 of the full name: the id stays unique
    and the same on every run.

    Examples
    --------
    >>> derive_instruction_id("spring", "7f3a9c2d", "31612345610")
    'spring-7f3a9c2d-31612345610-1'
    >>> derive_instruction_id("spring sale", "7f3a9c2d", "31612345610", 2)
    'spring_sale-7f3a9c2d-31612345610-2'
    >>> len(derive_instruction_id("x" * 80, "7f3a9c2d", "31612345610"))
    64
    """
    name = _ID_UNSAFE.sub("_", str(name))
    key = _ID_UNSAFE.sub("_", str(campaign_key))
    content = _ID_UNSAFE.sub("_", str(content))
    tail = f"-{key}-{content}-{int(occurrence)}"
    if len(tail) > max_length // 2:
        content = hashlib.sha1(content.encode("utf-8")).hexdigest()[:12]
        tail = f"-{key}-{content}-{int(occurrence)}"
    return _with_hash(name, max_length - len(tail)) + tail


def wave_instruction_id(base_id: str, wave: int, *, max_length: int = MAX_ID_LENGTH) -> str:
    """The instruction id of a row's attempt in *wave*: the row's own id in wave 1, ``<id>-w<wave>`` after.

    A long id is cut (ending in ``~`` and 6 hex digits of its SHA-1) so the whole stays
    within the contract's 64 characters, and the same on every run.

    Examples
    --------
    >>> wave_instruction_id("spring-7f3a9c2d-31612345610-1", 1)
    'spring-7f3a9c2d-31612345610-1'
    >>> wave_instruction_id("spring-7f3a9c2d-31612345610-1", 2)
    'spring-7f3a9c2d-31612345610-1-w2'
    >>> len(wave_instruction_id("x" * 64, 3))
    64
    """
    wave = int(wave)
    if wave < 1:
        raise ValueError(f"a wave is 1 or more, got {wave}")
    if wave == 1:
        return str(base_id)
    tail = f"-w{wave}"
    return _with_hash(str(base_id), max_length - len(tail)) + tail


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


def _cell_value(fld: Any, value: Any) -> Any:
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


# ------------------------------------------------------------------------------ the plan
class RowPlan:
    """What the plan decided for one input row (positional).

    Attributes
    ----------
    position, label
        The row's position in the input and its index label.
    instruction_id, callee
        The row's instruction id, and its callee(s) as normalised (``;``-joined), or as written
        when unreadable.
    instruction
        The validated instruction (None when it could not be built). Rows planned column-wise
        share one :class:`_RowGroup` with the rows that differ only in callee and id, and build
        their own instruction the first time it is asked for.
    problems, duplicate_of, dropped, suppressed
        What is wrong with the row, the earlier row with the same callee, and whether it is left
        out (a repeat with ``drop_duplicates=True``, or a callee on the do-not-call list).
    content, occurrence, id_given
        The derived id's content key and occurrence, and whether the id came from the input.
    payload, payload_hash
        The wire JSON of a valid row as the bytes the sender sends, and
        :func:`~cmvoice_nb.campaign.instruction_hash` of it (the journal's record of the content
        sent). Grouped rows compute them on demand from their group's template.
    wave, base_id, ended
        The attempt this row is (1 as planned, 2... in a follow-up wave), its wave-1 id, and the
        earlier attempts whose call ended: ``(instruction_id, outcome, finished_on)``.
    """

    __slots__ = ("position", "label", "instruction_id", "callee", "_instruction", "_problems", "duplicate_of",
                 "dropped", "content", "occurrence", "id_given", "_payload", "_payload_hash", "wave", "base_id",
                 "ended", "suppressed", "_group")

    _FIELDS = ("position", "label", "instruction_id", "callee", "instruction", "problems", "duplicate_of", "dropped",
               "content", "occurrence", "id_given", "payload", "payload_hash", "wave", "base_id", "ended", "suppressed")

    def __init__(self, position: int, label: Any, instruction_id: str, callee: str, instruction: Any = None,
                 problems: list | None = None, duplicate_of: Any = None, dropped: bool = False, content: str = "none",
                 occurrence: int = 1, id_given: bool = False, payload: bytes | None = None,
                 payload_hash: str | None = None, wave: int = 1, base_id: str | None = None, ended: tuple = (),
                 suppressed: str | None = None, *, group: Any = None) -> None:
        self.position = position
        self.label = label
        self.instruction_id = instruction_id
        self.callee = callee
        self._instruction = instruction
        self._problems = problems  # None: none yet (the list is made when first asked for)
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
        self._group = group

    # -- the instruction and its wire form: explicit, or built on demand from the row's group
    @property
    def instruction(self) -> Any:
        inst = self._instruction
        if inst is None and self._group is not None and self._group.buildable:
            inst = self._instruction = self._group.instruction_for(self)
        return inst

    @instruction.setter
    def instruction(self, value: Any) -> None:
        self._instruction, self._group = value, None  # an explicit instruction: payload via freeze()

    @property
    def payload(self) -> bytes | None:
        if self._group is not None and self._payload is None:
            return self._group.payload_for(self) if self.valid else None
        return self._payload

    @payload.setter
    def payload(self, value: bytes | None) -> None:
        self._payload = value

    @property
    def payload_hash(self) -> str | None:
        if self._group is not None and self._payload_hash is None:
            return self._group.hash_for(self) if self.valid else None
        return self._payload_hash

    @payload_hash.setter
    def payload_hash(self, value: str | None) -> None:
        self._payload_hash = value

    def freeze(self) -> "RowPlan":
        """Build :attr:`payload` and :attr:`payload_hash` of a valid row, once (returns self).

        A grouped row needs nothing built: its payload is its group's, with its own callee and id.
        """
        if self._group is not None:
            return self
        if self.valid:
            wire = self.instruction.to_json()
            self._payload, self._payload_hash = encode_body(wire), instruction_hash(wire)
        else:
            self._payload = self._payload_hash = None
        return self

    def callee_list(self) -> list[str]:
        """The numbers this row dials (as its instruction would list them), without building it."""
        if self._group is not None and self._instruction is None:
            return self._group.numbers_of(self)
        inst = self.instruction
        return list(inst.callee_list()) if inst is not None else []

    def wire(self) -> dict | None:
        """The instruction's wire dict (``instruction.to_json()``), without building it for a grouped row."""
        if self._group is not None and self._instruction is None:
            return self._group.wire_json(self) if self._group.buildable else None
        inst = self.instruction
        return inst.to_json() if inst is not None else None

    def prompt_files(self) -> list[tuple[str, str]]:
        """``(field_key, path)`` of every prompt this row plays from an uploaded file."""
        if self._group is not None and self._instruction is None:
            return list(self._group.prompt_files)
        inst = self.instruction
        return inst.prompt_files() if inst is not None else []

    def copy(self) -> "RowPlan":
        """A shallow copy with its own problems list."""
        new = RowPlan.__new__(RowPlan)
        for name in RowPlan.__slots__:
            setattr(new, name, getattr(self, name))
        new._problems = list(self._problems) if self._problems else None
        return new

    @property
    def problems(self) -> list:
        """What is wrong with the row (a list to append to)."""
        found = self._problems
        if found is None:
            found = self._problems = []
        return found

    @problems.setter
    def problems(self, value: list) -> None:
        self._problems = value

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
        return self._group is not None and self._group.buildable

    @property
    def sendable(self) -> bool:
        return self.valid and not self.dropped and not self.suppressed

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not RowPlan:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return "RowPlan(" + ", ".join(f"{name}={value!r}" for name, value in zip(self._FIELDS, self._values())) + ")"


class _Planning:
    """What every row of one plan is read with: the app, the column map, defaults, options.

    With *fast* the pure steps are memoised over the whole frame (see :func:`_plan_rows`);
    without, they are the plain functions (the per-row reference path).
    """

    def __init__(self, spec: Any, colmap: Mapping[str, str], plain_defaults: Mapping[str, Any],
                 voice_defaults: Mapping[str, Any], templates: Mapping[str, str], *, region: str | None,
                 number_style: str, name: str, campaign_key: str, allowed: Any, fast: bool,
                 readers: Mapping[tuple, Any] | None = None) -> None:
        from ..numbers import normalize_number

        self.spec, self.colmap, self.templates = spec, colmap, templates
        self.plain_defaults, self.voice_defaults = plain_defaults, voice_defaults
        self.region, self.number_style, self.name, self.campaign_key = region, number_style, name, campaign_key
        self.allowed = allowed
        self.readers = dict(readers or {})
        self.fields = [f for f in spec.fields if f.kind != "voice"]
        #: The column giving each row's country (``columns={"region": ...}``), or None.
        self.region_column = colmap.get("region")
        self._language_column = colmap.get("voice.language")
        default_language = voice_defaults.get("language")
        self._default_language = None if is_blank(default_language) else str(default_language).strip()
        self._countries: dict[Any, tuple] = {}
        if fast:
            self.cell_value = _CellReader()
            self.normalize = _NumberCache(normalize_number)
            self.render = _TemplateCache(templates, self)
        else:
            self.cell_value, self.normalize = _cell_value, normalize_number
            self.render = lambda key, record: render_template(templates[key], record,
                                                              language=self.language_of(record), readers=self.readers)

    def language_of(self, record: Mapping[str, Any]) -> str | None:
        """The voice language *record* will be spoken in: its voice column, else the default voice's."""
        if self._language_column is not None:
            value = record.get(self._language_column)
            if not is_blank(value):
                return str(value).strip()
        return self._default_language

    def country_of_cell(self, value: Any) -> tuple[str | None, str | None]:
        """``(ISO code, None)`` for a region cell, ``(None, why)`` when it names no country (remembered per value)."""
        from .values import read_country

        try:
            hit = self._countries.get(value)
        except TypeError:  # an unhashable cell
            hit = None
        if hit is None:
            try:
                hit = (read_country(value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            try:
                self._countries[value] = hit
            except TypeError:
                pass
        return hit

    def region_of(self, record: Mapping[str, Any]) -> str | None:
        """The region *record*'s national numbers are read in: its country cell, else ``region=``."""
        if self.region_column is None:
            return self.region
        value = record.get(self.region_column)
        if is_blank(value):
            return self.region
        return self.country_of_cell(value)[0]

    def read_region(self, record: Mapping[str, Any], problems: list, bad_fields: set) -> None:
        """Add the problem of a country cell that names no country (``columns={"region": ...}``)."""
        if self.region_column is None:
            return
        value = record.get(self.region_column)
        if is_blank(value):
            return
        why = self.country_of_cell(value)[1]
        if why is not None:
            problems.append(Problem("region", value, why))
            bad_fields.add("region")

    def read_field(self, fld: Any, record: Mapping[str, Any], problems: list, bad_fields: set, data: dict) -> None:
        """Read one field of *record* into *data*, or add its problem (the value as the user wrote it)."""
        key = fld.key
        value = record.get(self.colmap[key]) if key in self.colmap else None
        from_default = False
        if is_blank(value) and key in self.plain_defaults:
            value, from_default = self.plain_defaults[key], True
        if is_blank(value):
            return
        if from_default and key in self.templates:
            try:
                value = self.render(key, record)
            except TemplateError as exc:
                problems.append(Problem(key, self.templates[key], str(exc)))
                bad_fields.add(key)
                return
        try:
            value = self.cell_value(fld, value)
        except ValueError as exc:
            problems.append(Problem(key, value, str(exc)))
            bad_fields.add(key)
            return
        if getattr(fld, "phone", False):
            region = self.region_of(record)
            try:
                if isinstance(value, list):
                    value = [self.normalize(v, region=region, style=self.number_style) for v in value]
                else:
                    value = self.normalize(value, region=region, style=self.number_style)
            except NumberError as exc:
                problems.append(Problem(key, exc.value, f"not a phone number: {exc.reason}"))
                bad_fields.add(key)
                return
        data[key] = value

    def read_voice(self, record: Mapping[str, Any], problems: list, bad_fields: set, data: dict) -> None:
        """The row's voice: defaults, then its own voice columns, each key read as its kind."""
        from ..spec import VOICE_FIELDS

        voice = dict(self.voice_defaults)
        for vkey in (f.key for f in VOICE_FIELDS):
            col = self.colmap.get("voice." + vkey)
            if col is not None and not is_blank(record.get(col)):
                voice[vkey] = record.get(col)
        if not voice:
            return
        vfields = {f.key: f for f in VOICE_FIELDS}
        clean = {}
        for vkey, value in voice.items():
            if is_blank(value):
                continue
            try:
                clean[vkey] = self.cell_value(vfields[vkey], value)
            except ValueError as exc:
                problems.append(Problem(f"voice.{vkey}", value, str(exc)))
                bad_fields.add("voice")
        if clean:
            data["voice"] = clean

    def read_row(self, record: Mapping[str, Any]) -> tuple[dict, list, set]:
        """``(data, problems, bad_fields)`` of one row: every field, then the voice."""
        problems: list[Problem] = []
        data: dict[str, Any] = {}
        bad_fields: set[str] = set()
        self.read_region(record, problems, bad_fields)
        for fld in self.fields:
            self.read_field(fld, record, problems, bad_fields, data)
        self.read_voice(record, problems, bad_fields, data)
        return data, problems, bad_fields

    def content_of(self, data: Mapping[str, Any], record: Mapping[str, Any]) -> str:
        """The content key: the callee(s) as normalised, or as written for an unreadable number."""
        callee_value = data.get("callees") or data.get("callee")
        if callee_value is None and "callee" in self.colmap and not is_blank(record.get(self.colmap["callee"])):
            callee_value = str(record.get(self.colmap["callee"]))
        return content_key(callee_value)

    def finish_row(self, position: int, label: Any, record: Mapping[str, Any], data: dict, problems: list,
                   bad_fields: set, content: str, occurrence: int) -> RowPlan:
        """Give the row its id, build and validate its instruction, and check its countries."""
        from ..instructions import instruction_from_json

        given_id = data.get("instruction-id")
        instruction_id = str(given_id) if given_id else derive_instruction_id(self.name, self.campaign_key, content,
                                                                               occurrence)
        data["instruction-id"] = instruction_id
        instruction = None
        try:
            instruction = instruction_from_json(self.spec.name, data)
        except Exception as exc:  # noqa: BLE001 - any construction failure is a row problem
            problems.append(Problem("", None, f"cannot build the instruction: {exc}"))
        if instruction is not None:
            for p in instruction.validate():
                field_key = getattr(p, "field", "") or ""
                if field_key.split(".")[0] in bad_fields:
                    continue  # already reported with the value the user wrote
                problems.append(Problem(field_key, getattr(p, "value", None), getattr(p, "message", str(p))))
        callee = ""
        if instruction is not None:
            try:
                callee = ";".join(instruction.callee_list())
            except Exception:  # noqa: BLE001
                callee = str(data.get("callee") or ";".join(data.get("callees") or []))
        else:
            callee = str(data.get("callee") or ";".join(data.get("callees") or []))
        if not callee and "callee" in self.colmap and not is_blank(record.get(self.colmap["callee"])):
            callee = str(record.get(self.colmap["callee"])).strip()  # show what the user wrote
        if self.allowed is not None and instruction is not None:
            _check_countries(instruction, self.allowed, problems, bad_fields)
        return RowPlan(position, label, instruction_id, callee, instruction, problems, content=content,
                       occurrence=occurrence, id_given=bool(given_id))


def _per_row(planning: _Planning, df: Any) -> list[RowPlan]:
    """Every row of *df* read, counted and finished on its own, in input order."""
    rows: list[RowPlan] = []
    seen_content: dict[str, int] = {}
    records = df.to_dict(orient="records")  # a copy: the input is never touched
    for position, (label, record) in enumerate(zip(df.index, records)):
        data, problems, bad_fields = planning.read_row(record)
        content = planning.content_of(data, record)
        occurrence = seen_content[content] = seen_content.get(content, 0) + 1
        rows.append(planning.finish_row(position, label, record, data, problems, bad_fields, content, occurrence))
    return rows


def _memo_key(value: Any) -> tuple:
    """A cache key that only equal-printing values share: plain text, ints, bools and floats by bit pattern.

    ``0.0 == -0.0`` and ``Decimal("1.0") == Decimal("1.00")`` but they print differently, so
    anything but these exact types raises TypeError (the caller then does not cache).
    """
    kind = type(value)
    if kind is float:
        return (kind, value.hex())
    if kind is str or kind is int or kind is bool:
        return (kind, value)
    raise TypeError("not cached")


class _NumberCache:
    """:func:`~cmvoice_nb.numbers.normalize_number` memoised twice: per raw value, and per what it parses.

    The outcome is a pure function of (raw value, region, style); the parsing (the costly part)
    depends only on the candidates the raw value reduces to, which ``+31 6 1234 5610``,
    ``0031612345610`` and ``+31 (0)6-12345610`` share. A NumberError is remembered too and
    raised again (a fresh one, with this row's value and the same reason).
    """

    def __init__(self, normalize: Any) -> None:
        self._normalize = normalize  # the plain function, for values that cannot be a cache key
        self._seen: dict[tuple, tuple] = {}
        self._parsed: dict[tuple, tuple] = {}
        self._verdicts: dict[tuple, str | None] = {}

    def __call__(self, value: Any, *, region: str | None = None, style: str = "e164") -> str:
        from ..numbers import _STYLES, _prepare, _resolve

        try:
            key = (_memo_key(value), region, style)
        except TypeError:  # not a plain scalar: not cached
            return self._normalize(value, region=region, style=style)
        hit = self._seen.get(key)
        if hit is None:
            if style not in _STYLES:
                return self._normalize(value, region=region, style=style)  # its ValueError
            try:
                tries = _prepare(value, region)
            except NumberError as exc:
                hit = (None, exc.reason)
            else:
                hit = self._parsed.get((tries, style))
                if hit is None:
                    hit = self._parsed[(tries, style)] = _resolve(tries, style, self._verdicts)
            self._seen[key] = hit
        if hit[0] is None:
            raise NumberError(value, hit[1])
        return hit[0]


class _CellReader:
    """:func:`_cell_value` memoised per (field, value) for scalar kinds (see :func:`_memo_key`)."""

    def __init__(self) -> None:
        self._seen: dict[tuple, tuple] = {}

    def __call__(self, fld: Any, value: Any) -> Any:
        if fld.kind not in ("str", "int", "bool", "enum"):
            return _cell_value(fld, value)  # a list is built afresh for every row
        try:
            key = (fld.key, _memo_key(value))
            hit = self._seen.get(key)
        except TypeError:
            return _cell_value(fld, value)
        if hit is None:
            try:
                hit = (_cell_value(fld, value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            self._seen[key] = hit
        if hit[1] is not None:
            raise ValueError(hit[1])
        return hit[0]


class _TemplateCache:
    """:func:`render_template` memoised per template field, the row's language and the (type, value) of each placeholder."""

    def __init__(self, templates: Mapping[str, str], planning: "_Planning") -> None:
        self._templates = templates
        self._planning = planning
        self._names = {key: tuple(dict.fromkeys(template_columns(t))) for key, t in templates.items()}
        self._seen: dict[tuple, tuple] = {}
        self._renderers: dict[tuple, Any] = {}

    def _renderer(self, key: str, language: Any) -> Any:
        """The template's renderer for *language* (locale, readers and formatters settled once per plan)."""
        found = self._renderers.get((key, language))
        if found is None:
            from .templates import compile_template

            found = self._renderers[(key, language)] = compile_template(self._templates[key]).renderer(
                language, self._planning.readers)
        return found

    def __call__(self, key: str, record: Mapping[str, Any]) -> str:
        language = self._planning.language_of(record)
        render = self._renderer(key, language)
        try:
            cache_key = (key, language) + tuple(_memo_key(record[n]) for n in self._names[key])
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


def _check_countries(instruction: Any, allowed: frozenset, problems: list, bad_fields: set) -> None:
    """Add a problem for each callee whose country is not in *allowed* (``allowed_countries=``)."""
    try:
        numbers = list(instruction.callee_list())
    except Exception:  # noqa: BLE001 - an unreadable callee is already a problem of the row
        return
    country_problems(numbers, allowed, problems, bad_fields)


def country_problems(numbers: list, allowed: frozenset, problems: list, bad_fields: set,
                     cache: dict | None = None) -> None:
    """Add a problem for each of *numbers* whose country is not in *allowed*; *cache* remembers the answers."""
    from .suppress import check_allowed_country

    key = "callees" if len(numbers) > 1 else "callee"
    if key in bad_fields:
        return
    for number in numbers:
        if cache is None:
            message = check_allowed_country(number, allowed)
        else:
            if number not in cache:
                cache[number] = check_allowed_country(number, allowed)
            message = cache[number]
        if message:
            problems.append(Problem(key, number, message))
