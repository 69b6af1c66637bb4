"""The Campaign app's rules beyond the form: the A/B test and opt-out panel, the rules' checks and their lines.

* :class:`ABPanel` — the collapsible "A/B test and opt-out" section: variants (one
  ``NAME:FIELD=VALUE`` a line, read by the command line's own parser,
  :func:`~cmvoice_nb.campaign.plan.parse_variants`), holdout share, seed and the opt-out key (DTMF
  only); :meth:`~ABPanel.plan_options` are :func:`~cmvoice_nb.campaign.plan_campaign`'s keywords.
* :func:`check_rules` — the library's own checks of the sender's options at Validate
  (:class:`~cmvoice_nb.campaign.SendOptions`, and each row's subdivision as the sender reads it),
  so a bad value is said before Send, naming its control.
* :func:`forecast_options` — which of them :func:`~cmvoice_nb.campaign.forecast` takes.
* :func:`rule_lines` — one short line per active rule, for the confirmation and the estimate.

Nothing here decides a rule: values go to the library as typed (a decimal comma read as a point)
and its messages name the controls by their labels (:data:`cmvoice_nb.messages.OPTIONS`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ipywidgets as W

from ..messages import OPTIONS, opt

__all__ = ["ABPanel", "check_rules", "forecast_options", "live_calls_control", "number_text", "rule_lines",
           "valid_for_placeholder", "variants_from_text", "with_pacing"]

_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
#: The sender's keywords the forecast takes too (the rules that end rows before any call).
_FORECAST_KEYS = ("prices", "max_cost", "valid_until", "valid_for", "contacts", "max_contacts", "now")


def _label(key: str) -> str:
    return OPTIONS[key].widget or OPTIONS[key].python


def number_text(text: str | None) -> float | str | None:
    """A number typed in a box (``25,00`` or ``25.00``) as a float; other text as typed, blank as None.

    Text that is not a number goes to the library as typed: its message names the control.

    Examples
    --------
    >>> number_text("25,50"), number_text(" 0.1 "), number_text("abc"), number_text("")
    (25.5, 0.1, 'abc', None)
    """
    value = (text or "").strip()
    if not value:
        return None
    return float(value.replace(",", ".")) if _NUMBER.fullmatch(value) else value


def valid_for_placeholder(app: str) -> str:
    """What the Valid for box shows when empty: the library's default for *app*.

    Examples
    --------
    >>> valid_for_placeholder("otp")
    '10m: the OTP default (none: no window)'
    """
    from ..campaign.ops.validity import OTP_VALID_FOR

    if str(app).lower() == "otp":
        minutes = int(OTP_VALID_FOR.total_seconds() // 60)
        return f"{minutes}m: the OTP default (none: no window)"
    return "e.g. 30m, 2h (empty: no window)"


def variants_from_text(text: str) -> dict[str, dict[str, str]] | None:
    """The variants typed one ``NAME:FIELD=VALUE`` a line, by the command line's parser; None when blank.

    Raises
    ------
    CampaignError
        Naming every line that is not ``NAME:FIELD=VALUE`` (by its line number in the box).

    Examples
    --------
    >>> variants_from_text("A:prompt=Hallo {naam}\\n\\nB:prompt=Goedemiddag {naam}")
    {'A': {'prompt': 'Hallo {naam}'}, 'B': {'prompt': 'Goedemiddag {naam}'}}
    >>> variants_from_text("A:prompt=Hallo\\nB prompt Hi")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: line 2: variants= 'B prompt Hi': expected NAME:FIELD=VALUE, e.g. ...
    """
    from ..campaign.plan import parse_variants
    from ..errors import CampaignError

    lines = [(n, line.strip()) for n, line in enumerate(str(text or "").splitlines(), 1) if line.strip()]
    if not lines:
        return None
    bad = []
    for n, line in lines:  # every bad line is named, not only the first
        try:
            parse_variants([line])
        except CampaignError as exc:
            bad.append(f"line {n}: {Exception.__str__(exc)}")  # the marked text: each front says the control
    if bad:
        raise CampaignError("; ".join(bad))
    return parse_variants([line for _n, line in lines])


def live_calls_control(style: dict) -> W.Text:
    """The Live calls box (``max_live_calls=``; empty: no limit), beside the rate."""
    return W.Text(value="", description=_label("max_live_calls"), placeholder="no limit", style=style,
                  layout=W.Layout(width="16em"), tooltip=OPTIONS["max_live_calls"].help)


def with_pacing(options: Mapping[str, Any], live_calls: str, *, callbacks: Any = None,
                now: Any = None) -> dict[str, Any]:
    """*options* with ``max_live_calls`` (and the *callbacks* log that ends live calls) and the clock *now*.

    Examples
    --------
    >>> with_pacing({"valid_for": "auto"}, " 5 ", callbacks="cb.jsonl")
    {'valid_for': 'auto', 'max_live_calls': 5, 'callbacks': 'cb.jsonl'}
    """
    out = dict(options)
    live = number_text(live_calls)
    if live is not None:
        out["max_live_calls"] = int(live) if isinstance(live, float) and live.is_integer() else live
        if callbacks is not None:
            out["callbacks"] = callbacks
    if now is not None:
        out["now"] = now
    return out


class ABPanel(W.Accordion):
    """The collapsible "A/B test and opt-out" section.

    Attributes
    ----------
    variants, holdout, seed, opt_out_digit
        The controls: variants (a Textarea, one ``NAME:FIELD=VALUE`` a line), the holdout share,
        the seed, and the opt-out key (enabled for the DTMF app only).
    """

    def __init__(self, *, app: str = "notification", style: dict | None = None) -> None:
        style = style or {"description_width": "8em"}
        self.variants = W.Textarea(value="", description=_label("variants"), style=style, rows=3,
                                   placeholder="one NAME:FIELD=VALUE a line, e.g.\nA:prompt=Hallo {naam}\n"
                                               "B:prompt=Goedemiddag {naam}",
                                   layout=W.Layout(width="40em"), tooltip=OPTIONS["variants"].help)
        self.holdout = W.Text(value="", description=_label("holdout"), style=style, placeholder="e.g. 0.1",
                              layout=W.Layout(width="16em"), tooltip=OPTIONS["holdout"].help)
        self.seed = W.Text(value="", description=_label("seed"), style=style, placeholder="the campaign name",
                           layout=W.Layout(width="20em"), tooltip=OPTIONS["seed"].help)
        self.opt_out_digit = W.Text(value="", description=_label("opt_out_digit"), style=style,
                                    placeholder="e.g. 9 (DTMF)", layout=W.Layout(width="16em"),
                                    tooltip=OPTIONS["opt_out_digit"].help)
        box = W.VBox([self.variants, W.HBox([self.holdout, self.seed]), self.opt_out_digit])
        super().__init__(children=[box])
        self.set_title(0, "A/B test and opt-out")
        self.selected_index = None
        self.add_class("cmvoice-ab")
        self.set_app(app)

    @property
    def controls(self) -> list[W.Widget]:
        """The inputs (disabled together while the app works)."""
        return [self.variants, self.holdout, self.seed, self.opt_out_digit]

    def set_app(self, app: str) -> None:
        """Enable the opt-out key for the DTMF app only (only a DTMF call hears a key press)."""
        self.opt_out_digit.disabled = app != "dtmf"

    def plan_options(self, app: str) -> dict[str, Any]:
        """The keywords ``variants``, ``holdout``, ``seed`` and ``opt_out_digit`` of ``plan_campaign``.

        Raises
        ------
        CampaignError
            A variants line that is not ``NAME:FIELD=VALUE``, or a seed without variants or holdout.
        """
        from ..campaign.plan import parse_seed
        from ..errors import CampaignError

        out: dict[str, Any] = {}
        variants = variants_from_text(self.variants.value)
        holdout = number_text(self.holdout.value)
        seed = parse_seed(self.seed.value)
        if variants is not None or holdout is not None:
            out.update(variants=variants, holdout=holdout, seed=seed)
        elif seed is not None:
            raise CampaignError(f"{opt('seed')} needs {opt('variants')} or {opt('holdout')}: it seeds the A/B "
                                "assignment")
        digit = self.opt_out_digit.value.strip()
        if digit and app == "dtmf":
            out["opt_out_digit"] = digit
        return out


def forecast_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The sender's *options* that :func:`~cmvoice_nb.campaign.forecast` takes (the prices only with a budget).

    Examples
    --------
    >>> forecast_options({"calling_hours": "09:00-20:00", "valid_for": "30m", "prices": "p.csv"})
    {'valid_for': '30m'}
    """
    out = {k: options[k] for k in _FORECAST_KEYS if k in options}
    if out.get("max_cost") is None:
        out.pop("prices", None)
    return out


