"""Instructions: ``Notification``, ``OTP``, ``DTMF`` and their ``Voice``.

Each class is a thin object over the field table of :mod:`cmvoice_nb.spec`:
its snake_case attributes are the spec's fields, :meth:`Instruction.to_json`
writes the exact wire dict (kebab-case keys, enum names as strings, unset
optional fields omitted), :meth:`Instruction.from_json` reads wire dicts
leniently (the official SDK's integer enums and ``null``\\ s, snake or kebab keys,
extra keys kept in :attr:`Instruction.extra`), and :meth:`Instruction.validate`
returns every problem at once.

Examples
--------
>>> n = Notification(callee="+31612345678", caller="+31201234567",
...                  prompt="Your parcel arrives today.", prompt_type="TTS")
>>> n.to_json()["prompt-type"]
'TTS'
>>> n.validate()
[]
>>> [p.field for p in DTMF(callee="+31612345678", caller="+31201234567",
...                        min_digits=5, max_digits=2, max_attempts=3).validate()]
['min-digits']
"""
from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from . import spec
from .errors import ValidationError, is_valid_unicode

_PHONE_RE = re.compile(spec.PHONE_PATTERN)
_LOCALE_RE = re.compile(spec.LOCALE_PATTERN)
#: Characters of sentences, not of file paths: a File prompt holding them is text sent as File.
_SENTENCE_PUNCTUATION = frozenset(',;!?"\u201c\u201d\u2026')


class Problem(NamedTuple):
    """One thing wrong with an instruction: the wire ``field``, the ``value`` seen, and why."""

    field: str
    value: Any
    message: str


# ---------------------------------------------------------------------------------------------
# Lenient coercion of wire values (pure): return the coerced value, or the raw value unchanged
# when it cannot be coerced, so that validate() reports it instead of the parser guessing.
# ---------------------------------------------------------------------------------------------

def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


#: Words a yes/no field reads as true / false (case-insensitive); the campaign planner reads cells with them too.
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})


def coerce_value(field: spec.Field, value: Any) -> Any:
    if _is_missing(value):
        return None
    if field.kind == "enum" and field.enum is not None:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and float(value).is_integer():
            return spec.SDK_ENUM_INTS[field.enum].get(int(value), value)
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return spec.SDK_ENUM_INTS[field.enum].get(int(text), value)
            for choice in field.choices or ():
                if choice.lower() == text.lower():
                    return choice
        return value
    if field.kind == "int":
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        return value
    if field.kind == "bool":
        if isinstance(value, str):
            low = value.strip().lower()
            if low in TRUE_WORDS:
                return True
            if low in FALSE_WORDS or low == "":
                return False
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        return value
    if field.kind == "list":
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)):
            return [_coerce_phone_text(v) for v in value]
        return value
    if field.kind == "str":
        if field.phone:
            return _coerce_phone_text(value)
        if field.key == "callback-url" and isinstance(value, str) and not value.strip():
            return None  # the provider reads "" as "not given"
        return value
    return value


def _coerce_phone_text(value: Any) -> Any:
    # Spreadsheet floats (31612345678.0) become their digits; strings are kept for validation.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# ---------------------------------------------------------------------------------------------
# Base class shared by Voice and the three instructions
# ---------------------------------------------------------------------------------------------

