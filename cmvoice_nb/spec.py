"""The CM Voice API Apps contract as data.

This module is the ONE place where the provider's apps, fields, JSON keys, types,
limits, enums, defaults, the TTS voice catalogue (its table in :mod:`cmvoice_nb.voices`,
re-exported here) and the result codes are written down (source:
``shared/API-CONTRACT.md``, itself condensed from the provider's "Voice API Apps" v2
documentation and the official .NET SDK 1.7.0). Validation (:mod:`cmvoice_nb.instructions`),
serialisation, the simulator, the DataFrame column mapping of campaigns and the widgets' forms
all read it; none of them repeats a limit or an enum.

Examples
--------
>>> from cmvoice_nb import spec
>>> spec.APPS["dtmf"].endpoint
'DTMF'
>>> spec.APPS["dtmf"].field("timeout").min_value, spec.APPS["dtmf"].field("timeout").max_value
(1000, 10000)
>>> spec.RESULT_CODES[12].name
'Rejected'
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field as _dc_field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

# The TTS voice catalogue is part of the contract; its table is a module of its own.
from .voices import (
    VOICES as VOICES,
    VoiceEntry as VoiceEntry,
    has_voice_language as has_voice_language,
    voice_count as voice_count,
    voice_languages as voice_languages,
)

if TYPE_CHECKING:
    import datetime as _dt

    import pandas as pd

# ---------------------------------------------------------------------------------------------
# Transport
# ---------------------------------------------------------------------------------------------

#: The seed's base URL.
DEFAULT_BASE_URL = "https://api.cmtelecom.com/voiceapi/v2"
#: The provider's newer host, a documented alternative.
ALTERNATIVE_BASE_URLS = ("https://api.cm.com/voiceapi/v2",)
#: Header that carries the product token (a GUID string).
TOKEN_HEADER = "X-CM-PRODUCTTOKEN"
#: Environment variables read (by instances, never at import) for the token and the base URL.
TOKEN_ENV = "CM_PRODUCT_TOKEN"
BASE_URL_ENV = "CMVOICE_BASE_URL"
CONTENT_TYPE = "application/json; charset=utf-8"

# ---------------------------------------------------------------------------------------------
# Enums: the wire sends names; the official SDK sends these integers (accept both).
# ---------------------------------------------------------------------------------------------

PROMPT_TYPES = ("File", "TTS", "TTS_SSML")
CODE_TYPES = ("Default", "TTS", "Custom")
VOICEMAIL_RESPONSES = ("Ignore", "Restart", "Stop")
GENDERS = ("Male", "Female")

#: enum name -> allowed names on the wire
ENUMS: Mapping[str, tuple[str, ...]] = {
    "prompt_type": PROMPT_TYPES,
    "code_type": CODE_TYPES,
    "voicemail_response": VOICEMAIL_RESPONSES,
    "gender": GENDERS,
}

#: enum name -> {SDK integer: wire name}
SDK_ENUM_INTS: Mapping[str, Mapping[int, str]] = {
    "prompt_type": {0: "File", 1: "TTS", 2: "TTS_SSML"},
    "code_type": {0: "Default", 1: "TTS", 2: "Custom"},
    "voicemail_response": {0: "Ignore", 1: "Restart", 2: "Stop"},
    "gender": {0: "Male", 1: "Female"},
}

#: Characters a DTMF ``terminators`` string may hold.
DTMF_KEYS = "0123456789*#"
#: Characters a ``Custom`` OTP code may hold: one lower-case spelling file per character exists.
SPELLING_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
#: Pattern of a voice language / spelling locale: five characters like ``en-GB``.
LOCALE_PATTERN = r"[a-z]{2}-[A-Z]{2}"
#: International format as the provider expects it: ``+`` or ``00``, then 7..15 digits (E.164).
PHONE_PATTERN = r"(\+|00)[1-9][0-9]{6,14}"
#: Suffixes of audio files: what a ``File`` prompt's path ends with, and what folder batches pick up.
#: The provider prefers ``.wav`` (G.711 A-law) and transcodes other formats it receives.
AUDIO_SUFFIXES = frozenset({
    ".wav", ".wave", ".bwf", ".rf64", ".w64", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a",
    ".mp4", ".aac", ".3gp", ".3gpp", ".amr", ".aif", ".aiff", ".aifc", ".caf", ".au", ".snd",
    ".wma", ".webm", ".mka", ".spx",
})


# ---------------------------------------------------------------------------------------------
# Audio files the provider plays (seed, "Custom audio files")
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AudioFormat:
    """A WAV format the provider plays: codec, rate, channels, bits per sample.

    Examples
    --------
    >>> AUDIO_FORMAT.samplerate, AUDIO_FORMAT.channels, AUDIO_FORMAT.bits, AUDIO_FORMAT.kbps
    (8000, 1, 8, 64)
    >>> AUDIO_FORMATS["pcm16"].byte_rate
    16000
    """

    #: Target name used by the converters (``"alaw"``, ``"pcm16"``).
    target: str
    #: Codec name as :func:`cmvoice_nb.audio.parse_wav` reports it (``"alaw"``, ``"pcm"``).
    codec: str
    samplerate: int
    channels: int
    bits: int
    #: What the provider calls it, for messages.
    label: str
    #: The file name suffix the provider expects.
    suffix: str = ".wav"

    @property
    def byte_rate(self) -> int:
        """Bytes per second of audio data."""
        return self.samplerate * self.channels * self.bits // 8

    @property
    def kbps(self) -> int:
        """Bit rate in kbit/s (64 for G.711)."""
        return self.byte_rate * 8 // 1000


#: The provider's preferred format: ``*.wav``, G.711 A-law, 8 kHz, mono, 8-bit, 64 kbps.
AUDIO_FORMAT = AudioFormat("alaw", "alaw", 8000, 1, 8, "8-bit G.711 A-law")
#: The alternative the provider's newer docs accept: 16-bit linear PCM, 8 kHz, mono.
AUDIO_FORMAT_PCM16 = AudioFormat("pcm16", "pcm", 8000, 1, 16, "16-bit linear PCM")
#: Converter target name -> format, the preferred one first.
AUDIO_FORMATS: Mapping[str, AudioFormat] = {f.target: f for f in (AUDIO_FORMAT, AUDIO_FORMAT_PCM16)}
#: The telephony sample rate every prompt and spelling file is made at.
AUDIO_SAMPLERATE = AUDIO_FORMAT.samplerate


# ---------------------------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------------------------

#: ``strftime`` format of UTC timestamps in CSV exports (results, calls): ISO-8601 like
#: :func:`iso_utc`, with the microseconds kept, since an export is data to compute on.
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso_utc(moment: _dt.datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, the provider's callback format (now when None).

    A naive *moment* is taken as UTC; an aware one is converted.

    Examples
    --------
    >>> import datetime as dt
    >>> iso_utc(dt.datetime(2018, 2, 9, 11, 0, 31, 752499, tzinfo=dt.timezone.utc))
    '2018-02-09T11:00:31.752Z'
    >>> iso_utc(dt.datetime(2018, 2, 9, 12, 0, 31, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    '2018-02-09T11:00:31.000Z'
    >>> len(iso_utc()), iso_utc().endswith("Z")
    (24, True)
    """
    import datetime as dt  # here, not at module level: spec stays cheap to import

    if moment is None:
        moment = dt.datetime.now(dt.timezone.utc)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One key of an instruction body.

    Attributes
    ----------
    key
        The wire (kebab-case) key, e.g. ``"max-digits"``.
    kind
        ``"str"``, ``"int"``, ``"bool"``, ``"enum"``, ``"voice"`` or ``"list"`` (of strings).
    required
        The provider refuses an instruction without it.
    max_length, min_value, max_value
        Inclusive limits (length for strings and each list item, value for integers).
    enum
        For ``kind == "enum"``: the key of :data:`ENUMS` it draws from.
    default
        What the provider uses when the key is absent (documentation, not sent).
    charset
        Characters a string may hold, when restricted.
    phone
        The value is a phone number (normalised in campaigns, format-checked in validation).
    template
        Free text that campaigns fill per row (``"Hello {first_name}"``).
    forbidden
        A reason when the key must not be sent for this app with any value but its default.
    """

    key: str
    kind: str = "str"
    required: bool = False
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    enum: str | None = None
    default: Any = None
    charset: str | None = None
    phone: bool = False
    template: bool = False
    forbidden: str | None = None
    description: str = ""

    @cached_property
    def name(self) -> str:
        """The snake_case attribute name, e.g. ``max_digits`` (computed once: read for every field of every row)."""
        return self.key.replace("-", "_")

    @property
    def choices(self) -> tuple[str, ...] | None:
        """Allowed enum names, or None for a non-enum field."""
        return ENUMS[self.enum] if self.enum else None


def _prompt(key: str, *, required: bool = False, default_type: str = "File", what: str = "") -> tuple[Field, Field]:
    # Every prompt comes with a *-type twin; the seed's default type is File.
    text = Field(key, "str", required=required, max_length=500, template=True,
                 description=f"{what} TTS text, SSML, or the path of an uploaded audio file".strip())
    kind = Field(f"{key}-type", "enum", enum="prompt_type", default=default_type,
                 description=f"how {key} is played: TTS, File or TTS_SSML")
    return text, kind


_SHARED_HEAD = (
    Field("instruction-id", max_length=64, description="your id, echoed in every event: joins sends to callbacks"),
    Field("callee", max_length=24, phone=True, description="number to dial, international format (or use callees)"),
    Field("callees", "list", max_length=24, phone=True, description="several numbers in one instruction (SDK field)"),
    Field("caller", max_length=24, required=True, phone=True, description="number shown to the callee; must be yours"),
    Field("anonymous", "bool", default=False, description="hide the caller number"),
    Field("disable-callees-validation", "bool", default=False, description="skip invalid callees instead of rejecting"),
)
_SHARED_TAIL = (
    Field("voice", "voice", description="TTS voice: language, gender, number (volume, premium)"),
    Field("callback-url", max_length=256, description="http(s) URL the provider POSTs the result to"),
    Field("max-ringing-timeout", "int", min_value=10, max_value=60, default=60, description="seconds to ring"),
)
_VOICEMAIL = Field("voicemail-response", "enum", enum="voicemail_response", default="Ignore",
                   description="what to do when voicemail answers: Ignore, Restart or Stop")

#: Keys of the ``voice`` object.
VOICE_FIELDS: tuple[Field, ...] = (
    Field("language", max_length=5, default="en-GB", description="voice language, 5 characters like en-GB"),
    Field("gender", "enum", enum="gender", default="Female", description="Male or Female"),
    Field("number", "int", min_value=1, max_value=999, default=1,
          description="which voice of that language and gender"),
    Field("volume", "int", min_value=-4, max_value=4, default=0, description="volume adjustment (SDK field)"),
    Field("premium", "bool", default=False, description="premium voice (SDK field)"),
)


@dataclass(frozen=True)
class AppSpec:
    """One Voice API App: its endpoint, callback type and fields."""

    name: str
    endpoint: str
    callback_type: str
    title: str
    fields: tuple[Field, ...]
    _by_key: dict[str, Field] = _dc_field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {f.key: f for f in self.fields}
        index.update({f.name: f for f in self.fields})
        object.__setattr__(self, "_by_key", index)

    def field(self, key_or_name: str) -> Field:
        """Return the field for a kebab key or snake_case name; KeyError names the valid keys."""
        try:
            return self._by_key[key_or_name]
        except KeyError:
            raise KeyError(f"{self.name} has no field {key_or_name!r}; fields: {', '.join(self.keys)}") from None

    def has(self, key_or_name: str) -> bool:
        """True when the app has this field (kebab key or snake_case name)."""
        return key_or_name in self._by_key

    @property
    def keys(self) -> tuple[str, ...]:
        """Wire keys in documentation order."""
        return tuple(f.key for f in self.fields)


APPS: Mapping[str, AppSpec] = {
    "notification": AppSpec(
        "notification", "Notification", "notification-finished", "Notification",
        _SHARED_HEAD
        + _prompt("prompt", required=True, what="message:")
        + (
            _VOICEMAIL,
            Field("max-replays", "int", min_value=0, max_value=3, default=0,
                  description="how often the prompt may be replayed"),
            Field("auto-replay", "bool", default=False, description="replay without waiting for a key press"),
        )
        + _prompt("replay-prompt", default_type="TTS", what="replay question:")
        + _SHARED_TAIL,
    ),
    "otp": AppSpec(
        "otp", "OTP", "otp-finished", "One-Time-Password",
        _SHARED_HEAD
        + _prompt("intro-prompt", what="welcome:")
        + _prompt("code-prompt", what="before the code:")
        + (
            Field("code", required=True, max_length=64, description="the password, read one character at a time"),
            Field("code-type", "enum", enum="code_type", default="Default",
                  description="Default, TTS, or Custom (your /spelling/<locale>/<char>.wav files)"),
        )
        + _prompt("replay-prompt", what="'press 1 to repeat':")
        + _prompt("outro-prompt", what="goodbye:")
        + (
            Field("max-replays", "int", min_value=0, max_value=9, default=3,
                  description="times the code may be repeated (1 digit)"),
            Field("auto-replay", "bool", default=False, description="repeat the code without waiting for 1"),
            _VOICEMAIL,
        )
        + _SHARED_TAIL,
    ),
    "dtmf": AppSpec(
        "dtmf", "DTMF", "dtmf-finished", "Request-DTMF",
        _SHARED_HEAD
        + _prompt("prompt", what="question:")
        + _prompt("valid-prompt", what="after valid input:")
        + _prompt("invalid-prompt", what="after invalid input:")
        + (
            Field("min-digits", "int", required=True, min_value=0, max_value=99, description="fewest digits accepted"),
            Field("max-digits", "int", required=True, min_value=1, max_value=99, description="most digits accepted"),
            Field("max-attempts", "int", required=True, min_value=1, max_value=99, description="tries for valid input"),
            Field("timeout", "int", min_value=1000, max_value=10000, default=5000,
                  description="ms after the prompt and between digits"),
            Field("terminators", max_length=8, charset=DTMF_KEYS, default="#", description="keys that end the input"),
            Field("regex", max_length=64, default="[0-9]*", description="input is valid when it fully matches"),
            # The official SDK always writes voicemail-response, "Ignore" (0) by default: that value
            # asks for no detection, so it is accepted; Restart/Stop would need detection DTMF lacks.
            Field("voicemail-response", "enum", enum="voicemail_response", default="Ignore",
                  forbidden="voicemail detection is not supported for DTMF (provider docs): remove voicemail-response"),
        )
        + _SHARED_TAIL,
    ),
}

#: Callback ``type`` -> app name.
CALLBACK_TYPES: Mapping[str, str] = {a.callback_type: a.name for a in APPS.values()}
#: The type of the synchronous success objects.
CALL_QUEUED_TYPE = "call-queued"


def app_spec(app: str) -> AppSpec:
    """Return the :class:`AppSpec` for an app name, endpoint or callback type (case-insensitive).

    Examples
    --------
    >>> app_spec("OTP").name
    'otp'
    """
    key = str(app).strip().lower()
    if key in APPS:
        return APPS[key]
    for spec in APPS.values():
        if key in (spec.endpoint.lower(), spec.callback_type, spec.title.lower()):
            return spec
    raise KeyError(f"unknown app {app!r}: expected one of {', '.join(APPS)}")


# ---------------------------------------------------------------------------------------------
# Result codes
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResultCode:
    """A call result: key on :attr:`code`, never on the provider's text (it varies)."""

    code: int
    name: str
    description: str
    answered: bool
    explanation: str


