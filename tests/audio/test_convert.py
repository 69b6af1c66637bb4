import os
import warnings

import numpy as np
import pytest

from cmvoice_nb.audio import dsp
from cmvoice_nb.audio.convert import convert_prompt, prepare_samples, to_audio_segment
from cmvoice_nb.audio.wavfile import parse_wav, read_wav_samples
from cmvoice_nb.errors import AudioError

from .._audio import sf_bytes, sine, speechlike


def _in_band_snr_db(ref: np.ndarray, test: np.ndarray, rate: int = 8000) -> float:
    """SNR in 300-3400 Hz of *test* against *ref* (same length and alignment)."""
    spec_ref = np.fft.rfft(ref)
    spec_err = np.fft.rfft(test - ref)
    f = np.fft.rfftfreq(len(ref), 1 / rate)
    band = (f >= 300) & (f <= 3400)
    return 10 * np.log10(np.sum(np.abs(spec_ref[band]) ** 2) / np.sum(np.abs(spec_err[band]) ** 2))


def test_a_studio_stereo_file_becomes_a_compliant_alaw_prompt(tmp_path):
    src = tmp_path / "studio.wav"
    src.write_bytes(sf_bytes(np.column_stack([speechlike(1.0, 44100)] * 2), 44100, format="WAV", subtype="PCM_24"))
    report = convert_prompt(src, tmp_path / "out" / "welcome.wav")
    assert report.ok, report.problems
    assert report.path == tmp_path / "out" / "welcome.wav"
    written = report.path.read_bytes()
    assert written == report.data
    info = parse_wav(written)
    assert (info.format_tag, info.channels, info.samplerate, info.bits, info.byte_rate, info.block_align) == \
        (6, 1, 8000, 8, 8000, 1)
    assert info.chunk_ids == ["fmt ", "fact", "data"]
    assert report.duration_s == pytest.approx(1.0)
    assert (report.source_samplerate, report.source_channels) == (44100, 2)


def test_conversion_reaches_the_alaw_quality_ceiling_on_speech():
    x = speechlike(2.0, 48000, level=0.5)
    report = convert_prompt((x, 48000))
    y, _ = read_wav_samples(report.data)
    ref = dsp.resample(x, 48000, 8000)
    assert _in_band_snr_db(ref[400:-400], y[400:-400]) >= 37.0


def test_dst_none_writes_nothing_and_carries_the_bytes(tmp_path):
    before = set(os.listdir(tmp_path))
    report = convert_prompt((sine(440, 0.5, 16000), 16000))
    assert report.path is None and report.data[:4] == b"RIFF"
    assert set(os.listdir(tmp_path)) == before


def test_pcm16_target_is_written_when_asked(tmp_path):
    report = convert_prompt((sine(440, 0.5, 16000), 16000), tmp_path / "p.wav", target="pcm16")
    assert report.ok and report.codec == "pcm" and report.bits == 16 and report.samplerate == 8000


def test_the_source_is_never_overwritten(tmp_path):
    src = tmp_path / "prompt.wav"
    original = sf_bytes(sine(440, 0.5, 44100), 44100, format="WAV")
    src.write_bytes(original)
    with pytest.raises(AudioError, match="overwrite the source"):
        convert_prompt(src, src)
    with pytest.raises(AudioError, match="overwrite the source"):
        convert_prompt(src, tmp_path)  # a folder target resolves to prompt.wav: the source again
    assert src.read_bytes() == original


def test_an_existing_target_is_kept_with_overwrite_false(tmp_path):
    dst = tmp_path / "x.wav"
    dst.write_bytes(b"keep me")
    with pytest.raises(AudioError, match="overwrite=False"):
        convert_prompt((np.zeros(800), 8000), dst, overwrite=False)
    assert dst.read_bytes() == b"keep me"


def test_a_folder_destination_gets_the_source_stem(tmp_path):
    src = tmp_path / "Goodbye.flac"
    src.write_bytes(sf_bytes(sine(440, 0.3, 16000), 16000, format="FLAC"))
    out = tmp_path / "out"
    out.mkdir()
    report = convert_prompt(src, out)
    assert report.path == out / "Goodbye.wav" and report.path.exists()


def test_a_failed_conversion_leaves_no_file_behind(tmp_path):
    src = tmp_path / "bad.mp3"
    src.write_text("this is not audio")
    with pytest.raises(AudioError, match="text file"):
        convert_prompt(src, tmp_path / "out" / "bad.wav")
    assert not (tmp_path / "out" / "bad.wav").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_m4a_converts_to_a_compliant_prompt(m4a_file, tmp_path):
    report = convert_prompt(m4a_file, tmp_path / "phone.wav")
    assert report.ok and report.duration_s == pytest.approx(1.0, abs=0.05)