class _SpecObject:
    """An object whose attributes are the fields of a spec table."""

    FIELDS: ClassVar[tuple[spec.Field, ...]] = ()

    def __init__(self, **values: Any) -> None:
        names = {f.name for f in self.FIELDS}
        unknown = [k for k in values if k not in names and k != "extra"]
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unknown field(s) {', '.join(map(repr, unknown))}; "
                f"valid fields: {', '.join(sorted(names))}"
            )
        for f in self.FIELDS:
            setattr(self, f.name, values.get(f.name))
        self.extra: dict[str, Any] = dict(values.get("extra") or {})

    # -- serialisation ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The exact wire dict: kebab-case keys, unset optional fields omitted."""
        out: dict[str, Any] = {}
        for f in self.FIELDS:
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, _SpecObject):
                value = value.to_json()
            elif isinstance(value, list):
                value = list(value)
            out[f.key] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]):
        """Read a wire dict leniently (SDK integer enums, nulls, snake or kebab keys, extra keys)."""
        if not isinstance(data, Mapping):
            raise ValidationError([Problem("(body)", type(data).__name__, "expected a JSON object")],
                                  context=cls.__name__)
        index: dict[str, spec.Field] = {}
        for f in cls.FIELDS:
            index[f.key.lower()] = f
            index[f.name.lower()] = f
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            found = index.get(str(key).lower())
            if found is None:
                extra[key] = value
                continue
            values[found.name] = cls._read_value(found, value)
        return cls(**values, extra=extra)

    @classmethod
    def _read_value(cls, field: spec.Field, value: Any) -> Any:
        return coerce_value(field, value)

    # -- conveniences -------------------------------------------------------------------------
    def replace(self, **changes: Any):
        """Return a copy with some fields changed (the original is not modified)."""
        clone = copy.deepcopy(self)
        names = {f.name for f in self.FIELDS}
        for key, value in changes.items():
            if key not in names:
                raise TypeError(f"{type(self).__name__} has no field {key!r}")
            setattr(clone, key, value)
        return clone

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_json() == other.to_json() and self.extra == other.extra

    def __repr__(self) -> str:
        parts = []
        for f in self.FIELDS:
            value = getattr(self, f.name)
            if value is not None:
                if isinstance(value, str) and len(value) > 60:
                    value = value[:57] + "..."
                parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _check_fields(self, prefix: str = "") -> list[Problem]:
        problems: list[Problem] = []
        for f in self.FIELDS:
            value = getattr(self, f.name)
            problems.extend(check_field(f, value, prefix=prefix))
        return problems


def check_field(f: spec.Field, value: Any, *, prefix: str = "") -> list[Problem]:
    """The problems of *value* in field *f* under the rules every field obeys.

    Requiredness, type, length, range, enum and charset; the rules between fields are
    :meth:`Instruction.validate`'s.

    Examples
    --------
    >>> check_field(spec.APPS["notification"].field("instruction-id"), "x" * 65)[0].message
    'is 65 characters long; at most 64 allowed'
    """
    key = prefix + f.key
    if value is None:
        if f.required:
            return [Problem(key, None, "is required")]
        return []
    if f.forbidden and value != f.default:
        return [Problem(key, value, f.forbidden)]
    if f.kind == "str":
        if not isinstance(value, str):
            return [Problem(key, value, f"expected text, got {type(value).__name__}")]
        if not is_valid_unicode(value):
            # it could never be sent (the request body is UTF-8): say so here, not as a crash later
            return [Problem(key, value, "holds text that is not valid Unicode (a lone surrogate, as a damaged "
                                        "file or a broken escape leaves); retype the cell")]
        if f.required and not value.strip():
            return [Problem(key, value, "is required and must not be empty")]
        out = []
        if f.max_length is not None and len(value) > f.max_length:
            out.append(Problem(key, value, f"is {len(value)} characters long; at most {f.max_length} allowed"))
        if f.charset is not None:
            bad = sorted(set(value) - set(f.charset))
            if bad:
                out.append(Problem(key, value,
                                   f"contains {''.join(bad)!r}; only characters of {f.charset!r} are allowed"))
        return out
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return [Problem(key, value, "expected a whole number")]
        lo, hi = f.min_value, f.max_value
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return [Problem(key, value, f"must be between {lo} and {hi}")]
        return []
    if f.kind == "bool":
        if not isinstance(value, bool):
            return [Problem(key, value, "expected true or false")]
        return []
    if f.kind == "enum":
        choices = f.choices or ()
        if value not in choices:
            return [Problem(key, value, f"must be one of {', '.join(choices)}")]
        return []
    if f.kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return [Problem(key, value, "expected a list of phone numbers as text")]
        if not value:
            return [Problem(key, value, "must hold at least one number")]
        if not all(is_valid_unicode(v) for v in value):
            return [Problem(key, value, "holds text that is not valid Unicode (a lone surrogate); retype the cell")]
        return [Problem(key, v, f"each number may have at most {f.max_length} characters")
                for v in value if f.max_length is not None and len(v) > f.max_length]
    if f.kind == "voice":
        if not isinstance(value, Voice):
            return [Problem(key, value, "expected a voice object (language, gender, number)")]
        return []
    return []


