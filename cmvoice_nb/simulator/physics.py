"""The simulator's call physics: pure functions, no server, no clock, no I/O.

What happens on one simulated call — the outcome (magic callee endings or seeded
chance), ring and talk times, replays, voicemail and DTMF judging — decided by
:func:`plan_call` from an instruction's wire dict and a :class:`random.Random`.
Every draw comes from that generator, so a seed replays the same calls.

Result codes, field defaults and callback shapes come from :mod:`cmvoice_nb.spec`.
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from .. import spec as _spec
from ..errors import ConfigurationError
from ..spec import iso_utc  # the one formatter; re-exported here for the simulator's callers
from ..timing import message_parts, prompt_duration_s, replay_asks
from . import defaults as _defaults

#: Magic callee endings: the last two digits of the callee force this result code
#: (``09`` Cancelled, ``10`` Finished, ``11`` Failed, ``12`` Rejected).
MAGIC_ENDINGS: Mapping[str, int] = {f"{code:02d}": code for code in _spec.RESULT_CODES}

# The result codes by what the simulator does with them (spec owns the codes and their meaning).
_CODE = {rc.name: code for code, rc in _spec.RESULT_CODES.items()}
_CANCELLED, _FINISHED, _FAILED, _REJECTED = _CODE["Cancelled"], _CODE["Finished"], _CODE["Failed"], _CODE["Rejected"]

#: SIP reasons the simulator reports with failed (11) and rejected (12) calls.
_SIP_REASONS: Mapping[int, tuple[tuple[int, str], ...]] = {
    _FAILED: ((503, "Service Unavailable"), (404, "Not Found"), (480, "Temporarily Unavailable")),
    _REJECTED: ((603, "Decline"), (486, "Busy Here"), (403, "Forbidden")),
}

_DTMF = _spec.APPS["dtmf"]


def magic_result_code(number: str) -> int | None:
    """Result code forced by a callee's last two digits, or None for an ordinary number.

    Examples
    --------
    >>> magic_result_code("+31612345610"), magic_result_code("0031 6 1234 5612")
    (10, 12)
    >>> magic_result_code("+31612345678") is None
    True
    """
    digits = re.sub(r"\D", "", str(number))
    return MAGIC_ENDINGS.get(digits[-2:]) if len(digits) >= 2 else None


def judge_dtmf(raw: str | None, *, regex: str = _DTMF.field("regex").default,
               min_digits: int = cast(int, _DTMF.field("min-digits").min_value),  # the table sets both limits
               max_digits: int = cast(int, _DTMF.field("max-digits").max_value),
               terminators: str = _DTMF.field("terminators").default) -> tuple[bool, str]:
    """Judge one DTMF attempt like the provider: ``(valid, digits)``.

    Input ends at the first terminator, which is not part of the digits (seed: "excluding
    the terminator symbol"). It is valid when there was input (``""``/None is a timeout),
    it has ``min_digits``..``max_digits`` characters and fully matches ``regex``.

    Examples
    --------
    >>> judge_dtmf("1234#", regex="[0-9]*", min_digits=2, max_digits=5)
    (True, '1234')
    >>> judge_dtmf("1#99", min_digits=2, max_digits=5)
    (False, '1')
    >>> judge_dtmf("12a", regex="[0-9]+", min_digits=1, max_digits=5)
    (False, '12a')
    """
    if not raw:
        return False, ""
    digits = raw
    for i, ch in enumerate(raw):
        if terminators and ch in terminators:
            digits = raw[:i]
            break
    if not digits:
        return False, ""
    ok = min_digits <= len(digits) <= max_digits and _compiled(regex).fullmatch(digits) is not None
    return ok, digits


_REGEX_CACHE: dict[str, re.Pattern] = {}


def _compiled(regex: str) -> re.Pattern:
    pattern = _REGEX_CACHE.get(regex)
    if pattern is None:
        pattern = re.compile(regex)
        if len(_REGEX_CACHE) < 512:
            _REGEX_CACHE[regex] = pattern
    return pattern


@dataclass(frozen=True)
class Behaviour:
    """The knobs of the simulated world (probabilities and speaking rates).

    Attributes
    ----------
    p_answer, p_rejected, p_failed
        Chance that an ordinary (non-magic) callee answers (10), rejects (12) or fails
        (11); the rest is not answered (9 Cancelled).
    p_voicemail
        Share of answered calls that reach voicemail.
    p_replay
        Chance the callee presses 1 to hear it again, at each replay opportunity.
    p_dtmf_valid
        Chance a generated DTMF attempt is valid.
    words_per_s, code_char_s, default_file_s
        TTS speaking rate, seconds per OTP code character, duration of a File prompt
        whose length is unknown.
    """

    p_answer: float = _defaults.BEHAVIOUR["p_answer"]
    p_rejected: float = _defaults.BEHAVIOUR["p_rejected"]
    p_failed: float = _defaults.BEHAVIOUR["p_failed"]
    p_voicemail: float = _defaults.BEHAVIOUR["p_voicemail"]
    p_replay: float = _defaults.BEHAVIOUR["p_replay"]
    p_dtmf_valid: float = _defaults.BEHAVIOUR["p_dtmf_valid"]
    words_per_s: float = _defaults.BEHAVIOUR["words_per_s"]
    code_char_s: float = _defaults.BEHAVIOUR["code_char_s"]
    default_file_s: float = _defaults.BEHAVIOUR["default_file_s"]

    def __post_init__(self) -> None:
        for name in ("p_answer", "p_rejected", "p_failed", "p_voicemail", "p_replay", "p_dtmf_valid"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ConfigurationError(f"{name} must be a probability between 0 and 1, got {value!r}")
        total = self.p_answer + self.p_rejected + self.p_failed
        if total > 1.0 + 1e-9:
            raise ConfigurationError(
                f"p_answer + p_rejected + p_failed must be at most 1 (the rest is Cancelled), got {total:g}")
        for name in ("words_per_s", "code_char_s"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.default_file_s < 0:
            raise ConfigurationError(f"default_file_s must be >= 0, got {self.default_file_s!r}")


@dataclass(frozen=True)
class CallPlan:
    """What happens on one simulated call (all durations in simulated seconds)."""

    result_code: int
    ring_s: float
    talk_s: float
    digits: str | None = None
    voicemail: bool = False
    replays: int = 0
    dtmf_attempts: int | None = None
    sip_code: int | None = None
    sip_reason: str | None = None

    @property
    def answered(self) -> bool:
        return _spec.RESULT_CODES[self.result_code].answered

    @property
    def duration_s(self) -> float:
        return self.ring_s + self.talk_s


def _wire_value(wire: Mapping[str, Any], app: _spec.AppSpec, key: str) -> Any:
    # to_json() omits unset optional keys: fall back to the contract's default.
    value = wire.get(key)
    return app.field(key).default if value is None or value == "" else value


def plan_call(app: str, wire: Mapping[str, Any], callee: str, *, rng: random.Random,
              behaviour: Behaviour = Behaviour(),
              file_duration_s: Callable[[str], float | None] | None = None,
              dtmf_inputs: Sequence[str] | None = None) -> CallPlan:
    """Decide the outcome and timing of one call (pure: all chance comes from *rng*).

    Parameters
    ----------
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"``.
    wire
        A validated instruction's wire dict (``inst.to_json()``): required fields present;
        an optional one left out takes the contract's default.
    callee
        The number dialled; its last two digits may be magic (see :data:`MAGIC_ENDINGS`).
    rng
        Source of every random draw.
    behaviour
        Probabilities and speaking rates.
    file_duration_s
        Maps a File prompt's path to its duration (None when unknown).
    dtmf_inputs
        Per-attempt DTMF inputs (``"123#"``; ``""`` is a timeout) instead of generated ones.

    Examples
    --------
    >>> wire = {"callee": "+31612345610", "caller": "+31201234567", "prompt": "one two three four five",
    ...         "prompt-type": "TTS"}
    >>> plan = plan_call("notification", wire, "+31612345610", rng=random.Random(0))
    >>> plan.result_code, plan.talk_s
    (10, 2.0)
    """
    spec = _spec.APPS[app]
    ring_timeout_s = float(_wire_value(wire, spec, "max-ringing-timeout"))
    code = magic_result_code(callee)
    magic = code is not None
    if code is None:
        u = rng.random()
        b = behaviour
        if u < b.p_answer:
            code = _FINISHED
        elif u < b.p_answer + b.p_rejected:
            code = _REJECTED
        elif u < b.p_answer + b.p_rejected + b.p_failed:
            code = _FAILED
        else:
            code = _CANCELLED
    if code == _CANCELLED:
        # Cancelled: rang until the ringing timeout (seed: "cancelled after a timeout hit").
        return CallPlan(code, ring_timeout_s, 0.0, digits="" if app == "dtmf" else None)
    if code in (_FAILED, _REJECTED):
        ring_s = rng.uniform(0.1, 2.0) if code == _FAILED else rng.uniform(0.5, min(10.0, ring_timeout_s))
        sip_code, sip_reason = rng.choice(_SIP_REASONS[code])
        return CallPlan(code, round(ring_s, 3), 0.0, digits="" if app == "dtmf" else None,
                        sip_code=sip_code, sip_reason=sip_reason)

    ring_s = round(rng.uniform(2.0, max(2.0, min(20.0, ring_timeout_s - 1.0))), 3)
    # Magic "10" numbers are a person who answers: predictable in tests, no voicemail.
    voicemail = (not magic) and rng.random() < behaviour.p_voicemail

    def dur(key: str) -> float:
        return prompt_duration_s(wire.get(key), _wire_value(wire, spec, f"{key}-type"),
                                 words_per_s=behaviour.words_per_s, file_duration_s=file_duration_s,
                                 default_file_s=behaviour.default_file_s)


    def replays_for(max_replays: int, auto: bool) -> int:
        if auto:
            return max_replays
        n = 0
        while n < max_replays and rng.random() < behaviour.p_replay:
            n += 1
        return n

    digits: str | None = None
    attempts: int | None = None
    replays = 0
    if app == "dtmf":
        talk_s, digits, attempts = _dtmf_talk(wire, spec, rng, behaviour, dur,
                                              None if voicemail else dtmf_inputs, voicemail)
    else:
        intro_s, play_s, ask_s, outro_s = message_parts(wire, app, dur, code_char_s=behaviour.code_char_s)
        max_replays = int(_wire_value(wire, spec, "max-replays"))
        auto = bool(_wire_value(wire, spec, "auto-replay"))
        vm_response = str(_wire_value(wire, spec, "voicemail-response")).capitalize()
        if voicemail and vm_response == "Stop":
            # Voicemail detected and the instruction says Stop: hang up as the greeting starts.
            talk_s = rng.uniform(1.0, 3.0)
        else:
            # Nobody presses 1 on a voicemail box; automatic replays still happen.
            replays = replays_for(max_replays, auto) if not voicemail else (max_replays if auto else 0)
            talk_s = intro_s + (replays + 1) * play_s + replay_asks(replays, max_replays, auto) * ask_s + outro_s
            if voicemail and vm_response == "Restart":
                # The greeting talks over the first play; the whole prompt restarts after the beep.
                talk_s += rng.uniform(4.0, 8.0)
    return CallPlan(_FINISHED, ring_s, round(talk_s, 3), digits=digits, voicemail=voicemail, replays=replays,
                    dtmf_attempts=attempts)


def _dtmf_talk(wire, spec, rng, behaviour, dur, inputs, voicemail) -> tuple[float, str, int]:
    regex = str(_wire_value(wire, spec, "regex"))
    min_digits = int(wire["min-digits"])  # required: validation guarantees them
    max_digits = int(wire["max-digits"])
    max_attempts = int(wire["max-attempts"])
    terminators = str(_wire_value(wire, spec, "terminators"))
    timeout_s = int(_wire_value(wire, spec, "timeout")) / 1000.0
    talk_s = 0.0
    for attempt in range(1, max_attempts + 1):
        if voicemail:
            raw = ""  # a voicemail box presses nothing: every attempt times out
        elif inputs is not None:
            raw = inputs[attempt - 1] if attempt - 1 < len(inputs) else ""
        else:
            raw = _generate_dtmf(rng, behaviour, regex, min_digits, max_digits, terminators)
        valid, digits = judge_dtmf(raw, regex=regex, min_digits=min_digits, max_digits=max_digits,
                                   terminators=terminators)
        typing_s = timeout_s if not raw else 1.0 + 0.4 * len(raw)
        talk_s += dur("prompt") + typing_s
        if valid:
            return talk_s + dur("valid-prompt"), digits, attempt
        talk_s += dur("invalid-prompt")
    return talk_s, "", max_attempts


def _generate_dtmf(rng: random.Random, behaviour: Behaviour, regex: str, min_digits: int,
                   max_digits: int, terminators: str) -> str:
    # Terminators hold at most 8 of the 12 keys: some digit always remains to type.
    keys = [d for d in "0123456789" if d not in terminators]
    end = terminators[0] if terminators and rng.random() < 0.5 else ""

    def judge(s: str) -> bool:
        return judge_dtmf(s, regex=regex, min_digits=min_digits, max_digits=max_digits,
                          terminators=terminators)[0]

    lo, hi = max(min_digits, 1), max(max_digits, max(min_digits, 1))
    if rng.random() < behaviour.p_dtmf_valid:
        for _ in range(64):
            s = "".join(rng.choice(keys) for _ in range(rng.randint(lo, hi))) + end
            if judge(s):
                return s
    # An invalid attempt: a timeout, too few, too many, or a random string the regex refuses.
    candidates = [""]
    if min_digits > 1:
        candidates.append("".join(rng.choice(keys) for _ in range(min_digits - 1)) + end)
    candidates.append("".join(rng.choice(keys) for _ in range(hi + 1)) + end)
    candidates.append("".join(rng.choice(keys) for _ in range(rng.randint(lo, hi))) + end)
    rng.shuffle(candidates)
    for s in candidates:
        if not judge(s):
            return s
    return ""


def behaviour_for(behaviour: Behaviour, by: Sequence[tuple], wire: Mapping[str, Any],
                  instruction_id: str | None) -> Behaviour:
    """The behaviour of one call: *behaviour* changed by the first ``(kind, text, changes)`` of *by* that matches.

    ``("prompt", text, ...)`` matches a call whose prompt contains *text*, ``("id", prefix, ...)`` one
    whose instruction id starts with *prefix* (the simulator's ``behaviour_by=``).

    Examples
    --------
    >>> by = (("prompt", "Goedemiddag", {"p_answer": 0.9}),)
    >>> behaviour_for(Behaviour(), by, {"prompt": "Goedemiddag Anne"}, "x").p_answer
    0.9
    """
    for kind, text, changes in by:
        prompt = wire.get("prompt")
        if (kind == "prompt" and isinstance(prompt, str) and text in prompt) or \
                (kind == "id" and isinstance(instruction_id, str) and instruction_id.startswith(text)):
            return Behaviour(**{**behaviour.__dict__, **changes})
    return behaviour


__all__ = ["MAGIC_ENDINGS", "Behaviour", "CallPlan", "plan_call", "judge_dtmf", "behaviour_for",
           "magic_result_code", "iso_utc"]
