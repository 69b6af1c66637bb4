"""Every default of the simulator, in one place: the :class:`~cmvoice_nb.simulator.Simulator`
keywords, the :class:`~cmvoice_nb.simulator.physics.Behaviour` knobs and ``cmvoice simulate``'s
flags all read these names.

This module imports nothing but the talk-time rates (:data:`cmvoice_nb.timing.RATES`), so the
command line can build its help text without loading the HTTP server.
"""
from __future__ import annotations

from ..timing import RATES

#: The documented **test-only** product token the simulator accepts by default.
#: It is GUID-shaped like a real token, spells "7e57" (test) and is useless against
#: the real provider. Any other token gets ``401``.
SIMULATOR_TOKEN = "7e577e57-0000-4000-8000-000000000000"

# Where and how fast.
HOST = "127.0.0.1"
PORT = 0  # a free port
SPEED = 1000.0
SEED = 0

#: The simulated world (see Behaviour): chances of each outcome and speaking rates.
BEHAVIOUR = {
    "p_answer": 0.75,
    "p_rejected": 0.05,
    "p_failed": 0.05,
    "p_voicemail": 0.1,
    "p_replay": 0.3,
    "p_dtmf_valid": 0.7,
    # Speaking rates: the one talk-time model's, which the campaign estimate reads too.
    **RATES,
}

#: Fault injection, all off (see Simulator.set_faults).
FAULTS = {
    "latency_s": 0.0,
    "rate_429": 0.0,
    "retry_after_s": 1.0,
    "rate_5xx": 0.0,
    "status_5xx": 503,
    "rate_drop": 0.0,
}

# Callback delivery.
CALLBACK_RETRIES = 3
CALLBACK_BACKOFF_S = 5.0
CALLBACK_TIMEOUT_S = 5.0
CALLBACK_WORKERS = 4

__all__ = ["SIMULATOR_TOKEN", "HOST", "PORT", "SPEED", "SEED", "BEHAVIOUR", "FAULTS", "CALLBACK_RETRIES",
           "CALLBACK_BACKOFF_S", "CALLBACK_TIMEOUT_S", "CALLBACK_WORKERS"]
