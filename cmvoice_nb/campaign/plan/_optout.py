"""A DTMF plan's opt-out key: "press 9 to be taken off the list", declared and checked.

``plan_campaign(..., app="dtmf", opt_out_digit="9")`` records the key in the plan's options (the
sender keeps it in the journal) and notes what would make it fail: a ``min-digits`` above 1 (a
single key press is then no valid input, so the provider reports no digits), a ``regex`` or
terminator that refuses the key, or a prompt (of any variant, voice or template) that does not
mention it (the callee cannot know).
The receiver turns the key presses into a do-not-call list (:mod:`cmvoice_nb.callbacks.optout`).

Examples
--------
>>> opt_out_notes([{"min-digits": 2, "max-digits": 4, "prompt": "Press 1 or 9", "prompt-type": "TTS"}], "9")
['min-digits is 2 on some rows: pressing only 9 is no valid input there, so the provider reports no digits ...']
>>> opt_out_notes([{"min-digits": 1, "max-digits": 1, "prompt": "Druk 1 voor ja", "prompt-type": "TTS"}], "9")
["a prompt does not mention 9 ('Druk 1 voor ja'; checked: prompt, invalid-prompt): tell the callee which key opts out"]
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ...errors import CampaignError
from ...messages import cut, opt
from ...spec import DTMF_KEYS

__all__ = ["KEY_WORDS", "check_key", "opt_out_notes", "with_opt_out"]

#: How a prompt may say a key in words (English, Dutch, German, French), besides the key itself.
KEY_WORDS = {
    "0": ("zero", "nul", "null", "zéro"), "1": ("one", "een", "één", "eins", "un"),
    "2": ("two", "twee", "zwei", "deux"), "3": ("three", "drie", "drei", "trois"),
    "4": ("four", "vier", "quatre"), "5": ("five", "vijf", "fünf", "cinq"), "6": ("six", "zes", "sechs"),
    "7": ("seven", "zeven", "sieben", "sept"), "8": ("eight", "acht", "huit"),
    "9": ("nine", "negen", "neun", "neuf"), "*": ("star", "sterretje", "ster", "stern", "étoile"),
    "#": ("hash", "pound", "hekje", "raute", "dièse"),
}
_SPOKEN = ("prompt", "invalid-prompt")


def check_key(app: str, digit: Any) -> str | None:
    """*digit* as the one keypad key (``"9"``), for a DTMF plan only; None for none."""
    if digit is None:
        return None
    text = str(digit).strip() if not isinstance(digit, bool) else ""
    if len(text) != 1 or text not in DTMF_KEYS:
        raise CampaignError(f"{opt('opt_out_digit')} must be one keypad key (0-9, * or #), got {digit!r}")
    if app != "dtmf":
        raise CampaignError(f"{opt('opt_out_digit')} needs a DTMF campaign (app 'dtmf'): only a DTMF call hears "
                            f"key presses; this one is {app!r}")
    return text


def _mentions(text: str, key: str) -> bool:
    if key in text:
        return True
    words = set(re.findall(r"\w+", text.lower()))
    return any(word in words for word in KEY_WORDS.get(key, ()))


def opt_out_notes(wires: Iterable[dict], key: str) -> list[str]:
    """What would stop callees opting out with *key*, from the wire dicts of some rows (one note per kind)."""
    from ...spec import APPS

    dtmf = APPS["dtmf"]
    notes: dict[str, str] = {}
    for wire in wires:
        if not isinstance(wire, dict):
            continue
        min_digits = wire.get("min-digits")
        if isinstance(min_digits, int) and min_digits > 1:
            notes.setdefault("min", f"min-digits is {min_digits} on some rows: pressing only {key} is no valid input "
                                    "there, so the provider reports no digits and nobody can opt out")
        regex = wire.get("regex") or dtmf.field("regex").default
        try:
            refused = re.fullmatch(str(regex), key) is None
        except re.error:
            refused = False  # the row's own validation names a bad regex
        if refused:
            notes.setdefault("regex", f"the regex {regex!r} refuses {key}: pressing it is no valid input")
        terminators = wire.get("terminators")
        terminators = dtmf.field("terminators").default if terminators is None else terminators
        if key in str(terminators or ""):
            notes.setdefault("terminator", f"{key} is a terminator: it ends the input and is never reported as digits")
        if "mention" not in notes and not any(isinstance(wire.get(f), str) and _mentions(wire[f], key)
                                              for f in _SPOKEN):
            shown = cut(str(wire.get("prompt") or ""), 60)
            notes["mention"] = (f"a prompt does not mention {key} ({shown!r}; checked: {', '.join(_SPOKEN)}): tell "
                                "the callee which key opts out")
    return list(notes.values())


def with_opt_out(plan: Any, digit: Any) -> Any:
    """*plan* with its opt-out key in its options and, as notes, what would stop it working (None: *plan*).

    Checked on the rows :meth:`~cmvoice_nb.campaign.CampaignPlan.preview` shows (the first row and
    the first of each further voice, template or variant).
    """
    key = check_key(plan.app, digit)
    if key is None:
        return plan
    sample = [plan.rows[p].wire() for p in dict.fromkeys([0, *plan.preview_rows]) if p < len(plan.rows)]
    notes = tuple(plan.notes) + tuple(f"opt-out key {key}: {note}" for note in opt_out_notes(sample, key))
    return plan.replace(options={**plan.options, "opt_out_digit": key}, notes=notes)
