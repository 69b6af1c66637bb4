import base64
import json
import re
import struct

import numpy as np
import pytest

from cmvoice_nb.audio.check import check_prompt
from cmvoice_nb.audio.codec import alaw_encode, float_to_pcm16
from cmvoice_nb.audio.wavfile import encode_wav, read_wav_samples

from .._audio import extensible_fmt, fmt_chunk, riff, sf_bytes, sine, speechlike


def good_alaw(duration_s: float = 1.0) -> bytes:
    return encode_wav(speechlike(duration_s, 8000, level=0.3))


def alaw_payload(duration_s: float = 0.5) -> bytes:
    return alaw_encode(float_to_pcm16(speechlike(duration_s, 8000, level=0.3))).tobytes()


def one_problem(report, pattern: str) -> None:
    assert not report.ok
    assert any(re.search(pattern, p) for p in report.problems), report.problems


def test_a_clean_alaw_prompt_passes_with_no_findings():
    r = check_prompt(good_alaw(), name="welcome.wav")
    assert r.ok and r.problems == [] and r.warnings == []
    assert (r.codec, r.samplerate, r.channels, r.bits) == ("alaw", 8000, 1, 8)
    assert r.duration_s == pytest.approx(1.0)
    assert -20 < r.peak_dbfs < 0 and r.rms_dbfs < r.peak_dbfs


def test_a_file_on_disk_is_checked_by_path(tmp_path):
    p = tmp_path / "ok.wav"
    p.write_bytes(good_alaw())
    r = check_prompt(p)
    assert r.ok and r.path == p and r.data is None


def test_wrong_sample_rate_is_a_problem_with_the_fix():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 44100, 8)), (b"fact", struct.pack("<I", 4000)),
                 (b"data", alaw_payload())])
    r = check_prompt(data)
    one_problem(r, r"sample rate is 44100 Hz; the provider requires 8000 Hz.*Fix: convert")


def test_stereo_is_a_problem():
    data = sf_bytes(np.column_stack([sine(440, 0.2, 8000)] * 2), 8000, format="WAV", subtype="ALAW")
    one_problem(check_prompt(data), r"2 channels; the provider requires mono")


@pytest.mark.parametrize("subtype, pattern", [
    ("PCM_24", r"24-bit linear PCM"), ("PCM_U8", r"8-bit linear PCM"), ("FLOAT", r"32-bit float"),
    ("ULAW", r"µ-law"),
])
def test_wrong_codec_is_a_problem(subtype, pattern):
    one_problem(check_prompt(sf_bytes(sine(440, 0.2, 8000), 8000, format="WAV", subtype=subtype)), pattern)


def test_16_bit_pcm_is_accepted_with_a_warning_unless_strict():
    data = encode_wav(speechlike(0.5, 8000), target="pcm16")
    r = check_prompt(data)
    assert r.ok and any("16-bit linear PCM" in w for w in r.warnings)
    one_problem(check_prompt(data, allow_pcm16=False), r"16-bit linear PCM; the provider requires 8-bit G.711 A-law")


def test_alaw_with_a_wrong_bit_depth_is_a_problem():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 16, block_align=1, byte_rate=8000)), (b"data", alaw_payload())])
    one_problem(check_prompt(data), r"A-law data must have 8-bit samples.*16 bits")


def test_extensible_header_is_a_problem_even_for_alaw():
    data = riff([(b"fmt ", extensible_fmt(6, 1, 8000, 8)), (b"data", alaw_payload())])
    r = check_prompt(data)
    assert r.codec == "alaw"
    one_problem(r, r"WAVE_FORMAT_EXTENSIBLE")


def test_inconsistent_byte_rate_is_a_problem():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8, byte_rate=16000)), (b"data", alaw_payload())])
    one_problem(check_prompt(data), r"byte rate is 16000, expected 8000")


def test_truncated_data_is_reported_as_truncated():
    r = check_prompt(good_alaw()[:-2000])
    one_problem(r, r"truncated: the data chunk declares 8000 bytes but only 6000")
    assert r.duration_s == pytest.approx(0.75)


def test_a_wav_without_data_chunk_is_a_problem():
    one_problem(check_prompt(riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8))])), r"no data chunk")


def test_zero_length_audio_is_a_problem():
    one_problem(check_prompt(riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8)), (b"data", b"")])), r"zero-length")


def test_empty_file_is_a_problem():
    one_problem(check_prompt(b""), r"file is empty")


@pytest.mark.parametrize("fmt, label", [("FLAC", "FLAC"), ("OGG", "OGG"), ("MP3", "MP3")])
def test_other_containers_are_not_wavs(fmt, label):
    r = check_prompt(sf_bytes(sine(440, 0.3, 8000), 8000, format=fmt), name="prompt.wav")
    one_problem(r, rf"not a WAV file: it is {label} data")


def test_text_renamed_wav_is_called_out_as_text(tmp_path):
    p = tmp_path / "welcome.wav"
    p.write_text("Welcome!\n")
    one_problem(check_prompt(p), r"text file")


def test_truncated_header_is_called_out():
    one_problem(check_prompt(b"RIFF\x24\x00"), r"truncated WAV file")