class Voice(_SpecObject):
    """A TTS voice: ``language`` (``en-GB``), ``gender`` (``Male``/``Female``), ``number``.

    Unset keys take the provider's defaults (``en-GB``, ``Female``, 1); :meth:`effective`
    returns them filled in.

    Examples
    --------
    >>> Voice(language="nl-NL", gender="Male").to_json()
    {'language': 'nl-NL', 'gender': 'Male'}
    >>> Voice(language="ko-KR", gender="Male").validate()[0].message
    'the provider has no Male voice for ko-KR (it has: Female)'
    """

    FIELDS = spec.VOICE_FIELDS

    def __init__(self, *, language: str | None = None, gender: str | None = None, number: int | None = None,
                 volume: int | None = None, premium: bool | None = None, extra: Mapping | None = None) -> None:
        super().__init__(language=language, gender=gender, number=number, volume=volume, premium=premium,
                         extra=extra or {})

    def effective(self) -> dict[str, Any]:
        """The voice with the provider's defaults filled in for unset keys."""
        return {f.key: (getattr(self, f.name) if getattr(self, f.name) is not None else f.default)
                for f in self.FIELDS}

    def validate(self, *, prefix: str = "voice.", check_catalogue: bool = True) -> list[Problem]:
        """Every problem with this voice, including its combination against the catalogue."""
        problems = self._check_fields(prefix)
        eff = self.effective()
        lang, gender, number = eff["language"], eff["gender"], eff["number"]
        if any(p.field.startswith(prefix) for p in problems):
            return problems  # one message per bad key is enough; the catalogue check needs clean keys
        if isinstance(lang, str) and not _LOCALE_RE.fullmatch(lang):
            problems.append(Problem(prefix + "language", lang, "expected 5 characters like en-GB (language-COUNTRY)"))
        elif check_catalogue:
            count = spec.voice_count(lang, gender)
            if count == 0:
                have = sorted(v.gender for v in spec.VOICES if v.language == lang)
                if have:
                    msg = f"the provider has no {gender} voice for {lang} (it has: {', '.join(have)})"
                else:
                    msg = (f"the provider has no TTS voice for {lang}; languages: "
                           f"{', '.join(spec.voice_languages())} (check_voice_catalogue=False to override)")
                problems.append(Problem(prefix + "gender" if have else prefix + "language",
                                        gender if have else lang, msg))
            elif isinstance(number, int) and number > count:
                problems.append(Problem(prefix + "number", number,
                                        f"{lang} {gender} has {count} voice{'s' if count > 1 else ''}: use 1..{count}"))
        return problems


