"""Benchmark: how evenly loud a built spelling set sounds (ITU-R BS.1770 loudness spread).

Makes 36 per-character recordings (espeak-ng en-GB, one file per character ``0``-``9``,
``a``-``z``) whose levels differ by 22 dB (gains spread evenly over 0 to -22 dB, shuffled
with a fixed seed, over a constant -75 dBFS recording-chain noise floor), builds the set with
:func:`~cmvoice_nb.spelling.build_spelling_set`, and measures every written character with
pyloudnorm's BS.1770 meter (0.2 s blocks, 75 % overlap; the written A-law decoded at 8 kHz).
It prints each character's loudness and the spread (loudest minus quietest) in LU, and what
``check_spelling_set`` reports. The measurement does not depend on the code under test, so
the figure is comparable before and after a change.

Usage::

    .venv/bin/python bench/spelling_loudness.py [--keep DIR] [--range-db 22]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmvoice_nb.audio.wavfile import read_wav_samples  # noqa: E402
from cmvoice_nb.spelling import build_spelling_set, check_spelling_set  # noqa: E402

CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
BLOCK_S = 0.2


def bs1770_lufs(x: np.ndarray, rate: int) -> float:
    """Integrated loudness with 0.2 s blocks (pyloudnorm), independent of cmvoice_nb."""
    import pyloudnorm

    if len(x) < int(BLOCK_S * rate):
        x = np.concatenate([x, np.zeros(int(BLOCK_S * rate) - len(x))])
    return float(pyloudnorm.Meter(rate, block_size=BLOCK_S).integrated_loudness(x))


def make_recordings(folder: Path, range_db: float, seed: int = 7) -> dict[str, float]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit("espeak-ng is needed for this benchmark")
    folder.mkdir(parents=True, exist_ok=True)
    gains = np.linspace(0.0, -range_db, len(CHARS))
    np.random.default_rng(seed).shuffle(gains)
    noise = np.random.default_rng(seed + 1)
    out = {}
    for char, gain in zip(CHARS, gains, strict=True):
        wav = subprocess.run([exe, "-v", "en-gb", "--stdout", char], capture_output=True, check=True).stdout
        x, rate = read_wav_samples(wav)
        x = 0.7 * x / np.max(np.abs(x)) * 10 ** (gain / 20)
        x = np.concatenate([np.zeros(rate // 5), x, np.zeros(rate // 5)])
        x += noise.normal(0.0, 10 ** (-75 / 20), len(x))
        sf.write(folder / f"{char}.wav", x, rate, subtype="PCM_16")
        out[char] = float(gain)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", type=Path, default=None, help="keep the recordings and the set here")
    ap.add_argument("--range-db", type=float, default=22.0, help="level range of the recordings (default 22 dB)")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="spelling-loudness-"))
    try:
        rec = work / "recordings"
        make_recordings(rec, args.range_db)
        before = {c: bs1770_lufs(*read_wav_samples((rec / f"{c}.wav").read_bytes())) for c in CHARS}
        report = build_spelling_set(rec, work / "upload", locale="en-GB", overwrite=True, progress=False)
        after = {}
        for char, path in sorted(report.files.items()):
            x, rate = read_wav_samples(path.read_bytes())
            after[char] = bs1770_lufs(x, rate)
        check = check_spelling_set(work / "upload", locale="en-GB")
        print("char  recording LUFS  built LUFS")
        for c in CHARS:
            print(f"  {c}      {before[c]:7.2f}      {after[c]:7.2f}")
        spread_in = max(before.values()) - min(before.values())
        spread_out = max(after.values()) - min(after.values())
        print(f"recordings: spread {spread_in:.2f} LU (BS.1770, {BLOCK_S:g} s blocks)")
        print(f"built set:  spread {spread_out:.2f} LU (BS.1770, {BLOCK_S:g} s blocks), "
              f"mean {np.mean(list(after.values())):.2f} LUFS")
        print(f"check_spelling_set: ok={check.ok}, reported spread {check.loudness_spread_db:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
