"""The examples in the simulator's docstrings run and show what they claim."""
import doctest

import cmvoice_nb.sandbox


def test_sandbox_docstring_examples_pass():
    result = doctest.testmod(cmvoice_nb.sandbox, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0
