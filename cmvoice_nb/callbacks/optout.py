"""Opt-out by keypress: "press 9 to be taken off the list" feeding the do-not-call list.

A DTMF campaign that offers an opt-out key ends each call the callee answered with a
``dtmf-finished`` callback whose ``digits`` hold what was pressed. :func:`opt_out_number` says
whether one callback is an opt-out (a finished DTMF call, result code 10, whose digits are exactly
the key, and, when *instructions* is given, whose instruction id starts with one of those
prefixes, since the same key may mean something else in another campaign) and gives the callee as
an E.164 number. :class:`OptOutList` appends those numbers to a do-not-call list that
``--suppress`` / ``suppress=`` reads (one number per line): append-only, each line fsynced before
the callback is acknowledged, every number written once whatever the restarts and redeliveries,
safe under the receiver's threads. :func:`opt_outs` gives the same numbers from callbacks already
loaded.

The receiver writes the list as it receives callbacks: ``wsgi_app(..., opt_out_digit="9",
opt_out_list="dnc.txt")`` or ``cmvoice receive --opt-out-digit 9 --opt-out-list dnc.txt``.

Examples
--------
>>> cb = {"type": "dtmf-finished", "instruction-id": "survey-1", "callee": "0031612345678",
...       "result": {"code": 10, "description": "Finished"}, "digits": "9"}
>>> opt_out_number(cb, digit="9"), opt_out_number(cb, digit="9", instructions=("reminder-",))
('+31612345678', None)
>>> opt_out_number(dict(cb, digits="19"), digit="9") is None
True
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..spec import DTMF_KEYS

__all__ = ["opt_out_number", "opt_outs", "OptOutList", "check_opt_out_digit", "instruction_prefixes"]

_FINISHED = 10  # contract: result code 10, "Finished" (answered); key on the code, never the text
_O_BINARY = getattr(os, "O_BINARY", 0)


def check_opt_out_digit(digit: Any, *, name: str = "opt_out_digit") -> str | None:
    """*digit* as the one keypad key it must be (``"9"``), or None; a clear error otherwise.

    Examples
    --------
    >>> check_opt_out_digit(9), check_opt_out_digit(None)
    ('9', None)
    >>> check_opt_out_digit("99")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.ConfigurationError: opt_out_digit= must be one keypad key (0-9, * or #), got '99'
    """
    from ..messages import opt

    if digit is None:
        return None
    text = str(digit).strip() if not isinstance(digit, bool) else ""
    if len(text) != 1 or text not in DTMF_KEYS:
        raise ConfigurationError(f"{opt('named', name, '--' + name.replace('_', '-'))} must be one keypad key "
                                 f"(0-9, * or #), got {digit!r}")
    return text


def instruction_prefixes(value: Any) -> tuple[str, ...] | None:
    """Instruction-id prefixes from ``"a-,b-"`` or an iterable; None (every id) for None or nothing.

    Examples
    --------
    >>> instruction_prefixes("survey-, poll-"), instruction_prefixes(None), instruction_prefixes(["x"])
    (('survey-', 'poll-'), None, ('x',))
    """
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    prefixes = tuple(p.strip() for p in items if p.strip())
    return prefixes or None


def opt_out_number(callback: Any, *, digit: str, instructions: Iterable[str] | None = None) -> str | None:
    """The callee's E.164 number when *callback* is an opt-out by *digit*, else None.

    Pure. An opt-out is a ``dtmf-finished`` callback with result code 10 whose ``digits`` are
    exactly *digit* (``"9"``, not ``"19"`` nor ``" 9"``) and, when *instructions* is given, whose
    ``instruction-id`` starts with one of those prefixes. A callee that is no phone number gives None.
    """
    from ..numbers import try_normalize

    if not isinstance(callback, dict) or callback.get("type") != "dtmf-finished":
        return None
    result = callback.get("result")
    code = result.get("code") if isinstance(result, dict) else None
    if isinstance(code, bool) or code not in (_FINISHED, str(_FINISHED)):
        return None
    if callback.get("digits") != digit:
        return None
    if instructions is not None:
        iid = callback.get("instruction-id")
        if not isinstance(iid, str) or not iid.startswith(tuple(instructions)):
            return None
    callee = callback.get("callee")
    if not isinstance(callee, str):
        return None
    number, _ = try_normalize(callee)
    return number


def opt_outs(calls: Any, *, digit: str = "9", instructions: Any = None) -> list[str]:
    """The people who opted out by pressing *digit*, from loaded callbacks: E.164 numbers, first first.

    The same numbers the receiver writes with ``opt_out_digit=`` (see :func:`opt_out_number`);
    the list can be given to ``suppress=`` as it is.

    Parameters
    ----------
    calls
        Callbacks as :func:`~cmvoice_nb.callbacks.load_callbacks` returns them (or anything it reads).
    digit
        The opt-out key.
    instructions
        Instruction-id prefixes (``"survey-"`` or a list) to which the key means opting out; default every id.

    Examples
    --------
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> calls = load_callbacks([
    ...     {"type": "dtmf-finished", "call-id": "a", "callee": "0031612345678", "result": {"code": 10}, "digits": "9"},
    ...     {"type": "dtmf-finished", "call-id": "b", "callee": "0031612345679", "result": {"code": 10}, "digits": "1"},
    ...     {"type": "dtmf-finished", "call-id": "c", "callee": "+31612345678", "result": {"code": 10}, "digits": "9"}])
    >>> opt_outs(calls)
    ['+31612345678']
    """
    from ..messages import opt
    from .load import calls_frame

    key = check_opt_out_digit(digit, name="digit")
    if key is None:
        # None means "no opt-out key" for a plan; here it would match every finished DTMF call without digits.
        raise ConfigurationError(f"{opt('named', 'digit', '--opt-out-digit')} must be one keypad key (0-9, * or #), "
                                 "got None")
    digit = key
    prefixes = instruction_prefixes(instructions)
    frame = calls_frame(calls)
    if not len(frame):
        return []
    if "received_at" in frame.columns:
        frame = frame.sort_values("received_at", kind="stable", na_position="last")
    found: dict[str, None] = {}
    for row in frame[["type", "instruction_id", "callee", "result_code", "digits"]].itertuples(index=False):
        code = None if _missing(row.result_code) else int(row.result_code)
        callback = {"type": row.type, "instruction-id": row.instruction_id, "callee": row.callee,
                    "result": {"code": code}, "digits": row.digits}
        callback = {k: (None if _missing(v) else str(v) if k != "result" else v) for k, v in callback.items()}
        number = opt_out_number(callback, digit=digit, instructions=prefixes)
        if number is not None:
            found.setdefault(number, None)
    return list(found)


def _missing(value: Any) -> bool:
    """True for a frame's missing cell (None, NaN, ``pd.NA``)."""
    import pandas as pd

    return value is None or (not isinstance(value, (dict, list)) and bool(pd.isna(value)))


class OptOutList:
    """A do-not-call list file the receiver appends opt-outs to: one E.164 number per line.

    The numbers already in the file are read when it is opened (so a restarted receiver writes
    nobody twice); :meth:`add` appends a new number as one line and fsyncs it before returning,
    under a lock (the receiver's threads share one list) and with ``O_APPEND`` (a line is written
    whole). A missing file is created empty: an empty list is a valid ``--suppress`` list.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dnc.txt"
    >>> dnc = OptOutList(path)
    >>> dnc.add("+31612345678"), dnc.add("0031612345678"), len(OptOutList(path))
    (True, False, 1)
    >>> path.read_text()
    '+31612345678\\n'
    """

    def __init__(self, path: str | os.PathLike) -> None:
        from .._dnc import row_layout, text_entries
        from .._text import decode_text, encoding_for_append
        from ..errors import CampaignError
        from ..numbers import try_normalize

        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        numbers: set[str] = set()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
            self._append(b"")  # created empty now: --suppress can read it before the first opt-out
        except OSError as exc:
            raise ConfigurationError(f"opt-out list {self.path}: cannot read ({exc.strerror or exc})") from None
        # Read as --suppress reads it, and appended to in the file's own encoding and line ends: an
        # Excel-saved UTF-16 list with a UTF-8 line added would hide that line from the next send.
        try:
            text, used = decode_text(data, name=f"opt-out list {self.path}", option=False)
        except CampaignError as exc:
            raise ConfigurationError(str(exc)) from None
        self._codec = encoding_for_append(used)
        self._newline = "\r\n" if "\r\n" in text else "\n"
        try:  # a CSV list gets a row with the number in its number column, as --suppress reads it
            self._layout = row_layout(text, name=f"opt-out list {self.path}")
            _, entries = text_entries(text, name=f"opt-out list {self.path}")
        except CampaignError as exc:
            raise ConfigurationError(str(exc)) from None
        for entry in entries.tolist():
            number, _ = try_normalize(entry)
            if number is not None:
                numbers.add(number)
        self._numbers = numbers
        self._ends_with_newline = not text or text.endswith(("\n", "\r"))

    def __contains__(self, number: object) -> bool:
        return number in self._numbers

    def __len__(self) -> int:
        return len(self._numbers)

    def __repr__(self) -> str:
        return f"OptOutList({str(self.path)!r}, {len(self._numbers)} numbers)"

    def add(self, number: str) -> bool:
        """Append *number* (any spelling; stored in E.164) unless listed already; True when written.

        Raises ``OSError`` when the line could not be written and fsynced (the number then
        counts as not listed, so a redelivered callback tries again), ``ValueError`` for no number.
        """
        from ..numbers import try_normalize

        normal, reason = try_normalize(number)
        if normal is None:
            raise ValueError(f"not a phone number: {number!r} ({reason})")
        with self._lock:
            if normal in self._numbers:
                return False
            # A hand-edited file may end without a newline: never glue a number onto its last line.
            lead = "" if self._ends_with_newline else self._newline
            line = normal if self._layout is None else \
                self._layout[0].join(normal if i == self._layout[2] else "" for i in range(self._layout[1]))
            self._append((lead + line + self._newline).encode(self._codec))
            self._ends_with_newline = True
            self._numbers.add(normal)
            return True

    def _append(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_BINARY, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
