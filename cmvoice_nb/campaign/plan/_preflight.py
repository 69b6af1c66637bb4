"""Preflight: check every row's uploaded audio and OTP spelling set against a local mirror.

Runs after the rows are planned and before anything is sent: a ``File`` prompt must exist
under ``audio_root`` and pass :func:`cmvoice_nb.audio.check_prompt`; an OTP with
``code-type: Custom`` needs ``spelling/<locale>/<char>.wav`` for each character of its code.
What is wrong becomes a problem of that row, never an exception: :func:`preflight` returns them
(``(row position, problem)``) for the planner to add.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from ...errors import CampaignError
from ...instructions import Problem
from ...spec import DEFAULT_LANGUAGE

__all__ = ["preflight"]


def _prompt_path(root: Path, value: str) -> Path:
    # A File prompt is a path relative to the customer's folder root (contract: Custom audio).
    rel = PurePosixPath(str(value).replace("\\", "/").lstrip("/"))
    if any(part == ".." for part in rel.parts):
        raise ValueError("must not contain '..'")
    return root.joinpath(*rel.parts)


def preflight(spec: Any, rows: Any, *, audio_root: Any, spelling_root: Any) -> list[tuple[int, Problem]]:
    """A problem for every row whose ``File`` prompt or ``Custom`` spelling set is not usable.

    ``(position in rows, problem)``, in the order they are found. Each audio file is checked once
    however many rows use it; spelling sets are checked once per voice language.

    Raises
    ------
    CampaignError
        *audio_root* is given but is not a folder.
    """
    found: list[tuple[int, Problem]] = []
    if audio_root is not None:
        root = Path(audio_root)
        if not root.is_dir():
            raise CampaignError(f"audio_root {str(root)!r} is not a folder")
        checked: dict[Path, str | None] = {}
        for i, r in enumerate(rows):
            for key, value in r.prompt_files():
                try:
                    path = _prompt_path(root, value)
                except ValueError as exc:
                    found.append((i, Problem(key, value, f"File prompt path {exc}")))
                    continue
                if path not in checked:
                    checked[path] = _check_audio(path, root)
                problem = checked[path]
                if problem:
                    found.append((i, Problem(key, value, problem)))
    if spelling_root is not None and spec.name == "otp":
        root = Path(spelling_root)
        by_locale: dict[str, list[tuple[int, str]]] = {}
        for i, r in enumerate(rows):
            payload = r.wire()
            if payload is None or str(payload.get("code-type", "")).lower() != "custom":
                continue
            locale = str((payload.get("voice") or {}).get("language") or DEFAULT_LANGUAGE)
            by_locale.setdefault(locale, []).append((i, str(payload.get("code", ""))))
        for locale, members in by_locale.items():
            found += _check_spelling(root, locale, [i for i, _ in members], [code for _, code in members])
    return found


def _check_audio(path: Path, root: Path) -> str | None:
    """Return None when *path* is a compliant prompt, else what is wrong."""
    if not path.is_file():
        return f"File prompt not found under the audio root: {path}"
    from ...audio import check_prompt

    try:
        report = check_prompt(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a row problem, not a crash
        return f"File prompt {path} cannot be checked: {exc}"
    if getattr(report, "ok", False):
        return None
    details = "; ".join(str(p) for p in (getattr(report, "problems", None) or [])) or "not compliant"
    return f"File prompt {path} is not telephony audio: {details}"


def _check_spelling(root: Path, locale: str, members: list[int], codes: list[str]) -> list[tuple[int, Problem]]:
    from ...spelling import check_spelling_set

    try:
        report = check_spelling_set(root, locale=locale, codes=codes)
    except Exception as exc:  # noqa: BLE001 - a broken set is a row problem, not a crash
        return [(m, Problem("code-type", "Custom", f"spelling set for {locale} cannot be checked: {exc}"))
                for m in members]
    # Judge each row by the characters its own code needs: one bad file must not
    # invalidate codes that never use it.
    verdict: dict[str, str] = {}
    frame = getattr(report, "frame", None)
    if frame is not None and len(frame):
        for row in frame.reset_index().to_dict("records"):
            ch = row.get("char")
            if ch is not None and not bool(row.get("ok", False)) and (row.get("required", True) or row.get("present")):
                why = ("; ".join(map(str, row.get("problems") or []))
                       or ("missing" if not row.get("present") else "not compliant"))
                verdict[str(ch)] = why
    for ch in getattr(report, "missing", None) or []:
        verdict.setdefault(str(ch).lower(), "missing")
    found = []
    for m, code in zip(members, codes, strict=True):
        bad = [ch for ch in dict.fromkeys(code.lower()) if ch in verdict]
        if bad:
            details = "; ".join(f"{ch}.wav: {verdict[ch]}" for ch in bad[:5])
            found.append((m, Problem("code", code, f"Custom code needs spelling/{locale}/ files that are missing "
                                                   f"or not compliant under {root}: {details}")))
    return found