RESULT_CODES: Mapping[int, ResultCode] = {
    9: ResultCode(9, "Cancelled", "Cancelled", False, "not answered; cancelled after the ringing timeout (60 s)"),
    10: ResultCode(10, "Finished", "Finished successfully", True, "placed and answered before ending"),
    11: ResultCode(11, "Failed", "Failed", False, "the call could not be made"),
    12: ResultCode(12, "Rejected", "Call rejected", False,
                   "refused by the callee or their carrier: check the number"),
}
#: Outcome names in a stable display order, with ``unknown`` for codes outside the table.
OUTCOMES = tuple(rc.name for rc in RESULT_CODES.values()) + ("unknown",)


def fields_frame(app: str) -> pd.DataFrame:
    """One app's fields as a DataFrame, for reading the contract in a notebook."""
    import pandas as pd

    spec = app_spec(app)
    return cast("pd.DataFrame", pd.DataFrame([{  # the defaults are Any: the overload cannot tell
        "key": f.key, "name": f.name, "kind": f.kind, "required": f.required,
        "max_length": f.max_length, "min": f.min_value, "max": f.max_value,
        "choices": ", ".join(f.choices) if f.choices else None, "default": f.default,
        "allowed": f.forbidden is None, "description": f.forbidden or f.description,
    } for f in spec.fields]))


