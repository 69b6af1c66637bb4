"""Validate an OTP spelling set ``spelling/<locale>/<char>.wav`` before it is uploaded.

A missing or bad file means a caller hears a gap in their password, so the
check covers: the locale's form (and whether the provider has a voice for it),
every expected character (present, compliant per the audio checker, duration,
loudness), the characters the given codes need, stray entries the provider
would never play (``A.wav``, ``a.mp3``, ``zero.wav``, ``notes.txt``, sub-folders),
and consistency across the set (loudness spread, duration outliers).

Set-level findings are split into ``problems`` (the set would misbehave on a
call; the CLI exits 1) and ``warnings`` (worth a look).
"""
from __future__ import annotations

import html
import logging
import math
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _audio
from .names import (
    DEFAULT_CHARS,
    char_for_name,
    is_audio_name,
    locale_problem,
    normalize_chars,
    provider_voice,
    split_name,
)

logger = logging.getLogger(__name__)

#: Loudness spread across the set (LU, ITU-R BS.1770) above which the check warns, and fails.
SPREAD_WARN_DB = 3.0
SPREAD_FAIL_DB = 6.0
#: A character this far (LU) from the set's median loudness gets a row warning.
LOUDNESS_OUTLIER_DB = 3.0
#: Silence before/after the speech (s) that makes the caller wait noticeably.
SILENCE_WARN_S = 0.5
#: A single spoken character longer than this (s) slows every code down.
LONG_CHAR_S = 2.0
#: Speech quieter than this (dBFS) counts as no speech at all.
SILENT_DBFS = -50.0

COLUMNS = ["char", "file", "required", "present", "compliant", "ok", "problems", "warnings",
           "duration_s", "rms_dbfs", "peak_dbfs", "loudness_dbfs", "loudness_lufs"]


def resolve_folder(root_or_dir: str | os.PathLike, locale: str) -> Path:
    """The ``spelling/<locale>`` folder meant by *root_or_dir*.

    Accepts the upload root (holding ``spelling/<locale>/``), the ``spelling``
    folder, or the locale folder itself. Returns ``root/spelling/<locale>``
    (possibly missing) when none of them exists.
    """
    p = Path(root_or_dir)
    candidates = [p / "spelling" / locale]
    if p.name == "spelling":
        candidates.append(p / locale)
    if p.name == locale:
        candidates.append(p)
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def classify_entry(name: str, *, is_dir: bool = False) -> tuple[str | None, str | None]:
    """Return ``(char, None)`` for a file the provider plays, else ``(None, reason)``.

    Examples
    --------
    >>> classify_entry("a.wav")
    ('a', None)
    >>> classify_entry("A.wav")[1]
    "upper-case name: rename it to 'a.wav' (the provider's file names are lower case)"
    >>> classify_entry("7.mp3")[1]
    "not a WAV file: convert it to '7.wav' (build_spelling_set or 'cmvoice spelling build')"
    """
    if is_dir:
        return None, "sub-folder: the provider only reads <char>.wav directly in spelling/<locale>/ — move or remove it"
    stem, ext = split_name(name)
    if ext == "wav" and name == f"{stem}.wav" and len(stem) == 1 and stem in DEFAULT_CHARS:
        return stem, None
    char = char_for_name(name) if is_audio_name(name) else None
    if char is not None:
        want = f"{char}.wav"
        if ext in ("wav", "wave") and name.lower() == want:
            return None, f"upper-case name: rename it to {want!r} (the provider's file names are lower case)"
        if ext not in ("wav", "wave"):
            return None, f"not a WAV file: convert it to {want!r} (build_spelling_set or 'cmvoice spelling build')"
        return None, f"not the provider's name for {char!r}: rename it to {want!r}"
    return None, "names no character: the provider plays only 0.wav-9.wav and a.wav-z.wav — remove it"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _json_safe(value.item())
    return value


