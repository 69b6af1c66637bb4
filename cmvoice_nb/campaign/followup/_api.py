"""The follow-up's edges: :func:`plan_followup` reads the journal and the callbacks, asks
:func:`~cmvoice_nb.campaign.followup.decide.decide` who goes in the next wave, and builds the plan.

Examples
--------
>>> parse_gap("30min"), parse_gap("2h"), parse_gap(90)
(Timedelta('0 days 00:30:00'), Timedelta('0 days 02:00:00'), Timedelta('0 days 00:01:30'))
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import CampaignError
from ...messages import opt
from ...spec import iso_utc
from ...wire import encode_body, instruction_hash
from ..journal import Journal, JournalRow, opened_journal, pick_campaign
from ..ops.suppress import apply_allowed_countries, parse_allowed_countries, read_suppression, suppression_reason
from ..plan import CampaignPlan, RowPlan, content_key
from .decide import FOLLOWABLE, NO_ENDING, Ending, decide

__all__ = ["plan_followup", "parse_gap", "LEFT_OUT_COLUMNS"]

#: Columns of :attr:`CampaignPlan.left_out`.
LEFT_OUT_COLUMNS = ["row", "base_id", "instruction_id", "callee", "wave", "attempts", "outcome", "finished_on",
                    "reason"]


def parse_gap(value: Any):
    """A ``min_gap``/``--after`` value as a :class:`pandas.Timedelta`.

    Text like ``"30min"``, ``"30m"``, ``"2h"``, ``"90s"``, ``"1h30m"``; a number is seconds;
    a :class:`datetime.timedelta` is used as is.

    Raises
    ------
    CampaignError
        Not a duration, or a negative one.
    """
    import pandas as pd

    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            gap = pd.Timedelta(seconds=float(value))
        else:
            text = str(value).strip().lower() if isinstance(value, str) else value
            gap = pd.Timedelta(text)
    except (ValueError, TypeError, OverflowError):
        raise CampaignError(f"{opt('min_gap')} must be a duration like '30min', '2h' or '90s' (or seconds), "
                            f"got {value!r}") from None
    if pd.isna(gap) or gap < pd.Timedelta(0):
        raise CampaignError(f"{opt('min_gap')} must be zero or more, got {value!r}")
    return gap


def _now(now: Any):
    import pandas as pd

    if now is None:
        return pd.Timestamp.now(tz="UTC")
    if callable(now):
        now = now()
    try:
        t = pd.Timestamp(now)
    except (ValueError, TypeError):
        raise CampaignError(f"{opt('now')} must be a time (datetime, ISO text) or a clock returning one, "
                            f"got {now!r}") from None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _outcomes(outcomes: Any) -> tuple[str, ...]:
    items = [outcomes] if isinstance(outcomes, str) else list(outcomes or ())
    names = {n.lower(): n for n in FOLLOWABLE}
    out = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if part.lower() not in names:
                raise CampaignError(f"{opt('outcomes')}: {part!r} is not an unanswered outcome; choose from "
                                    f"{', '.join(FOLLOWABLE)}")
            out.append(names[part.lower()])
    if not out:
        raise CampaignError(f"{opt('outcomes')} must name at least one of {', '.join(FOLLOWABLE)}")
    return tuple(dict.fromkeys(out))


def _callback_index(calls: Any):
    """call id → callbacks and instruction id → callbacks, as lists of row positions of *calls*."""
    by_call: dict[str, list[int]] = {}
    by_iid: dict[str, list[int]] = {}
    for pos, (cid, iid) in enumerate(zip(calls["call_id"].tolist(), calls["instruction_id"].tolist(), strict=True)):
        if isinstance(cid, str) and cid.strip():
            by_call.setdefault(cid.strip().lower(), []).append(pos)
        if isinstance(iid, str) and iid:
            by_iid.setdefault(iid, []).append(pos)
    return by_call, by_iid


def _callbacks_of(record: JournalRow, by_call: dict, by_iid: dict) -> list[int]:
    ids = [c.strip().lower() for c in (record.call_ids or "").split(";") if c.strip()]
    found = sorted({p for c in ids for p in by_call.get(c, ())})
    if found or ids:
        return found
    return list(by_iid.get(record.instruction_id, ()))  # no call id recorded: the attempt's own id


def _ending(positions: list[int], calls: Any) -> Ending:
    """How one attempt's call ended, from its callbacks (rows *positions* of *calls*)."""
    import pandas as pd

    if not positions:
        return NO_ENDING
    part = calls.iloc[positions]
    ended = part["finished_on"]
    for col in ("started_on", "received_at"):
        if col in part.columns:
            ended = ended.fillna(part[col])
    order = ended.sort_values(kind="stable", na_position="first")
    last = order.index[-1]
    outcome, finished = part.loc[last, "outcome"], order.iloc[-1]
    sip = part.loc[last, "sip_disconnect_code"] if "sip_disconnect_code" in part.columns else None
    voicemail = bool(part["voicemail"].fillna(False).astype(bool).any()) if "voicemail" in part.columns else False
    return Ending(None if pd.isna(outcome) else str(outcome), None if pd.isna(finished) else finished,
                  bool(part["answered"].fillna(False).any()), None if sip is None or pd.isna(sip) else str(sip),
                  voicemail)


