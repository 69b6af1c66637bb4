"""check_prompt measures 1-byte codecs (A-law, µ-law, unsigned 8-bit PCM) from lookup tables;
its report must equal, to the last bit, the float64 reference measurement of the decoded samples."""
import dataclasses

import numpy as np
import pytest

from cmvoice_nb.audio import check as check_mod
from cmvoice_nb.audio.check import PromptReport, check_prompt
from cmvoice_nb.audio.convert import convert_prompt
from cmvoice_nb.audio.wavfile import decode_wav_data, encode_wav, parse_wav

from .._audio import fmt_chunk, riff, sf_bytes, sine, speechlike

MEASURED = ("duration_s", "peak_dbfs", "rms_dbfs", "leading_silence_s", "trailing_silence_s", "warnings")


def _reference(data: bytes) -> PromptReport:
    info = parse_wav(data)
    report = PromptReport()
    check_mod._measure(report, decode_wav_data(info, data), int(info.samplerate),
                       quiet_rms_dbfs=check_mod.QUIET_RMS_DBFS)
    return report


def _fixtures():
    rng = np.random.default_rng(7)
    sr = 8000
    speech = speechlike(2.0, sr)
    silence = np.zeros(sr)
    yield "speech", speech
    yield "speech between long silences", np.concatenate([np.zeros(int(1.5 * sr)), speech, np.zeros(int(1.3 * sr))])
    yield "odd length (partial last frame)", speech[:12345]
    yield "shorter than one frame", speech[:77]
    yield "one sample", np.array([0.25])
    yield "digital silence", silence
    yield "near silence", 1e-4 * rng.standard_normal(sr)
    yield "too quiet", 0.01 * speech
    yield "clipped", np.clip(3 * speech, -1, 1)
    yield "full-scale square", np.sign(sine(50, 0.5, sr)) * 1.0
    yield "noise", rng.uniform(-1, 1, 3 * sr)
    yield "every code", np.linspace(-1, 1, 4096)
    yield "loud burst in silence", np.concatenate([np.zeros(3000), 0.9 * sine(440, 0.01, sr), np.zeros(5001)])


FIXTURES = list(_fixtures())


@pytest.mark.parametrize("target", ["alaw", "ulaw", "u8"])
@pytest.mark.parametrize("name,x", FIXTURES, ids=[n for n, _ in FIXTURES])
def test_table_measurement_equals_the_float_reference_bit_for_bit(target, name, x):
    if target == "alaw":
        data = encode_wav(x)
    else:
        data = sf_bytes(x, 8000, format="WAV", subtype={"ulaw": "ULAW", "u8": "PCM_U8"}[target])
    assert check_mod._code_tag(parse_wav(data)) is not None  # the fast path is the one under test
    fast, ref = check_prompt(data), _reference(data)
    for field in MEASURED:
        assert getattr(fast, field) == getattr(ref, field), field


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050])
def test_table_measurement_uses_the_same_frames_at_any_sample_rate(rate):
    x = np.concatenate([np.zeros(rate), speechlike(1.0, rate), np.zeros(rate // 3 + 17)])
    data = sf_bytes(x, rate, format="WAV", subtype="PCM_U8")
    fast, ref = check_prompt(data), _reference(data)
    assert [getattr(fast, f) for f in MEASURED] == [getattr(ref, f) for f in MEASURED]


def test_converted_files_report_exactly_what_a_fresh_check_of_the_written_bytes_reports(tmp_path):
    src = tmp_path / "hello.wav"
    src.write_bytes(sf_bytes(np.column_stack([speechlike(3.0, 44100)] * 2), 44100, format="WAV", subtype="PCM_24"))
    report = convert_prompt(src, tmp_path / "out.wav")
    again = check_prompt(tmp_path / "out.wav")
    ref = _reference((tmp_path / "out.wav").read_bytes())
    for field in MEASURED + ("problems", "codec", "samplerate", "channels", "bits", "chunks"):
        assert getattr(report, field) == getattr(again, field), field
    for field in MEASURED:
        assert getattr(report, field) == getattr(ref, field), field


def test_a_header_with_a_wrong_block_align_is_measured_like_the_decoder_reads_it():
    codes = encode_wav(speechlike(1.0, 8000))[58:]
    fact = len(codes).to_bytes(4, "little")
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8, block_align=2)), (b"fact", fact), (b"data", codes)])
    report = check_prompt(data)
    assert any("block align" in p for p in report.problems)
    assert [getattr(report, f) for f in MEASURED] == [getattr(_reference(data), f) for f in MEASURED]


def test_the_notebook_player_decodes_the_checked_bytes_only_when_shown():
    x = speechlike(0.5, 8000)
    report = check_prompt(encode_wav(x))
    assert report._samples is None  # nothing decoded for a plain check
    html = report._repr_html_()
    assert "<audio" in html
    np.testing.assert_array_equal(report._samples, decode_wav_data(parse_wav(encode_wav(x)), encode_wav(x))[:, 0])


def test_wider_and_multichannel_files_keep_the_float_measurement():
    stereo = sf_bytes(np.column_stack([speechlike(0.5, 8000)] * 2), 8000, format="WAV", subtype="ULAW")
    pcm16 = encode_wav(speechlike(0.5, 8000), target="pcm16")
    assert check_mod._code_tag(parse_wav(stereo)) is None
    assert check_mod._code_tag(parse_wav(pcm16)) is None
    same_speech = check_prompt(encode_wav(speechlike(0.5, 8000)))
    assert check_prompt(pcm16).rms_dbfs == pytest.approx(same_speech.rms_dbfs, abs=0.1)


def test_report_fields_are_unchanged_by_the_lazy_player():
    names = {f.name for f in dataclasses.fields(PromptReport)}
    assert "_decode_samples" in names
    report = check_prompt(encode_wav(speechlike(0.5, 8000)))
    assert "_decode_samples" not in report.to_dict()
