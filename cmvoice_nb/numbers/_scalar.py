"""One phone number at a time: :func:`normalize_number`, :func:`try_normalize`, :func:`country_of`.

:func:`normalize_number` is :func:`resolve` over :func:`prepare`: ``prepare`` turns a value into
the (candidate, region) pairs to parse (or refuses it before any parsing), ``resolve`` parses them.
Every spelling of one number that gives the same pairs has the same outcome, so a caller reading
many values may remember outcomes per pair list; the column-wise path
(:mod:`cmvoice_nb.numbers._columns`) does.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

from ..errors import NumberError

__all__ = ["normalize_number", "try_normalize", "country_of", "prepare", "resolve", "STYLES", "REASONS",
           "SCIENTIFIC_REASON"]

#: The ways a number is written out: ``+31612345678`` (E.164) or ``0031612345678``.
STYLES = ("e164", "00")
_JUNK = re.compile(r"[\s\-./()\[\]\u00a0\u2010-\u2015]")
_SPREADSHEET_TEXT = re.compile(r"\+?\d+\.0+")
_LETTER = re.compile(r"[A-Za-z]")
_PLAIN = re.compile(r"\+?[0-9]+")
_TRUNK_IN_BRACKETS = re.compile(r"^(\+\d{1,3})\s*\(0\)")
# 3.16123E+10, 3,16123E+10 (a Dutch or German spreadsheet), 3.16123e10, 3E+10
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
SCIENTIFIC_REASON = ("a spreadsheet turned the number into scientific notation, so its last digits are lost: "
                     "format the column as text in the spreadsheet and export the file again")
#: Why a parsed number is not valid, by phonenumbers' ``ValidationResult`` name.
REASONS = {
    "TOO_SHORT": "too short to be a number",
    "TOO_LONG": "too long to be a number",
    "INVALID_COUNTRY_CODE": "the country code is not a real one",
    "INVALID_LENGTH": "wrong length for its country",
    "IS_POSSIBLE_LOCAL_ONLY": "a local number without area code",
}


def _to_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise NumberError(value, "empty")
    if isinstance(value, bool):
        raise NumberError(value, "expected a phone number, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise NumberError(value, "a number with decimals is not a phone number")
        return str(int(value))  # spreadsheet float: 31612345678.0
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise NumberError(value, f"expected text, got {type(value).__name__}")
    text = value.strip()
    if text[:4].lower() == "tel:":
        text = _tel_number(text)
    if _SCIENTIFIC.fullmatch(text):
        # The float behind it was rounded to the digits shown: the real number cannot be recovered.
        raise NumberError(value, SCIENTIFIC_REASON)
    # "31612345678.0" as text, the same spreadsheet accident after a CSV round trip
    if _SPREADSHEET_TEXT.fullmatch(text):
        text = text.split(".")[0]
    return text


def _tel_number(uri: str) -> str:
    """The number of a ``tel:`` URI (RFC 3966), its parameters (``;ext=``, ``;isub=`` ...) dropped.

    A local number (no ``+``) with a global ``;phone-context=+31`` belongs to that country:
    the context is its prefix, as RFC 3966 defines it, so the number is never read in
    another region. A domain name as context says nothing about the country and is dropped.
    """
    number, _, params = uri[4:].partition(";")
    number = number.strip()
    if params and not number.startswith("+"):
        for param in params.split(";"):
            key, _, context = param.partition("=")
            if key.strip().lower() == "phone-context" and context.strip().startswith("+"):
                return context.strip() + number
    return number


def _candidates(text: str, region: str | None) -> list[tuple[str, str | None]]:
    """Strings to try with phonenumbers.parse, most likely first."""
    # "+31 (0)6 ..." : the trunk zero written in brackets after the country code must go
    if _PLAIN.fullmatch(text):
        compact = text  # nothing for the two substitutions below to do
    else:
        text = _TRUNK_IN_BRACKETS.sub(r"\1", text)
        compact = _JUNK.sub("", text)
    if not compact:
        return []
    if compact.startswith("+"):
        return [(compact, None)]
    if compact.startswith("00"):
        return [("+" + compact[2:], None)]
    tries: list[tuple[str, str | None]] = []
    if region:
        tries.append((compact, region.upper()))
    if compact.isdigit() and not compact.startswith("0"):
        # digits only, no trunk zero: most likely an international number that lost its "+"
        tries.append(("+" + compact, None))
    return tries


def normalize_number(value: Any, *, region: str | None = None, style: str = "e164") -> str:
    """Return *value* as an international phone number, or raise :class:`NumberError`.

    Parameters
    ----------
    value
        Text, int or spreadsheet float. Spaces, dashes, dots, brackets and a ``(0)`` trunk
        prefix are ignored; ``00`` is read as ``+``.
    region
        ISO country code (``"NL"``) for national numbers like ``06 12345678``.
    style
        ``"e164"`` (``+31612345678``, default) or ``"00"`` (``0031612345678``).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    number, reason = resolve(prepare(value, region), style)
    if number is None:
        raise NumberError(value, reason)
    return number


