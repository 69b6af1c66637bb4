"""An estimate before sending: calls per country, talk minutes and cost, with every assumption stated.

:func:`estimate_payloads` is pure over the per-row wire payloads (the dicts a campaign sends:
``callee``, ``prompt``, ``prompt-type``, ``code``, ``max-replays``, ...). Talk time follows the
talk-time model the simulator uses too (:mod:`cmvoice_nb.timing`), so an estimate and a simulated
run agree:

* a TTS prompt lasts its word count at :data:`cmvoice_nb.timing.RATES` ``words_per_s`` (SSML
  tags removed) — :func:`cmvoice_nb.timing.prompt_duration_s`;
* Notification: the prompt, played ``1 + replays`` times, plus the replay question after each
  play while replays remain (not with ``auto-replay``);
* OTP: intro, then (code prompt + one ``code_char_s`` per code character) ``1 + replays``
  times, the replay question likewise, then the outro;
* DTMF: one attempt — the prompt, the full input ``timeout``, then the valid prompt;
* a File prompt lasts as long as its WAV under ``audio_root`` (header only); a file that is
  missing or unreadable counts ``default_file_s`` and the assumptions say which.

Ringing is not talk time; voicemail is not modelled. Every such choice is in
:attr:`Estimate.assumptions`.

Examples
--------
>>> wire = {"callee": "+31612345678", "prompt": "Your parcel arrives tomorrow", "prompt-type": "TTS"}
>>> est = estimate_payloads([wire], app="notification")
>>> est
Estimate(1 call, 0.03 talk minutes (1.6 s per call), 100% answered)
>>> est.talk_s_per_call["+31612345678"] == 4 / 2.5            # four words at 2.5 words per second
True
"""
from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ...errors import CampaignError
from ...timing import RATES, talk_seconds

__all__ = ["Estimate", "estimate_payloads", "upper_bound_costs", "talk_costs", "read_prices", "FRAME_COLUMNS",
           "PRICE_COLUMNS", "COST_COLUMNS"]

#: Columns of :func:`talk_costs` (one row per country, then ``total``).
COST_COLUMNS = ["answered", "minutes", "price_per_minute", "setup", "cost"]

#: Columns of :meth:`Estimate.to_frame` (one row per country, then ``total``).
FRAME_COLUMNS = ["calls", "answered", "minutes_per_call", "minutes", "price_per_minute", "setup", "cost"]
#: Columns of a price table; ``setup`` is optional. Country ``*`` prices every other country.
PRICE_COLUMNS = ["country", "price_per_minute", "setup"]


def read_prices(prices: Any) -> dict[str, tuple[float, float]]:
    """A price table as ``{country: (price_per_minute, setup)}``.

    Parameters
    ----------
    prices
        A DataFrame or the path of a CSV with columns ``country,price_per_minute[,setup]``
        (``,`` or ``;`` separated; a decimal comma is accepted with ``;``). Country ``*``
        prices every country not listed.

    Examples
    --------
    >>> import pandas as pd
    >>> read_prices(pd.DataFrame({"country": ["nl", "BE"], "price_per_minute": [0.05, "0.07"]}))
    {'NL': (0.05, 0.0), 'BE': (0.07, 0.0)}
    """
    import pandas as pd

    where = "prices"
    if isinstance(prices, (str, os.PathLike)):
        path = Path(os.fspath(prices))
        where = str(path)
        if not path.is_file():
            raise CampaignError(f"prices: {path}: " + ("not a regular file (a folder, a pipe or a device?)"
                                                       if path.exists() else "no such file"))
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CampaignError(f"prices: {path}: cannot read as UTF-8 text ({exc})") from None
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        sep = ";" if ";" in first else ("\t" if "\t" in first else ",")
        import io

        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, comment="#")
    elif isinstance(prices, pd.DataFrame):
        frame = prices
    else:
        raise CampaignError(f"prices must be a DataFrame or a CSV path, got {type(prices).__name__}")
    cols = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in PRICE_COLUMNS[:2] if c not in cols]
    if missing:
        raise CampaignError(f"{where}: needs columns country,price_per_minute[,setup]; missing {', '.join(missing)} "
                            f"(has {', '.join(map(str, frame.columns))})")
    out: dict[str, tuple[float, float]] = {}
    problems = []

    def number(value: Any, row: int, col: str) -> float | None:
        if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
            return 0.0 if col == "setup" else None
        try:
            x = float(str(value).strip().replace(",", "."))
        except ValueError:
            x = None
        if x is None or not math.isfinite(x) or x < 0:
            problems.append(f"row {row} {col}: {value!r} is not a non-negative number")
            return None
        return x

    for i, rec in enumerate(frame.to_dict("records"), 1):
        country = str(rec[cols["country"]]).strip().upper()
        if not country:
            problems.append(f"row {i}: empty country")
            continue
        ppm = number(rec[cols["price_per_minute"]], i, "price_per_minute")
        setup = number(rec[cols["setup"]], i, "setup") if "setup" in cols else 0.0
        if ppm is None:
            if not any(p.startswith(f"row {i} ") for p in problems):
                problems.append(f"row {i} price_per_minute: missing")
            continue
        if setup is None:
            continue
        out[country] = (ppm, setup)
    if problems:
        raise CampaignError(f"{where}: {len(problems)} problem(s): {'; '.join(problems[:10])}")
    return out


