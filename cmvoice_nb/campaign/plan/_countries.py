"""Countries as operators write them: ISO codes (``DE``, ``uk``) or names (``Duitsland``, ``Allemagne``).

Re-exported by :mod:`cmvoice_nb.campaign.plan.values`, which reads month names with the same
:func:`fold_name`.

Examples
--------
>>> read_country("Duitsland"), read_country(" de "), read_country("UK")
('DE', 'DE', 'GB')
"""
from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = ["read_country", "looks_like_countries", "fold_name"]


def fold_name(text: str) -> str:
    """Case- and accent-free text for matching names of countries and months (``"März"`` → ``"marz"``).

    Examples
    --------
    >>> fold_name("März"), fold_name(" België. ")
    ('marz', 'belgie')
    """
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).strip(" .")


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Folded ISO code or country name (English and the voice catalogue's languages) → ISO code."""
    import phonenumbers
    from babel import Locale

    from ...spec import voice_languages

    regions = {r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2 and r.isalpha()}
    names: dict[str, str] = {r.casefold(): r for r in regions}
    names["uk"] = "GB"  # what everyone writes for the United Kingdom
    languages = ["en"] + [lang.split("-")[0] for lang in voice_languages()]
    ambiguous: set[str] = set()
    for language in dict.fromkeys(languages):
        for code, name in Locale.parse(language).territories.items():
            if code not in regions:
                continue
            key = fold_name(name)
            if names.get(key, code) != code:
                ambiguous.add(key)
            names.setdefault(key, code)
    for key in ambiguous:
        names.pop(key, None)
    return names


def read_country(value: Any) -> str:
    """The ISO 3166 code of a country written as a code or a name; ``ValueError`` naming the value otherwise.

    Codes are read in any case (``nl``, ``NL``; ``UK`` is ``GB``); names in English and in the
    languages of the voice catalogue (``Germany``, ``Duitsland``, ``Deutschland``, ``Belgique``).

    Examples
    --------
    >>> read_country("Nederland"), read_country("België"), read_country("Belgique"), read_country("Germany")
    ('NL', 'BE', 'BE', 'DE')
    >>> read_country("Holand")
    Traceback (most recent call last):
    ...
    ValueError: 'Holand' is not a country: give an ISO code (NL, DE, BE) or a country name
    """
    if isinstance(value, str):
        code = _country_names().get(fold_name(value))
        if code is not None:
            return code
    raise ValueError(f"{value!r} is not a country: give an ISO code (NL, DE, BE) or a country name")


def looks_like_countries(values: Iterable[Any], *, share: float = 0.95) -> bool:
    """True when at least *share* of the distinct non-blank *values* are countries (codes or names).

    Used to tell the operator that an unmapped column probably gives each row's country.

    Examples
    --------
    >>> looks_like_countries(["NL", "DE", "BE", "NL"]), looks_like_countries(["Noord", "Zuid"])
    (True, False)
    """
    # distinct non-blank texts in first-seen order ("NL" and a numpy "NL" are two)
    distinct = [v for _, v in dict.fromkeys((type(v), v) for v in values if isinstance(v, str) and v.strip())]
    distinct = distinct[:10_000]
    if not distinct:
        return False
    if sum(any(c.isdigit() for c in v) for v in distinct) > (1 - share) * len(distinct):
        return False  # no country is written with digits (dates, amounts, numbered names): no table needed
    known = _country_names()
    hits = sum(fold_name(v) in known for v in distinct)
    return hits >= share * len(distinct)
