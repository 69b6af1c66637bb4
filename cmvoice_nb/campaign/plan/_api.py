"""The planning verb: :func:`plan_campaign`, a DataFrame in, a frozen :class:`CampaignPlan` out.

The steps, each in its own module: the column map and defaults (``_mapping``), how each template
date and number column is read (decided here, once per column), the rows (``_columnar``, or the
per-row ``_reference`` path), the checks over all rows (repeated ids, the audio and spelling
preflight, repeated callees), then the plan, which freezes its rows, and the do-not-call list.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._gc import paused_gc
from ...errors import CampaignError
from ...instructions import Problem
from ...messages import did_you_mean, listing, opt, quote
from ...spec import app_spec
from ..inputs import NUMBER_COLUMNS_ATTR
from ..ops.suppress import apply_suppression, parse_allowed_countries
from ._cells import arrow_text, text_codes
from ._columnar import plan_rows_columnar
from ._ids import campaign_key_of, check_campaign_key, new_campaign_key
from ._mapping import resolve_columns, split_defaults, template_defaults
from ._optout import check_key, with_opt_out
from ._plan import CampaignPlan
from ._preflight import preflight
from ._reference import Planning, plan_rows_reference
from ._table import PlanRows
from ._variants import plan_with_variants
from .templates import template_placeholders
from .values import date_reader, looks_like_countries, number_reader

__all__ = ["plan_campaign"]

log = logging.getLogger(__name__)


def plan_campaign(
    df: Any,
    *,
    app: str,
    name: str,
    columns: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    region: str | None = None,
    number_style: str = "e164",
    drop_duplicates: bool = False,
    audio_root: str | Path | None = None,
    spelling_root: str | Path | None = None,
    campaign_key: str | None = None,
    journal: Any = None,
    suppress: Any = None,
    allowed_countries: Any = None,
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    decimal: str | None = None,
    keep: Any = None,
    allow_unreadable_suppress: bool = False,
    opt_out_digit: str | None = None,
    variants: Mapping[str, Mapping[str, Any]] | None = None,
    holdout: float | None = None,
    seed: int | str | None = None,
) -> CampaignPlan:
    """Turn a DataFrame into validated instructions, one per row, without sending anything.

    Parameters
    ----------
    df
        One row per call. Columns named like a contract field (``callee``, ``max-digits`` or
        ``max_digits``, ``voice.language``) map to it automatically.
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"``.
    name
        Campaign name: the first part of every derived instruction id (see the module's
        "Instruction ids"); re-running the same name on the same journal resumes.
    columns
        Explicit field → column mapping, e.g. ``{"callee": "Phone"}``; wins over name matching.
        Two keys are not fields: ``"region"`` names the column giving each row's country
        (``{"region": "land"}``: ``030 2345678`` in a row whose ``land`` is ``DE`` is a Berlin
        number; ISO codes or country names; a blank cell uses *region*), and ``"id"`` the column
        of your own row id (``{"id": "Klantnummer"}``), which messages name each row by and which
        is kept in the results; ``"subdivision"`` names the column of each row's state or province
        (``{"subdivision": "Land"}``: ``BY``, ``DE-BY``), whose public holidays count with
        ``public_holidays=True`` (kept in the results and the journal). None is ever mapped by a
        column's name alone.
    defaults
        Field → value for every row where the row has no value. Text prompt fields accept
        templates filled per row and spoken in the row's voice language:
        ``"Beste {naam}, uw afspraak is op {datum:%-d %B} om {datum:%H:%M}: {bedrag:currency:EUR}"``
        (see :mod:`cmvoice_nb.campaign.plan.templates` for the mini-language).
    region
        Default region (``"NL"``) for phone numbers written without a country code.
    number_style
        ``"e164"`` (``+31…``, default) or ``"00"`` (``0031…``).
    drop_duplicates
        Leave out rows whose callee already appears in an earlier row (they are always reported
        in :attr:`CampaignPlan.duplicates`).
    audio_root
        A local mirror of the uploaded audio. When given, every ``File`` prompt must exist under
        it and pass :func:`cmvoice_nb.audio.check_prompt`.
    spelling_root
        Folder holding ``spelling/<locale>/<char>.wav`` (defaults to *audio_root*). When given,
        every OTP with ``code-type: Custom`` must have its code's characters covered by a valid
        spelling set for its voice language.
    campaign_key
        The key in every derived id. Default: the key of *journal* when it exists, else a
        fresh provisional key (``send_campaign`` re-keys the plan to its journal's key, so
        the ids that go out are always the journal's).
    journal
        A journal path or :class:`~cmvoice_nb.campaign.Journal` to read the campaign key
        from, so the plan shows the final ids. Nothing is written; a missing file is left alone.
    suppress
        A do-not-call list: a CSV/TXT path, a DataFrame, or numbers in any spelling (see
        :func:`~cmvoice_nb.campaign.ops.suppress.read_suppression`; national numbers are read with
        *region*). Rows calling one of its numbers are ``suppressed``: never sent. A list of
        which none, or more than 1 %, of the entries are phone numbers raises
        :class:`~cmvoice_nb.errors.SuppressionError`.
    allow_unreadable_suppress
        Go on with the numbers of *suppress* that could be read, however few.
    allowed_countries
        ISO codes (``("NL", "BE")`` or ``"NL,BE"``): a number of another country is a problem of
        its row (``country FR not allowed (allowed: BE, NL)``), so the row is invalid.
    dayfirst
        How the numeric dates of template columns read (``True``: ``09-12-2025`` is 9 December).
        Default: decided per column from its values (``13-12-2025`` decides day-first); a column
        where every date reads both ways is refused until you say.
    date_format
        A ``strptime`` pattern for the dates of every template date column (``"%d.%m.%Y"``), or a
        dict column → pattern (``"*"``: every other date column).
    decimal
        The decimal sign of template number columns, ``","`` or ``"."``. Default: decided per
        column (``12,50`` and ``1.250,00``: comma); a column of only ``1,250``-like values is
        refused until you say. Columns a spreadsheet stored as numbers need no decision.
    keep
        Your own columns (``["Klantnummer", "Naam"]``) to carry into the results frame and file and
        to store with each row in the journal, so reports read from the journal show them too.
    opt_out_digit
        A DTMF campaign's opt-out key (``"9"``: "press 9 to be taken off the list"), kept in the
        journal. :attr:`CampaignPlan.notes` warn when it cannot work: ``min-digits`` above 1, a
        ``regex`` or terminator refusing it, or no prompt mentioning it. The receiver's
        ``opt_out_digit=`` writes who pressed it to a do-not-call list.
    variants
        A/B prompt variants: ``{"A": {"prompt": "..."}, "B": {"prompt": "...", "voice.gender": "Male"}}``.
        Each person (normalised callee) gets one, by a hash of *seed* and the person, the same on
        every re-run and follow-up wave; a variant's fields win over *defaults* and over the list's
        columns for its rows (templates work). ``plan.to_frame()["variant"]`` shows the assignment.
    holdout
        The share of people held out of the test (``0.1``): planned, never called, status
        ``holdout`` (the control group). Without *variants*, everyone else gets variant ``"A"``.
    seed
        What the assignment's hash starts from (default: the campaign *name*). Changing it moves people
        between groups: a journal refuses a run whose design differs from the first run's.

    Returns
    -------
    CampaignPlan
        ``.instructions`` (valid ones), ``.problems``, ``.duplicates``, ``.summary()``,
        ``.preview()`` (what will be said), ``.notes``.

    Raises
    ------
    CampaignError
        For a mistake that affects every row: unknown app or field (with the closest name), a
        mapped column that does not exist, a template placeholder naming no column, a template
        date or number column whose convention cannot be decided (naming the column and the
        option that decides it).
    """
    # Planning makes many objects and none of them is in a cycle: the cyclic collector is paused
    # (and restored) so that it does not walk whatever else the process holds again and again.
    if variants is not None or holdout is not None:
        return plan_with_variants(
            plan_campaign, df, variants=variants, holdout=holdout, seed=seed, app=app, name=name, columns=columns,
            defaults=defaults, region=region, number_style=number_style, drop_duplicates=drop_duplicates,
            audio_root=audio_root, spelling_root=spelling_root, campaign_key=campaign_key, journal=journal,
            suppress=suppress, allowed_countries=allowed_countries, dayfirst=dayfirst, date_format=date_format,
            decimal=decimal, keep=keep, allow_unreadable_suppress=allow_unreadable_suppress,
            opt_out_digit=opt_out_digit)
    with paused_gc():
        return _plan_campaign(df, app=app, name=name, columns=columns, defaults=defaults, region=region,
                              number_style=number_style, drop_duplicates=drop_duplicates, audio_root=audio_root,
                              spelling_root=spelling_root, campaign_key=campaign_key, journal=journal,
                              suppress=suppress, allowed_countries=allowed_countries, dayfirst=dayfirst,
                              date_format=date_format, decimal=decimal, keep=keep,
                              allow_unreadable_suppress=allow_unreadable_suppress, opt_out_digit=opt_out_digit)


def _plan_campaign(df: Any, *, app: str, name: str, columns: Any, defaults: Any, region: Any, number_style: str,
                   drop_duplicates: bool, audio_root: Any, spelling_root: Any, campaign_key: Any, journal: Any,
                   suppress: Any, allowed_countries: Any, dayfirst: Any, date_format: Any, decimal: Any, keep: Any,
                   allow_unreadable_suppress: bool, opt_out_digit: str | None) -> CampaignPlan:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(df, pd.DataFrame):
        raise CampaignError(f"plan_campaign needs a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(name, str) or not name.strip():
        raise CampaignError("a campaign needs a non-empty name=: it is part of every instruction id")
    try:
        spec = app_spec(app)
    except KeyError as exc:
        raise CampaignError(str(exc.args[0])) from None
    if number_style not in ("e164", "00"):
        raise CampaignError(f"number_style must be 'e164' or '00', got {number_style!r}")
    opt_out_digit = check_key(spec.name, opt_out_digit)

    allowed = parse_allowed_countries(allowed_countries)
    key_is_provisional = False
    if campaign_key is None and journal is not None:
        campaign_key = campaign_key_of(journal)
    if campaign_key is None:
        campaign_key, key_is_provisional = new_campaign_key(), True
    check_campaign_key(campaign_key)

    df_columns = list(df.columns)
    colmap = resolve_columns(spec, df_columns, columns)
    plain_defaults, voice_defaults = split_defaults(spec, defaults)
    # Templates are checked once, up front: a placeholder naming no column is a mistake in
    # the campaign, not in a row.
    templates = template_defaults(spec, plain_defaults, df_columns)

    readers = _column_readers(df, templates, dayfirst=dayfirst, date_format=date_format, decimal=decimal)
    if "subdivision" in colmap:  # kept: the results, the journal and a follow-up wave read it
        keep = list(dict.fromkeys([*([] if keep is None else [keep] if isinstance(keep, str) else list(keep)),
                                   colmap["subdivision"]]))
    kept, id_column = _kept_columns(df, keep, colmap.get("id"))
    notes = _country_column_notes(df, colmap, templates, region=region)

    # Ids are derived from content, not positions: the index may repeat labels.
    rows = _plan_rows(df, spec, colmap, plain_defaults, voice_defaults, templates, region=region,
                      number_style=number_style, name=name, campaign_key=campaign_key, allowed=allowed,
                      readers=readers)

    # The rows are open until the plan holds them: the checks over all rows add to them here.
    # Repeated instruction ids: the journal keys rows by id, so a repeat could never be sent.
    later, firsts = _repeats(rows.ids()) if rows.ids_may_repeat() else (None, None)
    if later is not None and len(later):
        ids = rows.ids().take(later).to_pylist()
        for p, first, iid in zip(later.tolist(), rows.at(firsts), ids, strict=True):
            rows.add_problem(p, Problem("instruction-id", iid,
                                        f"repeats the instruction id of row {first.label!r}: ids must be unique"))

    for p, problem in preflight(spec, rows, audio_root=audio_root,
                                spelling_root=spelling_root if spelling_root is not None else audio_root):
        rows.add_problem(p, problem)

    # Repeated callees: reported always; dropped on request. Only rows that would be sent count.
    callees = rows.callees()
    keyed = pc.and_(pa.array(rows.valid_mask()), pc.not_equal(callees, pa.scalar("")))
    later, firsts = _repeats(pc.if_else(keyed, callees, pa.nulls(len(rows), callees.type)))
    if len(later):
        rows.mark_duplicates(later, firsts, drop=drop_duplicates)

    # Every problem is known now: the plan freezes its rows.
    plan = CampaignPlan(
        name=name, app=spec.name, index=df.index.copy(), rows=rows,
        options={"region": region, "number_style": number_style, "drop_duplicates": drop_duplicates,
                 "audio_root": audio_root,
                 "allowed_countries": tuple(sorted(allowed)) if allowed else None,
                 "subdivision": colmap.get("subdivision")},
        campaign_key=campaign_key, key_is_provisional=key_is_provisional, kept=kept, id_column=id_column,
        notes=notes, preview_rows=_preview_rows(df, spec, colmap, templates),
    )
    plan = with_opt_out(plan, opt_out_digit)
    for note in plan.notes:
        log.info("campaign %r: %s", name, note)  # a Text: the command line says its flags
    if suppress is not None:
        plan = apply_suppression(plan, suppress, region=region,
                                 allow_unreadable_suppress=allow_unreadable_suppress)
    if log.isEnabledFor(logging.INFO):
        s = plan.summary()
        log.info("planned campaign %r: %d rows, %d valid, %d invalid, %d duplicate callees",
                 name, s["rows"], s["valid"], s["invalid"], s["duplicates"])
    return plan


def _plan_rows(df: Any, spec: Any, colmap: Mapping[str, str], plain_defaults: Mapping[str, Any],
               voice_defaults: Mapping[str, Any], templates: Mapping[str, str], *, region: str | None,
               number_style: str, name: str, campaign_key: str, allowed: Any, fast: bool = True,
               readers: Mapping[tuple, Any] | None = None) -> PlanRows:
    """The rows of *df* planned: fields read, numbers normalised, instructions built and validated.

    With *fast* (the default) the frame is planned column-wise
    (:func:`~cmvoice_nb.campaign.plan._columnar.plan_rows_columnar`): numbers, texts and ids are
    read per column, rows that differ only in their number, id and texts share one instruction
    built and validated once, and the rows are held as columns. ``fast=False`` is the plain
    per-row path
    (:func:`~cmvoice_nb.campaign.plan._reference.plan_rows_reference`); both give the same rows,
    problems and payload bytes (``tests/campaign/test_plan_fast.py`` checks it on fuzzed frames).
    """
    planning = Planning(spec, colmap, plain_defaults, voice_defaults, templates, region=region,
                         number_style=number_style, name=name, campaign_key=campaign_key, allowed=allowed, fast=fast,
                         readers=readers)
    if fast:
        return plan_rows_columnar(planning, df)
    return PlanRows.from_rows(plan_rows_reference(planning, df), index=df.index)


def _repeats(keys: Any) -> tuple[Any, Any]:
    """``(positions, first positions)`` of every row whose key (a pyarrow text array; null: no key) came earlier.

    In input order, found with Arrow's hash table: a million-row list needs no Python dict.
    """
    import numpy as np

    codes = text_codes(keys)
    keyed = np.flatnonzero(codes >= 0)
    none = np.zeros(0, dtype=np.int64)
    if not len(keyed):
        return none, none
    seen, at = np.unique(codes[keyed], return_index=True)
    if len(seen) == len(keyed):
        return none, none
    first = np.empty(int(seen.max()) + 1, dtype=np.int64)
    first[seen] = keyed[at]  # the position of each key's first row
    later = keyed[first[codes[keyed]] != keyed]
    return later, first[codes[later]]


def _column(df: Any, column: Any) -> Any:
    """The cells of *column* as a Series; of a repeated column name, the last one (what a row's record holds)."""
    cells = df[column]
    return cells.iloc[:, -1] if cells.ndim == 2 else cells


def _distinct_cells(series: Any, *, limit: int | None = None, arrow: bool = False) -> Any:
    """The distinct cells of a column (unhashable ones each kept), cheap on a million rows.

    A column held as Arrow text is read by Arrow (no Python string per row; a missing cell is
    None), and given as a pyarrow array with *arrow*. With *limit*: None when the column has more
    distinct cells than that.
    """
    import pandas as pd

    texts = arrow_text(series) if series.dtype != object else None
    if texts is not None:
        if limit is not None and len(texts.slice(0, 5 * limit).unique()) > limit:
            return None  # (the first rows already have too many)
        distinct = texts.unique()
        if limit is not None and len(distinct) > limit:
            return None
        return distinct if arrow else distinct.to_pylist()
    try:
        found = list(pd.unique(series.to_numpy(dtype=object)))
    except TypeError:  # nested cells (lists) cannot be hashed: every cell, then
        found = series.tolist()
    return None if limit is not None and len(found) > limit else found


def _column_readers(df: Any, templates: Mapping[str, str], *, dayfirst: bool | None, date_format: Any,
                    decimal: str | None) -> dict[tuple, Any]:
    """How each template date and number column is read, decided once per column from all its values.

    Raises :class:`~cmvoice_nb.campaign.plan.values.ColumnError` (a CampaignError) naming a column
    whose day/month order or decimal sign cannot be decided, and the option that decides it.
    """
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise CampaignError(f"dayfirst must be True, False or None, got {dayfirst!r}")
    wanted: dict[tuple, None] = {}
    for text in templates.values():
        for p in template_placeholders(text):
            if p.kind in ("date", "number") and p.column in df.columns:
                wanted[(p.column, p.kind)] = None
    date_columns = [c for c, kind in wanted if kind == "date"]
    formats: dict[str, str] = {}
    if isinstance(date_format, Mapping):
        unknown = [c for c in date_format if c != "*" and c not in date_columns]
        if unknown:
            raise CampaignError(f"{opt('date_format')} names {', '.join(map(quote, unknown))}, which no template "
                                f"formats as a date (date columns: {listing(date_columns) or 'none'})")
        formats = {c: date_format.get(c, date_format.get("*")) for c in date_columns}
    elif date_format is not None:
        if not isinstance(date_format, str) or "%" not in date_format:
            raise CampaignError(f"{opt('date_format')} must be a strptime pattern like '%d-%m-%Y', got "
                                f"{quote(date_format)}")
        formats = {c: date_format for c in date_columns}
    spreadsheet_numbers = set(df.attrs.get(NUMBER_COLUMNS_ATTR, ()))
    readers: dict[tuple, Any] = {}
    for column, kind in wanted:
        values = _distinct_cells(_column(df, column), arrow=kind == "number")
        if kind == "date":
            readers[(column, kind)] = date_reader(values, column=str(column), dayfirst=dayfirst,
                                                  date_format=formats.get(column),
                                                  options=(opt("dayfirst"), opt("date_format")))
        else:
            sign = decimal if decimal is not None else ("." if column in spreadsheet_numbers else None)
            readers[(column, kind)] = number_reader(values, column=str(column), decimal=sign,
                                                    options=(opt("decimal"),))
    return readers


def _kept_columns(df: Any, keep: Any, id_column: str | None) -> tuple[Any, str | None]:
    """The operator's columns to carry along (``keep=`` and the id column first), aligned on the index."""
    if keep is None:
        wanted: list = []
    elif isinstance(keep, str):
        wanted = [keep]
    else:
        try:
            wanted = list(keep)
        except TypeError:
            raise CampaignError(f"keep= must be a column name or a list of them, got {type(keep).__name__}") from None
    columns = list(df.columns)
    for col in wanted:
        if col not in columns:
            raise CampaignError(f"{opt('keep')} {quote(col)}: no such column in {opt('source')};"
                                f"{did_you_mean(col, columns)} columns: " + listing(columns))
    if id_column is not None:
        wanted = [id_column] + [c for c in wanted if c != id_column]
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return None, id_column
    return df[wanted].copy(), id_column


def _country_column_notes(df: Any, colmap: Mapping[str, str], templates: Mapping[str, str], *, region: str | None,
                          ) -> tuple[str, ...]:
    """A note naming each unmapped column whose values are countries: it probably gives each row's country."""
    if "region" in colmap:
        return ()
    used = set(colmap.values())
    notes = []
    for column in dict.fromkeys(df.columns):
        if column in used or not isinstance(column, str):
            continue
        series = _column(df, column)
        if series.dtype.kind not in "OSU" and str(series.dtype) not in ("string", "str", "category"):
            continue
        head = _distinct_cells(series.iloc[:1_000])  # most columns tell at once that they are no countries
        if len(head) > 200 or not looks_like_countries(head):
            continue
        values = _distinct_cells(series, limit=10_000)
        if values is None or not looks_like_countries(values):
            continue
        shown = ", ".join(str(v) for v in values[:4] if isinstance(v, str))
        how = opt("map_region", column)
        default = f"read as {region}" if region else "not read in any country"
        notes.append(f"column {column!r} looks like each row's country ({shown}); it is not used: national "
                     f"numbers are {default} in every row. To read each row's numbers in its own country: {how}")
    return tuple(notes)


def _preview_rows(df: Any, spec: Any, colmap: Mapping[str, str], templates: Mapping[str, str]) -> tuple[int, ...]:
    """Position of the first row of each combination of voice (language, gender) and text source."""
    import pandas as pd

    keys = {}
    for key in ("voice.language", "voice.gender"):
        if key in colmap:
            keys[key] = _column(df, colmap[key]).astype("string").str.strip().fillna("")
    for key in templates:  # a row whose own column holds the text is not the template's
        if key in colmap:
            cells = _column(df, colmap[key])
            keys[key] = cells.isna() | (cells.astype("string").str.strip().fillna("") == "")
    if not keys or not len(df):
        return ()
    frame = pd.DataFrame(keys).reset_index(drop=True)
    firsts = frame.drop_duplicates().index
    return tuple(int(p) for p in firsts)
