"""Which column feeds which field: the column map (``columns=``) and the defaults (``defaults=``).

A column named like a contract field (``callee``, ``max-digits`` or ``max_digits``,
``voice.language``) maps to it by itself; ``columns=`` maps the others and wins. Two keys are
not fields (:data:`ROW_KEYS`). A text default may be a template; its placeholders must name
columns, which is checked here once for the whole campaign.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...errors import CampaignError
from ...messages import cut, did_you_mean, listing, opt, quote
from ...spec import VOICE_FIELDS
from .templates import TemplateError, template_columns

__all__ = ["ROW_KEYS", "resolve_columns", "split_defaults", "template_defaults"]

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


def split_defaults(spec: Any, defaults: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (wire key → value, voice key → value) from ``defaults=``."""
    voice_keys = {f.key for f in VOICE_FIELDS}
    plain: dict[str, Any] = {}
    voice: dict[str, Any] = {}
    for key, value in (defaults or {}).items():
        key = str(key)
        if key in ("voice",) or (spec.has(key) and spec.field(key).kind == "voice"):
            if hasattr(value, "to_json"):
                value = value.to_json()
            if not isinstance(value, Mapping):
                raise CampaignError(f"defaults['voice'] must be a Voice or a dict like {{'language': 'nl-NL'}}, got {value!r}")
            for k, v in value.items():
                k = str(k).replace("_", "-")
                if k not in voice_keys:
                    raise CampaignError(f"defaults['voice'] has no key {k!r}; voice keys: {', '.join(sorted(voice_keys))}")
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
            where = opt("set_pair", cut(key))
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
