"""The receiver's options are defined once: the app, the receiver and the command read the same defaults."""
import dataclasses
import inspect
import subprocess
import sys

import pytest

from cmvoice_nb.callbacks import CallbackApp, CallbackReceiver, wsgi_app
from cmvoice_nb.callbacks.options import DEFAULTS, ReceiverOptions
from cmvoice_nb.cli import build_parser

from .._wait import scaled


def _defaults(func):
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("front_end", [CallbackReceiver, wsgi_app, CallbackApp])
def test_every_python_front_end_takes_its_defaults_from_the_one_definition(front_end):
    defaults = _defaults(front_end)
    fields = {f.name for f in dataclasses.fields(ReceiverOptions)}
    shared = fields & set(defaults)
    assert shared >= {"max_body_bytes", "rotate_daily", "quarantine", "keep_in_memory", "display_queue"}
    assert {name: defaults[name] for name in shared} == {name: getattr(DEFAULTS, name) for name in shared}


def test_the_receiver_takes_every_option():
    assert {f.name for f in dataclasses.fields(ReceiverOptions)} <= set(_defaults(CallbackReceiver))


def test_the_command_offers_each_flagged_option_with_the_same_default():
    args = build_parser().parse_args(["receive", "--out", "cb.jsonl"])
    flagged = ReceiverOptions.flags()
    assert {f.name for f in flagged} == {"max_body_bytes", "rotate_daily", "quarantine", "backlog", "threads",
                                         "connection_limit", "idle_timeout_s", "request_timeout_s",
                                         "opt_out_digit", "opt_out_list", "opt_out_instructions"}
    assert {f.name: getattr(args, f.name) for f in flagged} == {f.name: getattr(DEFAULTS, f.name) for f in flagged}


def test_the_command_parses_its_flags_into_the_options():
    args = build_parser().parse_args(["receive", "--out", "x", "--connection-limit", "300", "--idle-timeout", "2.5",
                                      "--rotate-daily", "--max-body-bytes", "2048"])
    assert (args.connection_limit, args.idle_timeout_s) == (300, 2.5)
    assert (args.rotate_daily, args.max_body_bytes) == (True, 2048)


def test_keeping_records_in_memory_is_decided_by_one_rule(tmp_path):
    assert CallbackReceiver(tmp_path / "cb.jsonl").keep_in_memory  # a notebook's live view
    assert not wsgi_app(tmp_path / "cb.jsonl", secret="s").keep_in_memory  # a service
    assert wsgi_app(None, secret="s").keep_in_memory  # nowhere else to keep them
    assert not CallbackReceiver(tmp_path / "cb.jsonl", keep_in_memory=False).keep_in_memory


@pytest.mark.parametrize("changes, message", [
    ({"max_body_bytes": 0}, "max_body_bytes= must be a positive whole number, got 0"),
    ({"connection_limit": -5}, "connection_limit= must be a positive whole number, got -5"),
    ({"threads": 2.5}, "threads= must be a positive whole number, got 2.5"),
    ({"idle_timeout_s": 0}, "idle_timeout_s= must be a positive number of seconds, got 0"),
    ({"request_timeout_s": float("nan")}, "request_timeout_s= must be a positive number of seconds, got nan"),
])
def test_a_bad_option_is_a_value_error_naming_it(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        CallbackReceiver(tmp_path / "cb.jsonl", **changes)


def test_the_command_reports_a_bad_option_and_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cmvoice_nb", "receive", "--out", str(tmp_path / "cb.jsonl"),
                           "--connection-limit", "0"], capture_output=True, text=True, timeout=scaled(60))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "cmvoice receive: --connection-limit must be a positive whole number, got 0"


def test_an_unknown_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="connection_limt"):
        DEFAULTS.replace(connection_limt=5)
