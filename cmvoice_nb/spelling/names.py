"""File names → spelling characters, locales, and the provider's folder layout (pure).

People name their per-character recordings in many ways: ``A.wav``, ``a.mp3``,
``7.m4a``, ``zero.wav``, ``nul.wav`` (Dutch), ``letter_b.flac``, ``digit-3.ogg``.
:func:`char_for_name` maps one such name to the character it spells, and
:func:`assign_files` maps a whole folder listing, reporting unmapped and
conflicting names instead of guessing.

The provider plays ``/spelling/<locale>/<char>.wav`` with lower-case names
(seed, "Custom audio files for the OTP app"); :data:`DEFAULT_CHARS` is that
character set.

Examples
--------
>>> char_for_name("Zero.WAV")
'0'
>>> char_for_name("letter_B.flac")
'b'
>>> char_for_name("acht.m4a")
'8'
>>> char_for_name("hello.wav") is None
True
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath

from .. import spec

#: Characters the provider can spell from custom files: digits, then lower-case letters
#: (:data:`cmvoice_nb.spec.SPELLING_CHARS`, under the name this module has always used).
DEFAULT_CHARS = spec.SPELLING_CHARS

#: Extensions we can decode, without the dot: :data:`cmvoice_nb.spec.AUDIO_SUFFIXES`
#: in the form :func:`split_name` returns.
AUDIO_EXTENSIONS = frozenset(suffix[1:] for suffix in spec.AUDIO_SUFFIXES)

# Digit words. English and Dutch are what the operators speak; German, French and
# Spanish cost nothing and never collide (the shared words "vier"/"acht" mean
# the same digit in Dutch and German, "six" the same in English and French).
DIGIT_WORDS: dict[str, str] = {
    # English
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    # Dutch
    "nul": "0", "een": "1", "eén": "1", "één": "1", "twee": "2", "drie": "3", "vier": "4",
    "vijf": "5", "zes": "6", "zeven": "7", "acht": "8", "negen": "9",
    # German
    "null": "0", "eins": "1", "zwei": "2", "drei": "3", "fünf": "5", "fuenf": "5",
    "sechs": "6", "sieben": "7", "neun": "9",
    # French
    "zéro": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5",
    "sept": "7", "huit": "8", "neuf": "9",
    # Spanish
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}

# Words people put before (or after) the character: "letter_b", "digit-7",
# "char a", "cijfer_3" (Dutch), "b_letter".
PREFIX_WORDS = (
    "letter", "letters", "digit", "digits", "number", "num", "nr", "no", "char", "character",
    "key", "spell", "spelling", "cijfer", "getal", "teken", "ziffer", "buchstabe",
    "chiffre", "lettre", "digito", "dígito", "letra",
)

_SEPARATORS = re.compile(r"[\s_\-.]+")
#: A provider locale, matched in full with ``fullmatch`` (``$`` would accept "en-GB\n").
LOCALE_RE = re.compile(spec.LOCALE_PATTERN)


def _fold(text: str) -> str:
    # NFC so "één" typed on macOS (NFD file names) matches the table.
    return unicodedata.normalize("NFC", text).casefold()


def split_name(name: str) -> tuple[str, str]:
    """Return ``(stem, extension)`` of a file name; the extension is lower case without the dot.

    Examples
    --------
    >>> split_name("Letter_B.FLAC")
    ('Letter_B', 'flac')
    >>> split_name("README")
    ('README', '')
    """
    base = PurePath(name).name
    if "." in base.lstrip("."):
        stem, _, ext = base.rpartition(".")
        return stem, ext.lower()
    return base, ""


def is_audio_name(name: str) -> bool:
    """True when *name* has an audio extension we can decode.

    >>> is_audio_name("7.M4A"), is_audio_name("notes.txt")
    (True, False)
    """
    return split_name(name)[1] in AUDIO_EXTENSIONS


def char_for_stem(stem: str, *, chars: str = DEFAULT_CHARS) -> str | None:
    """Return the character a file stem spells, or None when it spells none of *chars*.

    Case-insensitive; accepts the bare character (``"A"``), a digit word in
    English, Dutch, German, French or Spanish (``"zero"``, ``"nul"``), and either
    of those with a prefix or suffix word (``"letter_b"``, ``"digit-7"``,
    ``"b_letter"``).

    Examples
    --------
    >>> char_for_stem("A"), char_for_stem("seven"), char_for_stem("Cijfer 3")
    ('a', '7', '3')
    >>> char_for_stem("ab") is None
    True
    """
    wanted = _fold(chars)
    tokens = [t for t in _SEPARATORS.split(_fold(stem)) if t]
    if len(tokens) == 2:
        # "letter_b" or "b_letter": drop the one known prefix word.
        if tokens[0] in PREFIX_WORDS:
            tokens = tokens[1:]
        elif tokens[1] in PREFIX_WORDS:
            tokens = tokens[:1]
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if len(token) == 1:
        return token if token in wanted else None
    digit = DIGIT_WORDS.get(token)
    if digit is not None and digit in wanted:
        return digit
    return None


def char_for_name(
    name: str, *, chars: str = DEFAULT_CHARS, mapping: Mapping[str, str] | None = None
) -> str | None:
    """Return the character an audio file name spells, or None.

    An explicit *mapping* wins; its keys match the full file name or the stem,
    case-insensitively (``{"ay.wav": "a"}`` or ``{"ay": "a"}``).

    Examples
    --------
    >>> char_for_name("ay.wav", mapping={"ay": "a"})
    'a'
    >>> char_for_name("7.m4a")
    '7'
    """
    base = PurePath(name).name
    stem, _ = split_name(base)
    if mapping:
        folded = {_fold(str(k)): str(v) for k, v in mapping.items()}
        for key in (_fold(base), _fold(stem)):
            if key in folded:
                return _fold(folded[key])
    return char_for_stem(stem, chars=chars)


@dataclass(frozen=True)
class FileAssignment:
    """Outcome of mapping a folder listing onto characters.

    Attributes
    ----------
    files
        ``{char: name}`` for every character mapped by exactly one file.
    unmapped
        Audio file names that spell no character.
    conflicts
        ``{char: [names]}`` for characters claimed by more than one file.
    missing
        Characters of the requested set that no file spells.
    ignored
        Non-audio entries (``notes.txt``, hidden files), listed for the report.
    outside
        ``{name: char}`` for audio files that spell a character outside *chars*.
    """

    files: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    outside: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every character has exactly one file and every audio file is mapped."""
        return not (self.unmapped or self.conflicts or self.missing)

    def describe(self) -> list[str]:
        """One plain sentence per problem, each saying what to do about it."""
        lines = []
        if self.unmapped:
            lines.append(
                f"{len(self.unmapped)} file(s) spell no character: {', '.join(self.unmapped)} — "
                "rename them (e.g. 'a.wav', 'zero.wav', 'letter_b.wav') or pass mapping={'name': 'char'} "
                "(--map NAME=CHAR)"
            )
        for char, names in self.conflicts.items():
            lines.append(f"character {char!r} has {len(names)} files: {', '.join(names)} — keep one")
        if self.missing:
            lines.append(
                f"no file for {len(self.missing)} character(s): {' '.join(self.missing)} — "
                "record them, or pass chars= (--chars) with only the characters you have"
            )
        return lines


