"""How long a call talks: the one talk-time model, read by the estimate and the simulator alike.

A TTS prompt lasts its word count at :data:`RATES` ``words_per_s`` (SSML tags removed); an OTP
code one ``code_char_s`` per character; a File prompt as long as its WAV (or ``default_file_s``
when unknown). A Notification plays its prompt ``1 + replays`` times, the replay question after
each play while replays remain (not with ``auto-replay``); an OTP plays its intro, then the code
prompt and code ``1 + replays`` times, the question likewise, then its outro; a DTMF call plays
its prompt, waits the input ``timeout``, then plays the valid prompt.

The rates are the provider's observed defaults as this package models them; neither the estimate
nor the simulator has its own. Ringing is not talk time.

Examples
--------
>>> prompt_duration_s("one two three four five", "TTS")
2.0
>>> talk_seconds({"prompt": "one two three four five", "prompt-type": "TTS", "max-replays": 2}, "notification")
6.0
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["RATES", "prompt_duration_s", "message_parts", "replay_asks", "talk_seconds", "wire_value"]

#: Speaking rate of TTS (words per second), seconds per spoken OTP code character, and how long
#: a File prompt whose length is unknown plays.
RATES: Mapping[str, float] = {"words_per_s": 2.5, "code_char_s": 0.7, "default_file_s": 4.0}
_TAG = re.compile(r"<[^>]*>")


def wire_value(wire: Mapping[str, Any], app: str, key: str) -> Any:
    """*key* of an instruction's wire dict, or the contract's default when it is absent or empty."""
    from .spec import APPS

    value = wire.get(key)
    if value is None or value == "":
        spec = APPS[app]
        return spec.field(key).default if spec.has(key) else None
    return value


def prompt_duration_s(text: str | None, prompt_type: str | None, *, words_per_s: float = RATES["words_per_s"],
                      file_duration_s: Callable[[str], float | None] | None = None,
                      default_file_s: float = RATES["default_file_s"]) -> float:
    """How long a prompt plays, in seconds.

    TTS (and TTS_SSML, tags removed) speaks ``words_per_s`` words per second; a File prompt
    lasts as long as the file when *file_duration_s* knows it, else ``default_file_s``. An empty
    prompt lasts 0 s.

    Examples
    --------
    >>> prompt_duration_s("<speak>Hello <break time='1s'/> there</speak>", "TTS_SSML")
    0.8
    >>> prompt_duration_s("prompts/welcome.wav", "File")
    4.0
    """
    if not text:
        return 0.0
    kind = (prompt_type or "File").upper()
    if kind in ("TTS", "TTS_SSML"):
        spoken = _TAG.sub(" ", text) if kind == "TTS_SSML" else text
        return len(spoken.split()) / words_per_s
    seconds = file_duration_s(text) if file_duration_s else None
    return float(seconds) if seconds is not None else float(default_file_s)


def message_parts(wire: Mapping[str, Any], app: str, duration: Callable[[str], float], *,
                  code_char_s: float = RATES["code_char_s"]) -> tuple[float, float, float, float]:
    """``(intro, play, ask, outro)`` seconds of a Notification or OTP call.

    *duration* gives a prompt field's seconds (``duration("prompt")``): the caller decides the
    rates and how File prompts are timed.
    """
    if app == "notification":
        return 0.0, duration("prompt"), duration("replay-prompt"), 0.0
    play = duration("code-prompt") + len(str(wire.get("code") or "")) * code_char_s
    return duration("intro-prompt"), play, duration("replay-prompt"), duration("outro-prompt")


def replay_asks(replays: float, max_replays: int, auto: bool) -> float:
    """How often the replay question is asked: after each play while replays remain, never with auto-replay."""
    return 0 if auto or max_replays == 0 else min(replays + 1, max_replays)


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "t", "on")
    return bool(value)


def talk_seconds(wire: Mapping[str, Any], app: str, *, replays: Any = "max",
                 file_duration_s: Callable[[str], float | None] | None = None,
                 words_per_s: float | None = None, code_char_s: float | None = None,
                 default_file_s: float | None = None) -> float:
    """Expected talk seconds of one answered call (pure; durations of File prompts come from *file_duration_s*).

    Parameters
    ----------
    wire
        The instruction's wire dict.
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"``.
    replays
        ``"max"`` (every allowed replay is heard: an upper bound), ``"none"``, or the expected
        number of replays per call (capped at the instruction's ``max-replays``). With
        ``auto-replay`` all replays always play.
    file_duration_s
        Duration of a File prompt by its path, None when unknown (then ``default_file_s``).
    words_per_s, code_char_s, default_file_s
        :data:`RATES` by default.

    Raises
    ------
    ValueError
        An unknown app or a *replays* that is neither ``"max"``, ``"none"`` nor a number.

    Examples
    --------
    >>> otp = {"intro-prompt": "Hello", "intro-prompt-type": "TTS", "code": "1234", "max-replays": 0}
    >>> round(talk_seconds(otp, "otp"), 6)               # 1 word / 2.5 + 4 characters x 0.7
    3.2
    >>> talk_seconds({"prompt": "Press one", "prompt-type": "TTS", "timeout": 5000}, "dtmf")
    5.8
    """
    wps = RATES["words_per_s"] if words_per_s is None else words_per_s
    ccs = RATES["code_char_s"] if code_char_s is None else code_char_s
    dfs = RATES["default_file_s"] if default_file_s is None else default_file_s
    app = str(app).lower()

    def duration(key: str) -> float:
        return prompt_duration_s(wire.get(key) or None, wire_value(wire, app, f"{key}-type"), words_per_s=wps,
                                 file_duration_s=file_duration_s, default_file_s=dfs)

    if app == "dtmf":
        timeout_s = _as_int(wire_value(wire, app, "timeout"), 5000) / 1000.0
        return duration("prompt") + timeout_s + duration("valid-prompt")
    if app not in ("notification", "otp"):
        raise ValueError(f"unknown app {app!r}: expected notification, otp or dtmf")
    max_replays = max(0, _as_int(wire_value(wire, app, "max-replays"), 0))
    auto = _as_bool(wire_value(wire, app, "auto-replay"))
    if auto or replays == "max":
        n: float = max_replays
    elif replays in ("none", None):
        n = 0
    else:
        try:
            n = min(float(replays), max_replays)
        except (TypeError, ValueError):
            raise ValueError(f"replays must be 'max', 'none' or a number, got {replays!r}") from None
    intro, play, ask, outro = message_parts(wire, app, duration, code_char_s=ccs)
    return intro + (n + 1) * play + replay_asks(n, max_replays, auto) * ask + outro
