"""Build a compliant OTP spelling set ``root/spelling/<locale>/<char>.wav``.

Three ways in — a folder of per-character recordings, one recording of the
whole sequence read with pauses, or the text-to-speech engine on this machine —
and one way out: every character trimmed to its speech with a little padding,
brought to the same loudness, and written as the provider's telephony WAV
(8 kHz mono G.711 A-law by default; contract, "Custom audio").

The pure steps (:func:`trim_to_speech`, :func:`level_clips`,
:func:`assign_segments`) work on float64 arrays; :func:`build_spelling_set` is
the I/O edge. Nothing is written until every character has been prepared, so
a refused build leaves the destination exactly as it was.
"""
from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._fsutil import atomic_write_bytes, same_file
from ..errors import SpellingSetError
from . import _audio
from .names import DEFAULT_CHARS, assign_files, normalize_chars, require_locale

logger = logging.getLogger(__name__)

RATE = _audio.RATE


class SpellingBuildError(SpellingSetError):
    """A spelling set could not be built; the attributes list everything that stood in the way.

    Attributes
    ----------
    unmapped
        Audio files whose names spell no character.
    conflicts
        ``{char: [files]}`` for characters claimed by several files.
    missing
        Requested characters without a source.
    segments_s
        ``[(start_s, stop_s), ...]`` found in a single recording whose segment
        count did not match the characters.
    failures
        ``{char: reason}`` for sources that could not be decoded or hold no speech.
    existing
        Destination files that exist (pass ``overwrite=True`` to replace them).
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.unmapped: list[str] = list(details.get("unmapped", ()))
        self.conflicts: dict[str, list[str]] = dict(details.get("conflicts", {}))
        self.missing: list[str] = list(details.get("missing", ()))
        self.segments_s: list[tuple[float, float]] = list(details.get("segments_s", ()))
        self.failures: dict[str, str] = dict(details.get("failures", {}))
        self.existing: list[str] = list(details.get("existing", ()))


@dataclass
class Clip:
    """One character's audio on its way into the set (mono, 8 kHz float64)."""

    char: str
    source: str
    samples: np.ndarray
    source_path: Path | None = None


# --- pure core --------------------------------------------------------------------

def trim_to_speech(
    x: np.ndarray, samplerate: int, *, threshold_dbfs: float = -45.0, padding_s: float = 0.1
) -> np.ndarray:
    """Cut *x* to its speech plus exactly *padding_s* of silence on each side.

    Where the recording has less than *padding_s* before or after the speech,
    digital silence is added, so every character starts and ends the same way.

    Raises
    ------
    SpellingSetError
        When nothing in *x* is louder than *threshold_dbfs*.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(800) / 8000
    >>> x = np.concatenate([np.zeros(4000), 0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(4000)])
    >>> round(len(trim_to_speech(x, 8000, padding_s=0.1)) / 8000, 2)
    0.3
    """
    x = np.asarray(x, dtype=np.float64)
    start, stop = _audio.speech_bounds(x, samplerate, threshold_dbfs=threshold_dbfs)
    if stop <= start:
        raise SpellingSetError(
            f"no speech louder than {threshold_dbfs:g} dBFS (peak {_audio.peak_dbfs(x):.1f} dBFS) — "
            "record it again or lower threshold_dbfs"
        )
    pad = int(round(padding_s * samplerate))
    lo, hi = start - pad, stop + pad
    body = x[max(lo, 0): min(hi, len(x))]
    before = np.zeros(max(0, -lo))
    after = np.zeros(max(0, hi - len(x)))
    return np.concatenate([before, body, after])


