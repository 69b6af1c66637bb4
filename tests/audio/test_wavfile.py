import struct

import numpy as np
import pytest
import soundfile as sf

from cmvoice_nb.audio.codec import alaw_encode, float_to_pcm16
from cmvoice_nb.audio.wavfile import encode_wav, parse_wav, read_wav_samples, sniff_format
from cmvoice_nb.errors import AudioError

from .._audio import extensible_fmt, fmt_chunk, riff, sf_bytes, sine


def test_alaw_output_has_exactly_the_clean_telephony_header():
    data = encode_wav(np.zeros(1001))
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    assert data[12:16] == b"fmt " and struct.unpack_from("<I", data, 16)[0] == 18
    tag, ch, rate, byte_rate, align, bits, cb = struct.unpack_from("<HHIIHHH", data, 20)
    assert (tag, ch, rate, byte_rate, align, bits, cb) == (6, 1, 8000, 8000, 1, 8, 0)
    assert data[38:42] == b"fact" and struct.unpack_from("<II", data, 42) == (4, 1001)
    assert data[50:54] == b"data" and struct.unpack_from("<I", data, 54)[0] == 1001
    assert len(data) == 58 + 1001 + 1  # odd data size gets the RIFF pad byte
    info = parse_wav(data)
    assert info.chunk_ids == ["fmt ", "fact", "data"]
    assert not info.truncated and info.frames == 1001


def test_alaw_payload_is_the_g711_encoding_of_the_rounded_samples():
    x = sine(440, 0.05, 8000, amplitude=0.7)
    data = encode_wav(x)
    info = parse_wav(data)
    payload = np.frombuffer(data, np.uint8, count=info.data_size, offset=info.data_offset)
    np.testing.assert_array_equal(payload, alaw_encode(float_to_pcm16(x)))


def test_pcm16_target_writes_16_bit_mono_8khz_without_fact():
    info = parse_wav(encode_wav(np.zeros(10), target="pcm16"))
    assert (info.codec, info.samplerate, info.channels, info.bits, info.byte_rate, info.block_align) == \
        ("pcm", 8000, 1, 16, 16000, 2)
    assert info.chunk_ids == ["fmt ", "data"]


def test_unknown_target_is_refused():
    with pytest.raises(AudioError, match="unknown target"):
        encode_wav(np.zeros(4), target="mp3")


def test_stereo_input_to_encode_wav_is_refused():
    with pytest.raises(AudioError, match="mono"):
        encode_wav(np.zeros((4, 2)))


def test_metadata_chunks_before_data_are_walked_past():
    payload = bytes(range(1, 12))  # odd-sized LIST chunk exercises the pad byte
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8)), (b"LIST", payload), (b"data", b"\xd5" * 100)])
    info = parse_wav(data)
    assert info.chunk_ids == ["fmt ", "LIST", "data"]
    assert info.frames == 100 and info.codec == "alaw"


def test_truncated_file_is_reported_as_truncated_with_the_frames_present():
    full = encode_wav(np.zeros(800))
    info = parse_wav(full[:-300])
    assert info.truncated
    assert info.declared_data_size == 800 and info.data_size == 500
    x, rate = read_wav_samples(full[:-300])
    assert len(x) == 500 and rate == 8000


def test_extensible_header_exposes_its_subformat():
    data = riff([(b"fmt ", extensible_fmt(6, 1, 8000, 8)), (b"data", b"\xd5" * 8)])
    info = parse_wav(data)
    assert info.extensible and info.subformat_tag == 6 and info.codec == "alaw"


def test_non_wav_bytes_raise_a_clear_audio_error():
    with pytest.raises(AudioError, match="not a WAV file"):
        parse_wav(b"ID3\x03" + bytes(100))


def test_wav_without_fmt_chunk_is_refused():
    with pytest.raises(AudioError, match="no fmt chunk"):
        parse_wav(riff([(b"data", b"\x00" * 10)]))


@pytest.mark.parametrize("subtype, tolerance", [
    ("PCM_U8", 1 / 128), ("PCM_16", 1 / 32768), ("PCM_24", 1 / 2**23), ("PCM_32", 1 / 2**31),
    ("FLOAT", 1e-7), ("DOUBLE", 0.0), ("ALAW", 0.03), ("ULAW", 0.03),
])
def test_every_wav_variant_decodes_like_libsndfile(subtype, tolerance):
    x = np.column_stack([sine(300, 0.1, 16000, amplitude=0.6), sine(500, 0.1, 16000, amplitude=-0.3)])
    data = sf_bytes(x, 16000, format="WAV", subtype=subtype)
    ours, rate = read_wav_samples(data)
    theirs, _ = sf.read(__import__("io").BytesIO(data), dtype="float64")
    assert rate == 16000 and ours.shape == (1600, 2)
    np.testing.assert_allclose(ours, theirs, atol=tolerance + 1e-12)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_extensible_wavs_written_by_libsndfile_decode_too(subtype):
    x = sine(300, 0.05, 8000, amplitude=0.5)
    data = sf_bytes(x, 8000, format="WAVEX", subtype=subtype)
    assert parse_wav(data).extensible
    ours, _ = read_wav_samples(data)
    np.testing.assert_allclose(ours, x, atol=1e-4)


def test_sniffing_names_common_containers():
    x = np.zeros(800)
    assert sniff_format(sf_bytes(x, 8000, format="FLAC")) == "FLAC"
    assert sniff_format(sf_bytes(x, 8000, format="OGG", subtype="VORBIS")) == "OGG"
    assert sniff_format(sf_bytes(x, 8000, format="WAV")) == "WAV"
    assert sniff_format(b"\x00\x00\x00\x20ftypM4A " + bytes(40)) == "MP4/M4A"
