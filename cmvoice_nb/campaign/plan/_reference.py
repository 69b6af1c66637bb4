"""The per-row path: every row's cells read into a validated instruction, one row at a time.

:class:`Planning` holds what every row of one plan is read with (the app, the column map, the
defaults, the options) and reads one row: its country, its fields, its voice, then its id,
instruction and problems. :func:`plan_rows_reference` plans a whole frame that way, row by row:
the reference the column-wise planner (:mod:`cmvoice_nb.campaign.plan._columnar`) must equal
byte for byte (``tests/campaign/test_plan_fast.py``), and the path it takes for the rows it
cannot group.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...errors import NumberError
from ...instructions import Problem, instruction_from_json
from ...numbers import normalize_number
from ...spec import VOICE_FIELDS
from ..ops.suppress import check_allowed_country
from ._ids import content_key, derive_instruction_id
from ._rows import CellReader, NumberCache, RowPlan, TemplateCache, cell_value
from .templates import TemplateError, is_blank, render_template
from .values import read_country

__all__ = ["Planning", "plan_rows_reference", "country_problems"]


class Planning:
    """What every row of one plan is read with: the app, the column map, defaults, options.

    With *fast* the pure steps (reading a cell, a number, a template) are remembered per
    distinct value over the whole frame; without, they are the plain functions: the per-row
    reference path, which the column-wise planner is tested and measured against.
    """

    def __init__(self, spec: Any, colmap: Mapping[str, str], plain_defaults: Mapping[str, Any],
                 voice_defaults: Mapping[str, Any], templates: Mapping[str, str], *, region: str | None,
                 number_style: str, name: str, campaign_key: str, allowed: Any, fast: bool,
                 readers: Mapping[tuple, Any] | None = None) -> None:
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
        self.cell_value: Callable[[Any, Any], Any]
        self.normalize: Callable[..., str]
        self.render: Callable[[Any, Mapping[str, Any]], str]
        if fast:
            self.cell_value = CellReader()
            self.normalize = NumberCache()
            self.render = TemplateCache(templates, self)
        else:
            self.cell_value, self.normalize = cell_value, normalize_number
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


def plan_rows_reference(planning: Planning, df: Any) -> list[RowPlan]:
    """Every row of *df* read, counted and finished on its own, in input order: the reference path."""
    rows: list[RowPlan] = []
    seen_content: dict[str, int] = {}
    records = df.to_dict(orient="records")  # a copy: the input is never touched
    for position, (label, record) in enumerate(zip(df.index, records, strict=True)):
        data, problems, bad_fields = planning.read_row(record)
        content = planning.content_of(data, record)
        occurrence = seen_content[content] = seen_content.get(content, 0) + 1
        rows.append(planning.finish_row(position, label, record, data, problems, bad_fields, content, occurrence))
    return rows


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
