"""The conversion fast path (mono float32 decoding, cheaper kernels, batch durability and
scheduling) must give the same answers as the straightforward code it replaced."""
import os
import struct

import numpy as np
import pytest

from cmvoice_nb.audio import batch as batch_mod, convert as convert_mod, dsp
from cmvoice_nb.audio.batch import convert_folder
from cmvoice_nb.audio.codec import float_to_pcm16
from cmvoice_nb.audio.convert import convert_prompt, prepare_samples
from cmvoice_nb.audio.decode import load_audio, load_mono
from cmvoice_nb.audio.wavfile import decode_wav_data, decode_wav_mono, parse_wav
from cmvoice_nb.errors import AudioError

from .._audio import fmt_chunk, riff, sf_bytes, sine, speechlike

WAV_SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW"]


def _mean(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 1 else x.mean(axis=1)


@pytest.mark.parametrize("fmt", ["WAV", "WAVEX"])
@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_decode_wav_mono_equals_the_channel_average_of_the_full_decoder(fmt, subtype, channels):
    rng = np.random.default_rng(channels)
    data = sf_bytes(rng.uniform(-1, 1, (1001, channels)), 16000, format=fmt, subtype=subtype)
    info = parse_wav(data)
    mono = decode_wav_mono(info, data)
    assert mono.dtype == np.float32 and mono.shape == (1001,)
    np.testing.assert_allclose(mono, decode_wav_data(info, data).mean(axis=1), atol=1e-6)


def test_24_bit_samples_widen_exactly_including_both_extremes_and_an_odd_data_offset():
    values = np.array([-8388608, -1, 0, 1, 8388607, 123456, -654321], dtype=np.int32)
    payload = b"".join(struct.pack("<i", int(v))[:3] for v in values)
    # An odd-sized LIST chunk (with its pad byte) puts the data at an unusual offset.
    data = riff([(b"fmt ", fmt_chunk(1, 1, 8000, 24)), (b"LIST", b"abc"), (b"data", payload)])
    info = parse_wav(data)
    expected = values / 8388608.0
    assert decode_wav_data(info, data)[:, 0].tolist() == expected.tolist()
    assert decode_wav_mono(info, data).tolist() == expected.astype(np.float32).tolist()


def test_a_truncated_24_bit_file_decodes_the_whole_frames_present():
    x = np.linspace(-0.5, 0.5, 100)
    data = sf_bytes(np.column_stack([x, -x]), 8000, format="WAV", subtype="PCM_24")[:-7]
    info = parse_wav(data)
    assert info.truncated
    mono = decode_wav_mono(info, data)
    assert len(mono) == len(decode_wav_data(info, data)) == info.frames
    np.testing.assert_allclose(mono, 0.0, atol=1e-6)


@pytest.mark.parametrize("fmt, subtype, rate", [("FLAC", None, 44100), ("OGG", "VORBIS", 44100),
                                                ("OGG", "OPUS", 48000), ("MP3", None, 44100),
                                                ("WAV", "PCM_24", 48000)])
def test_load_mono_matches_load_audio_averaged_for_every_decoder(fmt, subtype, rate):
    data = sf_bytes(np.column_stack([sine(440, 0.5, rate), sine(660, 0.5, rate, amplitude=0.25)]), rate,
                    format=fmt, subtype=subtype)
    full, full_rate = load_audio(data)
    mono, mono_rate, channels = load_mono(data)
    assert (mono_rate, channels, mono.dtype) == (full_rate, 2, np.float32)
    np.testing.assert_allclose(mono, _mean(full), atol=2e-7)


def test_load_mono_reads_m4a_through_pyav_like_load_audio(m4a_file):
    full, rate = load_audio(m4a_file)
    mono, mono_rate, channels = load_mono(m4a_file)
    assert (mono_rate, channels) == (rate, 1)
    np.testing.assert_allclose(mono, _mean(full), atol=2e-7)


def test_load_mono_averages_stereo_pyav_frames(tmp_path):
    import av

    rate = 48000
    x = np.column_stack([sine(300, 0.5, rate), -0.5 * sine(300, 0.5, rate)])
    p = tmp_path / "stereo.m4a"
    with av.open(str(p), "w") as out:
        stream = out.add_stream("aac", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x.T, dtype=np.float32), format="fltp",
                                           layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    full, _ = load_audio(p)
    mono, _, channels = load_mono(p)
    assert channels == 2
    np.testing.assert_allclose(mono, full.mean(axis=1), atol=2e-7)


def test_load_mono_takes_arrays_and_segments_and_never_touches_the_input():
    x = np.column_stack([np.full(4, 0.5), np.zeros(4)])
    mono, rate, channels = load_mono((x, 8000))
    assert mono.tolist() == [0.25] * 4 and (rate, channels) == (8000, 2)
    mono[:] = 9
    assert x[0, 0] == 0.5
    pcm = (np.array([0.5, -0.5, 0.25]) * 32768).astype("<i2")
    from cmvoice_nb.audio.convert import _import_pydub

    seg = _import_pydub()(data=pcm.tobytes(), sample_width=2, frame_rate=16000, channels=1)
    mono, rate, channels = load_mono(seg)
    assert mono.tolist() == [0.5, -0.5, 0.25] and (rate, channels) == (16000, 1)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"call script v2\nline two\n" * 4, "text file"),
    (b"RIFF\x10\x00\x00", "truncated"),
])
def test_load_mono_gives_the_same_errors_as_load_audio(data, message):
    for loader in (load_audio, load_mono):
        with pytest.raises(AudioError, match=message):
            loader(data)


