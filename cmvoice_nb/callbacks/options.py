"""The callback receiver's options and their defaults, written once.

:func:`~cmvoice_nb.callbacks.wsgi_app`, :class:`~cmvoice_nb.callbacks.CallbackReceiver` and
``cmvoice receive`` all read :data:`DEFAULTS`; the command line builds its flags and help from
the fields' metadata. The server fields (``backlog`` onwards) apply where this package runs the
server (the receiver, the command); under another WSGI server, set its equivalents to match (see
the deployment guide, ``docs/guides/deployment.md``).

Examples
--------
>>> DEFAULTS.max_body_bytes, DEFAULTS.connection_limit
(65536, 1000)
>>> ReceiverOptions(max_body_bytes=0)
Traceback (most recent call last):
...
cmvoice_nb.errors.ConfigurationError: max_body_bytes= must be a positive whole number, got 0
>>> DEFAULTS.keeps_records(out=None, in_process=False), DEFAULTS.keeps_records(out="cb.jsonl", in_process=True)
(True, True)
>>> DEFAULTS.keeps_records(out="cb.jsonl", in_process=False)
False
"""
from __future__ import annotations

import dataclasses
import numbers
import operator
import os
from dataclasses import dataclass, field
from typing import Any


def _opt(default: Any, help: str, *, flag: str | None = None, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "flag": flag, "metavar": metavar})