def test_a_missing_path_is_a_problem_not_a_crash(tmp_path):
    one_problem(check_prompt(tmp_path / "missing.wav"), r"file not found")


def test_a_name_not_ending_in_wav_is_a_problem():
    one_problem(check_prompt(good_alaw(), name="welcome.mp3"), r"does not end in '\.wav'")
    one_problem(check_prompt(good_alaw(), name="welcome.WAV"), r"upper-case extension")


def test_upper_case_or_spaces_in_the_name_are_warnings():
    r = check_prompt(good_alaw(), name="Welcome Message.wav")
    assert r.ok
    assert any("upper-case letters" in w for w in r.warnings)
    assert any("spaces" in w for w in r.warnings)


def test_metadata_chunks_are_a_warning():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8, extra=b"")), (b"fact", struct.pack("<I", 4000)),
                 (b"LIST", b"INFOISFT\x0e\x00\x00\x00Lavf58.76.100\x00"), (b"data", alaw_payload())])
    r = check_prompt(data)
    assert r.ok and any("'LIST'" in w for w in r.warnings)


def test_missing_fact_chunk_is_a_warning():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8)), (b"data", alaw_payload())])
    r = check_prompt(data)
    assert r.ok and any("no 'fact' chunk" in w for w in r.warnings)


def test_silence_only_is_a_warning():
    r = check_prompt(encode_wav(np.zeros(8000)))
    assert any("silence only" in w for w in r.warnings)
    assert r.peak_dbfs < -60


def test_a_too_quiet_prompt_is_a_warning():
    r = check_prompt(encode_wav(speechlike(1.0, 8000, level=0.01)))
    assert r.ok and any("too quiet" in w for w in r.warnings)


def test_clipping_is_a_warning():
    x = np.clip(3 * speechlike(1.0, 8000, level=0.9), -1, 1)
    r = check_prompt(encode_wav(x))
    assert any("clipping" in w for w in r.warnings)


def test_long_leading_and_trailing_silence_are_warnings():
    x = np.concatenate([np.zeros(16000), speechlike(1.0, 8000), np.zeros(12000)])
    r = check_prompt(encode_wav(x))
    assert r.leading_silence_s == pytest.approx(2.0, abs=0.03)
    assert r.trailing_silence_s == pytest.approx(1.5, abs=0.03)
    assert any("long leading silence" in w for w in r.warnings)
    assert any("long trailing silence" in w for w in r.warnings)


def test_a_very_long_prompt_is_a_warning():
    x = np.tile(speechlike(1.0, 8000), 301)
    r = check_prompt(encode_wav(x))
    assert r.ok and any("very long prompt" in w for w in r.warnings)


def test_to_dict_is_json_safe_even_for_silence():
    d = check_prompt(encode_wav(np.zeros(800), target="pcm16"), name="s.wav").to_dict()  # A-law has no true zero
    json.dumps(d, allow_nan=False)
    assert d["peak_dbfs"] is None and d["ok"] is True and "data" not in d


def test_repr_says_the_verdict_and_format():
    r = check_prompt(sf_bytes(sine(440, 0.2, 44100), 44100, format="WAV"), name="x.wav")
    assert repr(r).startswith("<PromptReport 'x.wav': 1 problem; pcm, 44100 Hz, 1 ch, 16 bit, 0.20 s")


def test_html_shows_a_table_and_a_playable_pcm_audio_player():
    r = check_prompt(good_alaw(), name="welcome.wav")
    page = r._repr_html_()
    assert "<div class='cmvoice-table-box'>" in page and "compliant" in page and page.count("<audio") == 1
    assert ">samplerate<" in page and ">8000<" in page
    b64 = re.search(r"data:audio/wav;base64,([A-Za-z0-9+/=]+)", page).group(1)
    x, rate = read_wav_samples(base64.b64decode(b64))
    assert rate == 8000 and len(x) == 8000  # browsers cannot play A-law, so the player carries PCM


def test_html_escapes_file_names_and_lists_problems():
    r = check_prompt(b"<b>oops</b> text", name="<script>.wav")
    page = r._repr_html_()
    assert "<script>" not in page and "NOT compliant" in page and "text file" in page


def test_nan_samples_in_a_float_wav_are_a_problem():
    x = sine(440, 0.1, 8000)
    x[5] = np.inf
    one_problem(check_prompt(sf_bytes(x, 8000, format="WAV", subtype="FLOAT")), r"NaN or infinite")


def test_a_streamed_wav_with_placeholder_sizes_is_explained():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8)), (b"data", alaw_payload())], riff_size=0xFFFFFFFF)
    data = data[:data.index(b"data") + 4] + b"\xff\xff\xff\xff" + data[data.index(b"data") + 8:]
    r = check_prompt(data)
    # 0xFFFFFFFF means "unknown" (a stream): the audio runs to the end of the file, said as a warning.
    assert r.ok, r.problems
    assert any("placeholder sizes" in w and "read to the end of the file (0.5 s)" in w for w in r.warnings)
    assert r.duration_s == pytest.approx(0.5)