def prepare(value: Any, region: str | None) -> tuple[tuple[str, str | None], ...]:
    """The (candidate, region) pairs to parse for *value*, or NumberError before any parsing.

    Every spelling of one number that gives the same pairs has the same outcome (see
    :func:`resolve`): a caller may remember outcomes per pair list.
    """
    text = _to_text(value)
    if _LETTER.search(text):
        raise NumberError(value, "contains letters")
    tries = _candidates(text, region)
    if not tries:
        if _JUNK.sub("", text):
            raise NumberError(value, "a national number: pass region= (e.g. region='NL') "
                                     "or write it with +country code")
        raise NumberError(value, "empty")
    return tuple(tries)


#: What :func:`resolve` remembers a parsed number by: country code and national number as one int,
#: or ``(country code, national number, leading zeros)`` for the rare number with leading zeros.
Verdict = Union[int, "tuple[int, int, int | None]"]


def resolve(tries: Iterable[tuple[str, str | None]], style: str,
            verdicts: dict[Verdict, str | None] | None = None) -> tuple[str | None, str]:
    """``(number, "")`` for the first candidate that is a valid number, else ``(None, reason)``.

    *verdicts* (a dict the caller keeps) remembers the E.164 form, or None, of every number
    parsed: whether a number is valid and how it is written depend only on its country code and
    national significant number, which the spellings of one number share.
    """
    import phonenumbers

    reason = "not a valid number"
    for candidate, reg in tries:
        parsed = _parse_digits(candidate, reg)
        if parsed is None:
            try:
                parsed = phonenumbers.parse(candidate, reg)
            except phonenumbers.NumberParseException as exc:
                reason = _parse_reason(exc)
                continue
        # country code (1-3 digits) and national number as one int; leading zeros as a tuple (rare)
        code, national = parsed.country_code or 0, parsed.national_number or 0  # parsing sets both
        key: Verdict = (national * 1000 + code if not parsed.italian_leading_zero
                        else (code, national, parsed.number_of_leading_zeros))
        e164 = verdicts.get(key, "") if verdicts is not None else ""  # "" (never an E.164 form): not seen
        if e164 == "":
            e164 = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(parsed) else None)
            if verdicts is not None:
                verdicts[key] = e164
        if e164 is not None:
            return (e164 if style == "e164" else "00" + e164[1:]), ""
        possible = phonenumbers.is_possible_number_with_reason(parsed)
        name = {v: k for k, v in vars(phonenumbers.ValidationResult).items() if k.isupper()}.get(possible, "")
        country = phonenumbers.region_code_for_number(parsed) or reg
        reason = REASONS.get(name) or (f"not a valid number for {country}" if country else "not a valid number")
    return None, reason