def level_clips(
    clips: Sequence[np.ndarray],
    samplerate: int,
    *,
    target_dbfs: float = -20.0,
    peak_limit_dbfs: float = -1.0,
) -> tuple[list[np.ndarray], float]:
    """Bring every clip to one loudness, as listeners hear it; return ``(new clips, level_lufs)``.

    Each clip's loudness is its ITU-R BS.1770 integrated loudness in LUFS
    (:func:`~cmvoice_nb.spelling._audio.loudness_lufs`: K-weighted, gated, 0.2 s blocks
    fit for clips under a second), not a plain RMS: an "s" and an "o" at the same RMS do
    not sound equally loud. Clips go to *target_dbfs* (read as LUFS; dB relative to full
    scale, K-weighted) unless their peak would pass *peak_limit_dbfs*; when any clip is
    held back that way, all of them go to the level of the quietest, because a caller must
    hear every character equally loud. The inputs are not modified. BS.1770's own gates
    decide what counts as speech: no threshold is needed.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(2400) / 8000
    >>> quiet, loud = 0.01 * np.sin(2 * np.pi * 300 * t), 0.5 * np.sin(2 * np.pi * 2500 * t)
    >>> out, level = level_clips([quiet, loud], 8000, target_dbfs=-20)
    >>> [round(_audio.loudness_lufs(c, 8000), 1) for c in out], round(level, 1)
    ([-20.0, -20.0], -20.0)
    """
    current = [np.asarray(c, dtype=np.float64) for c in clips]
    level = target_dbfs
    # BS.1770's gates are relative to the clip's own loudness, so a gain moves the loudness
    # by exactly the gain (the absolute gate at -70 LUFS aside); a second pass confirms it.
    for _ in range(3):
        levels = [_audio.loudness_lufs(c, samplerate) for c in current]
        peaks = [_audio.peak_dbfs(c) for c in current]
        reachable = [min(target_dbfs, lvl + (peak_limit_dbfs - pk)) for lvl, pk in zip(levels, peaks, strict=True)
                     if np.isfinite(lvl)]
        level = min(reachable) if reachable else target_dbfs
        if all(abs(lvl - level) < 0.01 for lvl in levels if np.isfinite(lvl)):
            break
        current = [c * 10 ** ((level - lvl) / 20.0) if np.isfinite(lvl) else c
                   for c, lvl in zip(current, levels, strict=True)]
    return current, float(level)


def assign_segments(
    bounds: Sequence[tuple[int, int]], chars: str, samplerate: int
) -> list[tuple[str, int, int]]:
    """Pair segments with characters in order; refuse when the counts differ.

    Raises
    ------
    SpellingBuildError
        With :attr:`~SpellingBuildError.segments_s` holding every segment's
        boundaries in seconds and advice on which knob to turn.

    Examples
    --------
    >>> assign_segments([(0, 800), (1600, 2400)], "ab", 8000)
    [('a', 0, 800), ('b', 1600, 2400)]
    """
    seconds = [(round(a / samplerate, 3), round(b / samplerate, 3)) for a, b in bounds]
    if len(bounds) == len(chars):
        return [(c, int(a), int(b)) for c, (a, b) in zip(chars, bounds, strict=True)]
    listing = ", ".join(f"{i + 1}: {a:.2f}-{b:.2f} s" for i, (a, b) in enumerate(seconds)) or "none"
    if len(bounds) > len(chars):
        advice = ("a character was split in two or noise counted as speech — raise min_silence_s "
                  "or raise threshold_dbfs (e.g. -40)")
    else:
        advice = ("characters ran together — lower min_silence_s or lower threshold_dbfs (e.g. -50), "
                  "or record longer pauses")
    raise SpellingBuildError(
        f"found {len(bounds)} segment(s) for {len(chars)} character(s) ({chars}); {advice}. "
        f"Segments: {listing}",
        segments_s=seconds,
    )


# --- the report ---------------------------------------------------------------------

@dataclass
class SpellingBuildReport:
    """What :func:`build_spelling_set` wrote: one row per character, source → target.

    Attributes
    ----------
    locale, folder, route
        The set's locale, the folder written (``root/spelling/<locale>``) and
        how it was built (``"folder"``, ``"recording"`` or ``"tts"``).
    rows
        One dict per character: ``char``, ``source``, ``target``, ``duration_s``,
        ``loudness_dbfs`` (speech-only RMS), ``loudness_lufs`` (ITU-R BS.1770, 0.2 s
        blocks: what the set is levelled by), ``gain_db``.
    level_lufs
        The common BS.1770 loudness every character was brought to.
    notes
        Things worth knowing that did not stop the build (ignored files, a TTS
        language fallback).
    """

    locale: str
    root: Path
    folder: Path
    route: str
    chars: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    level_lufs: float = float("nan")
    notes: list[str] = field(default_factory=list)

    @property
    def frame(self):
        """The rows as a pandas DataFrame indexed by character."""
        import pandas as pd

        cols = ["char", "source", "target", "duration_s", "loudness_dbfs", "loudness_lufs", "gain_db"]
        frame = pd.DataFrame(self.rows, columns=cols)
        # Indexed by character for frame.loc["7"], and "char" stays a column (an unnamed
        # index avoids pandas' "both an index level and a column label" ambiguity).
        frame.index = pd.Index(frame["char"].tolist())
        return frame

    @property
    def files(self) -> dict[str, Path]:
        """``{char: written path}``."""
        return {r["char"]: Path(r["target"]) for r in self.rows}

    def check(self, **kwargs: Any):
        """Validate the set just written (see :func:`check_spelling_set`)."""
        from .check import check_spelling_set

        kwargs.setdefault("chars", self.chars)
        return check_spelling_set(self.root, locale=self.locale, **kwargs)

    def __repr__(self) -> str:
        return (f"<SpellingBuildReport {self.locale} route={self.route} {len(self.rows)} characters "
                f"at {self.level_lufs:.1f} LUFS → {self.folder}>")

    def _repr_html_(self) -> str:
        import pandas as pd

        from .._tables import notes_html, to_html

        frame = pd.DataFrame({
            "char": [r["char"] for r in self.rows],
            "source": [r["source"] for r in self.rows],
            "file": [Path(r["target"]).name for r in self.rows],
            "duration_s": [r["duration_s"] for r in self.rows],
            "loudness_lufs": [r["loudness_lufs"] for r in self.rows],
            "gain_db": [r["gain_db"] for r in self.rows],
        })
        caption = (f"Spelling set {self.locale}: {len(self.rows)} characters from {self.route}, "
                   f"{self.level_lufs:.1f} LUFS (BS.1770), written to {self.folder}")
        # One player spelling a few characters, never one per character (a wall of 36 players).
        code, player = _audio.preview_player(self.folder, [r["char"] for r in self.rows])
        listen = (f"<div>Listen to <code>{html.escape(code)}</code> as the provider will spell it: {player}</div>"
                  if player else "")
        return to_html(frame, caption=caption, failures_first=False, max_rows=None) + notes_html(self.notes) + listen