class Estimate:
    """What a campaign will take before it is sent: calls, talk minutes and (with prices) cost.

    Attributes
    ----------
    per_call
        DataFrame, one row per payload: ``callee``, ``country``, ``app``, ``talk_s``.
    talk_s_per_call
        ``{callee: talk seconds}`` (the last payload wins for a repeated callee).
    answer_rate
        Share of calls assumed answered (1.0: the upper bound).
    prices
        ``{country: (price_per_minute, setup)}`` or None.
    assumptions
        Every assumption the figures rest on, in words.
    """

    def __init__(self, per_call: Any, *, answer_rate: float, prices: Mapping[str, tuple[float, float]] | None,
                 assumptions: list[str]) -> None:
        self.per_call = per_call
        self.answer_rate = answer_rate
        self.prices = dict(prices) if prices is not None else None
        self.assumptions = list(assumptions)

    # ------------------------------------------------------------------ figures
    @property
    def calls(self) -> int:
        """Number of calls (payloads)."""
        return len(self.per_call)

    @property
    def talk_s_per_call(self) -> dict[str, float]:
        return dict(zip(self.per_call["callee"], self.per_call["talk_s"], strict=True))

    @property
    def total_minutes(self) -> float:
        """Expected talk minutes of the whole campaign (answered calls only)."""
        return float(self.per_call["talk_s"].sum()) * self.answer_rate / 60.0

    @property
    def minutes_per_call(self) -> float:
        """Mean talk minutes of an answered call."""
        return float(self.per_call["talk_s"].mean()) / 60.0 if self.calls else 0.0

    @property
    def calls_per_country(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.per_call["country"].value_counts(sort=False).sort_index().items()}

    @property
    def cost(self) -> float | None:
        """Expected cost of the priced countries (None without a price table)."""
        if self.prices is None:
            return None
        frame = self.to_frame()
        return float(frame.loc["total", "cost"])

    def _price(self, country: str) -> tuple[float, float] | None:
        if self.prices is None:
            return None
        return self.prices.get(country, self.prices.get("*"))

    def to_frame(self):
        """One row per country (index ``country``) and a ``total`` row; columns :data:`FRAME_COLUMNS`.

        ``cost`` = answered calls x (minutes per call x price_per_minute + setup); NaN where the
        country has no price (left out of the total, and said so in the assumptions).
        """
        import pandas as pd

        rows = {}
        for country, group in self.per_call.groupby("country", sort=True):
            calls = len(group)
            answered = calls * self.answer_rate
            seconds = float(group["talk_s"].sum())
            minutes = seconds * self.answer_rate / 60.0
            price = self._price(country)
            cost = (minutes * price[0] + answered * price[1]) if price is not None else math.nan
            rows[country] = {"calls": calls, "answered": answered, "minutes_per_call": seconds / calls / 60.0,
                             "minutes": minutes, "price_per_minute": price[0] if price else math.nan,
                             "setup": price[1] if price else math.nan, "cost": cost}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=FRAME_COLUMNS)
        costs = frame["cost"].dropna()
        frame.loc["total"] = {"calls": self.calls, "answered": self.calls * self.answer_rate,
                              "minutes_per_call": self.minutes_per_call, "minutes": self.total_minutes,
                              "price_per_minute": math.nan, "setup": math.nan,
                              "cost": float(costs.sum()) if self.prices is not None else math.nan}
        frame["calls"] = frame["calls"].astype(int)
        frame.index.name = "country"
        return frame

    # ------------------------------------------------------------------ display
    def _headline(self) -> str:
        n = self.calls
        text = (f"{n} call{'s' if n != 1 else ''}, {self.total_minutes:.2f} talk minutes "
                f"({self.minutes_per_call * 60:.1f} s per call), {self.answer_rate:.0%} answered")
        cost = self.cost
        if self.prices is not None and cost is not None:
            text += f", cost {cost:,.2f}" if cost >= 10 else f", cost {cost:.4f}"
        return text

    def __repr__(self) -> str:
        return f"Estimate({self._headline()})"

    def to_text(self) -> str:
        """A plain-text report for the command line (``cmvoice send --dry-run``).

        Examples
        --------
        >>> import pandas as pd
        >>> wires = [{"callee": "+31612345678", "prompt": "one two three four five", "prompt-type": "TTS"},
        ...          {"callee": "+32470123456", "prompt": "one two three four five", "prompt-type": "TTS"}]
        >>> prices = pd.DataFrame({"country": ["NL", "BE"], "price_per_minute": [0.06, 0.12], "setup": [0.01, 0]})
        >>> print(estimate_payloads(wires, app="notification", prices=prices).to_text())
        Estimate: 2 calls, 0.07 talk minutes (2.0 s per call), 100% answered, cost 0.0160
          country  calls  minutes/call  minutes  price/min  setup    cost
          BE           1          0.03     0.03     0.1200 0.0000  0.0040
          NL           1          0.03     0.03     0.0600 0.0100  0.0120
          total        2          0.03     0.07                    0.0160
        Assumptions:
          - every call is answered (answer_rate=1.0): an upper bound
          - TTS at 2.5 words per second, 0.7 s per OTP code character (cmvoice_nb.timing.RATES)
          - every allowed replay is heard (replays='max'): an upper bound
          - talk time only: ringing is not billed, voicemail is not modelled
          - cost = answered calls x (minutes x price_per_minute + setup), per second (no per-minute rounding)
        """
        frame = self.to_frame()
        lines = [f"Estimate: {self._headline()}",
                 f"  {'country':<8}{'calls':>6}{'minutes/call':>14}{'minutes':>9}{'price/min':>11}{'setup':>7}"
                 f"{'cost':>8}"]

        def money(x: float, width: int) -> str:
            return f"{x:>{width}.4f}" if not (isinstance(x, float) and math.isnan(x)) else " " * width

        for country, row in frame.iterrows():
            lines.append(f"  {str(country):<8}{int(row['calls']):>6}{row['minutes_per_call']:>14.2f}"
                         f"{row['minutes']:>9.2f}{money(row['price_per_minute'], 11)}{money(row['setup'], 7)}"
                         f"{money(row['cost'], 8)}".rstrip())
        lines.append("Assumptions:")
        lines += [f"  - {a}" for a in self.assumptions]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ..._tables import to_html

        frame = self.to_frame().astype({c: object for c in ("price_per_minute", "setup", "cost")})
        # Money keeps four decimals (a call costs fractions of a cent); the shared style rounds to two.
        for col in ("price_per_minute", "setup", "cost"):
            frame[col] = [None if isinstance(x, float) and math.isnan(x) else f"{x:.4f}" for x in frame[col]]
        table = to_html(frame, caption=f"Estimate: {self._headline()}", failures_first=False, max_rows=None)
        items = "".join(f"<li>{html.escape(a)}</li>" for a in self.assumptions)
        return (f"<div>{table}<details><summary>Assumptions ({len(self.assumptions)})</summary>"
                f"<ul>{items}</ul></details></div>")


