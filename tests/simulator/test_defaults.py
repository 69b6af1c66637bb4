"""The simulator's defaults live in one module: the class, its Behaviour and ``cmvoice simulate`` agree."""
from __future__ import annotations

import argparse
import inspect
import subprocess
import sys

import pytest

from cmvoice_nb.commands import simulate as command
from cmvoice_nb.simulator import SIMULATOR_TOKEN, Behaviour, Simulator, defaults


def simulate_defaults() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    return parser.parse_args(["simulate"])


def test_the_simulator_keywords_default_to_the_defaults_module():
    params = inspect.signature(Simulator).parameters
    assert params["host"].default == defaults.HOST and params["port"].default == defaults.PORT
    assert params["speed"].default == defaults.SPEED and params["seed"].default == defaults.SEED
    assert params["token"].default == SIMULATOR_TOKEN == defaults.SIMULATOR_TOKEN
    assert params["callback_retries"].default == defaults.CALLBACK_RETRIES
    assert params["callback_backoff_s"].default == defaults.CALLBACK_BACKOFF_S
    assert params["callback_timeout_s"].default == defaults.CALLBACK_TIMEOUT_S
    assert params["callback_workers"].default == defaults.CALLBACK_WORKERS
    for knob, value in defaults.BEHAVIOUR.items():
        assert params[knob].default == value, knob


def test_a_default_behaviour_has_the_defaults_modules_knobs():
    assert Behaviour().__dict__ == defaults.BEHAVIOUR


def test_a_new_simulator_injects_no_faults(make_sim):
    assert make_sim().faults == defaults.FAULTS


def test_the_command_line_defaults_are_the_same_constants():
    args = simulate_defaults()
    assert (args.host, args.port, args.speed, args.seed) == (defaults.HOST, defaults.PORT, defaults.SPEED,
                                                             defaults.SEED)
    assert args.p_answer == defaults.BEHAVIOUR["p_answer"]
    assert (args.latency_s, args.rate_429, args.rate_5xx, args.rate_drop) == tuple(
        defaults.FAULTS[k] for k in ("latency_s", "rate_429", "rate_5xx", "rate_drop"))


def test_at_the_default_answer_rate_the_command_keeps_the_default_rejected_and_failed_shares():
    assert command._other_outcomes(defaults.BEHAVIOUR["p_answer"]) == {
        "p_rejected": defaults.BEHAVIOUR["p_rejected"], "p_failed": defaults.BEHAVIOUR["p_failed"]}


@pytest.mark.parametrize("p_answer", [0.0, 0.5, 0.9, 0.93, 0.97, 1.0])
def test_any_answer_rate_the_command_accepts_makes_a_valid_behaviour(p_answer):
    shares = command._other_outcomes(p_answer)
    behaviour = Behaviour(p_answer=p_answer, **shares)
    assert behaviour.p_answer + behaviour.p_rejected + behaviour.p_failed <= 1.0 + 1e-9


def test_the_defaults_module_imports_nothing_heavy():
    # `cmvoice --help` reads the defaults: that must not start loading the HTTP server.
    code = ("import sys, cmvoice_nb.simulator.defaults; "
            "print(any(m in sys.modules for m in ('http.server', 'cmvoice_nb.simulator.server', 'requests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