# ---------------------------------------------------------------------------------------------
# Campaign status vocabulary (owned here; campaign/, callbacks/analysis and the CLI import it)
# ---------------------------------------------------------------------------------------------
#: Exit classes of the campaign commands, one per row status: nothing to do (0), the operator must act
#: (1), "run the same command again later" (75, ``EX_TEMPFAIL`` of ``sysexits.h``); 2 is a usage error
#: found before any call. :func:`cmvoice_nb.campaign.vocabulary.exit_status` picks a run's.
EXIT_FINAL, EXIT_ACT, EXIT_USAGE, EXIT_RETRY = 0, 1, 2, 75


@dataclass(frozen=True)
class Status:
    """One status a campaign row can have, in the journal and/or in the results frame.

    Attributes
    ----------
    name
        The status as written in the journal and the results (``"queued"``).
    exit
        Its exit class: :data:`EXIT_FINAL` (nothing more to do), :data:`EXIT_RETRY` (the same
        command later sends it) or :data:`EXIT_ACT` (the operator must fix the data or decide).
    journal
        True when the journal stores it (its SQL ``CHECK`` is generated from these).
    result
        True when a results row can show it.
    may_have_called
        True when a call to the callee may exist (the people guard and callback matching).
    sent
        True when a request reached (or may have reached) the provider.

    What resolves a status that needs the operator, and every set derived from this table, is in
    :mod:`cmvoice_nb.campaign.vocabulary`.

    Examples
    --------
    >>> STATUS["deferred"].exit, STATUS["invalid"].attention, STATUS["suppressed"].final
    (75, True, True)
    """

    name: str
    exit: int = EXIT_ACT
    journal: bool = False
    result: bool = True
    may_have_called: bool = False
    sent: bool = False

    @property
    def final(self) -> bool:
        """True when the row has nothing left to do and nothing needs the operator."""
        return self.exit == EXIT_FINAL

    attention = property(lambda self: not self.final, doc="True when the summary lists the row (not final).")


