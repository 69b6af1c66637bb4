"""Benchmark: batch prompt conversion against ffmpeg (and sox) one process per file.

Generates a mixed corpus (~10 s speech files across WAV variants, FLAC, OGG/Vorbis,
MP3 and M4A), then times in the same run:

* cmvoice_nb's ``convert_folder`` (both cores, and one core);
* the ffmpeg CLI, one process per file (``-ar 8000 -ac 1 -acodec pcm_alaw``), sequentially
  as users run it in a shell loop, and two at a time;
* sox, one process per file, on the files it can read (when installed).

and measures quality against a float reference: in-band (300-3400 Hz) SNR on speech and
the alias level of a full-scale 6 kHz tone (which a resampler must remove, not fold to 2 kHz).

Usage::

    .venv/bin/python bench/audio_convert.py [--files 204] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmvoice_nb.audio import dsp  # noqa: E402
from cmvoice_nb.audio.batch import convert_folder  # noqa: E402
from cmvoice_nb.audio.convert import _resample32, convert_prompt, prepare_samples  # noqa: E402
from cmvoice_nb.audio.decode import find_ffmpeg, load_mono  # noqa: E402
from cmvoice_nb.audio.wavfile import read_wav_samples  # noqa: E402

# (name, container format, subtype, samplerate, channels)
VARIANTS = [
    ("wav_pcm16_44k_stereo", "WAV", "PCM_16", 44100, 2),
    ("wav_pcm24_48k_stereo", "WAV", "PCM_24", 48000, 2),
    ("wav_float_48k_mono", "WAV", "FLOAT", 48000, 1),
    ("wavex_pcm16_44k_stereo", "WAVEX", "PCM_16", 44100, 2),
    ("wav_pcm16_16k_mono", "WAV", "PCM_16", 16000, 1),
    ("wav_ulaw_8k_mono", "WAV", "ULAW", 8000, 1),
    ("wav_u8_22k_mono", "WAV", "PCM_U8", 22050, 1),
    ("flac_44k_stereo", "FLAC", "PCM_16", 44100, 2),
    ("ogg_vorbis_44k_stereo", "OGG", "VORBIS", 44100, 2),
    ("mp3_44k_stereo", "MP3", None, 44100, 2),
    ("m4a_aac_44k_mono", "M4A", None, 44100, 1),
    ("m4a_aac_48k_stereo", "M4A", None, 48000, 2),
]
SUFFIX = {"WAV": ".wav", "WAVEX": ".wav", "FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3", "M4A": ".m4a"}


def speech_source(duration_s: float = 10.0) -> tuple[np.ndarray, int]:
    """~10 s of real speech from espeak-ng at 22.05 kHz, or a speech-like synthetic fallback."""
    text = ("Welcome to the C M voice demo. Your verification code is four, seven, one, nine. "
            "Press one to hear the code again, or hang up to end this call. Thank you and goodbye.")
    exe = shutil.which("espeak-ng")
    if exe:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "s.wav"
            subprocess.run([exe, "-v", "en-gb", "-s", "150", "-w", str(out), text], check=True)
            x, sr = sf.read(out, dtype="float64")
    else:
        sr = 22050
        t = np.arange(int(duration_s * sr)) / sr
        x = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 25)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    n = int(duration_s * sr)
    x = np.resize(x, n) if len(x) < n else x[:n]
    return 0.8 * x / np.max(np.abs(x)), sr


def make_corpus(folder: Path, nfiles: int, ffmpeg: str) -> float:
    speech, sr = speech_source()
    folder.mkdir(parents=True, exist_ok=True)
    per_rate = {rate: dsp.resample(speech, sr, rate) for rate in {v[3] for v in VARIANTS}}
    total_s = 0.0
    m4a_jobs = []
    for i in range(nfiles):
        name, fmt, subtype, rate, ch = VARIANTS[i % len(VARIANTS)]
        x = np.roll(per_rate[rate], i * 997) * (0.6 + 0.4 * ((i * 37) % 10) / 10)
        if ch == 2:
            x = np.column_stack([x, 0.9 * np.roll(x, 3)])
        path = folder / name / f"prompt_{i:03d}{SUFFIX[fmt]}"
        path.parent.mkdir(exist_ok=True)
        total_s += len(x) / rate
        if fmt == "M4A":
            tmp = path.with_suffix(".src.wav")
            sf.write(tmp, x, rate, subtype="PCM_16")
            m4a_jobs.append((tmp, path))
        else:
            sf.write(path, x, rate, format=fmt, subtype=subtype)

    def encode(job):
        src, dst = job
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(src),
                        "-c:a", "aac", "-b:a", "64k", str(dst)], check=True)
        src.unlink()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(encode, m4a_jobs))
    return total_s


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def time_per_file(cmd_for, files: list[Path], out: Path, *, parallel: int = 1) -> tuple[float, int, dict]:
    """Run one process per file; return (wall seconds, files ok, {file: seconds})."""
    out.mkdir(parents=True, exist_ok=True)
    each: dict[Path, float] = {}

    def one(p: Path) -> bool:
        dst = out / (p.parent.name + "_" + p.stem + ".wav")
        t = time.perf_counter()
        ok = subprocess.run(cmd_for(p, dst), capture_output=True).returncode == 0
        each[p] = time.perf_counter() - t
        return ok

    t0 = time.perf_counter()
    if parallel == 1:
        ok = [one(p) for p in files]
    else:
        with ThreadPoolExecutor(parallel) as pool:
            ok = list(pool.map(one, files))
    return time.perf_counter() - t0, sum(ok), each


def time_ours_per_file(files: list[Path], out: Path) -> tuple[dict, dict]:
    """convert_prompt in this process, one file at a time, as a batch worker runs it (no fsync:
    the batch syncs at the end); and the decode + resample part alone, which no converter can
    skip. Returns ({file: seconds}, {file: seconds})."""
    out.mkdir(parents=True, exist_ok=True)
    each, floor = {}, {}
    for p in files:
        t = time.perf_counter()
        convert_prompt(p, out / (p.parent.name + "_" + p.stem + ".wav"), durable=False)
        each[p] = time.perf_counter() - t
        t = time.perf_counter()
        x, rate, _ = load_mono(p)
        _resample32(x, rate)  # what convert_prompt runs: float32 in, float32 at 8 kHz out
        floor[p] = time.perf_counter() - t
    return each, floor


def in_band_snr_db(ref: np.ndarray, test: np.ndarray, rate: int = 8000) -> float:
    n = min(len(ref), len(test))
    ref, test = ref[400:n - 400], test[400:n - 400]
    f = np.fft.rfftfreq(len(ref), 1 / rate)
    band = (f >= 300) & (f <= 3400)
    s = np.abs(np.fft.rfft(ref))[band] ** 2
    e = np.abs(np.fft.rfft(test - ref))[band] ** 2
    return float(10 * np.log10(s.sum() / e.sum()))


def alias_level_db(y: np.ndarray, rate: int = 8000) -> float:
    """Level of what is left of a full-scale 6 kHz tone after resampling to 8 kHz (dB re the tone)."""
    body = y[800:-800]
    return float(20 * np.log10(np.sqrt(np.mean(body ** 2)) * np.sqrt(2) + 1e-12))


def best_lag_align(ref: np.ndarray, test: np.ndarray, max_lag: int = 64) -> np.ndarray:
    """Shift *test* to line up with *ref* (ffmpeg's and pydub's resamplers add a small delay)."""
    n = min(len(ref), len(test)) - 2 * max_lag
    scores = [np.dot(ref[max_lag:max_lag + n], test[max_lag + k:max_lag + k + n]) for k in range(-max_lag, max_lag)]
    lag = int(np.argmax(scores)) - max_lag
    return np.roll(test, -lag)


def ffmpeg_decode_8k(ffmpeg: str, src: Path, codec: str) -> np.ndarray:
    out = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src), "-ar", "8000",
                          "-ac", "1", "-acodec", codec, "-f", "wav", "pipe:1"], capture_output=True, check=True).stdout
    return read_wav_samples(out)[0]


def quality(ffmpeg: str, tmp: Path) -> dict:
    speech, sr = speech_source()
    x44 = dsp.resample(speech, sr, 44100)
    ref = prepare_samples(x44, 44100)  # float reference: no quantisation at all
    src = tmp / "speech44k.wav"
    sf.write(src, x44, 44100, subtype="FLOAT")
    res = {}
    ours = read_wav_samples(convert_prompt(src).data)[0]
    res["snr_ours_db"] = in_band_snr_db(ref, ours)
    res["snr_ffmpeg_db"] = in_band_snr_db(ref, best_lag_align(ref, ffmpeg_decode_8k(ffmpeg, src, "pcm_alaw")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pydub import AudioSegment
            pcm = np.clip(np.rint(x44 * 32767), -32768, 32767).astype("<i2")
            seg = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=44100, channels=1).set_frame_rate(8000)
            pyd = np.array(seg.get_array_of_samples(), dtype=np.float64) / 32768
            res["snr_pydub_16bit_db"] = in_band_snr_db(ref, best_lag_align(ref, pyd))
        except Exception:  # pydub needs audioop (audioop-lts on 3.13+)
            res["snr_pydub_16bit_db"] = float("nan")
    tone = np.sin(2 * np.pi * 6000 * np.arange(2 * 44100) / 44100)
    tsrc = tmp / "tone6k.wav"
    sf.write(tsrc, tone * 0.999, 44100, subtype="FLOAT")
    # Through the same float32 decode + resample path convert_prompt takes (before A-law,
    # whose quantisation noise would hide the alias).
    x32, rate, _ = load_mono(tsrc)
    res["alias_ours_db"] = alias_level_db(prepare_samples(x32, rate)) - 20 * np.log10(0.999)
    res["alias_ours_f64_db"] = alias_level_db(prepare_samples(tone, 44100))
    res["alias_ffmpeg_db"] = alias_level_db(ffmpeg_decode_8k(ffmpeg, tsrc, "pcm_f32le")) - 20 * np.log10(0.999)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=204)
    ap.add_argument("--keep", type=Path, default=None, help="keep the corpus and outputs in this folder")
    ap.add_argument("--repeats", type=int, default=2, help="interleaved runs per contender; the best is kept")
    args = ap.parse_args()
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        raise SystemExit("no ffmpeg available")
    tmp_ctx = tempfile.TemporaryDirectory(prefix="cmvoice-bench-")
    root = args.keep or Path(tmp_ctx.name)
    corpus = root / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    audio_s = make_corpus(corpus, args.files, ffmpeg)
    files = files_of(corpus)
    print(f"corpus: {len(files)} files, {audio_s:.0f} s of audio, {len(VARIANTS)} variants; "
          f"cores: {os.cpu_count()}; ffmpeg: {ffmpeg}")

    rows = []

    def report(label: str, seconds: float, done: int, audio: float) -> None:
        rows.append((label, seconds, done, audio / seconds))
        print(f"  {label:<38} {seconds:7.2f} s  {done:4d} ok  {audio / seconds:8.0f} audio-s/s")

    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    convert_folder(corpus, out / "warmup", workers=1, progress=False)  # page cache and imports, untimed

    def ffmpeg_cmd(p, dst):
        return [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(p),
                "-ar", "8000", "-ac", "1", "-acodec", "pcm_alaw", str(dst)]

    # The machine is shared and noisy: interleave the contenders and keep each one's best run.
    best: dict[str, tuple[float, int]] = {}
    ff_each: dict = {}
    for r in range(args.repeats):
        t0 = time.perf_counter()
        df = convert_folder(corpus, out / f"ours2_{r}", workers=2, progress=False)
        best["ours2"] = min(best.get("ours2", (1e9, 0)), (time.perf_counter() - t0, int(df["ok"].sum())))
        t0 = time.perf_counter()
        df1 = convert_folder(corpus, out / f"ours1_{r}", workers=1, progress=False)
        best["ours1"] = min(best.get("ours1", (1e9, 0)), (time.perf_counter() - t0, int(df1["ok"].sum())))
        s_, ok_, each = time_per_file(ffmpeg_cmd, files, out / "ffmpeg")
        if s_ < best.get("ff", (1e9, 0))[0]:
            ff_each = each
        best["ff"] = min(best.get("ff", (1e9, 0)), (s_, ok_))
        s_, ok_, _ = time_per_file(ffmpeg_cmd, files, out / "ffmpeg2", parallel=2)
        best["ff2"] = min(best.get("ff2", (1e9, 0)), (s_, ok_))
    report("cmvoice_nb convert_folder, 2 workers", *best["ours2"], audio_s)
    report("cmvoice_nb convert_folder, 1 worker", *best["ours1"], audio_s)
    report("ffmpeg per file, sequential", *best["ff"], audio_s)
    report("ffmpeg per file, 2 at a time", *best["ff2"], audio_s)
    sox = shutil.which("sox")
    if sox:
        sox_files = [p for p in files if p.suffix in (".wav", ".flac", ".ogg")]
        sox_audio = audio_s * len(sox_files) / len(files)
        sx_s, sx_ok, _ = time_per_file(lambda p, d: [sox, "-q", str(p), "-r", "8000", "-c", "1", "-e", "a-law",
                                                     "-b", "8", str(d)], sox_files, out / "sox")
        report(f"sox per file, sequential ({len(sox_files)} readable)", sx_s, sx_ok, sox_audio)
    ours2, ff_s, ff2_s = best["ours2"][0], best["ff"][0], best["ff2"][0]
    print(f"ratio vs ffmpeg per file (sequential): {ff_s / ours2:.1f}x   (target >= 8x)")
    print(f"ratio vs ffmpeg per file (2 at a time): {ff2_s / ours2:.1f}x")

    # Best of two passes per file: the second pass runs with warm caches, like a batch worker.
    # Each pass writes new files, as a batch does (replacing existing files costs ext4 a flush).
    ours_each, floor_each = time_ours_per_file(files, out / "per_file")
    again, floor_again = time_ours_per_file(files, out / "per_file_again")
    ours_each = {p: min(v, again[p]) for p, v in ours_each.items()}
    floor_each = {p: min(v, floor_again[p]) for p, v in floor_each.items()}
    print("per variant, one core (median ms per 10 s file): cmvoice_nb convert_prompt vs one ffmpeg "
          "process; decode + resample alone")
    for name, *_ in VARIANTS:
        mine = [v for p, v in ours_each.items() if p.parent.name == name]
        theirs = [v for p, v in ff_each.items() if p.parent.name == name]
        floor = [v for p, v in floor_each.items() if p.parent.name == name]
        if mine and theirs:
            m, t, f = (1000 * float(np.median(v)) for v in (mine, theirs, floor))
            print(f"  {name:<26} {m:6.1f} ms  vs {t:6.1f} ms   {t / m:5.1f}x   (decode + resample {f:5.1f} ms)")
    floor_s, convert_s = sum(floor_each.values()), sum(ours_each.values())
    print(f"sums over the corpus, one core: decode + resample {floor_s:.2f} s, whole convert_prompt "
          f"{convert_s:.2f} s, ffmpeg processes {sum(ff_each.values()):.2f} s")
    print(f"ceiling with 2 cores if everything but decode + resample were free: "
          f"{ff_s / (floor_s / 2):.1f}x ffmpeg sequential; with today's per-file work: {ff_s / (convert_s / 2):.1f}x")
    df = df.copy()

    q = quality(ffmpeg, root)
    print("quality against a float reference (speech, 44.1 kHz source):")
    print(f"  in-band SNR 300-3400 Hz: cmvoice_nb A-law {q['snr_ours_db']:.1f} dB (target >= 37), "
          f"ffmpeg A-law {q['snr_ffmpeg_db']:.1f} dB, pydub set_frame_rate 16-bit {q['snr_pydub_16bit_db']:.1f} dB")
    print(f"  6 kHz tone alias after resampling: cmvoice_nb {q['alias_ours_db']:.1f} dB (target <= -100; "
          f"float64 path {q['alias_ours_f64_db']:.1f} dB), "
          f"ffmpeg {q['alias_ffmpeg_db']:.1f} dB")
    failed = df[~df["ok"]]
    if len(failed):
        print(f"WARNING: {len(failed)} files failed in cmvoice_nb:", failed[["source", "error"]].head().to_string())
    tmp_ctx.cleanup()


if __name__ == "__main__":
    main()