def assign_files(
    names: Iterable[str], *, chars: str = DEFAULT_CHARS, mapping: Mapping[str, str] | None = None
) -> FileAssignment:
    """Map a folder listing onto *chars* without guessing.

    Parameters
    ----------
    names
        File names (not paths needed; only the last component is used).
    chars
        The characters wanted, in order.
    mapping
        Explicit ``{file name or stem: char}`` overrides for names we cannot read.

    Examples
    --------
    >>> a = assign_files(["zero.wav", "0.mp3", "1.wav", "b.wav", "take2.wav", "notes.txt"], chars="012b")
    >>> a.conflicts, a.unmapped, a.missing, a.ignored
    ({'0': ['0.mp3', 'zero.wav']}, ['take2.wav'], ['2'], ['notes.txt'])
    """
    wanted = _fold(chars)
    claims: dict[str, list[str]] = {}
    unmapped: list[str] = []
    ignored: list[str] = []
    outside: dict[str, str] = {}
    for name in sorted(PurePath(n).name for n in names):
        if name.startswith(".") or not is_audio_name(name):
            ignored.append(name)
            continue
        char = char_for_name(name, chars=DEFAULT_CHARS + wanted, mapping=mapping)
        if char is None:
            unmapped.append(name)
        elif char not in wanted:
            outside[name] = char
        else:
            claims.setdefault(char, []).append(name)
    files = {c: claims[c][0] for c in wanted if len(claims.get(c, ())) == 1}
    conflicts = {c: claims[c] for c in wanted if len(claims.get(c, ())) > 1}
    missing = [c for c in wanted if c not in claims]
    return FileAssignment(files, unmapped, conflicts, missing, ignored, outside)


