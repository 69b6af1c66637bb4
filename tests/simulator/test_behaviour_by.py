"""Other behaviour for some calls (``behaviour_by=``): an A/B test's variants answered at known rates."""
from __future__ import annotations

import pytest

from cmvoice_nb.errors import ConfigurationError
from cmvoice_nb.instructions import Notification


def notification(callee: str, prompt: str, iid: str | None = None) -> Notification:
    return Notification(callee=callee, caller="+31201234567", prompt=prompt, prompt_type="TTS", instruction_id=iid)


def test_a_prompt_or_an_instruction_prefix_changes_the_rates_of_its_calls(make_sim):
    sim = make_sim(seed=4, p_answer=0.0, p_rejected=0.0, p_failed=0.0,
                   behaviour_by={"prompt:Goedemiddag": {"p_answer": 1.0}, "id:vip-": {"p_failed": 1.0}})
    client = sim.client()
    for i in range(20):
        client.send(notification(f"+3161234{i:04d}13", "Hallo daar"))
        client.send(notification(f"+3161235{i:04d}13", "Goedemiddag daar"))
        client.send(notification(f"+3161236{i:04d}13", "Hallo daar", iid=f"vip-{i}"))
    codes = {k: {int(c) for c in v} for k, v in
             sim.calls.groupby(sim.calls["callee"].str[:9])["result_code"].agg(set).to_dict().items()}
    assert codes == {"+31612340": {9}, "+31612350": {10}, "+31612360": {11}}


def test_the_same_seed_replays_the_same_calls_with_behaviour_by(make_sim):
    outcomes = []
    for _ in range(2):
        sim = make_sim(seed=9, p_answer=0.3, behaviour_by={"prompt:B": {"p_answer": 0.7}})
        client = sim.client()
        for i in range(30):
            client.send(notification(f"+3161234{i:04d}13", "A" if i % 2 else "B"))
        outcomes.append(sim.calls["result_code"].tolist())
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("given, message", [
    ({"Goedemiddag": {"p_answer": 1.0}}, "expected 'prompt:TEXT' or 'id:PREFIX'"),
    ({"prompt:x": {"p_anser": 1.0}}, "unknown setting(s) ['p_anser']"),
    ({"prompt:x": {"p_answer": 2.0}}, "p_answer must be a probability"),
])
def test_a_bad_behaviour_by_is_refused_at_start(make_sim, given, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        make_sim(behaviour_by=given)
