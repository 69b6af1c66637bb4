"""The per-file work around decoding and resampling (encoding, checking, writing, the worker
process) was made cheaper; these tests pin that it still produces exactly the same files."""
import multiprocessing
import os

import numpy as np
import pytest

from cmvoice_nb.audio import batch as batch_mod, convert as convert_mod
from cmvoice_nb.audio.batch import convert_folder
from cmvoice_nb.audio.check import check_prompt
from cmvoice_nb.audio.codec import float_to_pcm16
from cmvoice_nb.audio.convert import convert_prompt, prepare_samples
from cmvoice_nb.audio.decode import load_mono
from cmvoice_nb.audio.wavfile import encode_wav
from cmvoice_nb.errors import AudioError

from .._audio import sf_bytes, sine, speechlike


def test_float_to_pcm16_gives_the_same_integers_from_float32_as_from_its_float64_copy():
    rng = np.random.default_rng(3)
    ties = (np.arange(-40, 40) + 0.5) / 32768.0  # exact halves: rounding to even must agree
    edges = np.array([-2.0, -1.0, -1 + 2**-16, -0.0, 0.0, 32767.5 / 32768, 1.0, 3.0])
    x32 = np.concatenate([rng.uniform(-1.2, 1.2, 50_000), ties, edges]).astype(np.float32)
    kept = x32.copy()
    out = float_to_pcm16(x32)
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, float_to_pcm16(x32.astype(np.float64)))
    np.testing.assert_array_equal(x32, kept)  # input untouched


@pytest.mark.parametrize("target", ["alaw", "pcm16"])
def test_encode_wav_writes_the_same_bytes_for_float32_samples_and_their_float64_copy(target):
    y = (1.1 * speechlike(1.0, 8000)).astype(np.float32)  # a little over full scale: clipping too
    assert encode_wav(y, target=target) == encode_wav(y.astype(np.float64), target=target)


@pytest.mark.parametrize("subtype,rate,channels", [("PCM_16", 44100, 2), ("PCM_24", 48000, 2), ("FLOAT", 16000, 1),
                                                  ("ULAW", 8000, 1), ("PCM_U8", 22050, 1)])
def test_the_float32_conversion_writes_the_bytes_of_the_float64_reference_path(tmp_path, subtype, rate, channels):
    x = speechlike(1.5, rate, level=0.9)
    if channels == 2:
        x = np.column_stack([x, 0.8 * np.roll(x, 5)])
    src = tmp_path / "in.wav"
    src.write_bytes(sf_bytes(x, rate, format="WAV", subtype=subtype))
    report = convert_prompt(src, tmp_path / "out.wav")
    samples, samplerate, _ = load_mono(src)
    reference = encode_wav(prepare_samples(samples, samplerate))  # float64 all the way
    assert report.data == reference == (tmp_path / "out.wav").read_bytes()


def test_the_fast_path_leaves_the_decoded_samples_alone_and_trim_or_normalize_still_apply(tmp_path):
    x = np.concatenate([np.zeros(16000), sine(300, 0.5, 8000, amplitude=0.05), np.zeros(16000)]).astype(np.float32)
    kept = x.copy()
    y = convert_mod._prepare(x, 8000, trim=False, normalize_dbfs=None, trim_threshold_dbfs=-45.0, padding_s=0.1)
    np.testing.assert_array_equal(x, kept)
    assert len(y) == len(x)
    trimmed = convert_prompt((x, 8000), trim=True, normalize_dbfs=-20.0)
    assert trimmed.duration_s == pytest.approx(0.7, abs=0.03)
    assert trimmed.rms_dbfs == pytest.approx(-20.0, abs=0.5)


def test_a_new_destination_is_written_and_an_existing_one_still_follows_overwrite(tmp_path):
    src = tmp_path / "a.wav"
    src.write_bytes(sf_bytes(sine(440, 0.2, 16000), 16000, format="WAV"))
    out = tmp_path / "deep" / "new.wav"
    assert convert_prompt(src, out).path == out and out.exists()
    before = out.read_bytes()
    with pytest.raises(AudioError, match="overwrite=False"):
        convert_prompt(src, out, overwrite=False)
    assert out.read_bytes() == before
    link = tmp_path / "link.wav"
    link.symlink_to(src)
    with pytest.raises(AudioError, match="overwrite the source"):
        convert_prompt(src, link)


def test_batch_workers_keep_freed_memory_for_the_next_file_where_glibc_allows():
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:  # in a child: the setting must never reach the caller's process
        applied = pool.apply(batch_mod._init_worker)
    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else None
    assert applied is bool(libc and libc.startswith("glibc"))


def test_a_batch_report_equals_a_fresh_check_of_each_written_file(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i, (subtype, rate) in enumerate([("PCM_16", 44100), ("PCM_24", 48000), ("ULAW", 8000), ("PCM_U8", 22050)]):
        x = np.concatenate([np.zeros(rate * 6 // 5), speechlike(1.0, rate, seed=i), np.zeros(rate // 4)])
        (src / f"p{i}.wav").write_bytes(sf_bytes(x, rate, format="WAV", subtype=subtype))
    df = convert_folder(src, tmp_path / "out", workers=2, progress=False)
    assert df["ok"].all()
    for row in df.itertuples():
        fresh = check_prompt(row.target)
        assert (row.peak_dbfs, row.rms_dbfs, row.duration_s) == (fresh.peak_dbfs, fresh.rms_dbfs, fresh.duration_s)
        assert row.warnings == fresh.warnings and row.problems == fresh.problems
        assert any("leading silence" in w for w in row.warnings)
