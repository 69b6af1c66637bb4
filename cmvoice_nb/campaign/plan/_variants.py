"""A/B prompt variants with a holdout: a layer around the core planning.

``plan_campaign(df, ..., variants={"A": {...}, "B": {...}}, holdout=0.1, seed=7)`` gives each
person (their normalised callee, :func:`~cmvoice_nb.campaign.plan.content_key`) one variant, or
the holdout, by a hash of the seed and the person (:func:`assign`): not by row order, so the
same person gets the same variant on every re-run, in every follow-up wave and whatever else the
list holds. Holdout rows are planned like the others but never called (status ``holdout``).

A variant's fields are defaults that win over the campaign's defaults *and* over the list's
columns for its rows (``{"prompt": "Hallo {naam}"}`` replaces the ``prompt`` column too);
templates work as in ``defaults=``. The core planner runs once per variant on the whole list (so
column-wide decisions, such as how a date column reads, are the same for every variant) with the
variant's fields as defaults and, for a field a column gives, that column replaced by a blank
one; each row is then taken from its variant's plan, as columns
(:mod:`~cmvoice_nb.campaign.plan._abrows`: no Python object per row). The assignment is a column of the plan
(``plan.to_frame()["variant"]``, each row's :attr:`~cmvoice_nb.campaign.plan.RowPlan.variant`).

Examples
--------
>>> names = ("A", "B")
>>> [assign(p, names, holdout=0.0, seed=7) for p in ("31612345610", "31612345611", "31612345610")]
['A', 'B', 'A']
>>> parse_variants(["A:prompt=Hallo {naam}", "B:prompt=Goedemiddag", "B:voice.gender=Male"])
{'A': {'prompt': 'Hallo {naam}'}, 'B': {'prompt': 'Goedemiddag', 'voice.gender': 'Male'}}
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import CampaignError
from ...messages import cut, opt, quote
from ...spec import app_spec
from ..ops.suppress import apply_suppression
from ._abrows import assign_codes, combine_rows
from ._ids import content_key
from ._mapping import resolve_columns, split_defaults
from ._optout import check_key, with_opt_out

__all__ = ["HOLDOUT", "assign", "parse_variants", "parse_seed", "check_design", "design_of", "design_conflict",
           "plan_with_variants"]

#: The variant name of the holdout (control group): planned, never called.
HOLDOUT = "holdout"
#: Fields a variant may not set: they are who is called and how the row is named, not what is said.
_IDENTITY = ("callee", "instruction-id")
#: The column a variant's field is mapped to instead of the list's own, for rows of that variant.
_BLANK = "\ue000cmvoice variant blank {}"


def assign(person: str, names: tuple[str, ...], *, holdout: float, seed: Any) -> str:
    """The variant of *person* (or :data:`HOLDOUT`): a hash of *seed* and *person*, the same on every run.

    The hash gives a number in [0, 1): below *holdout* is the holdout; the rest is split evenly
    between *names*, in their order.
    """
    digest = hashlib.blake2b(f"{seed}\x1f{person}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2.0 ** 64
    if u < holdout or not names:
        return HOLDOUT
    share = (u - holdout) / (1.0 - holdout)
    return names[min(int(share * len(names)), len(names) - 1)]


def parse_variants(specs: Iterable[str]) -> dict[str, dict[str, str]]:
    """``--variant NAME:FIELD=VALUE`` items (repeatable) as ``{name: {field: value}}``, names in first-seen order.

    Raises :class:`~cmvoice_nb.errors.CampaignError` naming an item without ``NAME:`` or ``=``.
    """
    variants: dict[str, dict[str, str]] = {}
    for item in specs:
        name, colon, rest = str(item).partition(":")
        field, equals, value = rest.partition("=")
        if not colon or not equals or not name.strip() or not field.strip():
            raise CampaignError(f"{opt('variants')} {quote(item)}: expected NAME:FIELD=VALUE, e.g. "
                                "A:prompt='Hallo {naam}'")
        variants.setdefault(name.strip(), {})[field.strip()] = value
    return variants


def parse_seed(text: Any) -> int | str | None:
    """A seed as typed (``--seed 7``, a text box): whole-number text as an int, other text as itself, blank as None.

    Examples
    --------
    >>> parse_seed("7"), parse_seed(" -3 "), parse_seed("voorjaar"), parse_seed("  ")
    (7, -3, 'voorjaar', None)
    """
    if text is None or isinstance(text, int):
        return text
    value = str(text).strip()
    if not value:
        return None
    return int(value) if re.fullmatch(r"-?[0-9]+", value) else value


def check_design(variants: Any, holdout: Any, seed: Any, *, name: str) -> tuple[dict[str, dict], float, Any]:
    """The A/B design as planning uses it: ``(variants, holdout share, seed)``, or a clear error.

    No variants with a holdout is one variant, ``"A"``, with no fields of its own. The seed
    defaults to the campaign's *name*: re-runs of the campaign assign alike.
    """
    if variants is None:
        variants = {"A": {}}
    if not isinstance(variants, Mapping) or not variants:
        raise CampaignError(f"{opt('variants')} must be a dict name → fields, like {{'A': {{'prompt': 'Hi'}}, "
                            f"'B': {{'prompt': 'Hello'}}}}, got {variants!r}")
    checked: dict[str, dict] = {}
    for key, fields in variants.items():
        label = str(key).strip()
        if not label or label == HOLDOUT or not isinstance(key, str):
            raise CampaignError(f"{opt('variants')}: {key!r} cannot name a variant (a non-empty text other than "
                                f"{HOLDOUT!r})")
        if not isinstance(fields, Mapping):
            raise CampaignError(f"{opt('variants')}[{label!r}] must be a dict field → value, got {fields!r}")
        bad = [f for f in fields if str(f).replace("_", "-") in _IDENTITY]
        if bad:
            raise CampaignError(f"{opt('variants')}[{label!r}] sets {bad[0]!r}: a variant changes what is said, "
                                "not who is called or how the row is named")
        checked[label] = dict(fields)
    if holdout is None:
        share = 0.0
    elif isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0.0 <= float(holdout) < 1.0:
        raise CampaignError(f"{opt('holdout')} must be a share from 0 to below 1 (0.1: one person in ten is never "
                            f"called), got {holdout!r}")
    else:
        share = float(holdout)
    if seed is None:
        seed = name
    elif isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise CampaignError(f"{opt('seed')} must be a whole number or a text, got {seed!r}")
    return checked, share, seed


def design_of(plan: Any) -> dict[str, Any]:
    """What of *plan*'s A/B design must stay the same across runs (names, holdout, seed), or {} without a test."""
    options = plan.options
    if options.get("variants") is None:
        return {}
    return {"variants": list(options["variants"]), "holdout": options.get("holdout"), "seed": options.get("seed")}