def _resolve_file(root: Path, prompt: str) -> Path | None:
    # A prompt path is relative to the account's audio root; never look outside it (as the simulator).
    base = root.resolve()
    candidate = (base / prompt.lstrip("/\\")).resolve()
    try:
        candidate.relative_to(base)
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def estimate_payloads(payloads: Iterable[Mapping[str, Any]], *, app: str | None = None,
                      audio_root: str | os.PathLike | None = None, prices: Any = None,
                      answer_rate: float = 1.0, replays: Any = "max") -> Estimate:
    """Estimate calls per country, talk minutes and cost of a campaign from its wire payloads.

    Parameters
    ----------
    payloads
        One wire dict per call (as sent: ``callee``, ``prompt``, ``prompt-type``, ...). A
        payload's ``"app"`` key, when present, names its app; otherwise *app*.
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"`` for payloads without an ``"app"`` key.
    audio_root
        Folder holding the File prompts (paths relative to it): their WAV headers give the
        durations. Without it, or for a file not found there, a File prompt counts the
        ``default_file_s`` of :data:`cmvoice_nb.timing.RATES` and the assumptions list the files.
    prices
        A price table (see :func:`read_prices`); without it there is no cost.
    answer_rate
        Share of calls answered, 0..1; default 1.0, every call answered: an upper bound.
    replays
        See :func:`talk_seconds`; default ``"max"``: every allowed replay is heard.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> wires = [{"callee": "+31612345678", "code": "4821", "intro-prompt": "Your code is",
    ...           "intro-prompt-type": "TTS", "max-replays": 1, "auto-replay": True}]
    >>> est = estimate_payloads(wires, app="otp", answer_rate=0.5)
    >>> round(float(est.per_call.loc[0, "talk_s"]), 6), est.calls_per_country
    (6.8, {'NL': 1})
    """
    import pandas as pd

    from ...numbers import country_of

    if not isinstance(answer_rate, (int, float)) or isinstance(answer_rate, bool) or not 0 <= answer_rate <= 1:
        raise CampaignError(f"answer_rate must be a number between 0 and 1, got {answer_rate!r}")
    rates = RATES
    price_table = read_prices(prices) if prices is not None else None
    root = Path(os.fspath(audio_root)) if audio_root is not None else None
    if root is not None and not root.is_dir():
        raise CampaignError(f"audio_root: {root}: no such folder")
    durations: dict[str, float | None] = {}
    missing: dict[str, None] = {}

    def file_duration_s(prompt: str) -> float | None:
        if prompt not in durations:
            seconds = None
            found = _resolve_file(root, prompt) if root is not None else None
            if found is not None:
                from ...audio.wavfile import wav_duration_s

                seconds = wav_duration_s(found)
            durations[prompt] = seconds
        if durations[prompt] is None:
            missing[prompt] = None
        return durations[prompt]

    records = []
    apps_seen: set[str] = set()
    for i, wire in enumerate(payloads):
        if not isinstance(wire, Mapping):
            raise CampaignError(f"payload {i}: expected a dict of wire fields, got {type(wire).__name__}")
        row_app = str(wire.get("app") or app or "").lower()
        if row_app not in ("notification", "otp", "dtmf"):
            raise CampaignError(f"payload {i}: unknown app {row_app or None!r}: pass app= (notification, otp or dtmf)")
        apps_seen.add(row_app)
        callee = wire.get("callee")
        if callee is None and isinstance(wire.get("callees"), (list, tuple)) and wire["callees"]:
            callee = wire["callees"][0]
        try:
            seconds = talk_seconds(wire, row_app, replays=replays, file_duration_s=file_duration_s)
        except ValueError as exc:  # a replays= that is no number
            raise CampaignError(str(exc)) from None
        records.append({"callee": callee, "country": country_of(callee) or "unknown", "app": row_app,
                        "talk_s": float(seconds)})
    per_call = pd.DataFrame(records, columns=["callee", "country", "app", "talk_s"])

    assumptions = []
    if answer_rate == 1:
        assumptions.append("every call is answered (answer_rate=1.0): an upper bound")
    else:
        assumptions.append(f"{answer_rate:.0%} of calls are answered (answer_rate={answer_rate:g})")
    assumptions.append(f"TTS at {rates['words_per_s']:g} words per second, {rates['code_char_s']:g} s per OTP code "
                       f"character (cmvoice_nb.timing.RATES)")
    if apps_seen & {"notification", "otp"}:
        if replays == "max":
            assumptions.append("every allowed replay is heard (replays='max'): an upper bound")
        else:
            assumptions.append(f"replays per call: {replays!r} (auto-replay plays them all)")
    if "dtmf" in apps_seen:
        assumptions.append("DTMF: one attempt - the prompt, the full input timeout, then the valid prompt")
    if missing:
        shown = ", ".join(list(missing)[:5]) + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else "")
        why = "no audio_root given" if root is None else f"not found or unreadable under {root}"
        assumptions.append(f"{len(missing)} File prompt(s) counted as {rates['default_file_s']:g} s each ({why}): "
                           f"{shown}")
    assumptions.append("talk time only: ringing is not billed, voicemail is not modelled")
    if price_table is not None:
        assumptions.append("cost = answered calls x (minutes x price_per_minute + setup), per second "
                           "(no per-minute rounding)")
        unpriced = sorted(c for c in set(per_call["country"]) if c not in price_table and "*" not in price_table)
        if unpriced:
            counts = per_call["country"].value_counts()
            assumptions.append("no price for "
                               + ", ".join(f"{c} ({int(counts[c])} call{'s' if int(counts[c]) != 1 else ''})"
                                           for c in unpriced)
                               + ": left out of the cost")
    return Estimate(per_call, answer_rate=float(answer_rate), prices=price_table, assumptions=assumptions)


