"""The journal and ops packages: what each exports, and where a public name is found."""
import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["cmvoice_nb.campaign.journal", "cmvoice_nb.campaign.ops",
                                     "cmvoice_nb.campaign.ops.hours", "cmvoice_nb.campaign.ops.holidays",
                                     "cmvoice_nb.campaign.ops.schedule", "cmvoice_nb.campaign.ops.suppress",
                                     "cmvoice_nb.campaign.ops.estimate"])
def test_every_name_in___all___resolves(package):
    module = importlib.import_module(package)
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_the_journal_package_exports_the_store_its_records_and_the_schema_version():
    from cmvoice_nb.campaign import Journal as from_campaign
    from cmvoice_nb.campaign import journal

    assert sorted(journal.__all__) == ["Journal", "JournalRow", "LiveCall", "RowStatus", "SCHEMA_VERSION", "STATES"]
    assert journal.Journal is from_campaign
    assert journal.SCHEMA_VERSION == 4
    assert "sending" in journal.STATES and "suppressed" in journal.STATES


def test_an_ops_module_is_an_attribute_of_the_package_before_anyone_imports_it():
    code = ("import sys, cmvoice_nb.campaign.ops as ops; before = 'cmvoice_nb.campaign.ops.hours' in sys.modules; "
            "print(before, ops.hours.parse_calling_hours('9-17', days='all'), sorted(ops.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("False CallingHours('09:00-17:00', days='all', holidays=none) "
                                  "['estimate', 'holidays', 'hours', 'schedule', 'suppress']")


def test_hours_and_suppress_give_the_names_their_private_parts_define():
    from cmvoice_nb.campaign.ops import _entries, holidays, hours, suppress

    assert hours.read_holidays is holidays.read_holidays and hours.Holidays is holidays.Holidays
    assert suppress.text_entries is _entries.text_entries and suppress.NUMBER_COLUMNS is _entries.NUMBER_COLUMNS