def test_load_mono_refuses_nan_in_a_float_wav_and_overlong_audio():
    bad = sf_bytes(np.array([0.0, np.nan, 0.1]), 8000, format="WAV", subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_mono(bad)
    with pytest.raises(AudioError, match="max_duration_s"):
        load_mono(sf_bytes(np.zeros(8000 * 3), 8000, format="FLAC"), max_duration_s=2)


def test_the_float32_pipeline_gives_the_same_8khz_signal_as_the_float64_one():
    x = np.column_stack([speechlike(1.0, 44100), speechlike(1.0, 44100, seed=2)])
    y64 = prepare_samples(x, 44100)
    y32 = prepare_samples(load_mono((x, 44100))[0], 44100)
    assert y32.dtype == np.float64 and len(y32) == len(y64) == 8000
    # Far below the A-law quantisation step (about 2**-12 near full scale).
    assert np.max(np.abs(y32 - y64)) < 1e-6


def test_the_float32_pipeline_still_rejects_a_6khz_tone_by_over_100_db():
    tone = sine(6000, 1.0, 44100, amplitude=1.0).astype(np.float32)
    y = prepare_samples(tone, 44100)[800:-800]
    assert dsp.dbfs_rms(y) + 3.01 < -100


def test_float_to_pcm16_rounds_half_to_even_and_clips_like_clip_of_rint():
    x = np.array([32767.4999, 32767.5, 32768.5, 40000, -32768.5, -32769, -50000, 0.5, -0.5, 1.5, -1.5]) / 32768
    expected = np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)
    assert float_to_pcm16(x).tolist() == expected.tolist()
    assert float_to_pcm16(0.5) == 16384 and float_to_pcm16(np.zeros((2, 3))).shape == (2, 3)
    assert x[0] == 32767.4999 / 32768  # input untouched


def test_peak_and_rms_levels_match_their_definitions():
    x = np.array([0.1, -0.8, 0.3, 0.0])
    assert dsp.dbfs_peak(x) == pytest.approx(20 * np.log10(0.8))
    assert dsp.dbfs_rms(x) == pytest.approx(20 * np.log10(np.sqrt(np.mean(x ** 2))))
    assert dsp.dbfs_rms(np.column_stack([x, x])) == pytest.approx(dsp.dbfs_rms(x))
    assert dsp.dbfs_peak(np.zeros(3)) == dsp.dbfs_rms(np.zeros(3)) == float("-inf")


def test_convert_prompt_fsyncs_only_when_durable(tmp_path, monkeypatch):
    calls = []
    real = convert_mod.atomic_write_bytes
    monkeypatch.setattr(convert_mod, "atomic_write_bytes",
                        lambda path, data, durable=True: calls.append(durable) or real(path, data, durable=durable))
    src = (sine(440, 0.2, 16000), 16000)
    convert_prompt(src, tmp_path / "a.wav")
    convert_prompt(src, tmp_path / "b.wav", durable=False)
    assert calls == [True, False]
    assert (tmp_path / "a.wav").exists() and (tmp_path / "b.wav").exists()


def _tree(root, n):
    root.mkdir()
    for i in range(n):
        # Mixed sizes and formats so the cost ordering really reorders the work.
        x = sine(300 + 10 * i, 0.05 + 0.02 * (i % 5), 16000, amplitude=0.3)
        if i % 3 == 0:
            (root / f"p{i:02d}.flac").write_bytes(sf_bytes(x, 16000, format="FLAC"))
        else:
            (root / f"p{i:02d}.wav").write_bytes(sf_bytes(x, 16000, format="WAV"))
    (root / "p99.wav").write_text("not audio")