def normalize_chars(chars: str | Iterable[str]) -> str:
    """Lower-case, de-duplicate (keeping order) and validate a character set.

    Raises
    ------
    ValueError
        When a character is not one the provider spells (0-9, a-z).

    Examples
    --------
    >>> normalize_chars("0123ABCa")
    '0123abc'
    """
    from ..errors import SpellingSetError

    out: list[str] = []
    bad: list[str] = []
    for ch in chars:
        low = str(ch).lower()
        if len(low) != 1 or low not in DEFAULT_CHARS:
            bad.append(repr(ch))
        elif low not in out:
            out.append(low)
    if bad:
        raise SpellingSetError(
            f"chars: {', '.join(bad)} cannot be spelled; the provider's files are 0-9 and a-z"
        )
    if not out:
        raise SpellingSetError("chars: empty; expected characters from 0-9 and a-z")
    return "".join(out)


def locale_problem(locale: object) -> str | None:
    r"""Return why *locale* is not a provider locale (``xx-XX``), or None when it is.

    Examples
    --------
    >>> locale_problem("en-GB") is None
    True
    >>> locale_problem("en-gb")
    "locale 'en-gb' is not of the form xx-XX (5 characters, e.g. 'en-GB'); did you mean 'en-GB'?"
    >>> locale_problem("en-GB\n")  # it names a folder: the whole string must match
    "locale 'en-GB\\n' is not of the form xx-XX (5 characters, e.g. 'en-GB'); did you mean 'en-GB'?"
    """
    if isinstance(locale, str) and LOCALE_RE.fullmatch(locale):
        return None
    msg = f"locale {locale!r} is not of the form xx-XX (5 characters, e.g. 'en-GB')"
    if isinstance(locale, str):
        m = re.fullmatch(r"([A-Za-z]{2})[-_]([A-Za-z]{2})", locale.strip())
        if m:
            msg += f"; did you mean '{m.group(1).lower()}-{m.group(2).upper()}'?"
    return msg


def require_locale(locale: object) -> str:
    """Return *locale* when it is well formed, else raise :class:`SpellingSetError`."""
    from ..errors import SpellingSetError

    problem = locale_problem(locale)
    if problem:
        raise SpellingSetError(problem)
    return str(locale)


def provider_voice(locale: str) -> bool | None:
    """Whether the provider's TTS catalogue has a voice for *locale* (None: catalogue unavailable).

    The OTP call's ``voice.language`` names the spelling folder, so a set for a
    locale the provider has no voice for cannot be selected by a call.
    """
    if not isinstance(locale, str):
        return None
    return spec.has_voice_language(locale)


__all__ = [
    "DEFAULT_CHARS",
    "AUDIO_EXTENSIONS",
    "DIGIT_WORDS",
    "FileAssignment",
    "assign_files",
    "char_for_name",
    "char_for_stem",
    "is_audio_name",
    "locale_problem",
    "normalize_chars",
    "provider_voice",
    "require_locale",
    "split_name",
]