# --- sources ------------------------------------------------------------------------

def _progress(iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def _clips_from_folder(folder: Path, chars: str, mapping: Mapping[str, str] | None, *,
                       progress: bool) -> tuple[list[Clip], dict[str, str], list[str]]:
    entries = sorted(folder.iterdir())
    subfolders = [p.name for p in entries if p.is_dir()]
    names = [p.name for p in entries if p.is_file()]
    assignment = assign_files(names, chars=chars, mapping=mapping)
    if not assignment.ok:
        raise SpellingBuildError(
            f"{folder}: cannot map the files onto characters unambiguously: " + "; ".join(assignment.describe()),
            unmapped=assignment.unmapped, conflicts=assignment.conflicts, missing=assignment.missing,
        )
    notes = []
    if assignment.ignored:
        notes.append(f"ignored non-audio entries: {', '.join(assignment.ignored)}")
    if subfolders:
        notes.append(f"ignored sub-folders: {', '.join(subfolders)}")
    if assignment.outside:
        notes.append("not in chars, skipped: " + ", ".join(f"{n} ({c})" for n, c in assignment.outside.items()))
    clips: list[Clip] = []
    failures: dict[str, str] = {}
    for char in _progress(chars, total=len(chars), desc="decoding", enabled=progress):
        path = folder / assignment.files[char]
        try:
            samples, rate = _audio.load_audio(path)
            clips.append(Clip(char, path.name, _audio.to_mono_8k(samples, rate), path))
        except Exception as exc:  # noqa: BLE001 - every bad file is reported, none stops the batch
            failures[char] = f"{path.name}: {exc}"
    return clips, failures, notes


def _clips_from_recording(samples: np.ndarray, rate: int, label: str, chars: str, *,
                          threshold_dbfs: float, min_silence_s: float,
                          min_segment_s: float) -> list[Clip]:
    x = _audio.to_mono_8k(samples, rate)
    bounds = _audio.split_on_silence(x, RATE, min_silence_s=min_silence_s, threshold_dbfs=threshold_dbfs,
                                     min_segment_s=min_segment_s)
    pairs = assign_segments(bounds, chars, RATE)
    # Give each segment the surrounding audio up to half-way to its neighbours, so
    # trimming finds the true speech edges (split_on_silence may cut tight).
    clips = []
    for i, (char, a, b) in enumerate(pairs):
        lo = 0 if i == 0 else (pairs[i - 1][2] + a) // 2
        hi = len(x) if i == len(pairs) - 1 else (b + pairs[i + 1][1]) // 2
        clips.append(Clip(char, f"{label} {a / RATE:.2f}-{b / RATE:.2f} s", x[lo:hi]))
    return clips


def _clips_from_tts(chars: str, locale: str, engine: Any, *, progress: bool,
                    voice: str | None = None) -> tuple[list[Clip], dict[str, str], list[str]]:
    from .names import provider_voice
    from .tts import espeak_engine

    if callable(engine):
        # A callable engine is the caller's own choice of voice.
        notes: list[str] = []
        speak, label = engine, getattr(engine, "__name__", "engine")
    else:
        if voice is None and provider_voice(locale) is False:
            from ..spec import voice_languages

            raise SpellingBuildError(
                f"the provider's voice catalogue has no voice for {locale}, so no OTP call could read this set; "
                f"refusing a text-to-speech build. Use a catalogue locale ({', '.join(voice_languages())}), "
                "or pass the engine voice to speak it with (voice='en' / --voice en) to build it anyway")
        speak, language, notes = espeak_engine(locale, engine=str(engine), voice=voice)
        label = f"{os.path.basename(str(engine))} {language}"
    clips: list[Clip] = []
    failures: dict[str, str] = {}
    for char in _progress(chars, total=len(chars), desc="speaking", enabled=progress):
        try:
            samples, rate = speak(char, locale)
            clips.append(Clip(char, f"tts: {label} {char!r}", _audio.to_mono_8k(samples, rate)))
        except Exception as exc:  # noqa: BLE001
            failures[char] = str(exc)
    return clips, failures, notes


# --- the I/O edge ---------------------------------------------------------------------

def build_spelling_set(
    source: Any,
    root: str | os.PathLike,
    *,
    locale: str,
    chars: str = DEFAULT_CHARS,
    mapping: Mapping[str, str] | None = None,
    threshold_dbfs: float = -45.0,
    min_silence_s: float = 0.3,
    min_segment_s: float = 0.08,
    padding_s: float = 0.1,
    target_dbfs: float = -20.0,
    peak_limit_dbfs: float = -1.0,
    target: str = "alaw",
    engine: str | Callable[[str, str], tuple[np.ndarray, int]] = "espeak-ng",
    samplerate: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    voice: str | None = None,
) -> SpellingBuildReport:
    """Build ``root/spelling/<locale>/<char>.wav`` for every character in *chars*.

    Parameters
    ----------
    source
        One of: a folder of per-character recordings (``A.wav``, ``7.m4a``,
        ``zero.wav``, ``letter_b.flac``; see :func:`~cmvoice_nb.spelling.names.char_for_name`);
        one recording of the whole sequence read with pauses (a path, bytes,
        ``(samples, samplerate)``, a bare array with *samplerate*, or a pydub
        ``AudioSegment``), split on silence and assigned to *chars* in order; or
        the string ``"tts"`` for the text-to-speech *engine* (use ``Path("tts")``
        for a folder of that name).
    root
        The folder that will hold ``spelling/<locale>/`` (the root of the
        Audio Prompt Manager upload).
    locale
        Five characters ``xx-XX`` — the OTP call's voice language.
    chars
        Characters to build, in the order they are read in a single recording.
    mapping
        ``{file name or stem: char}`` for folder names we cannot read.
    threshold_dbfs, min_silence_s, min_segment_s
        Silence detection: what counts as silence, how long a pause separates
        two characters, the shortest segment that counts.
    padding_s
        Silence kept before and after each character's speech.
    target_dbfs, peak_limit_dbfs
        Common loudness (ITU-R BS.1770, in LUFS: what listeners hear), and the peak no
        character may pass.
    target
        ``"alaw"`` (the provider's preferred format) or ``"pcm16"``.
    engine
        ``"espeak-ng"`` (or a path to it), or a callable ``(char, locale) -> (samples, rate)``.
    voice
        The engine voice for ``"tts"`` (``"en"``, ``"en-gb"``, ``"nl"``, ...). Without it the
        locale's own language is used, and a locale that the provider's voice catalogue
        (:data:`cmvoice_nb.spec.VOICES`) or the engine has no voice for is refused rather
        than silently spoken in another language.
    overwrite
        Replace existing files in the destination folder (never a source file).
    progress
        Show a progress bar.

    Returns
    -------
    SpellingBuildReport

    Raises
    ------
    SpellingBuildError
        (a :class:`~cmvoice_nb.errors.SpellingSetError`) with every unmapped or
        conflicting file, every missing character, every undecodable source, the
        segment boundaries when a recording does not split into ``len(chars)``
        segments, or the existing files when *overwrite* is False. Nothing is
        written in that case.
    AudioError
        When a single recording cannot be decoded (its path and the reason).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> t = np.arange(2400) / 8000
    >>> tone = lambda f: 0.3 * np.sin(2 * np.pi * f * t)
    >>> gap = np.zeros(4000)
    >>> take = np.concatenate([gap, tone(400), gap, tone(600), gap, tone(800), gap])
    >>> report = build_spelling_set((take, 8000), tempfile.mkdtemp(), locale="en-GB", chars="012",
    ...                             progress=False)
    >>> sorted(p.name for p in report.files.values())
    ['0.wav', '1.wav', '2.wav']
    """
    locale = require_locale(locale)
    chars = normalize_chars(chars)
    if target not in ("alaw", "pcm16"):
        raise SpellingSetError(f"target: {target!r} is not supported; expected 'alaw' or 'pcm16'")
    root = Path(root)
    folder = root / "spelling" / locale
    notes: list[str] = []
    failures: dict[str, str] = {}

    is_tts = isinstance(source, str) and source.strip().lower() == "tts"
    if voice is not None and not is_tts:
        raise SpellingSetError("voice= (--voice) only applies to a text-to-speech build (source 'tts')")
    if is_tts:
        route = "tts"
        clips, failures, notes = _clips_from_tts(chars, locale, engine, progress=progress, voice=voice)
    elif isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        route = "folder"
        clips, failures, notes = _clips_from_folder(Path(source), chars, mapping, progress=progress)
    else:
        route = "recording"
        label, src_path = _label(source)
        if isinstance(source, np.ndarray):
            if samplerate is None:
                raise SpellingSetError("source is a bare array: pass samplerate=, or (samples, samplerate)")
            source = (source, samplerate)
        if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
            raise SpellingSetError(f"{source}: no such file or folder (or pass 'tts' for text-to-speech)")
        samples, rate = _audio.load_audio(source)
        clips = _clips_from_recording(samples, rate, label, chars, threshold_dbfs=threshold_dbfs,
                                      min_silence_s=min_silence_s, min_segment_s=min_segment_s)
        for clip in clips:
            clip.source_path = src_path

    trimmed: list[Clip] = []
    for clip in clips:
        try:
            trimmed.append(Clip(clip.char, clip.source,
                                trim_to_speech(clip.samples, RATE, threshold_dbfs=threshold_dbfs, padding_s=padding_s),
                                clip.source_path))
        except SpellingSetError as exc:
            failures[clip.char] = f"{clip.source}: {exc}"
    if failures:
        raise SpellingBuildError(
            f"{len(failures)} character(s) could not be prepared: "
            + "; ".join(f"{c}: {why}" for c, why in failures.items()),
            failures=failures,
        )

    leveled, level = level_clips([c.samples for c in trimmed], RATE, target_dbfs=target_dbfs,
                                 peak_limit_dbfs=peak_limit_dbfs)
    if level < target_dbfs - 0.05:
        notes.append(f"a character's peak held the set at {level:.1f} LUFS instead of {target_dbfs:g}")

    targets = {c.char: folder / f"{c.char}.wav" for c in trimmed}
    sources = [c.source_path for c in trimmed if c.source_path is not None]
    clash = sorted(str(t) for t in targets.values() if any(same_file(t, s) for s in sources))
    if clash:
        raise SpellingBuildError(
            f"refusing to overwrite source recordings: {', '.join(clash)} — choose another root",
            existing=clash,
        )
    existing = sorted(str(t) for t in targets.values() if t.exists())
    if existing and not overwrite:
        raise SpellingBuildError(
            f"{len(existing)} file(s) already exist in {folder} (pass overwrite=True / --overwrite "
            f"to replace them): {', '.join(Path(e).name for e in existing)}",
            existing=existing,
        )

    # Encode everything first: a bad encode must not leave half a set behind.
    encoded = {c.char: _audio.encode_wav(x, target=target) for c, x in zip(trimmed, leveled, strict=True)}
    rows = []
    for clip, x in zip(trimmed, leveled, strict=True):
        path = atomic_write_bytes(targets[clip.char], encoded[clip.char])
        rows.append({
            "char": clip.char,
            "source": clip.source,
            "target": str(path),
            "duration_s": round(len(x) / RATE, 3),
            "loudness_dbfs": round(_audio.active_rms_dbfs(x, RATE, threshold_dbfs=threshold_dbfs), 2),
            "loudness_lufs": round(_audio.loudness_lufs(x, RATE), 2),
            # One gain per clip, so the peak ratio is the gain.
            "gain_db": round(_audio.peak_dbfs(x) - _audio.peak_dbfs(clip.samples), 2),
        })
    logger.info("built %d characters for %s in %s (%s)", len(rows), locale, folder, route)
    return SpellingBuildReport(locale=locale, root=root, folder=folder, route=route, chars=chars,
                               rows=rows, level_lufs=level, notes=notes)


def _label(source: Any) -> tuple[str, Path | None]:
    """How a single recording is named in the report, and its path when it has one."""
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name, Path(source)
    return "recording", None


__all__ = [
    "SpellingBuildError",
    "SpellingBuildReport",
    "assign_segments",
    "build_spelling_set",
    "level_clips",
    "trim_to_speech",
]
