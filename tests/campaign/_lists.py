"""What the campaign tests plan and send: our caller id, a Notification's defaults, people on a
list, and the ``cmvoice send`` flags that say the same.

The simulator decides each call by the callee's last two digits (``MAGIC_ENDINGS`` in
``cmvoice_nb/simulator/physics.py``): 09 is Cancelled, 10 answered, 11 Failed, 12 Rejected.
"""
from __future__ import annotations

import pandas as pd

#: The caller id every test campaign calls from.
CALLER = "+31201234567"


def notification_defaults(prompt: str | None = "Hello {name}", **fields) -> dict:
    """The defaults every row of a Notification campaign shares: our caller id and a TTS prompt.

    *fields* add or replace wire fields, ``_`` standing for ``-`` (``callback_url=`` sets
    ``callback-url``; pass ``**{"voice.language": "nl-NL"}`` for a dotted one). ``prompt=None``
    leaves the prompt to a column of the list.
    """
    defaults = {"caller": CALLER, "prompt": prompt, "prompt-type": "TTS"}
    if prompt is None:
        del defaults["prompt"]
    defaults.update({key.replace("_", "-"): value for key, value in fields.items()})
    return defaults


def answering(n: int, *, start: int = 10) -> list[str]:
    """*n* Dutch mobile numbers the simulator always answers (``+316123{start + i:03d}10``)."""
    return [f"+316123{start + i:03d}10" for i in range(n)]


def people(*numbers, column: str = "callee") -> pd.DataFrame:
    """A list of *numbers* (in the column *column*), each with a name ``P0``, ``P1``...: what
    ``Hello {name}`` is rendered from."""
    return pd.DataFrame({column: list(numbers), "name": [f"P{i}" for i in range(len(numbers))]})


def phone_list(n: int = 6) -> pd.DataFrame:
    """*n* people the simulator answers, their numbers in a ``phone`` column: what :func:`hello_plan` plans."""
    return people(*answering(n), column="phone")


def hello_plan(df: pd.DataFrame, *, name: str = "c", **options):
    """*df* planned as the Notification ``Hello {name}`` to the number in its ``phone`` column."""
    from cmvoice_nb.campaign import plan_campaign

    return plan_campaign(df, app="notification", name=name, columns={"callee": "phone"},
                         defaults=notification_defaults(), **options)


def send_command(csv, journal, out, base_url, *, rate: int, concurrency: int) -> list[str]:
    """``cmvoice send`` of a notification list on the simulator at *base_url*, for a test to run as a process."""
    from .._wait import cmvoice

    return cmvoice("send", csv, *notification_flags(), "--journal", journal, "-o", out, "--rate", str(rate),
                   "--concurrency", str(concurrency), "--base-url", base_url, "--no-progress")


def notification_flags(prompt: str = "Hello {name}") -> list[str]:
    """The ``cmvoice send`` flags for :func:`notification_defaults`: the app, caller and TTS prompt."""
    return ["--app", "notification", "--set", f"caller={CALLER}", "--set", f"prompt={prompt}",
            "--set", "prompt-type=TTS"]