def upper_bound_costs(payloads: Iterable[Mapping[str, Any]], *, prices: Any, app: str | None = None,
                      audio_root: str | os.PathLike | None = None) -> list[float]:
    """Each payload's cost at its upper bound: answered, every replay heard, the full talk time.

    What a budget (``max_cost=``) counts a call at before it is placed: minutes x
    ``price_per_minute`` + ``setup`` of its callee's country, with the talk time of
    :func:`estimate_payloads` (``answer_rate=1``, ``replays="max"``).

    Raises
    ------
    CampaignError
        A payload's country has no price (and the table has no ``*``): such a call cannot be
        counted against a budget, so nothing is sent until the table prices it.

    Examples
    --------
    >>> import pandas as pd
    >>> wires = [{"callee": "+31612345678", "prompt": "one two three four five", "prompt-type": "TTS"}]
    >>> upper_bound_costs(wires, app="notification",
    ...                   prices=pd.DataFrame({"country": ["NL"], "price_per_minute": [0.6], "setup": [0.01]}))
    [0.03]
    """
    est = estimate_payloads(payloads, app=app, audio_root=audio_root, prices=prices)
    table = est.prices or {}
    unpriced = sorted({c for c in est.per_call["country"] if c not in table and "*" not in table})
    if unpriced:
        counts = est.per_call["country"].value_counts()
        raise CampaignError("prices: no price for " + ", ".join(f"{c} ({int(counts[c])} call(s))" for c in unpriced)
                            + ": a budget cannot count those calls; add them (or a * row) to the price table")
    costs = []
    for country, talk_s in zip(est.per_call["country"].tolist(), est.per_call["talk_s"].tolist(), strict=True):
        per_minute, setup = table[country] if country in table else table["*"]  # every country priced: above
        costs.append(round(float(talk_s) / 60.0 * per_minute + setup, 10))
    return costs