def design_conflict(stored: Mapping[str, Any], plan: Any) -> str | None:
    """Why *plan*'s A/B design cannot continue the journal's *stored* one (None when it can).

    A person's variant is fixed by the first run (the journal keeps it): a run with other
    variant names, another holdout or another seed would put people in other groups.
    """
    mine = design_of(plan)
    theirs = {"variants": list(stored["variants"]), "holdout": stored.get("holdout"), "seed": stored.get("seed")} \
        if stored.get("variants") else {}
    if not mine or not theirs or mine == theirs:
        return None
    shown = "; ".join(f"{k}: {theirs[k]!r} then, {mine[k]!r} now" for k in theirs if theirs[k] != mine[k])
    return (f"its A/B test was started with another design ({shown}); a person keeps the "
            f"group the first run gave them: give the same {opt('variants')}, {opt('holdout')} and {opt('seed')}, "
            "or start a new campaign name")


def plan_with_variants(core: Callable[..., Any], df: Any, *, variants: Any, holdout: Any, seed: Any,
                       reference: bool = False, **options: Any) -> Any:
    """Plan *df* with *core* (the plain planner) once per variant and take each row from its person's variant.

    *options* are :func:`~cmvoice_nb.campaign.plan_campaign`'s own; the do-not-call list is
    applied once, to the plan made of the variants' rows. The rows stay columns
    (:func:`~cmvoice_nb.campaign.plan._abrows.combine_rows`); *reference* takes them one by one
    instead, as the variants' plans give them (the path the columns are checked against).
    """
    import numpy as np
    import pandas as pd

    name = options["name"]
    checked, share, seed = check_design(variants, holdout, seed, name=name)
    suppress = options.pop("suppress", None)
    allow_unreadable = options.pop("allow_unreadable_suppress", False)
    try:
        spec = app_spec(options["app"])
    except KeyError as exc:
        raise CampaignError(str(exc.args[0])) from None
    digit = check_key(spec.name, options.pop("opt_out_digit", None))  # before any planning: a clear error
    if not isinstance(df, pd.DataFrame):
        raise CampaignError(f"plan_campaign needs a pandas DataFrame, got {type(df).__name__}")
    colmap = resolve_columns(spec, list(df.columns), options.get("columns"))
    names = tuple(checked)
    labels = names + (HOLDOUT,)  # each row's variant: an index into these

    def of(person: str) -> str:
        return assign(person, names, holdout=share, seed=seed)

    plans: dict[str, Any] = {}
    codes: Any = None
    present: set[str] = set()
    for label in names:
        if plans and label not in present:
            continue  # nobody has this variant: no need to plan it
        frame, mine = _variant_input(spec, df, colmap, checked[label], options, label=label)
        plan = core(frame, **mine)
        if not plans:
            # The first plan fixes the campaign key (a provisional one too) and who each row's person is.
            options["campaign_key"] = plan.campaign_key
            codes = _assign_reference(plan.rows, labels, of) if reference else \
                assign_codes(plan.rows, names, holdout=share, seed=seed)
            present = {labels[c] for c in np.unique(codes).tolist()}
        plans[label] = plan
    first = plans[names[0]]
    ordered = list(plans)  # the plans made, the first variant's first (it gives the holdout's rows too)
    source = np.array([ordered.index(a) if a in plans else 0 for a in labels], dtype=np.int32)[codes]
    rows: Any = None if reference else combine_rows([plans[a].rows for a in ordered], source, codes, labels)
    if rows is None:
        rows = _combine_reference(plans, first, [labels[c] for c in codes.tolist()])
    shown = list(first.preview_rows)
    for at in [int(np.argmax(codes == c)) for c in range(len(names)) if (codes == c).any()]:
        if at not in shown:  # the preview shows each variant's text
            shown.append(at)
    design = {"variants": {k: dict(v) for k, v in checked.items()}, "holdout": share, "seed": seed}
    plan = first.replace(rows=rows, options={**first.options, **design}, preview_rows=tuple(shown),
                         key_is_provisional=first.key_is_provisional)
    plan = with_opt_out(plan, digit)
    if suppress is not None:
        plan = apply_suppression(plan, suppress, region=options.get("region"),
                                 allow_unreadable_suppress=allow_unreadable)
    return plan