def check_rules(plan: Any, options: Mapping[str, Any]) -> Any:
    """Check the sender's *options* for *plan* as the sender will; return the checked ``SendOptions``.

    Raises
    ------
    CampaignError
        A value the sender refuses (a duration, a time, a cap, a budget without prices, a holidays
        file, a time zone), or a row's subdivision its country does not have — named by control.
    """
    from ..campaign.ops.schedule import RowWindows, plan_subdivisions
    from ..campaign.send import SendOptions

    checked = SendOptions(**{k: v for k, v in options.items() if k not in ("now", "callbacks")})
    if checked.hours is not None:
        RowWindows(checked.hours, plan.rows, tz=checked.tz, subdivisions=plan_subdivisions(plan))
    return checked


def _shares(plan: Any) -> str | None:
    variants = plan.options.get("variants")
    if not variants:
        return None
    holdout = float(plan.options.get("holdout") or 0.0)
    each = (1.0 - holdout) * 100 / len(variants)
    parts = [f"{name} {each:g} %" for name in variants] + ([f"holdout {holdout * 100:g} %"] if holdout else [])
    return ", ".join(parts)


def rule_lines(plan: Any, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One ``(label, text)`` line per active rule of sending *plan* with the sender's *options*.

    Examples
    --------
    >>> class Plan:
    ...     app, options = "notification", {"variants": {"A": {}, "B": {}}, "holdout": 0.1, "opt_out_digit": None}
    >>> rule_lines(Plan(), {"valid_for": "30m", "max_cost": 25.0, "max_live_calls": 5})
    [('Validity', 'valid for 30m'), ('Budget', 'budget 25.00'), ('Live calls', 'at most 5 live calls'), \
('A/B test', 'A/B: A 45 %, B 45 %, holdout 10 %')]
    """
    from ..campaign.ops.validity import AUTO, parse_validity

    lines: list[tuple[str, str]] = []
    if options.get("public_holidays") or options.get("holidays"):
        said = []
        if options.get("public_holidays"):
            said.append("public holidays of each callee's country"
                        + (" and subdivision" if plan.options.get("subdivision") else ""))
        if options.get("holidays"):
            said.append(f"the dates in {options['holidays']}")
        lines.append(("Holidays", "no calls on " + " and on ".join(said)))
    if options.get("tz"):
        lines.append(("Time zone", f"every callee's local time is {options['tz']}"))
    valid_for = options.get("valid_for", AUTO)
    validity = parse_validity(valid_until=options.get("valid_until"), valid_for=valid_for, app=plan.app)
    said = []
    if validity.span is not None:
        auto = isinstance(valid_for, str) and valid_for.strip().lower() == AUTO
        minutes = int(validity.span.total_seconds() // 60)
        said.append(f"valid for {minutes}m (the OTP default)" if auto else f"valid for {str(valid_for).strip()}")
    if validity.until is not None:
        said.append(f"valid until {validity.until:%Y-%m-%d %H:%M} UTC")
    if said:
        lines.append(("Validity", ", ".join(said)))
    if options.get("max_contacts"):
        from ..campaign.contacts import parse_max_contacts

        calls, _period = parse_max_contacts(options["max_contacts"])
        period = str(options["max_contacts"]).partition("/")[2].strip()
        lines.append(("Contacts", f"at most {calls} call{'s' if calls != 1 else ''} per person per {period} "
                                  f"(ledger {options.get('contacts')})"))
    elif options.get("contacts"):
        lines.append(("Contacts", f"every placed call is recorded in the ledger {options['contacts']}"))
    if options.get("max_cost") is not None:
        lines.append(("Budget", f"budget {float(options['max_cost']):,.2f}"))
    if options.get("max_live_calls"):
        lines.append(("Live calls", f"at most {int(options['max_live_calls'])} live calls"))
    shares = _shares(plan)
    if shares:
        lines.append(("A/B test", f"A/B: {shares}"))
    if plan.options.get("opt_out_digit"):
        lines.append(("Opt-out", f"opt-out key {plan.options['opt_out_digit']}"))
    return lines
