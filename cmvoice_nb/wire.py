"""The bytes: how an instruction is written on the wire, hashed, numbered per wave, and read back.

Every place that writes or reads these forms calls this module, so they cannot drift apart:

* :func:`encode_body` — the request body the provider receives (UTF-8 JSON, non-ASCII as is);
* :func:`canonical_json` / :func:`instruction_hash` — a row's identity: who is called with what,
  keys sorted, without the delivery fields (:data:`DELIVERY_FIELDS`: a new ``callback-url`` is
  not a new instruction); :func:`legacy_instruction_hash` and :func:`same_instruction` accept
  the whole-wire hash journals wrote before;
* :func:`json_text` — one value as :func:`encode_body` or the canonical form writes it (used to
  fill a row's number and id into a template of its group's JSON);
* :func:`wave_instruction_id` / :func:`wave_of` — the ``-w<n>`` suffix of a follow-up wave's id,
  built and parsed here only;
* :func:`callee_numbers` — the numbers of a ``;``-joined callee cell.

Examples
--------
>>> encode_body({"callee": "+31612345610", "prompt": "Dag Anne"})
b'{"callee": "+31612345610", "prompt": "Dag Anne"}'
>>> canonical_json({"prompt": "é", "callee": "+31612345610", "callback-url": "https://example.org/cb"})
'{"callee":"+31612345610","prompt":"é"}'
>>> wave_instruction_id("spring-7f3a9c2d-31612345610-1", 2), wave_of("spring-7f3a9c2d-31612345610-1-w2")
('spring-7f3a9c2d-31612345610-1-w2', 2)
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["encode_body", "canonical_json", "instruction_hash", "legacy_instruction_hash", "same_instruction",
           "json_text", "DELIVERY_FIELDS", "wave_instruction_id", "wave_of", "WAVE_SUFFIX", "callee_numbers",
           "with_hash"]

#: Fields that say where results go, not whom to call with what: left out of a row's identity.
DELIVERY_FIELDS = ("callback-url",)
#: The suffix of a follow-up wave's instruction id (``-w2``); wave 1 has none.
WAVE_SUFFIX = re.compile(r"-w([1-9][0-9]*)$")
#: What :func:`json.dumps` escapes in a string with ``ensure_ascii=False``: text without it is quoted as is.
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\\"]')


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The bytes a wire dict is sent as: UTF-8 JSON, non-ASCII kept as is."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _canonical_text(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The text :func:`instruction_hash` hashes: keys sorted, no spaces, non-ASCII kept, delivery fields left out.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
    >>> canonical_json({"a": 1, "callback-url": "http://127.0.0.1:8001/"})
    '{"a":1}'
    """
    return _canonical_text({k: v for k, v in payload.items() if k not in DELIVERY_FIELDS})


def instruction_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of :func:`canonical_json` of an instruction's wire dict: the row's identity.

    Any change of who is called with what changes it; a new ``callback-url``
    (:data:`DELIVERY_FIELDS`) does not.

    Examples
    --------
    >>> instruction_hash({"b": 1, "a": 2}) == instruction_hash({"a": 2, "b": 1})
    True
    >>> instruction_hash({"a": 1, "callback-url": "http://127.0.0.1:8001/"}) == instruction_hash({"a": 1})
    True
    """
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def legacy_instruction_hash(payload: Mapping[str, Any]) -> str:
    """The hash journals before schema 4 stored: the whole wire dict, delivery fields included.

    A record whose payload was not stored (a pre-wave journal, a payload that held the token)
    keeps this hash; :func:`same_instruction` accepts it for an unchanged row.
    """
    return hashlib.sha256(_canonical_text(payload).encode("utf-8")).hexdigest()


def same_instruction(stored_hash: str | None, payload: bytes | None, current_hash: str | None) -> bool:
    """True when a record's *stored_hash* names the row whose wire bytes are *payload* (hash *current_hash*).

    Either the identity hash matches, or (a record kept from before schema 4, not rehashed)
    the old whole-wire hash of the same payload does.
    """
    if stored_hash is None or stored_hash == current_hash:
        return True
    if payload is None:
        return False
    try:
        wire = json.loads(payload)
    except (ValueError, TypeError):
        return False
    return isinstance(wire, dict) and stored_hash == legacy_instruction_hash(wire)


def json_text(value: Any, *, canonical: bool) -> str:
    """*value* as :func:`canonical_json` (``canonical=True``) or :func:`encode_body` writes it.

    Examples
    --------
    >>> json_text("+31612345610", canonical=True), json_text(["a", "b"], canonical=True)
    ('"+31612345610"', '["a","b"]')
    >>> json_text(["a"], canonical=False)
    '["a"]'
    """
    if isinstance(value, str) and not _NEEDS_ESCAPE.search(value):
        return '"' + value + '"'
    if canonical:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return json.dumps(value, ensure_ascii=False)


def with_hash(text: str, room: int) -> str:
    """*text* cut to *room* characters, ending in ``~`` and 6 hex digits of its SHA-1 when it had to be cut.

    Examples
    --------
    >>> with_hash("short", 10), with_hash("x" * 20, 10)
    ('short', 'xxx~d02e53')
    """
    if len(text) <= room:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
    return f"{text[: max(0, room - len(digest) - 1)]}~{digest}" if room > len(digest) else digest[:room]


def wave_instruction_id(base_id: str, wave: int, *, max_length: int | None = None) -> str:
    """The instruction id of a row's attempt in *wave*: the row's own id in wave 1, ``<id>-w<wave>`` after.

    A long id is cut (ending in ``~`` and 6 hex digits of its SHA-1) so the whole stays within
    the contract's 64 characters, and the same on every run.

    Examples
    --------
    >>> wave_instruction_id("spring-7f3a9c2d-31612345610-1", 1)
    'spring-7f3a9c2d-31612345610-1'
    >>> wave_instruction_id("spring-7f3a9c2d-31612345610-1", 2)
    'spring-7f3a9c2d-31612345610-1-w2'
    >>> len(wave_instruction_id("x" * 64, 3))
    64
    """
    from .spec import INSTRUCTION_ID_MAX_LENGTH

    limit = INSTRUCTION_ID_MAX_LENGTH if max_length is None else max_length
    wave = int(wave)
    if wave < 1:
        raise ValueError(f"a wave is 1 or more, got {wave}")
    if wave == 1:
        return str(base_id)
    tail = f"-w{wave}"
    return with_hash(str(base_id), limit - len(tail)) + tail


def wave_of(instruction_id: Any) -> int:
    """The wave an instruction id belongs to: the number of its ``-w<n>`` suffix, 1 without one.

    Examples
    --------
    >>> wave_of("spring-7f3a9c2d-31612345610-1"), wave_of("spring-7f3a9c2d-31612345610-1-w3"), wave_of(None)
    (1, 3, 1)
    """
    match = WAVE_SUFFIX.search(instruction_id) if isinstance(instruction_id, str) else None
    return int(match.group(1)) if match else 1


def callee_numbers(callee: str | None) -> list[str]:
    """The numbers of a callee cell (``;``-separated for multi-callee rows), without blanks.

    Examples
    --------
    >>> callee_numbers("+31612345610; +31612345611;"), callee_numbers(None)
    (['+31612345610', '+31612345611'], [])
    """
    return [n.strip() for n in (callee or "").split(";") if n.strip()]