class _Endings(Mapping):
    """Instruction id → :class:`Ending` of that attempt, read from the callbacks when first asked for."""

    def __init__(self, records: Mapping[str, JournalRow], calls: Any) -> None:
        self._records = records
        self._calls = calls
        self._by_call, self._by_iid = _callback_index(calls)
        self._found: dict[str, Ending] = {}

    def __getitem__(self, instruction_id: str) -> Ending:
        found = self._found.get(instruction_id)
        if found is None:
            record = self._records[instruction_id]
            found = self._found[instruction_id] = _ending(_callbacks_of(record, self._by_call, self._by_iid),
                                                          self._calls)
        return found

    def __iter__(self):
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def plan_followup(
    journal: str | os.PathLike | Journal,
    calls: Any,
    *,
    outcomes: Iterable[str] | str = ("Cancelled", "Failed"),
    max_attempts: int = 3,
    min_gap: Any = "30min",
    now: Any = None,
    campaign: str | None = None,
    suppress: Any = None,
    region: str | None = None,
    callback_url: str | None = None,
    allow_unreadable_suppress: bool = False,
    allowed_countries: Any = None,
    retry_ladder: Any = None,
) -> CampaignPlan:
    """Plan the next wave of a campaign: everyone whose latest call was not answered, once each.

    Parameters
    ----------
    journal
        The campaign's journal (path or :class:`Journal`); it holds every attempt and its payload.
        A path that does not exist is an error (nothing is created).
    calls
        The campaign's callbacks: a :func:`~cmvoice_nb.callbacks.load_callbacks` frame or anything
        it loads (log paths, a list of them). Attempts are matched on their call ids, else on their
        own instruction id.
    outcomes
        Outcomes of the latest call that make a row due again (``Cancelled``, ``Failed``; also
        accepted: ``Rejected``, which usually means a wrong number).
    max_attempts
        Calls per row over all waves, the first included: a row called this often is left out.
    min_gap
        How long ago the latest call must have ended (``"30min"``, ``"2h"``, seconds).
    now
        The time to measure ``min_gap`` from (datetime/ISO text, or a clock returning one);
        default: the current time. Tests and the simulator's accelerated clock pass their own.
    campaign
        Which campaign of the journal (needed only when it holds several).
    suppress
        A do-not-call list, read by :func:`~cmvoice_nb.campaign.ops.suppress.read_suppression`: a
        CSV/TXT path (the number column found by name or by its content), a DataFrame, an
        iterable of numbers in any spelling, or a :class:`~cmvoice_nb.campaign.ops.suppress.SuppressionList`.
        Listed rows are left out as ``suppressed``, as are rows the journal holds as
        ``suppressed`` (held back by an earlier wave's list), list or not.
    region
        ISO country code for national numbers in *suppress* (``0612345678`` with ``"NL"``).
    allow_unreadable_suppress
        Go on with the numbers of *suppress* that could be read when none, or more than 1 %,
        of its entries are phone numbers (otherwise :class:`~cmvoice_nb.errors.SuppressionError`).
    callback_url
        Where the wave's callbacks go: replaces the ``callback-url`` of the stored payloads (a
        receiver restarted since the first wave listens on a new URL); ``""`` removes it (the
        account's configured URL). Default None: each row keeps the URL it was sent with. The
        URL is not part of a row's identity (:func:`~cmvoice_nb.wire.instruction_hash`).
    allowed_countries
        ISO codes (``"NL,BE"``): a wave's row calling another country is ``refused-country``
        when sent (see :func:`~cmvoice_nb.campaign.ops.suppress.apply_allowed_countries`).
    retry_ladder
        Per outcome (not answered, busy, rejected, failed by SIP cause, voicemail), the wait
        before each next wave or ``"never"``: a mapping, text (``"not-answered=30m,2h;
        busy=10m"``) or ``"default"`` (:data:`~cmvoice_nb.campaign.followup.ladder.DEFAULT_RETRY_LADDER`);
        see :mod:`cmvoice_nb.campaign.followup.ladder`. It replaces *outcomes* and *min_gap*, its
        short form; *max_attempts* still caps the calls per person.

    Returns
    -------
    CampaignPlan
        The wave's rows (``row.wave``, ids ``<id>-w<wave>``), indexed by the original row label;
        :attr:`~CampaignPlan.left_out` lists every other row of the campaign with its reason.

    Raises
    ------
    CampaignError
        Bad options, a journal without that campaign, or several campaigns and no ``campaign=``.
    JournalError
        The journal is unusable or a send is running on it.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd, cmvoice_nb as cm
    >>> journal = pathlib.Path(tempfile.mkdtemp()) / "j.sqlite"
    >>> df = pd.DataFrame({"callee": ["+31612345609", "+31612345610"]})   # ...09 Cancelled, ...10 answered
    >>> with cm.Simulator(speed=1000) as sim:
    ...     first = cm.send_campaign(df, sim.client(), journal=journal, app="notification", name="c", rate=50,
    ...                              progress=False, defaults={"caller": "+31201234567", "prompt": "Hi",
    ...                                                        "prompt-type": "TTS"})
    ...     placed = sim.calls       # what a CallbackReceiver would have logged, as callbacks:
    >>> calls = [{"call-id": c, "instruction-id": i, "result": {"code": int(r)}, "finished-on": "2024-01-01T10:00:00Z"}
    ...          for c, i, r in zip(placed["call_id"], placed["instruction_id"], placed["result_code"])]
    >>> wave = plan_followup(journal, calls, now="2024-01-01T11:00:00Z")
    >>> [r.instruction_id.endswith("-w2") for r in wave.rows], wave.left_out["reason"].tolist()
    ([True], ['answered'])
    """
    import pandas as pd

    from ...callbacks import calls_frame
    from ...instructions import instruction_from_json
    from ...spec import app_spec

    wanted = _outcomes(outcomes)
    try:
        max_attempts = int(max_attempts)
    except (TypeError, ValueError):
        raise CampaignError(f"{opt('max_attempts')} must be a whole number, got {max_attempts!r}") from None
    if max_attempts < 1:
        raise CampaignError(f"{opt('max_attempts')} must be at least 1, got {max_attempts}")
    gap = parse_gap(min_gap)
    ladder = None
    if retry_ladder is not None:
        from .ladder import parse_retry_ladder

        ladder = parse_retry_ladder(retry_ladder)
    moment = _now(now)
    parse_allowed_countries(allowed_countries)  # a bad code is said before the journal is read
    limit = app_spec("notification").field("callback-url").max_length  # the contract's, for every app
    if callback_url not in (None, "") and not (
            isinstance(callback_url, str) and callback_url.lower().startswith(("http://", "https://"))
            and (limit is None or len(callback_url) <= limit)):
        raise CampaignError(f"{opt('callback_url')} must be an http:// or https:// URL of at most {limit} "
                            f"characters (or \"\" for the account's own), got {callback_url!r}")
    dnc = None if suppress is None else read_suppression(suppress, region=region,
                                                          allow_unreadable_suppress=allow_unreadable_suppress)

    why = "a follow-up needs the campaign's journal"
    with opened_journal(journal, error=CampaignError, wanted=why) as open_journal:
        campaign = pick_campaign(open_journal, campaign, error=CampaignError)
        app = open_journal.campaigns()[campaign]
        records = open_journal.load(campaign)
        payloads = open_journal.payloads(campaign)
        key = open_journal.campaign_key
        kept_columns = open_journal.kept(campaign)  # the operator's own columns, kept with each row
        subdivision = open_journal.subdivision_column(campaign)  # which of them gives each row's subdivision
        variants = open_journal.variants(campaign)  # each person's A/B variant: the same in every wave

    calls = calls_frame(calls).reset_index(drop=True)
    decisions = decide(records.values(), endings=_Endings(records, calls), payloads=payloads, outcomes=wanted,
                       max_attempts=max_attempts, min_gap=gap, now=moment, ladder=ladder,
                       listed=(lambda callee: suppression_reason(callee, dnc)) if dnc else None)

    rows: list[RowPlan] = []
    left: list[tuple[Any, ...]] = []
    for d in decisions:
        latest = d.latest
        if d.reason is not None:
            left.append((d.label, d.base_id, latest.instruction_id, latest.callee, latest.wave, d.attempts, d.outcome,
                         d.finished_on, d.reason))
            continue
        # a row to call has its payload, its new id and wave, and the attempt before it
        assert d.payload is not None and d.instruction_id is not None and d.wave is not None and d.previous is not None
        try:
            wire = json.loads(d.payload.decode("utf-8"))
            wire["instruction-id"] = d.instruction_id
            if callback_url == "":
                wire.pop("callback-url", None)
            elif callback_url is not None:
                wire["callback-url"] = callback_url
            instruction = instruction_from_json(app, wire)
        except (ValueError, TypeError, KeyError) as exc:
            raise CampaignError(f"{campaign!r} row {d.base_id!r}: the stored payload cannot be read back ({exc})") \
                from exc
        rows.append(RowPlan(position=len(rows), label=d.label, instruction_id=d.instruction_id,
                            callee=latest.callee or "", instruction=instruction, content=content_key(latest.callee),
                            id_given=True, wave=d.wave, base_id=d.base_id,
                            ended=((d.previous.instruction_id, d.outcome, d.finished_on),) if d.outcome else (),
                            payload=encode_body(wire), payload_hash=instruction_hash(wire),
                            variant=variants.get(d.base_id)))

    left_out = pd.DataFrame.from_records(left, columns=LEFT_OUT_COLUMNS)
    left_out["wave"] = left_out["wave"].astype("int64")
    left_out["attempts"] = left_out["attempts"].astype("int64")
    labels = [r.label for r in rows]
    index = pd.Index(labels, name="row", dtype=object)
    numeric = pd.to_numeric(index, errors="coerce")
    if len(index) and not pd.isna(numeric).any():
        index = pd.Index(numeric.astype("int64"), name="row")
    kept = None
    if len(kept_columns.columns):
        kept = kept_columns.reindex([r.base_id for r in rows]).set_axis(index)
        kept = kept.astype(object).where(kept.notna(), None)
    plan = CampaignPlan(name=campaign, app=app, index=index, rows=rows, campaign_key=key,
                        options={"followup": {"outcomes": wanted, "max_attempts": max_attempts,
                                              "min_gap": str(gap), "now": iso_utc(moment.to_pydatetime()),
                                              "retry_ladder": ladder.describe() if ladder else None},
                                 "region": region, "subdivision": subdivision},
                        left_out=left_out, kept=kept)
    return apply_allowed_countries(plan, allowed_countries) if allowed_countries is not None else plan
