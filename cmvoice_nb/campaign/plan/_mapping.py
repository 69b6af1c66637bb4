"""Which column feeds which field: the column map (``columns=``) and the defaults (``defaults=``).

A column named like a contract field (``callee``, ``max-digits`` or ``max_digits``,
``voice.language``) maps to it by itself; ``columns=`` maps the others and wins. Two keys are
not fields (:data:`ROW_KEYS`). A text default may be a template; its placeholders must name
columns, which is checked here once for the whole campaign.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import CampaignError
from ...messages import cut, did_you_mean, listing, opt, quote
from ...spec import VOICE_FIELDS
from .templates import TemplateError, template_columns

__all__ = ["ROW_KEYS", "PHONE_WORDS", "CALLER_WORDS", "resolve_columns", "split_defaults", "template_defaults",
           "phone_share", "propose_columns"]

_VOICE_PREFIXES = ("voice.", "voice-", "voice_")


#: Mapping keys that are not contract fields: each row's country, the operator's own row id, and
#: each row's subdivision (for public holidays). They are mapped only when the operator says so
#: (a "Region" column may be a sales area).
ROW_KEYS = ("region", "id", "subdivision")


def _field_names(spec: Any) -> list[str]:
    return list(spec.keys) + [f"voice.{f.key}" for f in VOICE_FIELDS] + list(ROW_KEYS)


def resolve_columns(spec: Any, df_columns: list, columns: Mapping[str, str] | None) -> dict[str, str]:
    """Return wire key (or ``voice.<key>``) → DataFrame column."""
    voice_keys = {f.key: f for f in VOICE_FIELDS}
    mapping: dict[str, str] = {}

    def target_of(name: str) -> str | None:
        if spec.has(name) and spec.field(name).kind != "voice":
            return spec.field(name).key
        for prefix in _VOICE_PREFIXES:
            if name.startswith(prefix) and name[len(prefix):] in voice_keys:
                return "voice." + name[len(prefix):]
        return None

    # Automatic: a column named like a field (kebab or snake case) maps to it.
    for col in df_columns:
        target = target_of(str(col))
        if target is not None:
            mapping[target] = col
    for key, col in (columns or {}).items():
        target = str(key) if str(key) in ROW_KEYS else target_of(str(key))
        where = opt("map_pair", cut(key), cut(col))
        if target is None:
            raise CampaignError(
                f"{where}: {quote(key)} is not a field of {spec.name};{did_you_mean(key, _field_names(spec))} "
                f"fields: {', '.join(spec.keys)} (voice keys as voice.language, voice.gender, voice.number; "
                f"'region' for each row's country, 'id' for your own row id, 'subdivision' for each row's "
                f"state or province)"
            )
        if col not in df_columns:
            raise CampaignError(
                f"{where}: no column {quote(col)} in {opt('source')};{did_you_mean(col, df_columns)} columns: "
                + listing(df_columns)
            )
        mapping[target] = col
    return mapping


def split_defaults(spec: Any, defaults: Mapping[str, Any] | None, *,
                   named: Callable[[str], str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (wire key → value, voice key → value) from ``defaults=``.

    *named* says where an unknown field was given (default: ``defaults=`` / ``--set``), so that a
    variant's fields are named as the variant's.
    """
    voice_keys = {f.key for f in VOICE_FIELDS}
    plain: dict[str, Any] = {}
    voice: dict[str, Any] = {}
    for key, value in (defaults or {}).items():
        key = str(key)
        if key in ("voice",) or (spec.has(key) and spec.field(key).kind == "voice"):
            if hasattr(value, "to_json"):
                value = value.to_json()
            if not isinstance(value, Mapping):
                raise CampaignError(f"defaults['voice'] must be a Voice or a dict like {{'language': 'nl-NL'}}, "
                                    f"got {value!r}")
            for k, v in value.items():
                k = str(k).replace("_", "-")
                if k not in voice_keys:
                    raise CampaignError(f"defaults['voice'] has no key {k!r}; "
                                        f"voice keys: {', '.join(sorted(voice_keys))}")
                voice[k] = v
            continue
        matched = False
        for prefix in _VOICE_PREFIXES:
            if key.startswith(prefix) and key[len(prefix):] in voice_keys:
                voice[key[len(prefix):]] = value
                matched = True
        if matched:
            continue
        if not spec.has(key):
            where = named(key) if named is not None else opt("set_pair", cut(key))
            raise CampaignError(f"{where}: {quote(key)} is not a field of {spec.name};"
                                f"{did_you_mean(key, _field_names(spec))} fields: {', '.join(spec.keys)}")
        plain[spec.field(key).key] = value
    return plain, voice


def template_defaults(spec: Any, plain_defaults: Mapping[str, Any], df_columns: list) -> dict[str, str]:
    """The text defaults that are templates (field → template), each placeholder checked to name a column.

    A placeholder naming no column is a mistake in the campaign, not in a row: a CampaignError
    naming the default, the placeholder and the closest column.
    """
    templates: dict[str, str] = {}
    for key, value in plain_defaults.items():
        fld = spec.field(key)
        if fld.template and isinstance(value, str):
            where = opt("default_of", key, quote(value)[1:-1])
            try:
                names = template_columns(value)
            except TemplateError as exc:
                raise CampaignError(f"{where}: {exc}") from None
            missing = [n for n in names if n not in df_columns]
            if missing:
                hint = did_you_mean(missing[0], df_columns)
                hint = hint.replace("mean '", "mean {").replace("'?", "}?") if hint else ""
                raise CampaignError(
                    f"{where}: the template uses {', '.join('{' + m + '}' for m in missing)}, "
                    f"which {'is not a column' if len(missing) == 1 else 'are not columns'};{hint} columns: "
                    + listing(df_columns)
                )
            if names:
                templates[key] = value
    return templates


