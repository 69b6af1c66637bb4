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
                 campaign_key: str = "", key_is_provisional: bool = False, left_out: Any = None,
                 kept: Any = None, id_column: str | None = None, notes: Any = (), preview_rows: Any = ()) -> None:
        self.name = name
        self.app = app
        self.index = index
        self.rows = rows
        self.options = dict(options or {})
        self.campaign_key = campaign_key
        self.key_is_provisional = key_is_provisional
        #: A follow-up wave's rows left out, with the reason (see :func:`plan_followup`); None otherwise.
        self.left_out = left_out
        #: The operator's own columns carried into the results and the journal (``keep=``), as given,
        #: aligned on :attr:`index`; None when none are kept.
        self.kept = kept
        #: The column holding the operator's own id of each row (``columns={"id": ...}``), or None.
        self.id_column = id_column
        #: What the planner noticed about the list as a whole (e.g. an unmapped country column), once each.
        self.notes = tuple(notes)
        #: Positions of the rows :meth:`preview` shows beyond the first ones: the first of each
        #: further voice/template combination.
        self.preview_rows = tuple(preview_rows)

    def _replace(self, **changes: Any) -> "CampaignPlan":
        """A new plan with the same attributes but *changes* (the input plan is not changed)."""
        fields = dict(name=self.name, app=self.app, index=self.index, rows=self.rows, options=self.options,
                      campaign_key=self.campaign_key, key_is_provisional=self.key_is_provisional,
                      left_out=self.left_out, kept=self.kept, id_column=self.id_column, notes=self.notes,
                      preview_rows=self.preview_rows)
        fields.update(changes)
        return type(self)(**fields)

    @property
    def lines(self) -> bool:
        """True when the rows came from a file read by :func:`~cmvoice_nb.campaign.read_table` (labels are lines)."""
        from .messages import LINE_INDEX

        return getattr(self.index, "name", None) == LINE_INDEX

    def label_name(self, label: Any) -> str:
        """How messages name the row with index *label* (``line 7`` or ``row 'a'``)."""
        from .messages import row_name

        return row_name(label, lines=self.lines)

    def row_name(self, position: int) -> str:
        """How messages name the row at *position*: ``line 7 (Klantnummer 10234)`` or ``row 'a'``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"callee": ["+31612345610"], "klant": ["10234"]}, index=pd.Index([2], name="line"))
        >>> plan = plan_campaign(df, app="notification", name="c", columns={"id": "klant"},
        ...                      defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
        >>> plan.row_name(0)
        'line 2 (klant 10234)'
        """
        from .messages import row_name

        ident = None
        if self.id_column is not None and self.kept is not None and self.id_column in self.kept.columns:
            ident = self.kept[self.id_column].iloc[position]
        return row_name(self.rows[position].label, lines=self.lines, ident=ident, ident_column=self.id_column)

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
        return self._replace(rows=rows, campaign_key=campaign_key, key_is_provisional=False)

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

    def preview(self, n: int = 3):
        """What will be said: the text of the first *n* rows, and of one row per further voice or template.

        Every text field of the app (``prompt``, ``intro-prompt``…) of each shown row, rendered as it
        will be sent (templates filled, dates and amounts in the row's voice language). Beyond the
        first *n* rows, the first row of each further combination of voice (language, gender) and
        template is shown, so a German row in a Dutch list is seen before it is sent.

        Parameters
        ----------
        n
            How many of the first rows to show (0: only one row per further combination).

        Returns
        -------
        pandas.DataFrame
            One row per (shown row, text field): ``row`` (how messages name it: ``line 2
            (Klantnummer 10234)``), ``instruction_id``, ``callee``, ``language``, ``field``, ``text``,
            ``problems`` (why an invalid row has no text) and ``shown_for`` (``first rows`` or
            ``another voice or template``), indexed by the row's label.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"callee": ["+31612345610", "+491701234567"], "naam": ["Anne", "Jörg"],
        ...                    "taal": ["nl-NL", "de-DE"], "datum": ["09-12-2025", "13-12-2025"]})
        >>> plan = plan_campaign(df, app="notification", name="c", columns={"voice.language": "taal"},
        ...                      defaults={"caller": "+31201234567", "prompt-type": "TTS",
        ...                                "prompt": "Hallo {naam}, {datum:%-d %B %Y}"})
        >>> for row in plan.preview(1).itertuples():
        ...     print(row.row, row.language, row.text, "|", row.shown_for)
        row 0 nl-NL Hallo Anne, 9 december 2025 | first rows
        row 1 de-DE Hallo Jörg, 13 Dezember 2025 | another voice or template
        """
        import pandas as pd

        from ..spec import app_spec
        from .templates import DEFAULT_LANGUAGE

        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CampaignError(f"preview needs a number of rows (0 or more), got {n!r}")
        text_fields = [f.key for f in app_spec(self.app).fields if f.template]
        first = list(range(min(n, len(self.rows))))
        shown = [(p, "first rows") for p in first]
        shown += [(p, "another voice or template") for p in self.preview_rows if p not in set(first)]
        records, labels = [], []
        for position, why in shown:
            r = self.rows[position]
            wire = r.wire() if r.valid else None
            base = {"row": self.row_name(position), "instruction_id": r.instruction_id, "callee": r.callee}
            if wire is None:
                problems = "; ".join(f"{p.field}: {p.message}" for p in r.problems) if r.problem_count else \
                    "cannot be built"
                records.append({**base, "language": None, "field": None, "text": None, "problems": problems,
                                "shown_for": why})
                labels.append(r.label)
                continue
            language = (wire.get("voice") or {}).get("language") or DEFAULT_LANGUAGE
            for key in text_fields:
                if wire.get(key) not in (None, ""):
                    records.append({**base, "language": language, "field": key, "text": wire[key], "problems": "",
                                    "shown_for": why})
                    labels.append(r.label)
        columns = ["row", "instruction_id", "callee", "language", "field", "text", "problems", "shown_for"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        frame.index = pd.Index(labels, name=getattr(self.index, "name", None), dtype=object)
        return frame

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


#: Mapping keys that are not contract fields: each row's country, and the operator's own row id.
#: They are mapped only when the operator says so (a "Region" column may be a sales area).
ROW_KEYS = ("region", "id")


def _field_names(spec: Any) -> list[str]:
    from ..spec import VOICE_FIELDS

    return list(spec.keys) + [f"voice.{f.key}" for f in VOICE_FIELDS] + list(ROW_KEYS)


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
        target = str(key) if str(key) in ROW_KEYS else target_of(str(key))
        where = f"--map {cut(key)}={cut(col)}" if interface == "cli" else f"columns= maps {quote(key)}"
        if target is None:
            raise CampaignError(
                f"{where}: {quote(key)} is not a field of {spec.name};{did_you_mean(key, _field_names(spec))} "
                f"fields: {', '.join(spec.keys)} (voice keys as voice.language, voice.gender, voice.number; "
                f"'region' for each row's country, 'id' for your own row id)"
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
    dayfirst: bool | None = None,
    date_format: str | Mapping[str, str] | None = None,
    decimal: str | None = None,
    keep: Any = None,
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
        Two keys are not fields: ``"region"`` names the column giving each row's country
        (``{"region": "land"}``: ``030 2345678`` in a row whose ``land`` is ``DE`` is a Berlin
        number; ISO codes or country names; a blank cell uses *region*), and ``"id"`` the column
        of your own row id (``{"id": "Klantnummer"}``), which messages name each row by and which
        is kept in the results. Neither is ever mapped by a column's name alone.
    defaults
        Field → value for every row where the row has no value. Text prompt fields accept
        templates filled per row and spoken in the row's voice language:
        ``"Beste {naam}, uw afspraak is op {datum:%-d %B} om {datum:%H:%M}: {bedrag:currency:EUR}"``
        (see :mod:`cmvoice_nb.campaign.templates` for the mini-language).
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

    readers = _column_readers(df, templates, dayfirst=dayfirst, date_format=date_format, decimal=decimal,
                              interface=interface)
    kept, id_column = _kept_columns(df, keep, colmap.get("id"), interface=interface)
    notes = _country_column_notes(df, colmap, templates, region=region, interface=interface)

    # Ids are derived from content, not positions: the index may repeat labels.
    rows = _plan_rows(df, spec, colmap, plain_defaults, voice_defaults, templates, region=region,
                      number_style=number_style, name=name, campaign_key=campaign_key, allowed=allowed,
                      readers=readers)

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
        campaign_key=campaign_key, key_is_provisional=key_is_provisional, kept=kept, id_column=id_column,
        notes=notes, preview_rows=_preview_rows(df, spec, colmap, templates),
    )
    for note in notes:
        log.info("campaign %r: %s", name, note)
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
               number_style: str, name: str, campaign_key: str, allowed: Any, fast: bool = True,
               readers: Mapping[tuple, Any] | None = None) -> list[RowPlan]:
    """One :class:`RowPlan` per row of *df*: fields read, numbers normalised, instruction built and validated.

    With *fast* (the default) the frame is planned column-wise
    (:func:`cmvoice_nb.campaign.columnar.plan_rows_columnar`): each distinct cell and phone
    number is read once, rows that differ only in their callee and id share one instruction
    built and validated once, and each row's payload is filled into its group's template.
    ``fast=False`` is the plain per-row path (:func:`_plan_rows_reference`); both give the same
    rows, problems and payloads (``tests/campaign/test_plan_fast.py`` checks it on fuzzed frames).
    """
    planning = _Planning(spec, colmap, plain_defaults, voice_defaults, templates, region=region,
                         number_style=number_style, name=name, campaign_key=campaign_key, allowed=allowed, fast=fast,
                         readers=readers)
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




