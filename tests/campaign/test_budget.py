"""A budget: every placed call counts at its upper-bound cost; no call takes the total past ``max_cost``.

Rows past the budget wait in the journal as ``budget`` (exit 1: raise it); the same campaign run
again with a higher budget sends them. The cost so far lives in the journal, every wave together.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, RetryPolicy, forecast, plan_campaign, send_campaign
from cmvoice_nb.campaign.ops.estimate import upper_bound_costs
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CampaignError

from ._lists import answering, notification_defaults, notification_flags, people

PRICES = pd.DataFrame({"country": ["NL"], "price_per_minute": [0.06], "setup": [0.01]})
FOUR = answering(4)


def plan_of(numbers, name="spring"):
    return plan_campaign(people(*numbers), app="notification", name=name, defaults=notification_defaults())


def one_call() -> float:
    """What each call of these lists counts at: the four words of 'Hello P<n>' are as long in every row."""
    [cost] = set(upper_bound_costs([json.loads(r.payload) for r in plan_of(FOUR).rows], app="notification",
                                   prices=PRICES))
    return cost


def test_no_call_takes_the_total_past_the_budget_and_the_rest_wait_in_the_journal(sim, tmp_path):
    cost = one_call()
    journal = tmp_path / "j.sqlite"
    res = send_campaign(plan_of(FOUR), sim.client(), journal=journal, rate=500, progress=False, prices=PRICES,
                        max_cost=2.5 * cost)
    assert res["status"].tolist() == ["queued", "queued", "budget", "budget"]
    assert "past the budget of" in res.loc[2, "error"] and "max_cost=" in res.loc[2, "error"]
    assert len(sim.calls) == 2
    with Journal(journal) as j:
        assert j.counts("spring") == {"queued": 2, "budget": 2}
        assert j.spent("spring") == pytest.approx(2 * cost)

    # Run again with a higher budget: the two that waited go; the two placed count already.
    res = send_campaign(plan_of(FOUR), sim.client(), journal=journal, rate=500, progress=False, prices=PRICES,
                        max_cost=4 * cost)
    assert res["status"].tolist() == ["queued"] * 4 and len(sim.calls) == 4
    with Journal(journal) as j:
        assert j.spent("spring") == pytest.approx(4 * cost)


def test_what_a_budget_leaves_is_forecast_before_the_run(sim, tmp_path):
    cost = one_call()
    send_campaign(plan_of(FOUR[:1]), sim.client(), journal=tmp_path / "j.sqlite", rate=500, progress=False,
                  prices=PRICES, max_cost=cost)
    fc = forecast(plan_of(FOUR), tmp_path / "j.sqlite", prices=PRICES, max_cost=2 * cost)
    assert fc.counts == {"to send": 1, "already done": 1, "budget": 2}
    assert fc.spent == pytest.approx(cost) and fc.estimate(PRICES).calls == 1


def test_a_call_that_placed_nothing_costs_nothing(sim, tmp_path):
    sim.set_faults(rate_5xx=1.0, status_5xx=503)
    res = send_campaign(plan_of(FOUR[:2]), sim.client(), journal=tmp_path / "j.sqlite", rate=500, progress=False,
                        prices=PRICES, max_cost=10.0, retry=RetryPolicy(max_attempts=1, backoff_s=0.01))
    assert set(res["status"]) == {"failed"}
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.spent("spring") == 0.0


def test_a_budget_needs_prices_that_price_every_call(sim, tmp_path):
    with pytest.raises(CampaignError, match="max_cost= needs prices="):
        send_campaign(plan_of(FOUR), sim.client(), journal=tmp_path / "j.sqlite", max_cost=1.0, progress=False)
    belgian = plan_of(["+32470123456"])
    with pytest.raises(CampaignError, match=r"no price for BE \(1 call\(s\)\)"):
        send_campaign(belgian, sim.client(), journal=tmp_path / "j.sqlite", prices=PRICES, max_cost=1.0,
                      progress=False)
    assert len(sim.requests) == 0


# ------------------------------------------------------------------------------ the command line
def test_cmvoice_send_with_a_budget_exits_1_and_a_higher_one_finishes_the_campaign(sim, tmp_path, token, capsys):
    cost = one_call()
    people(*FOUR).to_csv(tmp_path / "spring.csv", index=False)
    (tmp_path / "prices.csv").write_text("country;price_per_minute;setup\nNL;0,06;0,01\n")

    def send(budget):
        return main(["send", str(tmp_path / "spring.csv"), *notification_flags(), "--journal",
                     str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"), "--rate", "500", "--no-progress",
                     "--base-url", sim.base_url, "--prices", str(tmp_path / "prices.csv"), "--max-cost", f"{budget}"])

    assert send(2.5 * cost) == 1
    err = capsys.readouterr().err
    assert "plan: 4 rows: to send 2, budget 2" in err
    assert "budget: 2 rows - placing them would take the campaign's cost past --max-cost: raise it" in err
    assert main(["status", "--journal", str(tmp_path / "j.sqlite")]) == 0
    shown = capsys.readouterr().out
    assert "budget: 2 row(s) wait past the budget (--max-cost)" in shown and "placed so far, at most" in shown
    assert send(10 * cost) == 0
    assert "plan: 4 rows: to send 2, already done 2" in capsys.readouterr().err
    assert len(sim.calls) == 4


def test_a_budget_without_prices_or_for_an_unpriced_country_is_a_usage_error(tmp_path, no_token_env, capsys):
    (tmp_path / "l.csv").write_text("callee,name\n+32470123456,Els\n")
    (tmp_path / "prices.csv").write_text("country,price_per_minute\nNL,0.06\n")
    base = ["send", str(tmp_path / "l.csv"), *notification_flags(), "--journal", str(tmp_path / "j.sqlite"), "-o",
            str(tmp_path / "o.csv"), "--dry-run", "--max-cost", "5"]
    assert main(base) == 2 and "--max-cost needs --prices" in capsys.readouterr().err
    assert main(base + ["--prices", str(tmp_path / "prices.csv")]) == 2
    assert "no price for BE" in capsys.readouterr().err
