"""Plan a campaign: DataFrame rows → validated instructions, problems and stable ids.

Nothing here sends anything or touches the network. :func:`plan_campaign` maps columns
to contract fields, fills per-row templates, normalises phone numbers, validates every
row against :mod:`cmvoice_nb.spec`, derives a stable ``instruction-id`` per row, reports
duplicated callees and, given a local mirror of the uploaded audio, checks every ``File``
prompt and every ``Custom`` OTP spelling set. The input DataFrame is never modified.

Instruction ids
---------------
A row's id comes from its ``instruction-id`` column when it has one (the user's own id,
used as given). Otherwise it is derived, and derived ids do not depend on row positions::

    <campaign name>-<campaign key>-<callee digits>-<occurrence>
    spring-7f3a9c2d-31612345610-1

* the **campaign key** is the random key the journal drew when it was created
  (:attr:`cmvoice_nb.campaign.Journal.campaign_key`): two campaigns with the same name
  on different journals never share an id, and re-runs on the same journal derive the
  same ids. A plan made without a journal gets a fresh provisional key;
  :func:`~cmvoice_nb.campaign.send_campaign` re-keys it to the journal's key.
* the **content key** is the normalised callee as digits (``+31 6 1234 5610`` and
  ``0612345610`` with region NL are both ``31612345610``) and its **occurrence** among the
  rows with the same callee (1 for the first). Inserting, deleting or reordering other
  rows moves nobody's id.

Ids are at most 64 characters (the contract's limit): a long campaign name is cut and
keeps a short hash of the full name; a long content key (many callees) becomes a hash.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"phone": ["+31612345610", "06 1234 5611"], "name": ["Ann", "Bob"]})
>>> plan = plan_campaign(df, app="notification", name="demo", region="NL",
...                      columns={"callee": "phone"},
...                      defaults={"caller": "+31201234567", "prompt": "Hello {name}", "prompt-type": "TTS"})
>>> int(plan.summary()["valid"])
2
>>> plan.instructions.iloc[1].to_json()["prompt"]
'Hello Bob'
"""
from __future__ import annotations

import copy
import html
import logging
import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import CampaignError
from ..instructions import Problem
from .messages import OPTION_NAMES, cut, did_you_mean, listing, quote
from .preflight import preflight
from .rows import (MAX_ID_LENGTH, RowPlan,  # noqa: F401 - MAX_ID_LENGTH: plan.MAX_ID_LENGTH as before
                    _per_row, _Planning, content_key, derive_instruction_id,
                   new_campaign_key, wave_instruction_id, without_cycle_collection)
from .templates import TemplateError, render_template, template_columns

__all__ = [
    "CampaignPlan",
    "RowPlan",
    "plan_campaign",
    "derive_instruction_id",
    "wave_instruction_id",
    "content_key",
    "new_campaign_key",
    "render_template",
    "template_columns",
    "TemplateError",
    "PROBLEM_COLUMNS",
]

log = logging.getLogger(__name__)

#: Columns of :attr:`CampaignPlan.problems`.
PROBLEM_COLUMNS = ["row", "instruction_id", "field", "value", "message"]
_VOICE_PREFIXES = ("voice.", "voice-", "voice_")


