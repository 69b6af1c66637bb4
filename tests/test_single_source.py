"""Contract facts are written once, in cmvoice_nb/spec.py; other modules import them.

Each check scans the package's source for a re-typed copy of one fact.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import cmvoice_nb

PACKAGE_DIR = Path(cmvoice_nb.__file__).parent

def _sources():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        if rel != "spec.py":
            yield rel, path.read_text(encoding="utf-8")


FACTS = {
    "spelling characters": re.compile(r"0123456789abcdefghijklmnopqrstuvwxyz"),
    "locale pattern": re.compile(re.escape("[a-z]{2}-[A-Z]{2}")),
    # the millisecond "...T11:00:31.752Z" formatter, in either of the two ways it was written
    "timestamp": re.compile(r'%H:%M:%S\.["%]'),
}


@pytest.mark.parametrize("fact", sorted(FACTS))
def test_a_contract_fact_is_not_retyped_outside_the_spec(fact):
    copies = [rel for rel, text in _sources() if FACTS[fact].search(text)]
    assert copies == []


def test_the_scan_would_see_a_copy():
    assert FACTS["timestamp"].search('now.strftime("%Y-%m-%dT%H:%M:%S.") + "Z"')
    assert FACTS["timestamp"].search('strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]')
    assert not FACTS["timestamp"].search('date_format="%Y-%m-%dT%H:%M:%S"')
    spec_text = (PACKAGE_DIR / "spec.py").read_text(encoding="utf-8")
    assert all(pattern.search(spec_text) for pattern in FACTS.values())


def _int_constants(text: str) -> set[int]:
    return {node.value for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Constant) and type(node.value) is int}


@pytest.mark.parametrize("rel", ["audio/check.py", "audio/convert.py", "audio/wavfile.py", "spelling/_audio.py",
                                 "spelling/build.py", "spelling/check.py", "widgets/audio.py", "commands/audio.py"])
def test_audio_modules_do_not_write_the_telephony_rate_themselves(rel):
    # 8000 Hz is spec.AUDIO_FORMAT.samplerate; docstring examples may show it, code may not.
    assert 8000 not in _int_constants((PACKAGE_DIR / rel).read_text(encoding="utf-8"))


def test_instructions_read_the_number_length_from_the_field_table():
    text = (PACKAGE_DIR / "instructions.py").read_text(encoding="utf-8")
    assert 24 not in _int_constants(text)
