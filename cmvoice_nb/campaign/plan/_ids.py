"""Instruction ids: campaign keys, content keys and the derived id of a row.

A derived id is ``<campaign name>-<campaign key>-<content key>-<occurrence>`` (see
:mod:`cmvoice_nb.campaign.plan`, "Instruction ids"): it does not depend on row positions, and
it is at most 64 characters (the contract's limit).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from ...errors import CampaignError
from ...messages import quote
from ...spec import INSTRUCTION_ID_MAX_LENGTH
from ...wire import with_hash

__all__ = ["new_campaign_key", "check_campaign_key", "campaign_key_of", "content_key", "number_content",
           "derive_instruction_id", "derive_ids", "IdMaker", "MAX_ID_LENGTH"]

MAX_ID_LENGTH = INSTRUCTION_ID_MAX_LENGTH
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:\-]+")
_CAMPAIGN_KEY = re.compile(r"[A-Za-z0-9]{1,16}")


def new_campaign_key() -> str:
    """A fresh random campaign key: 8 hex digits (what a new journal records).

    Examples
    --------
    >>> len(new_campaign_key())
    8
    """
    return secrets.token_hex(4)


def check_campaign_key(campaign_key: Any) -> str:
    """*campaign_key* when it is 1-16 letters or digits; a CampaignError naming it otherwise."""
    if not isinstance(campaign_key, str) or not _CAMPAIGN_KEY.fullmatch(campaign_key):
        raise CampaignError(f"campaign_key must be 1-16 letters or digits, got {quote(campaign_key)}")
    return campaign_key


def campaign_key_of(journal: Any) -> str | None:
    """The campaign key of an existing journal (a path or a Journal), without creating anything."""
    key = getattr(journal, "campaign_key", None)
    if key is not None:
        return key
    path = Path(journal)
    if not path.exists():
        return None
    from ..journal import Journal

    with Journal(path) as j:
        return j.campaign_key


def content_key(callee: Any) -> str:
    """The part of a derived id that names the row's content: its callee(s) as digits.

    Normalised numbers (``+31612345610``, ``0031612345610``) give their digits without the
    ``+``/``00`` prefix; several callees are joined with ``_``; text that is not a number
    (an invalid row) is kept in id-safe characters.

    Examples
    --------
    >>> content_key("+31612345610")
    '31612345610'
    >>> content_key(["+31612345610", "0031612345611"])
    '31612345610_31612345611'
    >>> content_key("")
    'none'
    """
    items = callee if isinstance(callee, (list, tuple)) else str(callee or "").split(";")
    parts = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        digits = re.sub(r"\D", "", text)
        if digits and re.fullmatch(r"[+0-9 ()./-]+", text):
            parts.append(digits[2:] if text.startswith("00") else digits)
        else:
            parts.append(_ID_UNSAFE.sub("_", text)[:24])
    return "_".join(parts) or "none"


def number_content(value: Any) -> str:
    """:func:`content_key` of one value, quick for a normalised number (``+<digits>``, ``00<digits>``).

    Examples
    --------
    >>> number_content("+31612345610"), number_content("0031612345610"), number_content(["+3161", "+3162"])
    ('31612345610', '31612345610', '3161_3162')
    """
    if value.__class__ is str and value.isascii():
        if value[:1] == "+" and value[1:].isdigit():
            return value[1:]
        if value[:2] == "00" and value.isdigit():
            return value[2:]
    return content_key(value)


def derive_instruction_id(name: str, campaign_key: str, content: str, occurrence: int = 1, *,
                          max_length: int = MAX_ID_LENGTH) -> str:
    """Return the derived id ``f"{name}-{campaign_key}-{content}-{occurrence}"``, at most 64 characters.

    Characters outside ``A-Z a-z 0-9 . _ : -`` become ``_``. When the whole does not fit,
    a long content key (many callees) becomes 12 hex digits of its SHA-1, then the name is
    cut and ends in ``~`` plus 6 hex digits of a SHA-1 of the full name: the id stays unique
    and the same on every run.

    Examples
    --------
    >>> derive_instruction_id("spring", "7f3a9c2d", "31612345610")
    'spring-7f3a9c2d-31612345610-1'
    >>> derive_instruction_id("spring sale", "7f3a9c2d", "31612345610", 2)
    'spring_sale-7f3a9c2d-31612345610-2'
    >>> len(derive_instruction_id("x" * 80, "7f3a9c2d", "31612345610"))
    64
    """
    name = _ID_UNSAFE.sub("_", str(name))
    key = _ID_UNSAFE.sub("_", str(campaign_key))
    content = _ID_UNSAFE.sub("_", str(content))
    tail = f"-{key}-{content}-{int(occurrence)}"
    if len(tail) > max_length // 2:
        content = hashlib.sha1(content.encode("utf-8")).hexdigest()[:12]
        tail = f"-{key}-{content}-{int(occurrence)}"
    return with_hash(name, max_length - len(tail)) + tail


class IdMaker:
    """:func:`derive_instruction_id` for the many rows of one campaign: the name part is cut once per length.

    Examples
    --------
    >>> make = IdMaker("spring", "7f3a9c2d")
    >>> make("31612345610", 2) == derive_instruction_id("spring", "7f3a9c2d", "31612345610", 2)
    True
    """

    def __init__(self, name: str, campaign_key: str) -> None:
        self.name, self.key = name, campaign_key
        self._safe_name = _ID_UNSAFE.sub("_", str(name))
        self._safe_key = _ID_UNSAFE.sub("_", str(campaign_key))
        self._prefix: dict[int, str] = {}

    def __call__(self, content: str, occurrence: int) -> str:
        if not (content.isascii() and content.isdigit()):
            return derive_instruction_id(self.name, self.key, content, occurrence)
        tail = f"-{self._safe_key}-{content}-{occurrence}"
        if len(tail) > MAX_ID_LENGTH // 2:
            return derive_instruction_id(self.name, self.key, content, occurrence)
        prefix = self._prefix.get(len(tail))
        if prefix is None:
            prefix = self._prefix[len(tail)] = with_hash(self._safe_name, MAX_ID_LENGTH - len(tail))
        return prefix + tail


def derive_ids(name: str, campaign_key: str, contents: Any, occurrences: Any) -> Any:
    """:func:`derive_instruction_id` of many rows at once: a pyarrow text array of ids.

    *contents* is a pyarrow text array of content keys, *occurrences* a numpy array. Ids of
    digit content keys (normalised numbers: nearly every row) are joined column-wise, the name
    part cut once per length of the rest; any other row is derived on its own. Each id equals
    :class:`IdMaker`'s.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> derive_ids("spring", "7f3a9c2d", pa.array(["31612345610", "a b"]), np.array([2, 1])).to_pylist()
    ['spring-7f3a9c2d-31612345610-2', 'spring-7f3a9c2d-a_b-1']
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    make = IdMaker(name, campaign_key)
    contents = contents.cast(pa.large_string())
    n = len(contents)
    if not n:
        return pa.array([], type=pa.large_string())
    occurrences = np.asarray(occurrences, dtype=np.int64)
    text = pc.cast(pa.array(occurrences), pa.large_string())
    joiner = pa.scalar("", pa.large_string())
    tail = pc.binary_join_element_wise(pa.scalar(f"-{make._safe_key}-", pa.large_string()), contents,
                                       pa.scalar("-", pa.large_string()), text, joiner)
    length = pc.fill_null(pc.utf8_length(tail), 10 ** 6).to_numpy(zero_copy_only=False).astype(np.int64)
    digits = pc.fill_null(pc.match_substring_regex(contents, "^[0-9]+$"), False).to_numpy(zero_copy_only=False)
    fast = digits & (length <= MAX_ID_LENGTH // 2)
    sizes, which = np.unique(np.where(fast, length, 0), return_inverse=True)
    prefixes = pa.array([with_hash(make._safe_name, MAX_ID_LENGTH - int(s)) if s else "" for s in sizes],
                        type=pa.large_string())
    ids = pc.binary_join_element_wise(prefixes.take(which.ravel()), tail, joiner)
    slow = np.flatnonzero(~fast)
    if len(slow):
        values = contents.take(pa.array(slow)).to_pylist()
        made = [derive_instruction_id(name, campaign_key, str(c), int(o))
                for c, o in zip(values, occurrences[slow], strict=True)]
        where = np.zeros(n, dtype=bool)
        where[slow] = True
        ids = pc.replace_with_mask(ids, pa.array(where), pa.array(made, type=pa.large_string()))
    return ids