def _assign_reference(rows: Any, labels: tuple[str, ...], of: Callable[[str], str]) -> Any:
    """Each row's variant (an index into *labels*), row by row: what :func:`assign_codes` gives."""
    import numpy as np

    people: dict[str, str] = {}
    assigned = []
    for r in rows:
        person = content_key(r.callee)
        if person not in people:
            people[person] = of(person)
        assigned.append(labels.index(people[person]))
    return np.array(assigned, dtype=np.int32)


def _combine_reference(plans: Mapping[str, Any], first: Any, assigned: list[str]) -> list:
    """The rows of an A/B plan one by one: row *i* of its variant's plan (the holdout's: of *first*)."""
    return [(plans[a] if a != HOLDOUT else first).rows[i].replace(variant=a) for i, a in enumerate(assigned)]


def _variant_input(spec: Any, df: Any, colmap: Mapping[str, str], fields: Mapping[str, Any],
                   options: dict, *, label: str) -> tuple[Any, dict]:
    """``(df, options)`` that plan *df* with variant *label*'s *fields* winning over defaults and columns."""
    # Every field name is checked as defaults= checks them, and a wrong one named as the variant's.
    plain, voice = split_defaults(spec, fields, named=lambda key: f"{opt('variants')} {label}:{cut(key)}")
    overridden = [k for k in plain if k in colmap] + [f"voice.{k}" for k in voice if f"voice.{k}" in colmap]
    defaults = {**(options.get("defaults") or {}), **fields}
    columns = dict(options.get("columns") or {})
    frame = df
    if overridden:
        blanks = {key: _BLANK.format(key) for key in overridden}
        frame = df.assign(**{column: None for column in blanks.values()})
        for key, column in blanks.items():
            for given in [k for k in columns if _same_key(k, key)]:
                del columns[given]
            columns[key] = column
    mine = {**options, "defaults": defaults, "columns": columns or None}
    return frame, mine


def _same_key(given: str, key: str) -> bool:
    return str(given).replace("_", "-").replace("voice-", "voice.") == key.replace("_", "-")