#: Every campaign status with its exit class, results order first (the order summaries count them in).
STATUS: Mapping[str, Status] = {s.name: s for s in (
    Status("queued", EXIT_FINAL, journal=True, may_have_called=True, sent=True),
    Status("rejected", EXIT_ACT, journal=True, sent=True),  # the provider refused the payload
    Status("failed", EXIT_RETRY, journal=True, sent=True),  # nothing placed: 429/503/refused after the retries
    Status("unknown", EXIT_ACT, journal=True, may_have_called=True, sent=True),
    Status("invalid", EXIT_ACT),
    Status("refused-country", EXIT_ACT),  # a callee outside allowed_countries
    Status("skipped", EXIT_RETRY),  # not sent: the run ended or was stopped first
    Status("dropped", EXIT_FINAL),  # a repeated callee left out on purpose (drop_duplicates)
    Status("dry-run", EXIT_FINAL),
    Status("changed", EXIT_ACT),
    Status("already-called", EXIT_ACT),
    Status("budget", EXIT_ACT, journal=True),  # past max_cost: waits in the journal for a higher budget
    Status("deferred", EXIT_RETRY, journal=True),  # calling hours: a later run sends them; no-zone: name it
    Status("no-zone", EXIT_ACT),
    Status("suppressed", EXIT_FINAL, journal=True),
    Status("holdout", EXIT_FINAL, journal=True),  # an A/B test's control group: never called
    Status("expired", EXIT_FINAL, journal=True),  # not placed within its validity window: never sent later
    Status("over-contacted", EXIT_FINAL, journal=True),  # refused by the contact ledger's cap (max_contacts)
    # Journal-only states: not sent yet, and a request on its way (a crash leaves it there).
    Status("pending", EXIT_RETRY, journal=True, result=False),
    Status("sending", EXIT_ACT, journal=True, result=False, may_have_called=True),
)}
#: Campaign pacing defaults: calls per second (a hard ceiling per 1-s window), calls that may
#: start back to back, requests in flight. Conservative because the provider documents no limit.
DEFAULT_RATE = 5.0
DEFAULT_BURST = 5
DEFAULT_CONCURRENCY = 4
#: HTTP requests per row for what provably placed nothing (429, 503, connection refused), the first included.
DEFAULT_HTTP_ATTEMPTS = 5
#: Voice language assumed when an instruction names none (the contract's default, from VOICE_FIELDS).
DEFAULT_LANGUAGE: str = next(f.default for f in VOICE_FIELDS if f.key == "language")
#: Longest ``instruction-id`` the contract accepts (from the shared field table).
INSTRUCTION_ID_MAX_LENGTH: int = next(n for f in _SHARED_HEAD if f.key == "instruction-id" and (n := f.max_length))
