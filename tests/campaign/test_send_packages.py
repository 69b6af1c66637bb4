"""The send and follow-up packages: what each exports, and that every module of them stays small."""
import importlib
from pathlib import Path

import pytest

import cmvoice_nb.campaign.followup as followup_package
import cmvoice_nb.campaign.send as send_package

MODULES = ["cmvoice_nb.campaign.send", "cmvoice_nb.campaign.send.decide", "cmvoice_nb.campaign.send.pacing",
           "cmvoice_nb.campaign.send._options", "cmvoice_nb.campaign.send._attempt",
           "cmvoice_nb.campaign.send._waiting", "cmvoice_nb.campaign.send._sender", "cmvoice_nb.campaign.send._api",
           "cmvoice_nb.campaign.followup", "cmvoice_nb.campaign.followup.decide",
           "cmvoice_nb.campaign.followup._api"]


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in___all___resolves(name):
    module = importlib.import_module(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_the_send_package_exports_the_sender_its_options_and_the_pacing():
    assert sorted(send_package.__all__) == sorted(["CampaignSender", "send_campaign", "SendOptions", "RetryPolicy",
                                                   "classify_error", "run_until_done", "TokenBucket",
                                                   "RESULT_COLUMNS"])


def test_the_followup_package_exports_the_planner_and_its_reasons():
    assert sorted(followup_package.__all__) == ["LEFT_OUT_COLUMNS", "LEFT_OUT_REASONS", "plan_followup"]


def test_the_campaign_package_gives_the_same_objects():
    from cmvoice_nb import campaign

    assert campaign.CampaignSender is send_package.CampaignSender
    assert campaign.TokenBucket is send_package.TokenBucket
    assert campaign.plan_followup is followup_package.plan_followup
    assert campaign.LEFT_OUT_REASONS is followup_package.LEFT_OUT_REASONS


@pytest.mark.parametrize("package", [send_package, followup_package])
def test_no_module_is_over_600_lines(package):
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in Path(package.__file__).parent.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}
