"""The plan object: :class:`CampaignPlan`, the instructions to send and every problem found.

A plan does not change once :func:`~cmvoice_nb.campaign.plan.plan_campaign` returns it: its rows
are a read-only sequence of frozen :class:`~cmvoice_nb.campaign.plan.RowPlan`
(:class:`~cmvoice_nb.campaign.plan._table.PlanRows`: columns, with a view made per row on
access), its options a read-only mapping, and setting an attribute raises ``AttributeError``.
Changes make new plans (:meth:`CampaignPlan.replace`, :meth:`CampaignPlan.rekey`) with new rows.
Counts, problems, ids and callees are read from the columns, not row by row.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ...errors import CampaignError
from ...messages import LINE_INDEX, Text, row_name, say
from ...spec import DEFAULT_LANGUAGE, app_spec
from ..ops.estimate import estimate_payloads
from ._ids import derive_ids, derive_instruction_id
from ._rows import RowPlan, without_cycle_collection
from ._table import PlanRows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CampaignPlan", "PROBLEM_COLUMNS"]

#: Columns of :attr:`CampaignPlan.problems`.
PROBLEM_COLUMNS = ["row", "instruction_id", "field", "value", "message"]


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
        One frozen :class:`RowPlan` per input row, in input order: a read-only sequence
        (``rows[i]``, ``len``, iteration; slices are tuples) that makes each row when asked.
    options
        The planning options (``region``, ``number_style``, ``suppress``...), read-only.
    left_out
        A follow-up wave's rows left out, with the reason (see
        :func:`~cmvoice_nb.campaign.plan_followup`); None otherwise.
    kept
        The operator's own columns carried into the results and the journal (``keep=``), as
        given, aligned on :attr:`index`; None when none are kept.
    id_column
        The column holding the operator's own id of each row (``columns={"id": ...}``), or None.
    notes
        What the planner noticed about the list as a whole (e.g. an unmapped country column),
        once each, in Python's words (each a :class:`~cmvoice_nb.messages.Text`:
        ``note.say("cli")``).
    preview_rows
        Positions of the rows :meth:`preview` shows beyond the first ones: the first of each
        further voice/template combination.
    """

    __slots__ = ("name", "app", "index", "rows", "options", "campaign_key", "key_is_provisional", "left_out", "kept",
                 "id_column", "notes", "preview_rows")
    # The slots' types (set once, by __init__, through object.__setattr__).
    name: str
    app: str
    index: pd.Index
    rows: PlanRows
    options: Mapping[str, Any]
    campaign_key: str
    key_is_provisional: bool
    left_out: pd.DataFrame | None
    kept: pd.DataFrame | None
    id_column: str | None
    notes: tuple[Text, ...]
    preview_rows: tuple[int, ...]

    def __init__(self, *, name: str, app: str, index: Any, rows: Iterable[RowPlan],
                 options: Mapping[str, Any] | None = None, campaign_key: str = "", key_is_provisional: bool = False,
                 left_out: Any = None, kept: Any = None, id_column: str | None = None, notes: Any = (),
                 preview_rows: Any = ()) -> None:
        with without_cycle_collection():  # a pass over every row: see without_cycle_collection
            if isinstance(rows, PlanRows):
                frozen = rows.freeze()
            else:
                frozen = PlanRows.from_rows([r.freeze() for r in rows], index=index).freeze()
        values = {
            "name": name, "app": app, "index": index, "rows": frozen,
            "options": MappingProxyType(dict(options or {})),
            "campaign_key": campaign_key, "key_is_provisional": key_is_provisional,
            "left_out": left_out, "kept": kept, "id_column": id_column,
            "notes": tuple(Text(n) for n in notes), "preview_rows": tuple(preview_rows),
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a CampaignPlan does not change ({name}); make a changed copy with "
                             f"plan.replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __reduce__(self) -> tuple:
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields["options"] = dict(self.options)
        return _rebuild, (type(self), fields)

    def replace(self, **changes: Any) -> CampaignPlan:
        """A new plan with this plan's attributes but *changes* (this plan does not change).

        New rows (``rows=``) are frozen by the new plan; rows taken from a plan are frozen already.

        Examples
        --------
        >>> import pandas as pd
        >>> from cmvoice_nb.campaign import plan_campaign
        >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345611"]}), app="notification",
        ...                      name="c", defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
        >>> held = plan.replace(rows=[r.replace(suppressed="listed") if r.position else r for r in plan.rows])
        >>> int(held.summary()["to_send"]), int(plan.summary()["to_send"])
        (1, 2)
        """
        unknown = sorted(set(changes) - set(self.__slots__))
        if unknown:
            raise TypeError(f"CampaignPlan has no attribute {', '.join(unknown)}; attributes: "
                            f"{', '.join(self.__slots__)}")
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return type(self)(**fields)

    @property
    def lines(self) -> bool:
        """True when the rows came from a file read by :func:`~cmvoice_nb.campaign.inputs.read_table` (lines)."""
        return getattr(self.index, "name", None) == LINE_INDEX

    def label_name(self, label: Any) -> str:
        """How messages name the row with index *label* (``line 7`` or ``row 'a'``)."""
        return row_name(label, lines=self.lines)

    def row_name(self, position: int) -> str:
        """How messages name the row at *position*: ``line 7 (Klantnummer 10234)`` or ``row 'a'``.

        Examples
        --------
        >>> import pandas as pd
        >>> from cmvoice_nb.campaign import plan_campaign
        >>> df = pd.DataFrame({"callee": ["+31612345610"], "klant": ["10234"]}, index=pd.Index([2], name="line"))
        >>> plan = plan_campaign(df, app="notification", name="c", columns={"id": "klant"},
        ...                      defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
        >>> plan.row_name(0)
        'line 2 (klant 10234)'
        """
        ident = None
        if self.id_column is not None and self.kept is not None and self.id_column in self.kept.columns:
            ident = self.kept[self.id_column].iloc[position]
        return row_name(self.rows[position].label, lines=self.lines, ident=ident, ident_column=self.id_column)

    @property
    def is_followup(self) -> bool:
        """True for a plan made by :func:`~cmvoice_nb.campaign.plan_followup`."""
        return self.left_out is not None

    def left_out_summary(self):
        """A follow-up's left-out rows counted per reason (a Series; empty for a plain campaign).

        Most frequent first; reasons with equal counts in the order of their names, so that the
        same plan always reads the same (the callbacks' arrival order must not show through).
        """
        import pandas as pd

        if self.left_out is None or not len(self.left_out):
            return pd.Series(dtype="int64", name="left_out")
        counts = self.left_out["reason"].value_counts()
        order = sorted(counts.index, key=lambda reason: (-int(counts[reason]), str(reason)))
        return counts.reindex(order).rename("left_out").astype("int64")

    def rekey(self, campaign_key: str) -> CampaignPlan:
        """A copy whose derived ids use *campaign_key*; ids from an ``instruction-id`` column stay.

        Examples
        --------
        >>> import pandas as pd
        >>> from cmvoice_nb.campaign import plan_campaign
        >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610"]}), app="notification", name="c",
        ...                      campaign_key="aaaa0000", defaults={"caller": "+31201234567", "prompt": "Hi",
        ...                      "prompt-type": "TTS"})
        >>> plan.rekey("bbbb1111").instruction_ids.tolist()
        ['c-bbbb1111-31612345610-1']
        """
        if campaign_key == self.campaign_key:
            return self
        import pyarrow as pa
        import pyarrow.compute as pc

        rows = self.rows
        columns = rows.columns()
        with without_cycle_collection():  # the rows planned one by one, each re-keyed
            explicit = {p: r if r.id_given else r.replace(
                            instruction_id=derive_instruction_id(self.name, campaign_key, r.content, r.occurrence))
                        for p, r in rows.explicit().items()}
        derived = derive_ids(self.name, campaign_key, columns["contents"], columns["occurrence"])
        ids = pc.if_else(pa.array(columns["given"]), rows.ids(), derived)
        if explicit:
            import numpy as np

            where = np.zeros(len(rows), dtype=bool)
            keys = sorted(explicit)
            where[keys] = True
            ids = pc.replace_with_mask(ids, pa.array(where),
                                       pa.array([explicit[k].instruction_id for k in keys], type=pa.large_string()))
        return self.replace(rows=rows.with_ids(ids, explicit), campaign_key=campaign_key, key_is_provisional=False)

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
        return self.problem_frame()

    def problem_frame(self, front: str = "python"):
        """:attr:`problems`, its messages naming options as *front* (``"cli"``, ``"widget"``) names them."""
        import pandas as pd

        rows = self.rows
        records = [
            (r.label, r.instruction_id, p.field, p.value, say(p.message, front))
            for r in rows.at(rows.problem_positions()) for p in r.problems
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

        rows = self.rows
        records = [(r.label, r.callee, r.duplicate_of, r.dropped) for r in rows.at(rows.duplicate_positions())]
        return pd.DataFrame.from_records(records, columns=["row", "callee", "first_row", "dropped"])

    @property
    def instruction_ids(self):
        """The instruction id of every input row, aligned on the input index."""
        import pandas as pd

        return pd.Series(pd.array(self.rows.ids(), dtype="string"), index=self.index, name="instruction_id")

    def summary(self):
        """Counts: rows, valid, invalid, problems, duplicates, dropped, to_send (a Series)."""
        import pandas as pd

        found = self.rows.counts()  # from the columns: a plan may have a million rows
        counts = {"rows": len(self.rows), "valid": found["valid"], "invalid": len(self.rows) - found["valid"],
                  "problems": found["problems"], "duplicates": found["duplicates"], "dropped": found["dropped"],
                  "suppressed": found["suppressed"], "to_send": found["to_send"]}
        if self.options.get("variants") is not None:
            counts["holdout"] = found["holdout"]
        if self.is_followup:
            counts["left_out"] = len(self.left_out)
        return pd.Series(counts, name=self.name, dtype="int64")

    def to_frame(self):
        """One row per input row: ``instruction_id``, ``callee``, ``valid``, ``problems`` (text), ``payload`` (dict).

        With an A/B test (``variants=``/``holdout=``), also ``variant``: each row's variant, or
        ``holdout`` (never called).
        """
        import pandas as pd

        rows = list(self.rows)
        frame = pd.DataFrame(
            {
                "instruction_id": [r.instruction_id for r in rows],
                "callee": [r.callee for r in rows],
                "valid": [r.valid for r in rows],
                "dropped": [r.dropped for r in rows],
                "problems": ["; ".join(f"{p.field}: {say(p.message)}" for p in r.problems) if r.problem_count else ""
                             for r in rows],
                "payload": [r.wire() for r in rows],
            },
            index=self.index,
        )
        if any(r.variant is not None for r in rows):
            frame["variant"] = pd.Series([r.variant for r in rows], index=self.index, dtype="string")
        return frame

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
        >>> from cmvoice_nb.campaign import plan_campaign
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
                problems = "; ".join(f"{p.field}: {say(p.message)}" for p in r.problems) if r.problem_count else \
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

        rows = self.rows
        records = [(r.label, r.callee, r.suppressed) for r in rows.at(rows.suppressed_positions())]
        return pd.DataFrame.from_records(records, columns=["row", "callee", "reason"])

    def estimate(self, prices: Any = None, *, audio_root: Any = None, answer_rate: float = 1.0, replays: Any = "max"):
        """Calls per country, talk minutes and (with *prices*) cost of the rows that will be sent.

        Counts the frozen payloads of the sendable rows (valid, not dropped, suppressed or held out) with
        :func:`~cmvoice_nb.campaign.ops.estimate.estimate_payloads`; File prompts are timed from
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

        root = audio_root if audio_root is not None else self.options.get("audio_root")
        payloads = [json.loads(r.payload) for r in self.rows if r.sendable and r.payload is not None]
        return estimate_payloads(payloads, app=self.app, audio_root=root, prices=prices, answer_rate=answer_rate,
                                 replays=replays)

    def __repr__(self) -> str:
        s = self.summary()
        if self.left_out is not None:  # a follow-up
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
        provisional = " — provisional: send_campaign uses its journal's key" if self.key_is_provisional else ""
        return (
            f"<div><b>Campaign plan {html.escape(self.name)}</b> ({html.escape(self.app)}, campaign key "
            f"{html.escape(self.campaign_key)}{provisional})"
            f"<table><tr>{heads}</tr><tr>{cells}</tr></table>{extra}</div>"
        )


def _rebuild(cls: type, fields: dict) -> CampaignPlan:
    """A plan from its attributes (pickle and deep copies)."""
    return cls(**fields)