class CampaignPlan:
    """The outcome of :func:`plan_campaign`: instructions to send, and every problem found.

    Attributes
    ----------
    name, app
        Campaign name (part of every derived instruction id) and app name.
    campaign_key
        The campaign key in every derived id: the journal's, or a provisional one (see
        :attr:`key_is_provisional`) that :func:`~cmvoice_nb.campaign.send_campaign` replaces
        with the journal's through :meth:`rekey`.
    index
        The input DataFrame's index: results are aligned on it.
    rows
        One :class:`RowPlan` per input row, in input order.
    """

    def __init__(self, *, name: str, app: str, index: Any, rows: list[RowPlan], options: Mapping[str, Any] | None = None,
                 campaign_key: str = "", key_is_provisional: bool = False, left_out: Any = None) -> None:
        self.name = name
        self.app = app
        self.index = index
        self.rows = rows
        self.options = dict(options or {})
        self.campaign_key = campaign_key
        self.key_is_provisional = key_is_provisional
        #: A follow-up wave's rows left out, with the reason (see :func:`plan_followup`); None otherwise.
        self.left_out = left_out

    @property
    def is_followup(self) -> bool:
        """True for a plan made by :func:`~cmvoice_nb.campaign.plan_followup`."""
        return self.left_out is not None

    def left_out_summary(self):
        """A follow-up's left-out rows counted per reason (a Series; empty for a plain campaign)."""
        import pandas as pd

        if self.left_out is None or not len(self.left_out):
            return pd.Series(dtype="int64", name="left_out")
        return self.left_out["reason"].value_counts().rename("left_out").astype("int64")

    def rekey(self, campaign_key: str) -> "CampaignPlan":
        """A copy whose derived ids use *campaign_key*; ids from an ``instruction-id`` column stay.

        Examples
        --------
        >>> import pandas as pd
        >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610"]}), app="notification", name="c",
        ...                      campaign_key="aaaa0000", defaults={"caller": "+31201234567", "prompt": "Hi",
        ...                      "prompt-type": "TTS"})
        >>> plan.rekey("bbbb1111").instruction_ids.tolist()
        ['c-bbbb1111-31612345610-1']
        """
        if campaign_key == self.campaign_key:
            return self
        rows = []
        for r in self.rows:
            new = r.copy()
            if not r.id_given:
                new.instruction_id = derive_instruction_id(self.name, campaign_key, r.content, r.occurrence)
                if r._group is not None:
                    new._instruction = None  # built on demand, with the new id; the payload follows the id
                elif r.instruction is not None:
                    new.instruction = copy.copy(r.instruction)
                    new.instruction.instruction_id = new.instruction_id
                    new.freeze()
            rows.append(new)
        return CampaignPlan(name=self.name, app=self.app, index=self.index, rows=rows, options=self.options,
                            campaign_key=campaign_key, key_is_provisional=False, left_out=self.left_out)

    # ---------------------------------------------------------------- views
    @property
    def instructions(self):
        """The valid instructions that will be sent, as a Series indexed by input row label."""
        import pandas as pd

        keep = [r for r in self.rows if r.sendable]
        return pd.Series([r.instruction for r in keep], index=self.index[[r.position for r in keep]],
                         dtype=object, name="instruction")

    @property
    def problems(self):
        """Every problem: one row per (input row, field) with the value and what was expected."""
        import pandas as pd

        records = [
            (r.label, r.instruction_id, p.field, p.value, p.message)
            for r in self.rows if r.problem_count for p in r.problems
        ]  # values as given (cut only where they are printed)
        try:
            return pd.DataFrame.from_records(records, columns=PROBLEM_COLUMNS)
        except UnicodeEncodeError:
            # a problem about text that is not valid Unicode: Arrow-backed text cannot hold it
            return pd.DataFrame(records, columns=PROBLEM_COLUMNS, dtype=object)

    @property
    def duplicates(self):
        """Rows whose callee also appears in an earlier row (``row``, ``callee``, ``first_row``, ``dropped``)."""
        import pandas as pd

        records = [(r.label, r.callee, r.duplicate_of, r.dropped) for r in self.rows if r.duplicate_of is not None]
        return pd.DataFrame.from_records(records, columns=["row", "callee", "first_row", "dropped"])

    @property
    def instruction_ids(self):
        """The instruction id of every input row, aligned on the input index."""
        import pandas as pd

        return pd.Series([r.instruction_id for r in self.rows], index=self.index, dtype="string", name="instruction_id")

    def summary(self):
        """Counts: rows, valid, invalid, problems, duplicates, dropped, to_send (a Series)."""
        import pandas as pd

        valid = problems = duplicates = dropped = suppressed = to_send = 0
        for r in self.rows:  # one pass: a plan may have a million rows
            ok = r.valid
            valid += ok
            problems += r.problem_count
            duplicates += r.duplicate_of is not None
            dropped += bool(r.dropped)
            suppressed += bool(r.suppressed)
            to_send += ok and not r.dropped and not r.suppressed
        counts = {"rows": len(self.rows), "valid": valid, "invalid": len(self.rows) - valid, "problems": problems,
                  "duplicates": duplicates, "dropped": dropped, "suppressed": suppressed, "to_send": to_send}
        if self.is_followup:
            counts["left_out"] = len(self.left_out)
        return pd.Series(counts, name=self.name, dtype="int64")

    def to_frame(self):
        """One row per input row: ``instruction_id``, ``callee``, ``valid``, ``problems`` (text), ``payload`` (dict)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "instruction_id": [r.instruction_id for r in self.rows],
                "callee": [r.callee for r in self.rows],
                "valid": [r.valid for r in self.rows],
                "dropped": [r.dropped for r in self.rows],
                "problems": ["; ".join(f"{p.field}: {p.message}" for p in r.problems) if r.problem_count else ""
                             for r in self.rows],
                "payload": [r.wire() for r in self.rows],
            },
            index=self.index,
        )

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def suppressed(self):
        """Rows left out because their callee is on the do-not-call list (``row``, ``callee``, ``reason``)."""
        import pandas as pd

        records = [(r.label, r.callee, r.suppressed) for r in self.rows if r.suppressed]
        return pd.DataFrame.from_records(records, columns=["row", "callee", "reason"])

    def estimate(self, prices: Any = None, *, audio_root: Any = None, answer_rate: float = 1.0, replays: Any = "max"):
        """Calls per country, talk minutes and (with *prices*) cost of the rows that will be sent.

        Counts the frozen payloads of the sendable rows (valid, not dropped, not suppressed) with
        :func:`~cmvoice_nb.campaign.estimate.estimate_payloads`; File prompts are timed from
        *audio_root* (default: the plan's ``audio_root=``).

        Parameters
        ----------
        prices
            A DataFrame or CSV path with ``country,price_per_minute[,setup]`` (``*``: any other country).
        audio_root
            Folder of the File prompts' WAVs.
        answer_rate
            Share of calls answered (default 1.0: an upper bound).
        replays
            ``"max"`` (default), ``"none"`` or the expected replays per call.

        Returns
        -------
        Estimate
            ``.to_frame()``, ``.to_text()``, ``.cost``, ``.assumptions``.
        """
        import json

        from .estimate import estimate_payloads

        root = audio_root if audio_root is not None else self.options.get("audio_root")
        payloads = [json.loads(r.payload) for r in self.rows if r.sendable and r.payload is not None]
        return estimate_payloads(payloads, app=self.app, audio_root=root, prices=prices, answer_rate=answer_rate,
                                 replays=replays)

    def __repr__(self) -> str:
        s = self.summary()
        if self.is_followup:
            waves = sorted({r.wave for r in self.rows})
            reasons = ", ".join(f"{k} {v}" for k, v in self.left_out_summary().items())
            return (f"<CampaignPlan {self.name!r} follow-up wave {','.join(map(str, waves)) or '-'} app={self.app} "
                    f"to_send={s['to_send']} left_out={len(self.left_out)}{' (' + reasons + ')' if reasons else ''}>")
        return (
            f"<CampaignPlan {self.name!r} key={self.campaign_key}{'(provisional)' if self.key_is_provisional else ''} "
            f"app={self.app} rows={s['rows']} valid={s['valid']} "
            f"invalid={s['invalid']} duplicates={s['duplicates']} to_send={s['to_send']}>"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        cells = "".join(f"<td>{int(v)}</td>" for v in s.values)
        heads = "".join(f"<th>{html.escape(str(k))}</th>" for k in s.index)
        probs = self.problems
        extra = ""
        if len(probs):
            extra = "<p>First problems:</p>" + probs.head(10).to_html(index=False, escape=True)
        if self.is_followup:
            extra += ("<p>Follow-up wave: left out per reason</p>"
                      + self.left_out_summary().to_frame().to_html(escape=True))
        return (
            f"<div><b>Campaign plan {html.escape(self.name)}</b> ({html.escape(self.app)}, campaign key "
            f"{html.escape(self.campaign_key)}{' — provisional: send_campaign uses its journal' + chr(39) + 's key' if self.key_is_provisional else ''})"
            f"<table><tr>{heads}</tr><tr>{cells}</tr></table>{extra}</div>"
        )


def _field_names(spec: Any) -> list[str]:
    from ..spec import VOICE_FIELDS

    return list(spec.keys) + [f"voice.{f.key}" for f in VOICE_FIELDS]


def _resolve_columns(spec: Any, df_columns: list, columns: Mapping[str, str] | None, *,
                     interface: str = "python") -> dict[str, str]:
    """Return wire key (or ``voice.<key>``) → DataFrame column."""
    from ..spec import VOICE_FIELDS

    voice_keys = {f.key: f for f in VOICE_FIELDS}
    mapping: dict[str, str] = {}

    def target_of(name: str) -> str | None:
        if spec.has(name) and spec.field(name).kind != "voice":
            return spec.field(name).key
        for prefix in _VOICE_PREFIXES:
            if name.startswith(prefix) and name[len(prefix):] in voice_keys:
                return "voice." + name[len(prefix):]
        return None

    # Automatic: a column named like a field (kebab or snake case) maps to it.
    for col in df_columns:
        target = target_of(str(col))
        if target is not None:
            mapping[target] = col
    for key, col in (columns or {}).items():
        target = target_of(str(key))
        where = f"--map {cut(key)}={cut(col)}" if interface == "cli" else f"columns= maps {quote(key)}"
        if target is None:
            raise CampaignError(
                f"{where}: {quote(key)} is not a field of {spec.name};{did_you_mean(key, _field_names(spec))} "
                f"fields: {', '.join(spec.keys)} (voice keys as voice.language, voice.gender, voice.number)"
            )
        if col not in df_columns:
            source = "the input file" if interface == "cli" else "the DataFrame"
            raise CampaignError(
                f"{where}: no column {quote(col)} in {source};{did_you_mean(col, df_columns)} columns: "
                + listing(df_columns)
            )
        mapping[target] = col
    return mapping


def _split_defaults(spec: Any, defaults: Mapping[str, Any] | None, *,
                    interface: str = "python") -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (wire key → value, voice key → value) from ``defaults=``."""
    from ..spec import VOICE_FIELDS

    voice_keys = {f.key for f in VOICE_FIELDS}
    plain: dict[str, Any] = {}
    voice: dict[str, Any] = {}
    for key, value in (defaults or {}).items():
        key = str(key)
        if key in ("voice",) or (spec.has(key) and spec.field(key).kind == "voice"):
            if hasattr(value, "to_json"):
                value = value.to_json()
            if not isinstance(value, Mapping):
                raise CampaignError(f"defaults['voice'] must be a Voice or a dict like {{'language': 'nl-NL'}}, got {value!r}")
            for k, v in value.items():
                k = str(k).replace("_", "-")
                if k not in voice_keys:
                    raise CampaignError(f"defaults['voice'] has no key {k!r}; voice keys: {', '.join(sorted(voice_keys))}")
                voice[k] = v
            continue
        matched = False
        for prefix in _VOICE_PREFIXES:
            if key.startswith(prefix) and key[len(prefix):] in voice_keys:
                voice[key[len(prefix):]] = value
                matched = True
        if matched:
            continue
        if not spec.has(key):
            where = f"--set {cut(key)}=…" if interface == "cli" else f"defaults= sets {quote(key)}"
            raise CampaignError(f"{where}: {quote(key)} is not a field of {spec.name};"
                                f"{did_you_mean(key, _field_names(spec))} fields: {', '.join(spec.keys)}")
        plain[spec.field(key).key] = value
    return plain, voice


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
    interface: str = "python",
    suppress: Any = None,
    allowed_countries: Any = None,
    allow_unreadable_suppress: bool = False,
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
    defaults
        Field → value for every row where the row has no value. Text prompt fields accept
        templates filled per row: ``"Hello {first_name}, see you on {date:%d %B}"``.
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
    interface
        ``"python"`` (messages name keyword arguments such as ``columns=``) or ``"cli"``
        (they name ``cmvoice send`` flags such as ``--map``).
    suppress
        A do-not-call list: a CSV/TXT path, a DataFrame, or numbers in any spelling (see
        :func:`~cmvoice_nb.campaign.suppress.read_suppression`; national numbers are read with
        *region*). Rows calling one of its numbers are ``suppressed``: never sent. A list of
        which none, or more than 1 %, of the entries are phone numbers raises
        :class:`~cmvoice_nb.errors.SuppressionError`.
    allow_unreadable_suppress
        Go on with the numbers of *suppress* that could be read, however few.
    allowed_countries
        ISO codes (``("NL", "BE")`` or ``"NL,BE"``): a number of another country is a problem of
        its row (``country FR not allowed (allowed: BE, NL)``), so the row is invalid.

    Returns
    -------
    CampaignPlan
        ``.instructions`` (valid ones), ``.problems``, ``.duplicates``, ``.summary()``.

    Raises
    ------
    CampaignError
        For a mistake that affects every row: unknown app or field (with the closest name), a
        mapped column that does not exist, a template placeholder naming no column.
    """
    import pandas as pd

    from ..spec import app_spec

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

    if interface not in OPTION_NAMES:
        raise CampaignError(f"interface must be 'python' or 'cli', got {interface!r}")
    from .suppress import parse_allowed_countries

    allowed = parse_allowed_countries(allowed_countries, interface=interface)
    key_is_provisional = False
    if campaign_key is None and journal is not None:
        campaign_key = _journal_key(journal)
    if campaign_key is None:
        campaign_key, key_is_provisional = new_campaign_key(), True
    if not isinstance(campaign_key, str) or not re.fullmatch(r"[A-Za-z0-9]{1,16}", campaign_key):
        raise CampaignError(f"campaign_key must be 1-16 letters or digits, got {quote(campaign_key)}")

    df_columns = list(df.columns)
    colmap = _resolve_columns(spec, df_columns, columns, interface=interface)
    plain_defaults, voice_defaults = _split_defaults(spec, defaults, interface=interface)

    # Templates are checked once, up front: a placeholder naming no column is a mistake in
    # the campaign, not in a row.
    templates: dict[str, str] = {}
    for key, value in plain_defaults.items():
        fld = spec.field(key)
        if fld.template and isinstance(value, str):
            where = f"--set {key}={quote(value)[1:-1] if isinstance(value, str) else value}" \
                if interface == "cli" else f"defaults[{key!r}]"
            try:
                names = template_columns(value)
            except TemplateError as exc:
                raise CampaignError(f"{where}: {exc}") from None
            missing = [n for n in names if n not in df_columns]
            if missing:
                hint = did_you_mean(missing[0], df_columns)
                hint = hint.replace("mean '", "mean {").replace("'?", "}?") if hint else ""
                raise CampaignError(
                    f"{where}: the template uses {', '.join('{' + m + '}' for m in missing)}, "
                    f"which {'is not a column' if len(missing) == 1 else 'are not columns'};{hint} columns: "
                    + listing(df_columns)
                )
            if names:
                templates[key] = value

    # Ids are derived from content, not positions: the index may repeat labels.
    rows = _plan_rows(df, spec, colmap, plain_defaults, voice_defaults, templates, region=region,
                      number_style=number_style, name=name, campaign_key=campaign_key, allowed=allowed)

    with without_cycle_collection():  # a pass over every row: see rows.without_cycle_collection
        # Repeated instruction ids: the journal keys rows by id, so a repeat could never be sent.
        for r, first in _repeats(rows, [r.instruction_id for r in rows]):
            r.problems.append(Problem("instruction-id", r.instruction_id,
                                      f"repeats the instruction id of row {first.label!r}: ids must be unique"))

        preflight(spec, rows, audio_root=audio_root, spelling_root=spelling_root if spelling_root is not None else audio_root)
        for r in rows:  # every problem is known now: each valid row's payload is built, once
            r.freeze()

        # Repeated callees: reported always; dropped on request. Only rows that would be sent count.
        for r, first in _repeats(rows, [r.callee if r.callee and r.valid else None for r in rows]):
            r.duplicate_of = first.label
            r.dropped = bool(drop_duplicates)

    plan = CampaignPlan(
        name=name, app=spec.name, index=df.index.copy(), rows=rows,
        options={"region": region, "number_style": number_style, "drop_duplicates": drop_duplicates,
                 "interface": interface, "audio_root": audio_root,
                 "allowed_countries": tuple(sorted(allowed)) if allowed else None},
        campaign_key=campaign_key, key_is_provisional=key_is_provisional,
    )
    if suppress is not None:
        from .suppress import apply_suppression

        plan = apply_suppression(plan, suppress, region=region, interface=interface,
                                 allow_unreadable_suppress=allow_unreadable_suppress)
    if log.isEnabledFor(logging.INFO):  # a pass over every row: only when someone reads it
        s = plan.summary()
        log.info("planned campaign %r: %d rows, %d valid, %d invalid, %d duplicate callees",
                 name, s["rows"], s["valid"], s["invalid"], s["duplicates"])
    return plan


def _plan_rows(df: Any, spec: Any, colmap: Mapping[str, str], plain_defaults: Mapping[str, Any],
               voice_defaults: Mapping[str, Any], templates: Mapping[str, str], *, region: str | None,
               number_style: str, name: str, campaign_key: str, allowed: Any, fast: bool = True) -> list[RowPlan]:
    """One :class:`RowPlan` per row of *df*: fields read, numbers normalised, instruction built and validated.

    With *fast* (the default) the frame is planned column-wise
    (:func:`cmvoice_nb.campaign.columnar.plan_rows_columnar`): each distinct cell and phone
    number is read once, rows that differ only in their callee and id share one instruction
    built and validated once, and each row's payload is filled into its group's template.
    ``fast=False`` is the plain per-row path (:func:`_plan_rows_reference`); both give the same
    rows, problems and payloads (``tests/campaign/test_plan_fast.py`` checks it on fuzzed frames).
    """
    planning = _Planning(spec, colmap, plain_defaults, voice_defaults, templates, region=region,
                         number_style=number_style, name=name, campaign_key=campaign_key, allowed=allowed, fast=fast)
    if fast:
        from .columnar import plan_rows_columnar

        return plan_rows_columnar(planning, df)
    return _per_row(planning, df)


def _plan_rows_reference(df: Any, spec: Any, colmap: Mapping[str, str], plain_defaults: Mapping[str, Any],
                         voice_defaults: Mapping[str, Any], templates: Mapping[str, str], **options: Any) -> list[RowPlan]:
    """The per-row path, nothing memoised: what the fast planner is compared with (tests, bench)."""
    return _plan_rows(df, spec, colmap, plain_defaults, voice_defaults, templates, fast=False, **options)


def _repeats(rows: list, keys: list) -> list[tuple[Any, Any]]:
    """``(row, first row with the same key)`` for every row whose key (None: no key) came earlier, in input order.

    Found with pandas' hash table (``factorize``): a million-row list would otherwise need a
    Python dict of a million keys.
    """
    import numpy as np
    import pandas as pd

    codes = pd.factorize(np.asarray(keys, dtype=object))[0]  # None -> -1
    keyed = np.flatnonzero(codes >= 0)
    if not len(keyed):
        return []
    seen, at = np.unique(codes[keyed], return_index=True)
    first = np.empty(int(seen.max()) + 1, dtype=np.int64)
    first[seen] = keyed[at]  # the position of each key's first row
    later = keyed[first[codes[keyed]] != keyed]
    return [(rows[i], rows[f]) for i, f in zip(later.tolist(), first[codes[later]].tolist())]


def _journal_key(journal: Any) -> str | None:
    """The campaign key of an existing journal (path or Journal), without creating anything."""
    key = getattr(journal, "campaign_key", None)
    if key is not None:
        return key
    path = Path(journal)
    if not path.exists():
        return None
    from .journal import Journal

    with Journal(path) as j:
        return j.campaign_key