def talk_costs(calls: Any, prices: Any):
    """What answered calls cost: their actual talk time (from their callbacks) x the price table.

    Parameters
    ----------
    calls
        Loaded callbacks (:func:`~cmvoice_nb.callbacks.load_callbacks`; ``answered``,
        ``talk_seconds``, ``callee``), one row per call.
    prices
        A price table (see :func:`read_prices`).

    Returns
    -------
    pandas.DataFrame
        One row per country (index ``country``) and a ``total`` row; columns :data:`COST_COLUMNS`:
        answered calls, talk minutes, the price, and ``cost`` = minutes x ``price_per_minute`` +
        answered x ``setup`` (NaN for a country without a price, left out of the total).

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"callee": ["+31612345610", "+31612345611", "+32470123456"],
    ...                       "answered": [True, False, True], "talk_seconds": [90.0, None, 30.0]})
    >>> prices = pd.DataFrame({"country": ["NL", "BE"], "price_per_minute": [0.06, 0.12], "setup": [0.01, 0]})
    >>> talk_costs(calls, prices)["cost"].round(4).to_dict()
    {'BE': 0.06, 'NL': 0.1, 'total': 0.16}
    """
    import pandas as pd

    from ...numbers import country_of

    table = read_prices(prices)
    answered = calls[calls["answered"].astype("boolean").fillna(False).astype(bool)] if len(calls) else calls
    countries = [country_of(c) or "unknown" for c in (answered["callee"].tolist() if len(answered) else [])]
    seconds = pd.to_numeric(answered["talk_seconds"], errors="coerce").fillna(0.0).tolist() if len(answered) else []
    rows = {}
    for country in sorted(set(countries)):
        secs = sum(s for c, s in zip(countries, seconds, strict=True) if c == country)
        n = countries.count(country)
        price = table.get(country, table.get("*"))
        minutes = secs / 60.0
        rows[country] = {"answered": n, "minutes": minutes, "price_per_minute": price[0] if price else math.nan,
                         "setup": price[1] if price else math.nan,
                         "cost": minutes * price[0] + n * price[1] if price else math.nan}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=COST_COLUMNS)
    frame.loc["total"] = {"answered": len(countries), "minutes": sum(seconds) / 60.0, "price_per_minute": math.nan,
                          "setup": math.nan, "cost": float(frame["cost"].dropna().sum())}
    frame["answered"] = frame["answered"].astype(int)
    frame.index.name = "country"
    return frame
