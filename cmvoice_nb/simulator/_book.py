"""The simulator's book-keeping: every request received, call placed and callback delivery attempt.

:class:`CallBook` is thread-safe (HTTP threads add requests and calls, delivery threads add
attempts) and hands out copies as typed DataFrames; it never holds the product token (the
records are scrubbed before they are added).
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

REQUEST_COLUMNS = ("time", "method", "path", "app", "status", "fault", "latency_s",
                   "instruction_id", "callees", "call_ids", "message", "body")
CALL_COLUMNS = ("call_id", "instruction_id", "app", "callee", "caller", "result_code",
                "started_on", "answered_on", "finished_on", "ring_s", "talk_s", "digits",
                "voicemail", "replays", "dtmf_attempts", "response", "callback_url",
                "callback_status", "callback_attempts")
DELIVERY_COLUMNS = ("time", "call_id", "url", "attempt", "status", "error", "ok")


def typed_frame(rows: list[dict], columns, *, times=(), ints=()):
    """A DataFrame of *rows* with UTC timestamps and nullable integers where the records need them."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(columns))
    for col in times:
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ints:
        frame[col] = frame[col].astype("Int64")
    return frame


class CallBook:
    """Requests, calls (by call id) and delivery attempts, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[dict] = []
        self._calls: dict[str, dict] = {}
        self._deliveries: list[dict] = []

    # -- writing -------------------------------------------------------------------------------
    def add_request(self, record: dict) -> None:
        """Keep *record* (the dict itself: the handler fills it in while it answers)."""
        with self._lock:
            self._requests.append(record)

    def add_call(self, call: dict) -> None:
        with self._lock:
            self._calls[call["call_id"]] = call

    def record_delivery(self, *, call_id: str, url: str, attempt: int, status: int | None, error: str | None,
                        ok: bool, give_up: bool) -> None:
        """Note one callback POST and what it means for the call (delivered, failed, still pending)."""
        with self._lock:
            self._deliveries.append({"time": datetime.now(timezone.utc), "call_id": call_id, "url": url,
                                     "attempt": attempt, "status": status, "error": error, "ok": ok})
            call = self._calls.get(call_id)
            if call is not None:
                call["callback_attempts"] = attempt
                call["callback_status"] = "delivered" if ok else ("failed" if give_up else "pending")

    def cancel_pending(self) -> None:
        """Mark every callback not yet delivered ``cancelled`` (the simulator stopped)."""
        with self._lock:
            for call in self._calls.values():
                if call["callback_status"] == "pending":
                    call["callback_status"] = "cancelled"

    def clear(self) -> None:
        with self._lock:
            self._requests = []
            self._calls = {}
            self._deliveries = []

    # -- reading -------------------------------------------------------------------------------
    def requests(self):
        with self._lock:
            rows = [dict(r) for r in self._requests]
        return typed_frame(rows, REQUEST_COLUMNS, times=("time",), ints=("status",))

    def calls(self):
        with self._lock:
            rows = [{k: c[k] for k in CALL_COLUMNS} for c in self._calls.values()]
        return typed_frame(rows, CALL_COLUMNS, times=("started_on", "answered_on", "finished_on"),
                           ints=("result_code", "callback_attempts", "replays", "dtmf_attempts"))

    def deliveries(self):
        with self._lock:
            rows = [dict(r) for r in self._deliveries]
        return typed_frame(rows, DELIVERY_COLUMNS, times=("time",), ints=("status",))

    def placed_count(self, instruction_id: str | None = None) -> int:
        with self._lock:
            if instruction_id is None:
                return len(self._calls)
            return sum(1 for c in self._calls.values() if c["instruction_id"] == instruction_id)

    def sizes(self) -> tuple[int, int]:
        """``(requests, calls)`` recorded so far."""
        with self._lock:
            return len(self._requests), len(self._calls)

    def result_codes(self) -> dict[int, int]:
        """How many recorded calls ended with each result code."""
        codes: dict[int, int] = {}
        with self._lock:
            for c in self._calls.values():
                codes[c["result_code"]] = codes.get(c["result_code"], 0) + 1
        return codes


__all__ = ["CallBook", "REQUEST_COLUMNS", "CALL_COLUMNS", "DELIVERY_COLUMNS", "typed_frame"]
