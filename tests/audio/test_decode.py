import io
import stat
import sys
import warnings

import numpy as np
import pytest

from cmvoice_nb.audio.decode import find_ffmpeg, load_audio
from cmvoice_nb.errors import AudioError

from .._audio import fmt_chunk, riff, sf_bytes, sine


def test_a_path_bytes_and_a_file_object_decode_identically(tmp_path):
    x = sine(440, 0.2, 16000, amplitude=0.4)
    data = sf_bytes(x, 16000, format="FLAC")
    p = tmp_path / "a.flac"
    p.write_bytes(data)
    for src in (p, str(p), data, io.BytesIO(data)):
        y, rate = load_audio(src)
        assert rate == 16000
        np.testing.assert_allclose(y, x, atol=1 / 32768)


def test_an_int16_array_pair_is_scaled_and_copied():
    pcm = np.array([0, 16384, -32768], dtype=np.int16)
    y, rate = load_audio((pcm, 8000))
    assert y.tolist() == [0.0, 0.5, -1.0] and rate == 8000
    y[0] = 1.0
    assert pcm[0] == 0


def test_a_float_array_pair_is_never_modified_in_place():
    x = np.column_stack([np.zeros(4), np.ones(4)]).astype(np.float32)
    y, _ = load_audio((x, 48000))
    y[:] = 7
    assert x.max() == 1.0 and y.dtype == np.float64


def test_a_pydub_audiosegment_decodes_with_its_rate_and_channels():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
    pcm = (np.column_stack([sine(300, 0.1, 22050), -sine(300, 0.1, 22050)]) * 32767).astype("<i2")
    seg = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=22050, channels=2)
    y, rate = load_audio(seg)
    assert rate == 22050 and y.shape == (2205, 2)
    np.testing.assert_allclose(y[:, 0], -y[:, 1])


@pytest.mark.parametrize("fmt, subtype", [("FLAC", None), ("OGG", "VORBIS"), ("OGG", "OPUS"), ("MP3", None)])
def test_compressed_formats_decode_in_process(fmt, subtype):
    rate = 48000 if subtype == "OPUS" else 44100
    data = sf_bytes(np.column_stack([sine(440, 1.0, rate)] * 2), rate, format=fmt, subtype=subtype)
    y, got_rate = load_audio(data)
    assert got_rate == rate and y.ndim == 2 and y.shape[1] == 2
    assert abs(len(y) - rate) < rate * 0.1


def test_m4a_decodes(m4a_file):
    y, rate = load_audio(m4a_file)
    assert rate == 44100 and abs(len(y) / rate - 1.0) < 0.1
    assert np.max(np.abs(y)) > 0.1


def test_m4a_decodes_through_the_ffmpeg_binary_when_pyav_is_missing(m4a_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # makes "import av" raise ImportError
    y, rate = load_audio(m4a_file.read_bytes())
    assert rate == 44100 and abs(len(y) / rate - 1.0) < 0.1


def test_ffmpeg_is_found_from_env_first_then_path_then_the_wheel(monkeypatch, tmp_path):
    monkeypatch.setenv("FFMPEG", "/opt/custom/ffmpeg")
    assert find_ffmpeg() == "/opt/custom/ffmpeg"
    monkeypatch.delenv("FFMPEG")
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg() == str(fake)
    monkeypatch.setenv("PATH", "")
    import imageio_ffmpeg
    assert find_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()


def test_a_broken_ffmpeg_override_gives_a_clear_error(m4a_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    monkeypatch.setenv("FFMPEG", "/nonexistent/ffmpeg")
    with pytest.raises(AudioError, match="M4A"):
        load_audio(m4a_file)


def test_empty_file_is_reported_as_empty(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: file is empty"):
        load_audio(p)


def test_text_renamed_wav_is_reported_as_text(tmp_path):
    p = tmp_path / "prompt.wav"
    p.write_text("Welcome to our service\n")
    with pytest.raises(AudioError, match="text file"):
        load_audio(p)


def test_truncated_header_is_reported_as_truncated():
    with pytest.raises(AudioError, match="truncated"):
        load_audio(b"RIFF\x10\x00\x00")


def test_unsupported_container_is_reported_as_such():
    with pytest.raises(AudioError, match="unsupported format"):
        load_audio(bytes(range(256)) * 8)


def test_damaged_flac_names_the_container():
    data = sf_bytes(sine(440, 0.5, 8000), 8000, format="FLAC")
    with pytest.raises(AudioError, match="FLAC"):
        load_audio(data[:60])


def test_zero_length_wav_is_reported():
    data = riff([(b"fmt ", fmt_chunk(1, 1, 8000, 16)), (b"data", b"")])
    with pytest.raises(AudioError, match="zero-length"):
        load_audio(data)


def test_absurdly_long_audio_is_refused_before_decoding():
    data = sf_bytes(np.zeros(8000 * 30), 8000, format="FLAC")  # compresses to almost nothing
    with pytest.raises(AudioError, match="max_duration_s"):
        load_audio(data, max_duration_s=10)
    with pytest.raises(AudioError, match="max_duration_s"):
        load_audio((np.zeros(8000 * 30), 8000), max_duration_s=10)


def test_missing_file_and_directory_are_reported_with_the_path(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: file not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="is a directory"):
        load_audio(tmp_path)


def test_unreadable_file_is_reported(tmp_path, monkeypatch):
    p = tmp_path / "locked.wav"
    p.write_bytes(b"RIFF")

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # Tests may run as root, where chmod 000 does not stop reads; simulate the OS refusing.
    import cmvoice_nb.audio.decode as decode_mod

    with monkeypatch.context() as m:
        m.setattr(decode_mod.os, "open", deny)
        with pytest.raises(AudioError, match="permission denied"):
            load_audio(p)


def test_wrong_input_types_are_refused():
    with pytest.raises(AudioError, match="unsupported input type"):
        load_audio(12345)
    with pytest.raises(AudioError, match="text mode"):
        load_audio(io.StringIO("x"))
    with pytest.raises(AudioError, match="transposed"):
        load_audio((np.zeros((2, 8000)), 8000))
    with pytest.raises(AudioError, match="NaN"):
        load_audio((np.array([0.0, np.nan]), 8000))
