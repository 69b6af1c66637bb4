"""The campaign's packages (plan, journal, ops, send, follow-up) and numbers: what each exports and
where a public name is found. Module sizes, one-way imports and private names across packages are
held for every package by ``tests/test_architecture.py``."""
import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import cmvoice_nb
import cmvoice_nb.campaign.followup as followup_package
import cmvoice_nb.campaign.plan as plan_package
import cmvoice_nb.campaign.send as send_package
import cmvoice_nb.numbers as numbers_package

MODULES = ["cmvoice_nb.campaign.plan", "cmvoice_nb.numbers",
           "cmvoice_nb.campaign.journal", "cmvoice_nb.campaign.ops", "cmvoice_nb.campaign.ops.hours",
           "cmvoice_nb.campaign.ops.holidays", "cmvoice_nb.campaign.ops.schedule", "cmvoice_nb.campaign.ops.suppress",
           "cmvoice_nb.campaign.ops.estimate",
           "cmvoice_nb.campaign.send", "cmvoice_nb.campaign.send.decide", "cmvoice_nb.campaign.send.pacing",
           "cmvoice_nb.campaign.send._options", "cmvoice_nb.campaign.send._attempt",
           "cmvoice_nb.campaign.send._waiting", "cmvoice_nb.campaign.send._sender", "cmvoice_nb.campaign.send._api",
           "cmvoice_nb.campaign.followup", "cmvoice_nb.campaign.followup.decide",
           "cmvoice_nb.campaign.followup._api"]

PLAN_NAMES = {"plan_campaign", "CampaignPlan", "RowPlan", "content_key", "derive_instruction_id", "new_campaign_key",
              "render_template", "template_columns", "TemplateError", "PROBLEM_COLUMNS", "ROW_KEYS",
              "without_cycle_collection", "HOLDOUT", "assign", "parse_variants", "parse_seed", "design_conflict",
              "propose_columns"}


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in___all___resolves(name):
    module = importlib.import_module(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


# ------------------------------------------------------------------------------ plan and numbers
def test_the_plan_package_exports_the_planning_names_and_each_resolves():
    assert set(plan_package.__all__) == PLAN_NAMES
    assert all(hasattr(plan_package, name) for name in plan_package.__all__)
    assert plan_package.RowPlan.__module__ == "cmvoice_nb.campaign.plan._rows"


def test_the_numbers_package_exports_only_its_five_names():
    assert set(numbers_package.__all__) == {"normalize_number", "normalize_numbers", "try_normalize", "country_of",
                                            "SCIENTIFIC_REASON"}
    assert all(hasattr(numbers_package, name) for name in numbers_package.__all__)


def test_no_module_of_the_plan_or_numbers_package_imports_a_private_name_of_another_module():
    root = Path(cmvoice_nb.__file__).parent
    found = []
    for path in sorted([*(root / "campaign" / "plan").rglob("*.py"), *(root / "numbers").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("cmvoice_nb")):
                found += [f"{path.name}: {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []


# ------------------------------------------------------------------------------ journal and ops
def test_the_journal_package_exports_the_store_its_records_the_schema_version_and_its_readers():
    from cmvoice_nb.campaign import Journal as from_campaign, journal

    assert sorted(journal.__all__) == ["Journal", "JournalRow", "LiveCall", "RowStatus", "SCHEMA_VERSION", "STATES",
                                      "opened_journal", "pick_campaign"]
    assert journal.Journal is from_campaign
    assert journal.SCHEMA_VERSION == 4
    assert "sending" in journal.STATES and "suppressed" in journal.STATES


def test_an_ops_module_is_an_attribute_of_the_package_before_anyone_imports_it():
    code = ("import sys, cmvoice_nb.campaign.ops as ops; before = 'cmvoice_nb.campaign.ops.hours' in sys.modules; "
            "print(before, ops.hours.parse_calling_hours('9-17', days='all'), sorted(ops.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("False CallingHours('09:00-17:00', days='all', holidays=none) "
                                  "['estimate', 'holidays', 'hours', 'schedule', 'suppress', 'validity']")


def test_hours_and_suppress_give_the_names_their_private_parts_define():
    # The entries of a do-not-call list are read at the package's root (_dnc): the receiver's
    # opt-out list reads and appends to the same lists, and callbacks never import campaign.
    from cmvoice_nb import _dnc
    from cmvoice_nb.campaign.ops import holidays, hours, suppress

    assert hours.read_holidays is holidays.read_holidays and hours.Holidays is holidays.Holidays
    assert suppress.text_entries is _dnc.text_entries and suppress.NUMBER_COLUMNS is _dnc.NUMBER_COLUMNS


# ------------------------------------------------------------------------------ send and follow-up
def test_the_send_package_exports_the_sender_its_options_the_forecast_and_the_pacing():
    assert sorted(send_package.__all__) == sorted(["CampaignSender", "send_campaign", "SendOptions", "RetryPolicy",
                                                   "classify_error", "run_until_done", "TokenBucket",
                                                   "RESULT_COLUMNS", "Forecast", "forecast", "callback_urls",
                                                   "check_callback_urls"])


def test_the_followup_package_exports_the_planner_and_its_reasons():
    assert sorted(followup_package.__all__) == ["LEFT_OUT_COLUMNS", "LEFT_OUT_REASONS", "plan_followup"]


def test_the_campaign_package_gives_the_same_objects():
    from cmvoice_nb import campaign

    assert campaign.CampaignSender is send_package.CampaignSender
    assert campaign.TokenBucket is send_package.TokenBucket
    assert campaign.plan_followup is followup_package.plan_followup
    assert campaign.LEFT_OUT_REASONS is followup_package.LEFT_OUT_REASONS
