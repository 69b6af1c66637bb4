"""The examples in the audio docstrings run and say what they show."""
import doctest
import importlib

import pytest

MODULES = ["codec", "wavfile", "dsp", "decode", "convert", "check", "batch"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"cmvoice_nb.audio.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