def test_a_durable_batch_fsyncs_every_written_file_and_folder_once_in_the_parent(tmp_path, monkeypatch):
    _tree(tmp_path / "src", 6)
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    out = tmp_path / "out"
    df = convert_folder(tmp_path / "src", out, workers=1, progress=False)
    written = sorted(str(out / f"p{i:02d}.wav") for i in range(6))
    assert sorted(p for p in synced if p.endswith(".wav")) == written
    assert synced.count(str(out)) == 1  # the folder, once, at the end
    assert not any(p.endswith(".tmp") for p in synced)  # workers write without fsync
    assert df.set_index("source").loc["p99.wav", "status"] == "failed"
    synced.clear()
    convert_folder(tmp_path / "src", tmp_path / "fast", workers=1, progress=False, durable=False)
    assert synced == []


def test_cost_ordered_chunks_cover_every_job_once():
    for n in (1, 5, 12, 97, 400):
        for workers in (1, 2, 4):
            chunks = batch_mod._chunks(list(range(n)), workers)
            assert sorted(i for c in chunks for i in c) == list(range(n))
            assert max(len(c) for c in chunks) <= 8


def test_a_two_worker_batch_keeps_rows_in_source_order_despite_cost_ordering(tmp_path):
    _tree(tmp_path / "src", 14)
    df = convert_folder(tmp_path / "src", tmp_path / "out", workers=2, progress=False)
    assert df["source"].tolist() == sorted(df["source"].tolist())
    by = df.set_index("source")
    assert by.loc["p99.wav", "status"] == "failed" and "text file" in by.loc["p99.wav", "error"]
    for i in range(14):
        row = by.loc[f"p{i:02d}." + ("flac" if i % 3 == 0 else "wav")]
        assert row["status"] == "converted" and row["ok"]
        # Each row carries its own file's duration, not a neighbour's.
        assert row["duration_s"] == pytest.approx(0.05 + 0.02 * (i % 5), abs=1e-3)


def _dies_on_three(i):
    # A batch job whose worker process dies outright on job "3" (as if the OS killed it).
    if i == "3":
        os._exit(9)
    return {"status": "converted", "ok": True, "n": int(i)}


def test_a_worker_that_dies_fails_its_file_and_the_rest_of_its_chunk_still_runs():
    n = 40  # chunks of 3: job 3 shares its chunk with others, and the worker has another queued
    assert max(len(c) for c in batch_mod._chunks(list(range(n)), 2)) == 3
    jobs = [(str(i),) for i in range(n)]
    seen = []
    results = batch_mod._run(jobs, _dies_on_three, workers=2, progress=False, desc="x",
                             costs=[float(i) for i in range(n)], on_done=lambda idx, res: seen.extend(idx))
    assert results[3]["status"] == "failed" and "worker process died (exit code 9)" in results[3]["error"]
    assert all(results[i]["n"] == i and results[i]["ok"] for i in range(n) if i != 3)
    assert sorted(seen) == list(range(n))  # every file reported done exactly once


def test_the_cost_estimate_starts_compressed_files_before_bigger_wavs(tmp_path):
    ogg, wav = tmp_path / "a.ogg", tmp_path / "b.wav"
    ogg.write_bytes(b"\0" * 150_000)
    wav.write_bytes(b"\0" * 1_800_000)
    assert batch_mod._estimated_cost(str(ogg)) > batch_mod._estimated_cost(str(wav)) > 0
    assert batch_mod._estimated_cost(str(tmp_path / "missing.mp3")) == 0.0


@pytest.mark.parametrize("fmt, subtype", [("FLAC", "PCM_16"), ("FLAC", "PCM_24"), ("WAV", "PCM_U8"),
                                          ("WAV", "FLOAT")])
def test_pyav_mono_decoding_handles_packed_integer_and_float_frames(tmp_path, fmt, subtype):
    # FFmpeg hands these out as s16/s32/u8/flt frames, not the planar float of AAC, so they
    # take the generic per-frame path; it must agree with the full PyAV decoder.
    from cmvoice_nb.audio.decode import _decode_pyav

    x = np.column_stack([sine(440, 0.3, 22050), sine(220, 0.3, 22050, amplitude=0.2)])
    p = tmp_path / ("a." + fmt.lower())
    p.write_bytes(sf_bytes(x, 22050, format=fmt, subtype=subtype))
    full, rate, channels = _decode_pyav(b"", p, None, p)
    mono, mono_rate, mono_channels = _decode_pyav(b"", p, None, p, mono=True)
    assert (mono_rate, mono_channels, channels) == (rate, 2, 2) and mono.dtype == np.float32
    np.testing.assert_allclose(mono, full.mean(axis=1), atol=1e-6)
