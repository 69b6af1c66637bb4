"""A FLAC that hides its length (STREAMINFO total samples 0, "unknown") is held to max_duration_s
while it decodes, by every decoder and in batch workers, in bounded memory. Every file is made here."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cmvoice_nb.audio.convert import convert_prompt
from cmvoice_nb.audio.decode import _decode_ffmpeg, _decode_pyav, load_audio, load_mono
from cmvoice_nb.errors import AudioError

from .._audio import speechlike
from .._wait import scaled

RATE = 8000
#: Two hours of silence: 180 kB of FLAC, 230 MB as mono float32, 460 MB as float64.
HOURS = 2.0
LIMIT_S = 60.0
#: Traced peak allowed while refusing it: the 60 s the limit allows (2 MB as float32) and one block.
BOUND = 16 * 2**20


def write_silent_flac(path: Path, seconds: float, *, rate: int = RATE, channels: int = 1) -> None:
    """Silence written block by block, so the test itself never holds the long signal."""
    block = np.zeros((1 << 20, channels), dtype=np.int16)
    left = int(seconds * rate)
    with sf.SoundFile(path, "w", samplerate=rate, channels=channels, format="FLAC", subtype="PCM_16") as fh:
        while left > 0:
            n = min(len(block), left)
            fh.write(block[:n])
            left -= n


def hide_length(path: Path) -> None:
    """Set STREAMINFO's 36-bit total-samples field to 0, which FLAC defines as "unknown"."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "STREAMINFO is the first metadata block"
    body = 8  # after "fLaC" and the 4-byte block header
    data[body + 13] &= 0xF0  # the field's top 4 bits share a byte with bits-per-sample
    data[body + 14:body + 18] = b"\0\0\0\0"
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def hidden_flac(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hidden") / "silence.flac"
    write_silent_flac(path, HOURS * 3600)
    hide_length(path)
    return path


def traced_peak(fn, *args, **kwargs):
    """``(outcome, peak bytes)`` of *fn*: numpy's buffers are traced too, so a decode shows in full."""
    tracemalloc.start()
    try:
        try:
            outcome = fn(*args, **kwargs)
        except AudioError as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_hostile_flac_really_hides_its_length_from_libsndfile(hidden_flac):
    assert hidden_flac.stat().st_size < 1_000_000
    with sf.SoundFile(hidden_flac) as fh:
        assert fh.frames == 0 or fh.frames >= 2**62  # "unknown": 0 or SF_COUNT_MAX


@pytest.mark.parametrize("entry", [load_mono, load_audio], ids=["load_mono", "load_audio"])
@pytest.mark.parametrize("as_bytes", [False, True], ids=["path", "bytes"])
def test_a_flac_hiding_its_length_is_refused_at_the_limit_in_bounded_memory(hidden_flac, entry, as_bytes):
    src = hidden_flac.read_bytes() if as_bytes else hidden_flac
    outcome, peak = traced_peak(entry, src, max_duration_s=LIMIT_S)
    assert isinstance(outcome, AudioError), f"decoded {len(outcome[0]) / RATE:.0f} s past the limit"
    assert "runs past max_duration_s=60 s" in str(outcome)
    assert "header does not give the length" in str(outcome)
    assert peak < BOUND, f"decoding took {peak / 2**20:.0f} MB before refusing"


@pytest.mark.parametrize("decoder", ["pyav", "ffmpeg"])
def test_the_ffmpeg_decoders_hold_the_limit_on_decoded_frames_too(hidden_flac, decoder):
    if decoder == "pyav":
        outcome, peak = traced_peak(_decode_pyav, b"", hidden_flac, LIMIT_S, hidden_flac, mono=True)
    else:
        outcome, peak = traced_peak(_decode_ffmpeg, b"", hidden_flac, LIMIT_S, hidden_flac)
    assert isinstance(outcome, AudioError), "decoded past the limit"
    assert "runs past max_duration_s=60 s" in str(outcome)
    assert peak < BOUND, f"{decoder} took {peak / 2**20:.0f} MB before refusing"


def test_convert_prompt_refuses_it_and_writes_nothing(hidden_flac, tmp_path):
    out = tmp_path / "prompt.wav"
    with pytest.raises(AudioError, match=r"silence\.flac: audio runs past max_duration_s=60 s"):
        convert_prompt(hidden_flac, out, max_duration_s=LIMIT_S)
    assert list(tmp_path.iterdir()) == []


def test_a_short_flac_hiding_its_length_decodes_exactly_like_the_honest_one(tmp_path):
    x = np.stack([speechlike(3.0, 16000), speechlike(3.0, 16000, seed=2)], axis=1)
    honest, hidden = tmp_path / "honest.flac", tmp_path / "hidden.flac"
    sf.write(honest, x, 16000, subtype="PCM_16")
    sf.write(hidden, x, 16000, subtype="PCM_16")
    hide_length(hidden)
    full, rate = load_audio(hidden, max_duration_s=LIMIT_S)
    assert rate == 16000 and full.shape == x.shape
    np.testing.assert_array_equal(full, load_audio(honest)[0])
    mono, rate, channels = load_mono(hidden, max_duration_s=LIMIT_S)
    assert channels == 2 and mono.dtype == np.float32
    np.testing.assert_array_equal(mono, load_mono(honest)[0])


def test_an_in_memory_signal_is_judged_by_its_length_before_it_is_copied():
    endless = np.broadcast_to(np.int16(0), (int(HOURS * 3600 * RATE),))  # no memory of its own
    outcome, peak = traced_peak(load_audio, (endless, RATE), max_duration_s=LIMIT_S)
    assert isinstance(outcome, AudioError) and "7200 s long, more than max_duration_s=60 s" in str(outcome)
    assert peak < BOUND


def test_a_pydub_segment_is_judged_by_its_length_before_it_is_copied():
    from cmvoice_nb.audio.convert import _import_pydub

    segment = _import_pydub()(data=bytes(2 * RATE * 600), sample_width=2, frame_rate=RATE, channels=1)
    outcome, peak = traced_peak(load_mono, segment, max_duration_s=LIMIT_S)
    assert isinstance(outcome, AudioError) and "600 s long, more than max_duration_s=60 s" in str(outcome)
    assert peak < 2 * 2**20  # the float copy alone would be 38 MB


WORKERS = textwrap.dedent("""
    import resource, sys
    from pathlib import Path

    if __name__ == "__main__":
        from cmvoice_nb.audio import batch

        batch.START_METHOD = "spawn"  # workers are this process's own children: their peak is measured
        folder = Path(sys.argv[1])
        df = batch.convert_folder(folder, folder / "out", workers=2, progress=False, max_duration_s=60)
        scale = 1 if sys.platform == "darwin" else 1024
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale)
        print(df.to_json(orient="records"))
""")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="resource (the children's peak memory) is POSIX-only")
def test_convert_folder_workers_refuse_hidden_lengths_in_bounded_memory(hidden_flac, tmp_path):
    import json

    for name in ("a.flac", "b.flac"):
        (tmp_path / name).write_bytes(hidden_flac.read_bytes())
    script = tmp_path / "run.py"
    script.write_text(WORKERS)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                          timeout=scaled(300), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak, rows = proc.stdout.splitlines()[-2:]
    rows = json.loads(rows)
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all("runs past max_duration_s=60 s" in r["error"] for r in rows)
    # A worker is ~60 MB with numpy, soundfile and soxr loaded; decoding the file whole took 1 GB.
    assert int(peak) < 200 * 2**20, f"a worker peaked at {int(peak) / 2**20:.0f} MB"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
