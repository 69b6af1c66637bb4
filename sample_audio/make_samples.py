"""Re-create the small sample prompts in this folder.

Run from the project root::

    .venv/bin/python sample_audio/make_samples.py

Needs ``espeak-ng`` (Debian package) for the voices; M4A files are encoded
with the ffmpeg binary that ships in the ``imageio-ffmpeg`` wheel (or ``$FFMPEG``).

What it makes:

* ``welcome.wav``            compliant: 8 kHz mono G.711 A-law (made with ``convert_prompt``)
* ``welcome_pcm16_8k.wav``   16-bit PCM 8 kHz mono (accepted by the newer docs, warns)
* ``hello_44k_stereo.wav``   NOT compliant: 44.1 kHz stereo 16-bit PCM (a studio export)
* ``press_one_ulaw.wav``     NOT compliant: G.711 µ-law
* ``quiet_padded.wav``       NOT compliant (22.05 kHz) and quiet with long silences: warnings
* ``goodbye.m4a``            phone recording (AAC in MP4)
* ``code_intro.mp3``, ``outro.flac``, ``thanks.ogg``  agency deliveries
* ``spelling_en/``           one recording per character 0-9, a-z with messy real-world
  names and formats (``zero.wav``, ``One.mp3``, ``7.m4a``, ``A.wav``, ``letter_b.flac``...),
  at 16 kHz or 22.05 kHz, for the spelling-set tutorial.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cmvoice_nb.audio.convert import convert_prompt  # noqa: E402
from cmvoice_nb.audio.decode import find_ffmpeg  # noqa: E402
from cmvoice_nb.audio.dsp import resample  # noqa: E402
from cmvoice_nb._fsutil import atomic_write_bytes  # noqa: E402

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def speak(text: str, *, ssml: bool = False, voice: str = "en-gb", speed_wpm: int = 165) -> tuple[np.ndarray, int]:
    """Synthesize *text* with espeak-ng; returns (float64 mono, 22050)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    cmd = [exe, "-v", voice, "-s", str(speed_wpm), "--stdout"] + (["-m"] if ssml else []) + [text]
    wav = subprocess.run(cmd, check=True, capture_output=True).stdout
    with tempfile.NamedTemporaryFile(suffix=".wav") as fh:
        # espeak-ng's --stdout header carries placeholder sizes; libsndfile copes from a real file.
        fh.write(wav)
        fh.flush()
        x, sr = sf.read(fh.name, dtype="float64")
    return x, sr


def pad(x: np.ndarray, sr: int, lead_s: float, tail_s: float) -> np.ndarray:
    return np.concatenate([np.zeros(int(lead_s * sr)), x, np.zeros(int(tail_s * sr))])


def write_sf(path: Path, x: np.ndarray, sr: int, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=path.suffix) as fh:
        sf.write(fh.name, x, sr, **kw)
        atomic_write_bytes(path, Path(fh.name).read_bytes())


def write_m4a(path: Path, x: np.ndarray, sr: int, *, bitrate: str = "48k") -> None:
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        raise SystemExit("no ffmpeg found (pip install imageio-ffmpeg)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.wav"
        out = Path(tmp) / "out.m4a"
        sf.write(src, x, sr, subtype="PCM_16")
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-c:a", "aac",
                        "-b:a", bitrate, "-map_metadata", "-1", "-fflags", "+bitexact", str(out)], check=True)
        atomic_write_bytes(path, out.read_bytes())


def make_prompts() -> None:
    welcome, sr = speak("Welcome to the C M voice demo.")
    convert_prompt((pad(welcome, sr, 0.2, 0.3), sr), HERE / "welcome.wav")
    convert_prompt((pad(welcome, sr, 0.2, 0.3), sr), HERE / "welcome_pcm16_8k.wav", target="pcm16")

    hello, sr = speak("Hello!")
    h44 = resample(hello, sr, 44100)
    # A studio export: stereo with a slightly different right channel, 44.1 kHz 16-bit.
    write_sf(HERE / "hello_44k_stereo.wav", np.column_stack([h44, 0.9 * h44]), 44100, subtype="PCM_16")

    press, sr = speak("Press one to repeat.")
    write_sf(HERE / "press_one_ulaw.wav", resample(press, sr, 8000), 8000, subtype="ULAW")

    quiet, sr = speak("Your appointment is confirmed.")
    write_sf(HERE / "quiet_padded.wav", pad(0.02 * quiet, sr, 1.6, 1.8), sr, subtype="PCM_16")

    bye, sr = speak("Thank you for your time. Goodbye.")
    write_m4a(HERE / "goodbye.m4a", resample(bye, sr, 44100), 44100)

    code, sr = speak("Your verification code is")
    write_sf(HERE / "code_intro.mp3", resample(code, sr, 16000), 16000)
    outro, sr = speak("This was the C M one time password service.")
    write_sf(HERE / "outro.flac", outro, sr)
    thanks, sr = speak("Thanks for confirming.")
    write_sf(HERE / "thanks.ogg", thanks, sr)


# Messy, real-world naming and formats; the spelling tools must cope with all of them.
SPELLING_NAMES = {
    "0": "zero.wav", "1": "One.mp3", "2": "2.WAV", "3": "three.flac", "4": "4.ogg",
    "5": "digit_5.wav", "6": "6.flac", "7": "7.m4a", "8": "Eight.wav", "9": "nine.mp3",
    "a": "A.wav", "b": "letter_b.flac", "c": "c.mp3", "d": "D.WAV", "e": "e.ogg",
    "f": "letter_f.wav", "g": "g.m4a", "h": "H.flac", "i": "i.wav", "j": "J.mp3",
    "k": "k.flac", "l": "letter_L.wav", "m": "m.ogg", "n": "N.wav", "o": "o.m4a",
    "p": "p.wav", "q": "Q.flac", "r": "r.mp3", "s": "S.wav", "t": "t.ogg",
    "u": "u.wav", "v": "letter_v.flac", "w": "W.m4a", "x": "x.wav", "y": "Y.mp3", "z": "z.flac",
}


def make_spelling(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    for i, (char, name) in enumerate(SPELLING_NAMES.items()):
        text = DIGITS[int(char)] if char.isdigit() else f'<speak><say-as interpret-as="characters">{char}</say-as></speak>'
        x, sr = speak(text, ssml=not char.isdigit())
        x = pad(x, sr, 0.05 + 0.05 * (i % 3), 0.1)  # a little uneven silence, like real takes
        rate = 16000 if i % 2 else 22050
        if rate != sr:
            x = resample(x, sr, rate)
        path = folder / name
        suffix = path.suffix.lower()
        if suffix == ".wav":
            write_sf(path, x, rate, subtype="PCM_16", format="WAV")
        elif suffix == ".m4a":
            write_m4a(path, x, rate, bitrate="32k")
        else:
            write_sf(path, x, rate)


def main() -> None:
    make_prompts()
    make_spelling(HERE / "spelling_en")
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"sample_audio: {sum(1 for p in HERE.rglob('*') if p.is_file())} files, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
