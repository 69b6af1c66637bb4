"""Reach per wave: funnel, reach_by_wave and summarize(by="wave") on hand-computed fixtures.

Three people, three waves (ids ``<id>``, ``<id>-w2``, ``<id>-w3`` as plan_followup derives them):

* ann: wave 1 Cancelled, wave 2 Finished            -> answered after 2 attempts
* bob: wave 1 Failed, wave 2 Cancelled, wave 3 Finished -> answered after 3 attempts
* cem: wave 1 Finished                               -> answered after 1 attempt
* dan: wave 1 Rejected (12)                          -> never followed up, never answered
"""
import pandas as pd
import pytest

from cmvoice_nb.callbacks.analysis import callback_wave, funnel, reach_by_wave, summarize
from cmvoice_nb.callbacks.load import load_callbacks
from cmvoice_nb.campaign.results import load_results, results_frame, results_to_csv

ANN, BOB, CEM, DAN = "+31612345601", "+31612345602", "+31612345603", "+31612345604"
ATTEMPTS = [  # (instruction id, callee, wave, call id, result code)
    ("c-ann", ANN, 1, "a1", 9), ("c-bob", BOB, 1, "b1", 11), ("c-cem", CEM, 1, "c1", 10), ("c-dan", DAN, 1, "d1", 12),
    ("c-ann-w2", ANN, 2, "a2", 10), ("c-bob-w2", BOB, 2, "b2", 9),
    ("c-bob-w3", BOB, 3, "b3", 10),
]


def results(wave):
    return results_frame([{"instruction_id": i, "callee": c, "status": "queued", "call_ids": cid, "wave": w,
                           "attempts": 1} for i, c, w, cid, _ in ATTEMPTS if w == wave])


@pytest.fixture
def calls():
    return load_callbacks([{"type": "notification-finished", "call-id": cid, "instruction-id": i, "callee": c,
                            "result": {"code": code}, "started-on": f"2024-05-0{w}T10:00:00Z",
                            "finished-on": f"2024-05-0{w}T10:01:00Z"}
                           for i, c, w, cid, code in ATTEMPTS], warn=False)


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


def test_a_single_wave_funnel_is_unchanged(calls):
    one = results(1)
    with_wave = funnel(one, calls)
    without = funnel(one.drop(columns=["wave"]), calls)
    assert with_wave.waves is None and without.waves is None
    assert with_wave.to_text() == without.to_text()
    assert "wave" not in with_wave.to_text()
    pd.testing.assert_frame_equal(with_wave.stages, without.stages)


def test_summarize_by_wave_reads_the_wave_from_the_instruction_id(calls):
    s = summarize(calls, by="wave")
    assert s.index.tolist() == [1, 2, 3]
    assert s["calls"].tolist() == [4, 2, 1] and s["answered"].tolist() == [1, 1, 1]
    assert s.loc[1, "Rejected"] == 1 and s.loc[2, "Cancelled"] == 1
    # Without by=, the overall row is what it always was.
    assert int(summarize(calls).loc["all", "calls"]) == 7


def test_an_id_without_a_wave_suffix_is_wave_1():
    ids = pd.Series(["spring-k-1", "spring-k-1-w12", "x-w0", "x-wide", None], dtype="string")
    assert callback_wave(ids).tolist() == [1, 12, 1, 1, 1]