class Instruction(_SpecObject):
    """Base of :class:`Notification`, :class:`OTP` and :class:`DTMF`."""

    APP: ClassVar[str] = ""
    # Fields every app has, as given (validate() checks them); __init__ sets every field of FIELDS.
    instruction_id: Any
    callee: Any
    callees: Any
    caller: Any
    callback_url: Any
    voice: Any

    def __init__(self, **values: Any) -> None:
        voice = values.get("voice")
        if isinstance(voice, Mapping):
            values["voice"] = Voice.from_json(voice)
        super().__init__(**values)

    @classmethod
    def _read_value(cls, field: spec.Field, value: Any) -> Any:
        if field.kind == "voice":
            if _is_missing(value):
                return None
            if isinstance(value, Mapping):
                return Voice.from_json(value)  # partial voice: defaults fill the rest
            return value
        return coerce_value(field, value)

    @property
    def app_spec(self) -> spec.AppSpec:
        """The app's entry in :data:`cmvoice_nb.spec.APPS`."""
        return spec.APPS[self.APP]

    @property
    def endpoint(self) -> str:
        """``Notification``, ``OTP`` or ``DTMF``: the path the instruction is POSTed to."""
        return self.app_spec.endpoint

    def callee_list(self) -> list[str]:
        """The numbers this instruction dials, whether given as ``callee`` or ``callees``."""
        if self.callees:
            return [c for c in self.callees if isinstance(c, str)]
        return [self.callee] if isinstance(self.callee, str) else []

    def prompt_files(self) -> list[tuple[str, str]]:
        """``(field_key, path)`` for every prompt played from an uploaded file."""
        out = []
        for f in self.FIELDS:
            if f.template and isinstance(getattr(self, f.name), str):
                kind = getattr(self, f"{f.name}_type")
                if (kind if kind is not None else self.app_spec.field(f"{f.key}-type").default) == "File":
                    out.append((f.key, getattr(self, f.name)))
        return out

    def _file_prompt_rules(self) -> list[Problem]:
        # File is the contract's default prompt type, so text given without a prompt type is sent
        # as the name of a file the provider then cannot find: the callee hears nothing. Text that
        # cannot be a path (spaces, sentence punctuation, no audio extension) is flagged with the fix.
        problems = []
        for key, value in self.prompt_files():
            path = value.strip()
            if not path:
                continue  # an empty prompt is check_field's business (required) or nothing to play
            reasons = []
            if any(c.isspace() for c in path):
                reasons.append("contains spaces")
            punctuation = sorted(set(path) & _SENTENCE_PUNCTUATION)
            if punctuation:
                reasons.append(f"contains sentence punctuation ({''.join(punctuation)})")
            suffix = PurePosixPath(path.replace("\\", "/")).suffix.lower()
            if suffix not in spec.AUDIO_SUFFIXES:
                reasons.append("has no audio file extension such as .wav or .mp3")
            if reasons:
                explicit = getattr(self, f"{key.replace('-', '_')}_type") is not None
                # The fix comes first: messages are cut to a readable length further on.
                problems.append(Problem(key, value, (
                    f"set {key}-type=TTS to have this text spoken: {key}-type is File"
                    f"{'' if explicit else ' (the default)'}, which plays an uploaded audio file, and this is "
                    f"not the path of one (it {' and '.join(reasons)}); a file path looks like "
                    "prompts/welcome.wav")))
        return problems

    def effective(self, key: str) -> Any:
        """The value the provider will use for *key*: the set value, else the contract's default."""
        f = self.app_spec.field(key)
        value = getattr(self, f.name)
        return f.default if value is None else value

    def validate(self, *, check_voice_catalogue: bool = True) -> list[Problem]:
        """Return every problem at once (an empty list when the instruction is valid).

        Parameters
        ----------
        check_voice_catalogue
            Check the voice against the provider's table; turn off for a voice the provider
            added after this table was written.
        """
        problems = self._check_fields()
        # callee xor callees
        if self.callee is None and not self.callees:
            problems.append(Problem("callee", None, "is required (or give callees)"))
        elif self.callee is not None and self.callees:
            problems.append(Problem("callees", self.callees, "give either callee or callees, not both"))
        numbers = [("caller", self.caller), ("callee", self.callee)]
        if isinstance(self.callees, list):
            numbers += [("callees", c) for c in self.callees]
        for key, value in numbers:
            # Over-long numbers are already reported by the field's own max_length check.
            limit = self.app_spec.field(key).max_length
            if isinstance(value, str) and (limit is None or len(value) <= limit) and not _PHONE_RE.fullmatch(value):
                problems.append(Problem(key, value, "expected an international number like +31612345678 or "
                                                    "0031612345678 (normalise with cmvoice_nb.normalize_number)"))
        url = self.callback_url
        if isinstance(url, str) and url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(Problem("callback-url", url, "expected an http:// or https:// URL with a host"))
        if isinstance(self.voice, Voice):
            problems.extend(self.voice.validate(check_catalogue=check_voice_catalogue))
        problems.extend(self._file_prompt_rules())
        problems.extend(self._app_rules())
        return problems

    def _app_rules(self) -> list[Problem]:
        return []

    def raise_for_problems(self, *, check_voice_catalogue: bool = True) -> None:
        """Raise :class:`~cmvoice_nb.errors.ValidationError` listing every problem, if any."""
        problems = self.validate(check_voice_catalogue=check_voice_catalogue)
        if problems:
            raise ValidationError(problems, context=f"{type(self).__name__} instruction")