def _parse_digits(candidate: str, region: str | None) -> PhoneNumber | None:
    """``phonenumbers.parse(candidate, region)`` for a candidate of plain ASCII digits, or None.

    :func:`_candidates` gives ``+<digits>`` without a region, or ``<digits>`` with one: for
    such text the first steps of ``parse`` (RFC 3966 context, leading and trailing junk, an
    extension, normalising odd digits) have nothing to do, and they are most of its cost.
    The remaining steps are ``parse``'s own, in its order, through its own helpers: the
    international prefix, the country code (with the region's code written without ``+``),
    the national prefix and the length checks. Anything unusual (too short, an unknown
    country code, the region's international prefix, an unknown region) returns None and is
    parsed by ``phonenumbers.parse`` itself, which also gives the reason for an error.
    ``tests/test_numbers_fast.py`` compares the two on every region's example numbers.
    """
    from phonenumbers import PhoneMetadata, PhoneNumber, phonenumberutil as pu
    from phonenumbers.re_util import re_compile

    plus = candidate.startswith("+")
    digits = candidate[1:] if plus else candidate
    if plus == (region is not None) or not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) <= pu._MIN_LENGTH_FOR_NSN or len(candidate) > pu._MAX_INPUT_STRING_LENGTH:
        return None
    if plus:
        metadata = None
        code, national = pu._extract_country_code(digits)
        if code == 0:
            return None
    else:
        assert region is not None  # a national candidate always comes with its region (checked above)
        region = region.upper()
        if region not in pu.SUPPORTED_REGIONS:
            return None
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            return None
        if metadata.international_prefix is not None:
            stripped, _ = pu._parse_prefix_as_idd(re_compile(metadata.international_prefix), digits)
            if stripped:
                return None
        code, national = 0, digits
        own = str(metadata.country_code)
        if digits.startswith(own):  # the region's country code written without "+"
            general = metadata.general_desc
            _, potential, _ = pu._maybe_strip_national_prefix_carrier_code(digits[len(own):], metadata)
            if ((not pu._match_national_number(digits, general, False)
                 and pu._match_national_number(potential, general, False))
                    or pu._test_number_length(digits, metadata) == pu.ValidationResult.TOO_LONG):
                code, national = int(own), potential
    if code != 0:
        number_region: str = pu.region_code_for_country_code(code)
        if number_region != region:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, number_region)
    else:
        assert metadata is not None and metadata.country_code is not None  # code 0 only with a region's metadata
        code = metadata.country_code
    if len(national) < pu._MIN_LENGTH_FOR_NSN:
        return None
    if metadata is not None:
        _, potential, _ = pu._maybe_strip_national_prefix_carrier_code(national, metadata)
        if potential != national and pu._test_number_length(potential, metadata) not in (
                pu.ValidationResult.TOO_SHORT, pu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
                pu.ValidationResult.INVALID_LENGTH):
            national = potential
    if not pu._MIN_LENGTH_FOR_NSN <= len(national) <= pu._MAX_LENGTH_FOR_NSN:
        return None
    number = PhoneNumber(country_code=code)
    pu._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


def _parse_reason(exc: Exception) -> str:
    import phonenumbers

    kinds = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "the country code is not a real one",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short to be a number",
        phonenumbers.NumberParseException.TOO_LONG: "too long to be a number",
    }
    return kinds.get(getattr(exc, "error_type", -1), str(exc))


def try_normalize(value: Any, *, region: str | None = None, style: str = "e164") -> tuple[str | None, str | None]:
    """``(number, None)`` on success, ``(None, reason)`` otherwise: for row-wise bulk work."""
    try:
        return normalize_number(value, region=region, style=style), None
    except NumberError as exc:
        return None, exc.reason



def country_of(number: Any) -> str | None:
    """ISO country code of an international number (``"NL"``), or None when it cannot be told.

    The one answer to "which country is this number", used by allowed countries, calling hours,
    estimates and call analysis alike. Spaces, dashes, dots and brackets are ignored and ``00``
    reads as ``+``; a number the library cannot place, or a non-geographic one (``+800``…), has
    no country. A number of a territory that shares its code is the territory's (``+44 7911`` is
    Guernsey, ``+1 416`` Canada).

    Examples
    --------
    >>> country_of("+31612345678"), country_of("0032 470 12 34 56"), country_of("+1 212 555 0123"), country_of("x")
    ('NL', 'BE', 'US', None)
    >>> country_of("+447911123456"), country_of("+14165551234"), country_of("+80012345678"), country_of(None)
    ('GG', 'CA', None, None)
    """
    import phonenumbers

    if not isinstance(number, str):
        return None
    text = _JUNK.sub("", number.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return None if region in (None, "", "ZZ", "001") else region

