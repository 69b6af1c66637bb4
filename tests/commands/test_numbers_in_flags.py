"""Every command reads a number with a fraction the same way: a decimal point or a decimal comma.

Operators in the Netherlands, Germany, Belgium and France type ``0,5``; ``float`` would refuse it
(and take ``nan``). One reader, :func:`cmvoice_nb.messages.decimal_number`, serves every flag.
"""
from __future__ import annotations

import argparse

import pytest

from cmvoice_nb.cli import build_parser
from cmvoice_nb.messages import decimal_number

#: A flag of each command that takes a number with a fraction, and the rest of a valid command line.
FLAGS = [
    (["send", "list.csv", "--app", "notification", "--journal", "j.sqlite", "-o", "out.csv"], "--rate", "rate"),
    (["send", "list.csv", "--app", "notification", "--journal", "j.sqlite", "-o", "out.csv"], "--holdout",
     "holdout"),
    (["followup", "--journal", "j.sqlite", "--callbacks", "cb.jsonl", "-o", "out.csv"], "--max-cost", "max_cost"),
    (["simulate"], "--p-answer", "p_answer"),
    (["audio", "convert", "in", "-o", "out"], "--padding-s", "padding_s"),
    (["spelling", "build", "tts", "-o", "out", "--locale", "nl-NL"], "--min-silence-s", "min_silence_s"),
    (["receive", "--out", "cb.jsonl"], "--idle-timeout", "idle_timeout_s"),
]


def every_fractional_flag(parser: argparse.ArgumentParser) -> list[str]:
    """The flags of every subcommand whose reader is ``float`` (none should be)."""
    found = []
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif action.type is float:
                found.append(f"{p.prog} {'/'.join(action.option_strings)}")
    return found


def test_no_flag_reads_its_number_with_float():
    assert every_fractional_flag(build_parser()) == []


@pytest.mark.parametrize("argv, flag, dest", FLAGS)
def test_a_decimal_comma_means_what_a_point_means(argv, flag, dest):
    parser = build_parser()
    comma = parser.parse_args([*argv, flag, "0,5"])
    point = parser.parse_args([*argv, flag, "0.5"])
    assert getattr(comma, dest) == getattr(point, dest) == 0.5


@pytest.mark.parametrize("text", ["1.234,5", "1,234.5", "nan", "inf", "0,5%", "", "½"])
def test_what_is_not_one_plain_number_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="is not a number"):
        decimal_number(text)
