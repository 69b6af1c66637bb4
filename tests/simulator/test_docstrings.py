"""The examples in the simulator's docstrings run and show what they claim."""
import doctest
import importlib

import pytest

MODULES = ["cmvoice_nb.simulator", "cmvoice_nb.simulator.physics", "cmvoice_nb.simulator.server",
           "cmvoice_nb.simulator._handling", "cmvoice_nb.simulator._book", "cmvoice_nb.simulator.delivery",
           "cmvoice_nb.simulator.defaults", "cmvoice_nb.commands.simulate"]


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_of_each_simulator_module_pass(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_simulator_package_has_examples_to_run():
    attempted = sum(doctest.testmod(importlib.import_module(n), optionflags=doctest.ELLIPSIS).attempted
                    for n in MODULES)
    assert attempted > 10