class Notification(Instruction):
    """A Notification call: dial, wait for an answer, play ``prompt``, hang up.

    Fields are the spec's (``spec.APPS["notification"]``), as snake_case keywords:
    ``callee``/``callees``, ``caller``, ``prompt``, ``prompt_type``, ``voicemail_response``,
    ``max_replays``, ``auto_replay``, ``replay_prompt``, ``voice``, ``callback_url``, …
    """

    APP = "notification"
    FIELDS = spec.APPS["notification"].fields


class OTP(Instruction):
    """A One-Time-Password call: intro, code prompt, the code character by character, replay, outro.

    With ``code_type="Custom"`` the code is read from ``/spelling/<voice language>/<char>.wav``,
    so it may only hold ``0-9`` and ``a-z``.
    """

    APP = "otp"
    FIELDS = spec.APPS["otp"].fields
    code: Any

    def _app_rules(self) -> list[Problem]:
        problems = []
        if self.effective("code-type") == "Custom" and isinstance(self.code, str):
            bad = sorted({c for c in self.code.lower() if c not in spec.SPELLING_CHARS})
            if bad:
                problems.append(Problem("code", self.code, f"a Custom code is spelled from files 0-9 and a-z; "
                                                           f"{''.join(bad)!r} has no spelling file"))
        return problems


class DTMF(Instruction):
    """A Request-DTMF call: play ``prompt``, collect digits, judge them, play valid/invalid prompt.

    Input is valid when it fully matches ``regex`` and has ``min_digits``..``max_digits`` digits;
    after invalid input the prompt repeats up to ``max_attempts`` times.
    """

    APP = "dtmf"
    FIELDS = spec.APPS["dtmf"].fields
    min_digits: Any
    max_digits: Any
    regex: Any

    def _app_rules(self) -> list[Problem]:
        problems = []
        lo, hi = self.min_digits, self.max_digits
        if isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool) and lo > hi:
            problems.append(Problem("min-digits", lo, f"must not exceed max-digits ({hi})"))
        if isinstance(self.regex, str):
            try:
                re.compile(self.regex)
            except re.error as exc:
                problems.append(Problem("regex", self.regex, f"does not compile: {exc}"))
        return problems

    def judge(self, digits: str) -> bool:
        """True when *digits* (terminator already stripped) is valid input for this instruction."""
        lo = self.min_digits if isinstance(self.min_digits, int) else 0
        hi = self.max_digits if isinstance(self.max_digits, int) else 99
        if not lo <= len(digits) <= hi:
            return False
        return re.fullmatch(self.effective("regex"), digits) is not None


INSTRUCTION_CLASSES: Mapping[str, type[Instruction]] = {"notification": Notification, "otp": OTP, "dtmf": DTMF}


def instruction_class(app: str) -> type[Instruction]:
    """The instruction class for an app name, endpoint or callback type."""
    return INSTRUCTION_CLASSES[spec.app_spec(app).name]


def instruction_from_json(app: str, data: Mapping[str, Any]) -> Instruction:
    """Read a wire dict for *app* leniently (see :meth:`Instruction.from_json`).

    Examples
    --------
    >>> otp = instruction_from_json("OTP", {"callee": "+31612345678", "caller": "+31201234567",
    ...                                     "code": "123abc", "code-type": 2, "caller-id": None})
    >>> otp.code_type, otp.extra
    ('Custom', {'caller-id': None})
    """
    return instruction_class(app).from_json(data)


__all__ = ["Problem", "Voice", "Instruction", "Notification", "OTP", "DTMF", "INSTRUCTION_CLASSES",
           "instruction_class", "instruction_from_json", "check_field"]