@dataclass(frozen=True)
class ReceiverOptions:
    """What a callback receiver may be told; every default is here and nowhere else.

    Parameters
    ----------
    max_body_bytes
        Larger bodies are refused with 413. Where this package runs the server, the server itself
        refuses them from the headers (or, chunked, at the limit) before reading or buffering more.
    rotate_daily
        Write ``NAME-YYYY-MM-DD.jsonl`` per UTC day of receipt instead of one file.
    quarantine
        Where malformed bodies are kept; ``None``: ``NAME.quarantine.jsonl`` beside the log.
    keep_in_memory
        Also keep every record in memory. ``None`` (the default) decides by where the receiver
        runs (:meth:`keeps_records`): in this process for a notebook's live view
        (:class:`~cmvoice_nb.callbacks.CallbackReceiver`), in the log only for a service
        (:func:`~cmvoice_nb.callbacks.wsgi_app`, ``cmvoice receive``), in memory without a log.
    display_queue
        Display events waiting for a slow ``on_callback``; beyond that they are dropped.
    backlog
        Listen backlog: fresh connections the kernel queues during a burst.
    threads
        Worker threads answering requests.
    connection_limit
        Connections held open at once. Lowered to what the process's open-file limit allows;
        on Windows kept under what ``select()`` can watch (512 sockets). At the limit, idle
        connections are closed, oldest first, to make room.
    idle_timeout_s
        A connection with no request in progress is closed after this many seconds.
    request_timeout_s
        A request (headers and body) must arrive within this many seconds of its first byte.
    opt_out_digit
        The opt-out key (``"9"``): the callee of every finished DTMF callback whose digits are
        exactly this key is appended to *opt_out_list* before the callback is acknowledged
        (see :mod:`cmvoice_nb.callbacks.optout`). Needs *opt_out_list*.
    opt_out_list
        The do-not-call list file opt-outs are appended to (one E.164 number per line, each once;
        what ``--suppress`` reads). Created empty when missing.
    opt_out_instructions
        Instruction-id prefixes (``"survey-"``, comma-separated for several) whose callbacks the
        opt-out key applies to; default every id. The same key may mean something else in
        another campaign.
    """

    max_body_bytes: int = _opt(64 * 1024, "refuse larger bodies with 413, before reading them", flag="--max-body-bytes",
                               metavar="N")
    rotate_daily: bool = _opt(False, "write one file per UTC day: NAME-YYYY-MM-DD.jsonl", flag="--rotate-daily")
    quarantine: str | os.PathLike | None = _opt(
        None, "where malformed bodies are kept (default: NAME.quarantine.jsonl beside --out)", flag="--quarantine",
        metavar="PATH")
    keep_in_memory: bool | None = _opt(None, "also keep records in memory (None: decided by where it runs)")
    display_queue: int = _opt(10_000, "display events waiting for a slow on_callback")
    backlog: int = _opt(2048, "listen backlog: fresh connections queued during a burst", flag="--backlog", metavar="N")
    threads: int = _opt(8, "worker threads", flag="--threads", metavar="N")
    connection_limit: int = _opt(
        1000, "connections held open at once (lowered to fit the open-file limit; at the limit the oldest idle "
              "connection is closed)", flag="--connection-limit", metavar="N")
    idle_timeout_s: float = _opt(60.0, "close a connection idle for this many seconds", flag="--idle-timeout",
                                 metavar="S")
    request_timeout_s: float = _opt(30.0, "close a connection whose request takes longer than this to arrive",
                                    flag="--request-timeout", metavar="S")
    opt_out_digit: str | None = _opt(
        None, "opt-out key: the callee of every finished DTMF callback whose digits are exactly this key is "
              "appended to --opt-out-list (needs it)", flag="--opt-out-digit", metavar="KEY")
    opt_out_list: str | os.PathLike | None = _opt(
        None, "do-not-call list the opt-outs are appended to (one number per line, each once, fsynced; what "
              "--suppress reads)", flag="--opt-out-list", metavar="FILE")
    opt_out_instructions: str | None = _opt(
        None, "only callbacks whose instruction id starts with this prefix (comma-separated for several) "
              "count as opt-outs: the key may mean something else in another campaign",
        flag="--opt-out-instructions", metavar="PREFIX")

    def __post_init__(self) -> None:
        from ..errors import ConfigurationError
        from ..messages import opt

        def named(name: str) -> str:  # the option as each front-end spells it
            flag = next((f.metadata.get("flag") for f in dataclasses.fields(self) if f.name == name), None)
            return opt("named", name, flag or f"{name}=")

        # Stored as plain int / float: a numpy integer or a float of whole seconds is fine as input.
        for name in ("max_body_bytes", "display_queue", "backlog", "threads", "connection_limit"):
            value = getattr(self, name)
            try:
                number = operator.index(value) if not isinstance(value, bool) else 0
            except TypeError:
                number = 0
            if number <= 0:
                raise ConfigurationError(f"{named(name)} must be a positive whole number, got {value!r}")
            object.__setattr__(self, name, int(number))
        for name in ("idle_timeout_s", "request_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
                raise ConfigurationError(f"{named(name)} must be a positive number of seconds, got {value!r}")
            object.__setattr__(self, name, float(value))
        from .optout import check_opt_out_digit, instruction_prefixes

        object.__setattr__(self, "opt_out_digit", check_opt_out_digit(self.opt_out_digit))
        if (self.opt_out_digit is None) != (self.opt_out_list is None):
            given, missing = ("opt_out_digit", "opt_out_list") if self.opt_out_list is None else \
                ("opt_out_list", "opt_out_digit")
            raise ConfigurationError(f"{named(given)} needs {named(missing)}: the key and the list go together")
        prefixes = instruction_prefixes(self.opt_out_instructions)
        if self.opt_out_instructions is not None and self.opt_out_digit is None:
            raise ConfigurationError(f"{named('opt_out_instructions')} needs {named('opt_out_digit')}")
        object.__setattr__(self, "opt_out_instructions", ",".join(prefixes) if prefixes else None)
        if self.keep_in_memory not in (None, True, False):
            raise ConfigurationError(f"{named('keep_in_memory')} must be True, False or None, got "
                                     f"{self.keep_in_memory!r}")

    def replace(self, **changes: Any) -> ReceiverOptions:
        """A copy with *changes*; an unknown name is a ``TypeError`` naming it."""
        return dataclasses.replace(self, **changes)

    def keeps_records(self, *, out: Any, in_process: bool) -> bool:
        """Whether records are also kept in memory: *keep_in_memory*, or the default's rule."""
        if self.keep_in_memory is not None:
            return self.keep_in_memory
        return out is None or in_process

    @classmethod
    def flags(cls) -> list[dataclasses.Field]:
        """The fields the command line offers (those with a ``flag``), in definition order."""
        return [f for f in dataclasses.fields(cls) if f.metadata.get("flag")]


#: The defaults every front-end reads.
DEFAULTS = ReceiverOptions()

__all__ = ["ReceiverOptions", "DEFAULTS"]