def _column(df: Any, column: Any) -> Any:
    """The cells of *column* as a Series; of a repeated column name, the last one (what a row's record holds)."""
    cells = df[column]
    return cells.iloc[:, -1] if cells.ndim == 2 else cells


def _distinct_cells(series: Any) -> list:
    """The distinct cells of a column (unhashable ones each kept), cheap on a million rows."""
    import pandas as pd

    try:
        return list(pd.unique(series.to_numpy(dtype=object)))
    except TypeError:  # nested cells (lists) cannot be hashed: every cell, then
        return series.tolist()


def _column_readers(df: Any, templates: Mapping[str, str], *, dayfirst: bool | None, date_format: Any,
                    decimal: str | None, interface: str) -> dict[tuple, Any]:
    """How each template date and number column is read, decided once per column from all its values.

    Raises :class:`~cmvoice_nb.campaign.values.ColumnError` (a CampaignError) naming a column whose
    day/month order or decimal sign cannot be decided, and the option that decides it.
    """
    from .messages import OPTION_NAMES
    from .templates import template_placeholders
    from .values import date_reader, number_reader

    names = OPTION_NAMES[interface]
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
            raise CampaignError(f"{names['date_format']} names {', '.join(map(quote, unknown))}, which no template "
                                f"formats as a date (date columns: {listing(date_columns) or 'none'})")
        formats = {c: date_format.get(c, date_format.get("*")) for c in date_columns}
    elif date_format is not None:
        if not isinstance(date_format, str) or "%" not in date_format:
            raise CampaignError(f"{names['date_format']} must be a strptime pattern like '%d-%m-%Y', got "
                                f"{quote(date_format)}")
        formats = {c: date_format for c in date_columns}
    spreadsheet_numbers = set(df.attrs.get("cmvoice.number_columns", ()))
    readers: dict[tuple, Any] = {}
    for column, kind in wanted:
        values = _distinct_cells(_column(df, column))
        if kind == "date":
            readers[(column, kind)] = date_reader(values, column=str(column), dayfirst=dayfirst,
                                                  date_format=formats.get(column),
                                                  options=(names["dayfirst"], names["date_format"]))
        else:
            sign = decimal if decimal is not None else ("." if column in spreadsheet_numbers else None)
            readers[(column, kind)] = number_reader(values, column=str(column), decimal=sign,
                                                    options=(names["decimal"],))
    return readers


def _kept_columns(df: Any, keep: Any, id_column: str | None, *, interface: str) -> tuple[Any, str | None]:
    """The operator's columns to carry along (``keep=`` and the id column first), aligned on the index."""
    from .messages import OPTION_NAMES

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
            source = "the input file" if interface == "cli" else "the DataFrame"
            raise CampaignError(f"{OPTION_NAMES[interface]['keep']} {quote(col)}: no such column in {source};"
                                f"{did_you_mean(col, columns)} columns: " + listing(columns))
    if id_column is not None:
        wanted = [id_column] + [c for c in wanted if c != id_column]
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return None, id_column
    return df[wanted].copy(), id_column


def _country_column_notes(df: Any, colmap: Mapping[str, str], templates: Mapping[str, str], *, region: str | None,
                          interface: str) -> tuple[str, ...]:
    """A note naming each unmapped column whose values are countries: it probably gives each row's country."""
    from .messages import OPTION_NAMES
    from .values import looks_like_countries

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
        values = _distinct_cells(series)
        if len(values) > 10_000 or not looks_like_countries(values):
            continue
        shown = ", ".join(str(v) for v in values[:4] if isinstance(v, str))
        how = OPTION_NAMES[interface]["map_region"].replace("<column>", column)
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
