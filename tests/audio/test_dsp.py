import numpy as np
import pytest

from cmvoice_nb.audio import dsp

from .._audio import sine, speechlike


def _tone_level_db(y: np.ndarray, freq_hz: float, rate: int) -> float:
    """Level of one frequency component relative to full scale, via a least-squares fit."""
    t = np.arange(len(y)) / rate
    basis = np.column_stack([np.sin(2 * np.pi * freq_hz * t), np.cos(2 * np.pi * freq_hz * t)])
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return 20 * np.log10(max(np.hypot(*coef), 1e-20))


@pytest.mark.parametrize("rate", [44100, 48000, 16000])
def test_resampler_rejects_a_6khz_tone_by_at_least_100_db(rate):
    # 6 kHz is above the 4 kHz Nyquist frequency of 8 kHz audio; a naive resampler folds it to 2 kHz.
    y = dsp.resample(sine(6000, 1.0, rate, amplitude=1.0), rate, 8000)
    body = y[800:-800]  # skip the filter's edge transients
    assert 20 * np.log10(np.sqrt(np.mean(body**2)) * np.sqrt(2) + 1e-20) <= -100
    assert _tone_level_db(body, 2000, 8000) <= -100


def test_resampler_keeps_an_in_band_tone_at_its_level():
    y = dsp.resample(sine(1000, 1.0, 44100, amplitude=0.5), 44100, 8000)
    assert len(y) == 8000
    assert abs(_tone_level_db(y[800:-800], 1000, 8000) - 20 * np.log10(0.5)) < 0.05


def test_to_mono_averages_channels_without_touching_the_input():
    x = np.column_stack([np.ones(4), np.zeros(4)])
    before = x.copy()
    np.testing.assert_array_equal(dsp.to_mono(x), np.full(4, 0.5))
    np.testing.assert_array_equal(x, before)


def test_levels_of_a_half_scale_sine():
    x = sine(440, 1.0, 8000, amplitude=0.5)
    assert dsp.dbfs_peak(x) == pytest.approx(-6.02, abs=0.01)
    assert dsp.dbfs_rms(x) == pytest.approx(-9.03, abs=0.01)
    assert dsp.dbfs_peak(np.zeros(10)) == float("-inf")
    assert dsp.dbfs_rms(np.zeros(0)) == float("-inf")


def test_speech_bounds_find_the_loud_region():
    x = np.concatenate([np.zeros(8000), sine(300, 0.5, 8000, amplitude=0.2), np.zeros(4000)])
    start, stop = dsp.speech_bounds(x, 8000)
    assert start == 8000 and stop == 12000
    assert dsp.speech_bounds(np.zeros(8000), 8000) == (0, 0)


def test_trim_keeps_the_padding_and_leaves_silence_alone():
    x = np.concatenate([np.zeros(16000), sine(300, 0.5, 8000, amplitude=0.2), np.zeros(16000)])
    y = dsp.trim_silence(x, 8000, padding_s=0.1)
    assert len(y) == 4000 + 2 * 800
    assert len(dsp.trim_silence(np.zeros(100), 8000)) == 100


def test_normalize_reaches_the_target_rms_when_the_peak_allows():
    x = speechlike(1.0, 8000, level=0.05)
    y = dsp.normalize_rms(x, target_dbfs=-20.0)
    assert dsp.dbfs_rms(y) == pytest.approx(-20.0, abs=0.01)
    assert dsp.dbfs_peak(y) <= -1.0 + 1e-9


def test_normalize_stops_at_the_peak_limit():
    x = np.zeros(8000)
    x[100] = 0.5  # one spike: reaching -20 dBFS RMS would need a peak far above full scale
    y = dsp.normalize_rms(x, target_dbfs=-20.0, peak_limit_dbfs=-1.0)
    assert dsp.dbfs_peak(y) == pytest.approx(-1.0, abs=1e-9)
    assert dsp.dbfs_rms(y) < -20.0


def test_split_on_silence_returns_each_word():
    word = sine(400, 0.3, 8000, amplitude=0.3)
    gap = np.zeros(4000)
    x = np.concatenate([gap, word, gap, word, gap, np.full(80, 0.3), gap])  # the 10 ms click is dropped
    segs = dsp.split_on_silence(x, 8000)
    assert segs == [(4000, 6400), (10400, 12800)]
