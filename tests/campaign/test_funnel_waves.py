"""Reach per wave: funnel and reach_by_wave on hand-computed fixtures.

The fixture is ``tests/callbacks/_factory.WAVE_ATTEMPTS``: ann answered after 2 attempts, bob
after 3, cem after 1, dan never (rejected, never followed up).
"""
import pandas as pd
import pytest

from cmvoice_nb.campaign import funnel, load_results, reach_by_wave
from cmvoice_nb.campaign.results import results_frame, results_to_csv

from ..callbacks._factory import WAVE_ATTEMPTS, wave_calls


def results(wave):
    return results_frame([{"instruction_id": i, "callee": c, "status": "queued", "call_ids": cid, "wave": w,
                           "attempts": 1} for i, c, w, cid, _ in WAVE_ATTEMPTS if w == wave])


@pytest.fixture
def calls():
    return wave_calls()


def test_reach_per_wave_counts_attempts_and_people_answered_after_each(calls):
    table = reach_by_wave([results(1), results(2), results(3)], calls)
    assert table.index.tolist() == [1, 2, 3]
    assert table["called"].tolist() == [4, 2, 1]
    assert table["answered"].tolist() == [1, 1, 1]
    assert table["answer_rate"].tolist() == pytest.approx([0.25, 0.5, 1.0])
    assert table["answered_cumulative"].tolist() == [1, 2, 3]
    assert table["reach_cumulative"].tolist() == pytest.approx([0.25, 0.5, 0.75])
    assert table.attrs["people"] == 4


def test_reach_reads_results_files_and_one_concatenated_frame_alike(calls, tmp_path):
    paths = []
    for w in (1, 2, 3):
        paths.append(results_to_csv(results(w), tmp_path / f"wave{w}.csv"))
    from_files = reach_by_wave(paths, calls)
    one_frame = reach_by_wave(pd.concat([load_results(p) for p in paths]), calls)
    pd.testing.assert_frame_equal(from_files, one_frame)
    assert from_files["answered_cumulative"].tolist() == [1, 2, 3]


def test_the_funnel_of_several_waves_carries_the_per_wave_table(calls):
    f = funnel(pd.concat([results(1), results(2), results(3)], ignore_index=True), calls)
    assert f.waves["answered_cumulative"].tolist() == [1, 2, 3]
    text = f.to_text()
    assert "wave 2: 2 called, 1 answered (50%); answered after 2 attempts: 2 (50%)" in text
    assert "Reach per wave" in f._repr_html_()


def test_a_single_wave_funnel_has_no_wave_table(calls):
    one = results(1)
    with_wave = funnel(one, calls)
    without = funnel(one.drop(columns=["wave"]), calls)
    assert with_wave.waves is None and without.waves is None
    assert with_wave.to_text() == without.to_text()
    assert "wave" not in with_wave.to_text()
    pd.testing.assert_frame_equal(with_wave.stages, without.stages)
