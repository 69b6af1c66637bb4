import warnings

import numpy as np
import pytest

from cmvoice_nb.audio.codec import alaw_decode, alaw_encode, float_to_pcm16, pcm16_to_float, ulaw_decode, ulaw_encode

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


def reference_lin2alaw(sample: int) -> int:
    """ITU-T G.711 A-law, one sample at a time (Sun g711.c / CPython audioop)."""
    seg_end = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]
    pcm = sample >> 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = next((i for i, end in enumerate(seg_end) if pcm <= end), 8)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0x0F if seg < 2 else (pcm >> seg) & 0x0F
    return aval ^ mask


def reference_alaw2lin(code: int) -> int:
    a = code ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def reference_ulaw2lin(code: int) -> int:
    u = ~code & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


def test_alaw_encoder_matches_the_g711_reference_for_all_65536_inputs():
    expected = np.array([reference_lin2alaw(int(v)) for v in ALL_INT16], dtype=np.uint8)
    np.testing.assert_array_equal(alaw_encode(ALL_INT16), expected)


def test_alaw_encoder_matches_audioop_where_python_still_has_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:  # Python >= 3.13 without audioop-lts: the reference test above covers it
            audioop = pytest.importorskip("audioop")
    ref = np.frombuffer(audioop.lin2alaw(ALL_INT16.tobytes(), 2), dtype=np.uint8)
    np.testing.assert_array_equal(alaw_encode(ALL_INT16), ref)
    ref_u = np.frombuffer(audioop.lin2ulaw(ALL_INT16.tobytes(), 2), dtype=np.uint8)
    np.testing.assert_array_equal(ulaw_encode(ALL_INT16), ref_u)


def test_alaw_decoder_matches_the_reference_for_all_256_codes():
    codes = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(alaw_decode(codes), [reference_alaw2lin(c) for c in range(256)])


def test_ulaw_decoder_matches_the_reference_for_all_256_codes():
    codes = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(ulaw_decode(codes), [reference_ulaw2lin(c) for c in range(256)])


def test_alaw_round_trip_is_stable_on_decoded_values():
    codes = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(alaw_encode(alaw_decode(codes)), codes)


def test_ulaw_round_trip_is_stable_except_for_negative_zero():
    codes = np.arange(256, dtype=np.uint8)
    again = ulaw_encode(ulaw_decode(codes))
    # 0x7F (negative zero) decodes to 0, which encodes as 0xFF (positive zero).
    same = codes != 0x7F
    np.testing.assert_array_equal(again[same], codes[same])


def test_encoder_keeps_shape_and_does_not_modify_its_input():
    x = np.array([[0, 100], [-100, 32767]], dtype=np.int16)
    before = x.copy()
    out = alaw_encode(x)
    assert out.shape == (2, 2) and out.dtype == np.uint8
    np.testing.assert_array_equal(x, before)


def test_encoder_refuses_float_input_instead_of_guessing_a_scale():
    with pytest.raises(TypeError, match="int16"):
        alaw_encode(np.zeros(4))


def test_float_to_pcm16_rounds_and_clips_symmetrically_with_pcm16_to_float():
    np.testing.assert_array_equal(float_to_pcm16(pcm16_to_float(ALL_INT16)), ALL_INT16)
    assert float_to_pcm16(np.array([1.5, -1.5])).tolist() == [32767, -32768]
