"""The follow-up wave of a callback, read from its instruction id: summarize(by="wave").

The fixture is :data:`._factory.WAVE_ATTEMPTS`: four people over three waves.
"""
import pandas as pd
import pytest

from cmvoice_nb.callbacks import callback_wave, summarize

from ._factory import wave_calls


@pytest.fixture
def calls():
    return wave_calls()


def test_summarize_by_wave_reads_the_wave_from_the_instruction_id(calls):
    s = summarize(calls, by="wave")
    assert s.index.tolist() == [1, 2, 3]
    assert s["calls"].tolist() == [4, 2, 1] and s["answered"].tolist() == [1, 1, 1]
    assert s.loc[1, "Rejected"] == 1 and s.loc[2, "Cancelled"] == 1
    # Without by=, the overall row counts every wave.
    assert int(summarize(calls).loc["all", "calls"]) == 7


def test_an_id_without_a_wave_suffix_is_wave_1():
    ids = pd.Series(["spring-k-1", "spring-k-1-w12", "x-w0", "x-wide", None], dtype="string")
    assert callback_wave(ids).tolist() == [1, 12, 1, 1, 1]
