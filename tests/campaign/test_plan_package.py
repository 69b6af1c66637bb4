"""The planning package's shape: one public path per name, small modules, the numbers it uses public."""
from __future__ import annotations

import ast
from pathlib import Path

import cmvoice_nb
import cmvoice_nb.campaign.plan as plan_package
import cmvoice_nb.numbers as numbers_package

PLAN_NAMES = {"plan_campaign", "CampaignPlan", "RowPlan", "content_key", "derive_instruction_id", "new_campaign_key",
              "render_template", "template_columns", "TemplateError", "PROBLEM_COLUMNS", "ROW_KEYS",
              "without_cycle_collection"}


def test_the_plan_package_exports_the_planning_names_and_each_resolves():
    assert set(plan_package.__all__) == PLAN_NAMES
    assert all(hasattr(plan_package, name) for name in plan_package.__all__)
    assert plan_package.RowPlan.__module__ == "cmvoice_nb.campaign.plan._rows"


def test_the_numbers_package_exports_only_its_five_names():
    assert set(numbers_package.__all__) == {"normalize_number", "normalize_numbers", "try_normalize", "country_of",
                                            "SCIENTIFIC_REASON"}
    assert all(hasattr(numbers_package, name) for name in numbers_package.__all__)


def _modules(*packages):
    root = Path(cmvoice_nb.__file__).parent
    for package in packages:
        yield from sorted((root / package).rglob("*.py"))


def test_no_module_of_the_plan_or_numbers_package_is_over_600_lines():
    long = {p.name: n for p in _modules("campaign/plan", "numbers")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_no_module_of_the_plan_or_numbers_package_imports_a_private_name_of_another_module():
    found = []
    for path in _modules("campaign/plan", "numbers"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("cmvoice_nb")):
                found += [f"{path.name}: {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []
