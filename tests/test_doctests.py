"""Every docstring example in the package runs and prints what it shows.

The modules are found by walking the package (``pkgutil.walk_packages``), so a new module's
examples are run without anyone adding it here. Examples compare exactly, with ``...``
allowed (``ELLIPSIS``); whitespace is not normalised, so an example shows real output.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cmvoice_nb

OPTIONFLAGS = doctest.ELLIPSIS

#: Modules never imported here, with the reason. ``__main__`` runs the CLI when imported.
NOT_IMPORTED = {
    "cmvoice_nb.__main__": "importing it runs the CLI (argparse exits the process)",
}

#: Modules needing an optional dependency, with the reason (none: every dependency is required).
OPTIONAL_DEPS: dict[str, str] = {}

#: Modules owned by other work in progress whose examples fail, with why. They are run as strict
#: xfails: the day they pass, the entry must go. Empty: every example passes.
PENDING: dict[str, str] = {}


def _modules() -> list[str]:
    found = ["cmvoice_nb"] + [info.name for info in pkgutil.walk_packages(cmvoice_nb.__path__, "cmvoice_nb.")]
    return sorted(name for name in found if name not in NOT_IMPORTED)


MODULES = _modules()


def _run(name: str) -> tuple[doctest.TestResults, str]:
    module = importlib.import_module(name)
    report: list[str] = []
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    for test in finder.find(module, name, globs=dict(vars(module))):
        runner.run(test, out=report.append)
    return runner.summarize(verbose=False), "".join(report)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_written(name):
    if name in OPTIONAL_DEPS:
        pytest.skip(OPTIONAL_DEPS[name])
    if name in PENDING:
        pytest.xfail(PENDING[name])
    result, report = _run(name)
    assert result.failed == 0, report


def test_the_walk_finds_every_area_and_their_examples_run():
    # A walk that silently found nothing would make the test above pass vacuously.
    for name in ("cmvoice_nb", "cmvoice_nb.spec", "cmvoice_nb.instructions", "cmvoice_nb.client",
                 "cmvoice_nb.numbers", "cmvoice_nb.errors", "cmvoice_nb.audio.check",
                 "cmvoice_nb.spelling.names", "cmvoice_nb.spelling.build", "cmvoice_nb.campaign.plan",
                 "cmvoice_nb.callbacks.load"):
        assert name in MODULES
        result, _ = _run(name)
        assert result.attempted > 0, f"{name} has no example left to run"


def test_the_lists_name_real_modules():
    walked = set(MODULES) | set(NOT_IMPORTED)
    assert set(OPTIONAL_DEPS) <= walked and set(PENDING) <= walked


def test_a_wrong_example_is_reported_as_a_failure():
    # The runner used above does fail on a wrong output (and does not normalise whitespace).
    def sample():
        """
        >>> 1 + 1
        3
        >>> print("a  b")
        a b
        """

    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    for test in doctest.DocTestFinder().find(sample, "sample", globs={}):
        runner.run(test, out=lambda _text: None)
    assert runner.summarize(verbose=False) == doctest.TestResults(failed=2, attempted=2)