@dataclass
class SpellingCheckReport:
    """The verdict on one spelling set.

    Attributes
    ----------
    locale, folder
        What was checked.
    rows
        One dict per expected character (see :attr:`frame`).
    missing
        Required characters without a file.
    stray
        ``[{"name": ..., "reason": ...}]`` entries the provider would never play.
    problems, warnings
        Set-level findings, each a plain sentence with the fix.
    provider_voice
        Whether the provider has a TTS voice for the locale (None: unknown).
    files
        ``{char: path}`` of every character file in the folder, expected or not
        (what :func:`~cmvoice_nb.spelling.pack.pack_spelling_set` packs).
    loudness_spread_db
        Loudest minus quietest character in LU (ITU-R BS.1770 integrated loudness, 0.2 s
        blocks: what a listener hears), NaN when fewer than two.
    """

    locale: str
    folder: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stray: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    provider_voice: bool | None = None
    loudness_spread_db: float = float("nan")
    codes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the set has no problems (warnings allowed)."""
        return not self.problems

    @property
    def frame(self):
        """One row per expected character (indexed by it): char, file, required, present, compliant, ok,
        problems, warnings, duration_s, rms_dbfs, peak_dbfs, loudness_dbfs (RMS of the speech only),
        loudness_lufs (ITU-R BS.1770, 0.2 s blocks; the set's spread is measured on it)."""
        import pandas as pd

        frame = pd.DataFrame(self.rows, columns=COLUMNS)
        # Indexed by character for frame.loc["7"], and "char" stays a column (an unnamed
        # index avoids pandas' "both an index level and a column label" ambiguity).
        frame.index = pd.Index(frame["char"].tolist())
        return frame

    @property
    def present(self) -> list[str]:
        return [r["char"] for r in self.rows if r["present"]]

    @property
    def summary(self) -> str:
        """One line: the verdict and the counts."""
        n = len(self.rows)
        present = sum(r["present"] for r in self.rows)
        compliant = sum(bool(r["compliant"]) for r in self.rows)
        spread = "n/a" if math.isnan(self.loudness_spread_db) else f"{self.loudness_spread_db:.1f} LU"
        verdict = "OK" if self.ok else f"{len(self.problems)} problem(s)"
        return (f"{self.locale}: {verdict} — {present}/{n} characters present, {compliant} compliant, "
                f"{len(self.missing)} missing, {len(self.stray)} stray, loudness spread {spread}, "
                f"{len(self.warnings)} warning(s)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the CLI's ``--json``): ok, locale, folder, missing, problems, warnings,
        stray, provider_voice, loudness_spread_db and one entry per character."""
        chars = [{k: _json_safe(v) for k, v in r.items()} for r in self.rows]
        return {
            "ok": self.ok,
            "locale": self.locale,
            "folder": str(self.folder),
            "missing": list(self.missing),
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "stray": [dict(s) for s in self.stray],
            "provider_voice": self.provider_voice,
            "loudness_spread_db": _json_safe(self.loudness_spread_db),
            "characters": chars,
        }

    def __repr__(self) -> str:
        return f"<SpellingCheckReport {self.summary}>"

    def _status(self, r: dict[str, Any]) -> str:
        if r["ok"]:
            return "ok"
        if not r["present"]:
            return "missing" if r["required"] else "not needed"
        return "problem"

    def _repr_html_(self) -> str:
        import pandas as pd

        from .._tables import notes_html, to_html

        frame = pd.DataFrame({
            "char": [r["char"] for r in self.rows],
            "status": [self._status(r) for r in self.rows],
            "compliant": [r["compliant"] for r in self.rows],
            "duration_s": [r["duration_s"] for r in self.rows],
            "loudness_lufs": [r.get("loudness_lufs") for r in self.rows],
            "problems": [r["problems"] for r in self.rows],
            "warnings": [r["warnings"] for r in self.rows],
        })
        verdict = (f"<div style='color:{'#1a7f37' if self.ok else '#cf222e'}'><b>{html.escape(self.summary)}</b>"
                   f" <code>{html.escape(str(self.folder))}</code></div>")
        # One player, never one per character: the first code to send when it can be spelled,
        # else the characters that passed.
        ok_chars = [r["char"] for r in self.rows if r["ok"]]
        code = next((c.lower() for c in self.codes[:1] if c and set(c.lower()) <= set(ok_chars)), None)
        said, player = _audio.preview_player(self.folder, code if code else ok_chars)
        listen = (f"<div>Listen to <code>{html.escape(said)}</code> spelled from the set: {player}</div>"
                  if player else "")
        return (verdict + notes_html(self.problems, title="Problems", colour="#cf222e")
                + notes_html(self.warnings, title="Warnings", colour="#9a6700")
                + to_html(frame, max_rows=None) + listen)


def _link_target(path: Path) -> str:
    try:
        return repr(os.readlink(path))
    except OSError:
        return "an unreadable target"


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _check_file(path: Path, char: str) -> dict[str, Any]:
    """Row for one present character file: the audio checker's verdict plus our own measures."""
    row: dict[str, Any] = {"compliant": False, "problems": [], "warnings": [], "duration_s": None,
                           "rms_dbfs": None, "peak_dbfs": None, "loudness_dbfs": None, "loudness_lufs": None}
    try:
        report = _audio.check_prompt(path, name=path.name)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the check
        row["problems"].append(f"cannot be checked: {exc}")
        return row
    row["compliant"] = bool(report.ok)
    row["problems"].extend(report.problems)
    row["warnings"].extend(report.warnings)
    row["duration_s"] = report.duration_s
    row["rms_dbfs"] = _round(report.rms_dbfs)
    row["peak_dbfs"] = _round(report.peak_dbfs)
    try:
        samples, rate = _audio.read_wav_samples(_audio.read_regular(path))
        mono = _audio.to_mono_8k(samples, rate) if getattr(samples, "ndim", 1) > 1 or rate != _audio.RATE else samples
        if len(mono):
            row["loudness_dbfs"] = round(_audio.active_rms_dbfs(mono, _audio.RATE), 2)
            lufs = _audio.loudness_lufs(mono, _audio.RATE)
            row["loudness_lufs"] = round(lufs, 2) if math.isfinite(lufs) else None
    except Exception as exc:  # noqa: BLE001 - the checker already said why it cannot be read
        logger.debug("cannot measure %s: %s", path, exc)
    loud = row["loudness_dbfs"]
    if loud is not None and loud < SILENT_DBFS:
        row["problems"].append(
            f"no audible speech (speech loudness {loud:.1f} dBFS) — the caller would hear a gap for {char!r}; "
            "record it again"
        )
    lead, trail = getattr(report, "leading_silence_s", None), getattr(report, "trailing_silence_s", None)
    if lead is not None and lead > SILENCE_WARN_S:
        row["warnings"].append(f"{lead:.2f} s of silence before the speech — trim it (build_spelling_set trims)")
    if trail is not None and trail > SILENCE_WARN_S:
        row["warnings"].append(f"{trail:.2f} s of silence after the speech — trim it")
    if row["duration_s"] is not None and row["duration_s"] > LONG_CHAR_S:
        row["warnings"].append(f"{row['duration_s']:.2f} s is long for one character; every code gets slower")
    return row


def check_spelling_set(
    root_or_dir: str | os.PathLike,
    *,
    locale: str,
    codes: Iterable[str] | str | None = None,
    chars: str | None = None,
) -> SpellingCheckReport:
    """Check a spelling set against the provider's rules and for consistency.

    Parameters
    ----------
    root_or_dir
        The upload root holding ``spelling/<locale>/``, the ``spelling`` folder,
        or the locale folder itself.
    locale
        Five characters ``xx-XX``; also the folder name.
    codes
        OTP codes you will send (one string or several). Only their characters
        are then required; codes are lower-cased first, because the provider's
        files are lower case.
    chars
        The characters the set should cover (default ``0-9a-z``). Every one of
        them gets a row (and so does any other character file present, since it
        would be uploaded too); without *codes* every one is required.

    Returns
    -------
    SpellingCheckReport
        ``.ok``, ``.frame``, ``.missing``, ``.stray``, ``.problems``,
        ``.warnings``, ``.summary``, ``.to_dict()``.

    Examples
    --------
    >>> import tempfile
    >>> report = check_spelling_set(tempfile.mkdtemp(), locale="en-GB", codes=["12ab"])
    >>> report.ok, report.missing
    (False, ['1', '2', 'a', 'b'])
    """
    problems: list[str] = []
    warnings: list[str] = []
    lp = locale_problem(locale)
    if lp:
        # The locale names a folder: one that is not exactly xx-XX is never joined into a path.
        problems.append(lp)
        return SpellingCheckReport(locale=str(locale), folder=Path(root_or_dir), problems=problems)
    else:
        voice = provider_voice(locale)
        if voice is False:
            warnings.append(
                f"the provider has no TTS voice for {locale}; the OTP call's voice language names the "
                "spelling folder, so check that calls can select this locale"
            )
    folder = resolve_folder(root_or_dir, str(locale))

    if isinstance(codes, str):
        codes = [codes]
    code_list = [str(c) for c in codes] if codes is not None else []
    expected = normalize_chars(chars) if chars is not None else DEFAULT_CHARS
    required: list[str] = []
    unspellable: dict[str, list[str]] = {}
    for code in code_list:
        for ch in code.lower():
            if ch in DEFAULT_CHARS:
                if ch not in required:
                    required.append(ch)
            else:
                unspellable.setdefault(code, []).append(ch)
    for code, bad in unspellable.items():
        problems.append(
            f"code {code!r} has {', '.join(repr(b) for b in dict.fromkeys(bad))}, which no spelling file can "
            "read (the provider's files are 0-9 and a-z)"
        )
    if codes is None:
        required = list(expected)
    row_chars = list(expected) + sorted(c for c in required if c not in expected)

    stray: list[dict[str, str]] = []
    found: dict[str, Path] = {}
    links: dict[str, Path] = {}
    if not folder.is_dir():
        hint = ""
        parent = folder.parent
        if parent.is_dir():
            others = sorted(p.name for p in parent.iterdir() if p.is_dir())
            near = [o for o in others if o.lower() == str(locale).lower()]
            if near:
                hint = f" (found {near[0]!r}: the folder name must be exactly {locale!r})"
            elif others:
                hint = f" (found: {', '.join(others)})"
        problems.append(f"no spelling folder {folder}{hint}")
    else:
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                warnings.append(f"hidden entry {entry.name!r} ignored (it is not packed) — "
                                "remove it before uploading by hand")
                continue
            if entry.is_symlink():
                # Never followed: a link could point anywhere (a.wav -> /etc/passwd).
                char, _ = classify_entry(entry.name)
                links[char or entry.name] = entry
                if char is None:
                    stray.append({"name": entry.name, "reason": "symbolic link: the set must hold the recordings "
                                                                "themselves — remove it"})
                    continue
            else:
                char, reason = classify_entry(entry.name, is_dir=entry.is_dir())
            if char is not None:
                found[char] = entry
                if char not in row_chars:
                    # A character file outside chars/codes is still uploaded: check it too.
                    row_chars.append(char)
            else:
                stray.append({"name": entry.name, "reason": reason or ""})  # a reason whenever no char
    for s in stray:
        problems.append(f"stray {s['name']!r}: {s['reason']}")

    rows: list[dict[str, Any]] = []
    for char in row_chars:
        path = found.get(char, folder / f"{char}.wav")
        row: dict[str, Any] = {"char": char, "file": str(path), "required": char in required,
                               "present": char in found}
        if char in links:
            row.update({"compliant": False, "warnings": [], "duration_s": None, "rms_dbfs": None,
                        "peak_dbfs": None, "loudness_dbfs": None, "loudness_lufs": None,
                        "problems": [f"{path.name} is a symbolic link (to {_link_target(path)}), not a recording; "
                                     "it is not read and never packed — copy the real file in its place"]})
        elif char in found:
            row.update(_check_file(path, char))
        else:
            row.update({"compliant": None, "problems": [], "warnings": [], "duration_s": None,
                        "rms_dbfs": None, "peak_dbfs": None, "loudness_dbfs": None, "loudness_lufs": None})
            if row["required"]:
                row["problems"].append(f"missing: {char}.wav")
        row["ok"] = bool(row["present"] and row["compliant"] and not row["problems"])
        rows.append(row)

    missing = [r["char"] for r in rows if r["required"] and not r["present"]]
    if missing:
        need = f" by the code(s) {', '.join(code_list)}" if codes is not None else ""
        problems.append(
            f"{len(missing)} character(s) needed{need} have no file: {' '.join(missing)} — "
            "a caller would hear a gap; add " + ", ".join(f"{c}.wav" for c in missing)
        )
    failing = [r for r in rows if r["present"] and not r["ok"]]
    for r in failing:
        problems.append(f"{Path(r['file']).name}: " + "; ".join(r["problems"] or ["not compliant"]))

    spread = _consistency(rows, problems, warnings)
    report = SpellingCheckReport(locale=str(locale), folder=folder, rows=rows, missing=missing, stray=stray,
                                 problems=problems, warnings=warnings, provider_voice=voice,
                                 loudness_spread_db=spread, codes=code_list,
                                 files=dict(sorted(found.items())))
    logger.info("%s", report.summary)
    return report


def _consistency(rows: list[dict[str, Any]], problems: list[str], warnings: list[str]) -> float:
    """Loudness spread and duration outliers across the present characters; returns the spread (dB)."""
    # BS.1770 loudness: the spread a listener hears (a plain RMS misjudges "s" against "o").
    loud = {r["char"]: r["loudness_lufs"] for r in rows
            if r["present"] and r.get("loudness_lufs") is not None and r["loudness_dbfs"] is not None
            and r["loudness_dbfs"] >= SILENT_DBFS}
    spread = float("nan")
    if len(loud) >= 2:
        hi = max(loud, key=lambda c: loud[c])
        lo = min(loud, key=lambda c: loud[c])
        spread = round(loud[hi] - loud[lo], 2)
        median = statistics.median(loud.values())
        for r in rows:
            if r["char"] in loud and abs(loud[r["char"]] - median) > LOUDNESS_OUTLIER_DB:
                diff = loud[r["char"]] - median
                r["warnings"].append(f"{abs(diff):.1f} LU {'louder' if diff > 0 else 'quieter'} than the set's median")
        msg = (f"loudness differs by {spread:.1f} LU across the set (BS.1770: loudest {hi!r} {loud[hi]:.1f} LUFS, "
               f"quietest {lo!r} {loud[lo]:.1f} LUFS) — a caller hears some characters louder; rebuild with "
               "build_spelling_set to level them")
        if spread > SPREAD_FAIL_DB:
            problems.append(msg)
        elif spread > SPREAD_WARN_DB:
            warnings.append(msg)
    durations = {r["char"]: r["duration_s"] for r in rows if r["present"] and r["duration_s"]}
    if len(durations) >= 3:
        median = statistics.median(durations.values())
        odd = []
        for r in rows:
            d = durations.get(r["char"])
            if d is None:
                continue
            if (d > 2 * median or d < 0.5 * median) and abs(d - median) > 0.2:
                r["warnings"].append(f"{d:.2f} s against the set's median {median:.2f} s")
                odd.append(f"{r['char']} ({d:.2f} s)")
        if odd:
            warnings.append(f"duration outliers against the median {median:.2f} s: {', '.join(odd)} — "
                            "check for a cut-off or a second take")
    return spread


__all__ = ["SpellingCheckReport", "check_spelling_set", "classify_entry", "resolve_folder"]