def test_trim_and_normalize_are_applied_in_that_order():
    x = np.concatenate([np.zeros(32000), speechlike(1.0, 16000, level=0.1), np.zeros(32000)])
    y = prepare_samples(x, 16000, trim=True, padding_s=0.1, normalize_dbfs=-20.0)
    assert len(y) == pytest.approx(8000 + 2 * 800, abs=200)
    assert dsp.dbfs_rms(y) == pytest.approx(-20.0, abs=0.2)


def test_prepare_samples_does_not_modify_its_input():
    x = np.column_stack([speechlike(0.5, 22050)] * 2)
    before = x.copy()
    prepare_samples(x, 22050, trim=True, normalize_dbfs=-20)
    np.testing.assert_array_equal(x, before)


def test_unknown_target_is_refused_before_any_work():
    with pytest.raises(AudioError, match="unknown target"):
        convert_prompt((np.zeros(10), 8000), target="gsm")


def test_to_audio_segment_gives_what_the_caller_will_hear():
    report = convert_prompt((sine(440, 0.5, 44100), 44100))
    seg = to_audio_segment(report)
    assert (seg.frame_rate, seg.channels, seg.sample_width) == (8000, 1, 2)
    assert len(seg) == 500
    y, _ = read_wav_samples(report.data)
    samples = np.array(seg.get_array_of_samples()) / 32768
    np.testing.assert_allclose(samples, y, atol=1 / 32768)


def test_an_audiosegment_goes_in_and_out():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
    pcm = (sine(440, 0.25, 16000) * 32767).astype("<i2")
    seg_in = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=16000, channels=1)
    seg_out = to_audio_segment(seg_in, normalize_dbfs=-20)
    assert seg_out.frame_rate == 8000 and len(seg_out) == 250


def test_trimming_a_quiet_recording_keeps_its_speech():
    quiet = np.concatenate([np.zeros(16000), speechlike(1.0, 16000, level=0.01), np.zeros(16000)])
    y = prepare_samples(quiet, 16000, trim=True, padding_s=0.1)
    assert len(y) == pytest.approx(8000 + 1600, abs=200)


def test_a_converted_report_names_its_source_in_repr(tmp_path):
    src = tmp_path / "hi.flac"
    src.write_bytes(sf_bytes(sine(440, 0.3, 16000), 16000, format="FLAC"))
    assert repr(convert_prompt(src)).startswith(f"<PromptReport '{src}': ok; alaw, 8000 Hz")


def test_a_float_source_above_full_scale_is_clipped_with_a_warning():
    report = convert_prompt((2.0 * sine(440, 0.5, 16000), 16000))
    assert any("above full scale" in w for w in report.warnings)
    assert report.peak_dbfs <= 0.0


def test_a_float_wav_with_nan_samples_is_refused():
    x = sine(440, 0.1, 8000)
    x[10] = np.nan
    data = sf_bytes(x, 8000, format="WAV", subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        convert_prompt(data)


# --- in-memory input (an upload) is named by its file name, never "<bytes>" --------------------

@pytest.mark.parametrize("data, reason", [
    (b"", "file is empty"),
    (b"just some notes, not audio\n" * 4, "is a text file"),
    (b"RIFF\x10\x00\x00\x00WAVE", "truncated"),
    (b"%PDF-1.4 " + bytes(range(256)) * 4, "not audio"),
])
def test_bytes_given_a_name_are_refused_under_that_name(data, reason):
    with pytest.raises(AudioError, match=reason) as info:
        convert_prompt(data, name="welcome.mp3")
    assert str(info.value).startswith("welcome.mp3: ") and "<bytes>" not in str(info.value)
    assert info.value.path == "welcome.mp3"


def test_bytes_over_the_size_limit_are_refused_under_their_name():
    with pytest.raises(AudioError, match="welcome.wav: ") as info:
        convert_prompt(b"\0" * 2000, name="welcome.wav", max_bytes=1000)
    assert "<bytes>" not in str(info.value)


def test_named_bytes_convert_into_a_folder_under_their_stem_and_report_their_source(tmp_path):
    report = convert_prompt(sf_bytes(sine(440, 0.3, 16000), 16000, format="WAV"), tmp_path, name="Welcome Message.flac")
    assert report.ok and report.path == tmp_path / "Welcome Message.wav"
    assert report.source == "Welcome Message.flac" and "<bytes>" not in repr(report)


def test_the_name_of_a_path_source_stays_the_path(tmp_path):
    missing = tmp_path / "gone.wav"
    with pytest.raises(AudioError, match="gone.wav: file not found"):
        convert_prompt(missing, name="upload.wav")