#: Header words that say a column holds phone numbers (folded: lower case, no accents), in the
#: languages operators write their lists in.
PHONE_WORDS = ("callee", "phone", "telephone", "tel", "telefoon", "telefon", "telefono", "telephone", "mobile",
               "mobiel", "mobil", "mobiele", "gsm", "cell", "cellphone", "handy", "number", "nummer", "numero",
               "rufnummer", "msisdn", "portable")
#: Header words that say a column holds the caller id (never proposed as the callee).
CALLER_WORDS = ("caller", "from", "sender", "afzender", "absender", "van")
#: How many non-blank cells of a column are looked at to judge its contents.
SAMPLE = 200
#: The share of sampled cells that must read as phone numbers for a column to be proposed as
#: ``callee`` on its contents alone (a header that names phones lowers it to half).
PHONE_SHARE = 0.8


def _words(name: Any) -> list[str]:
    from ._countries import fold_name

    return [w for w in re.split(r"[^a-z0-9]+", fold_name(str(name))) if w]


_WRITTEN_LIKE_A_NUMBER = re.compile(r"\+?(?:[ ()./-]*[0-9]){9,15}[ ()./-]*")


def phone_share(values: Any, *, region: str | None = None) -> float:
    """The share of the non-blank *values* (the first :data:`SAMPLE`) that are phone numbers.

    A cell counts when it reads as a number in *region*, when it is written like one of
    another country (9 to 15 digits with the separators people type: ``0470 12 34 56`` in a
    Dutch list with Belgian rows), and when a spreadsheet turned it into scientific notation
    (``3.16123E+10``): the column holds phone numbers, and the plan names that row's damage.

    Examples
    --------
    >>> phone_share(["0612345678", "+32 470 12 34 56", "3.16123E+10", ""], region="NL")
    1.0
    >>> phone_share(["1001", "1002", "Amsterdam"], region="NL")
    0.0
    """
    from ...numbers import SCIENTIFIC_REASON, try_normalize

    cells = [str(v).strip() for v in values if v is not None and str(v).strip()][:SAMPLE]
    if not cells:
        return 0.0
    hits = 0
    for cell in cells:
        number, reason = try_normalize(cell, region=region or "NL")
        hits += number is not None or reason == SCIENTIFIC_REASON or bool(_WRITTEN_LIKE_A_NUMBER.fullmatch(cell))
    return hits / len(cells)


def propose_columns(df: Any, app: str, *, region: str | None = None) -> dict[str, Any]:
    """Which column feeds which field, proposed from the columns' names *and* contents.

    The proposal is for the operator to confirm (the Campaign app shows it in its form; the
    result is a ``columns=`` of :func:`~cmvoice_nb.campaign.plan_campaign`):

    * a column named like a field (``callee``, ``max_digits``, ``voice.language``) maps to it;
    * ``callee``: the column of phone numbers, whatever its header (``Telefoon``, ``Tel``,
      ``Mobile``, ``GSM``…): at least 80 % of its cells read as numbers (half, when its header
      names a phone); of several, the one whose header names a phone, then the fullest; a column
      whose header names the caller (``caller``, ``afzender``…) is never the callee;
    * ``region`` (each row's country): a column whose cells are countries (``NL``, ``Duitsland``,
      ``Belgique``), checked on every distinct cell.

    Parameters
    ----------
    df
        The list (a DataFrame; cells as text, as :func:`~cmvoice_nb.campaign.inputs.read_table` reads them).
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"``: its fields are the names matched.
    region
        The country national numbers are read in while judging contents (default ``NL``).

    Returns
    -------
    dict
        Field key (``voice.<key>``, ``region``) → column name, each column used once.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"Naam": ["Ann", "Bob"], "Telefoon": ["06 1234 5610", "+31612345611"],
    ...                    "Land": ["Nederland", "BE"], "max_digits": ["4", "4"]})
    >>> propose_columns(df, "dtmf")
    {'max-digits': 'max_digits', 'callee': 'Telefoon', 'region': 'Land'}
    """
    import pandas as pd

    from ...spec import APPS
    from ._countries import looks_like_countries

    spec = APPS[app]
    names = list(df.columns)
    proposal = resolve_columns(spec, names, None)
    used = set(proposal.values())
    if "callee" not in proposal and "callees" not in proposal:
        candidates = []
        for position, col in enumerate(names):
            if col in used:
                continue
            words = _words(col)
            if any(w in CALLER_WORDS for w in words):
                continue
            named = any(w in PHONE_WORDS or w.startswith(("tel", "phone", "mobi")) for w in words)
            # The first cells judge the column (blank ones skipped): a long list is not read whole.
            share = phone_share(df[col].head(SAMPLE * 5).tolist(), region=region)
            if share >= (PHONE_SHARE / 2 if named else PHONE_SHARE):
                candidates.append((not named, -share, position, col))
        if candidates:
            proposal["callee"] = min(candidates)[3]
            used.add(proposal["callee"])
    if "region" not in proposal:
        for col in names:
            if col in used:
                continue
            head = [v for v in df[col].head(SAMPLE).tolist() if isinstance(v, str) and v.strip()]
            if not head or not looks_like_countries(head):
                continue  # cheap on a long list: most columns fail on their first cells
            # Then every distinct cell, once each (a million rows hold a few dozen countries).
            values = [v for v in pd.unique(df[col].to_numpy(dtype=object)) if isinstance(v, str) and v.strip()]
            if looks_like_countries(values) and phone_share(values[:SAMPLE], region=region) == 0:
                proposal["region"] = col
                used.add(col)
                break
    return proposal
