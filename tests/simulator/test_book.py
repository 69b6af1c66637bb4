"""The simulator's records: a call's callback status follows its delivery attempts; a stop cancels only pending ones."""
from __future__ import annotations

from cmvoice_nb.simulator._book import CALL_COLUMNS, CallBook


def _call(call_id: str, *, status: str = "pending") -> dict:
    call = dict.fromkeys(CALL_COLUMNS)
    call.update(call_id=call_id, result_code=10, callback_status=status, callback_attempts=0)
    return call


def test_a_call_is_delivered_after_a_failed_attempt_and_each_attempt_is_kept():
    book = CallBook()
    book.add_call(_call("a"))
    book.record_delivery(call_id="a", url="http://127.0.0.1:1/cb", attempt=1, status=503, error="HTTP 503",
                         ok=False, give_up=False)
    assert book.calls().loc[0, "callback_status"] == "pending"
    book.record_delivery(call_id="a", url="http://127.0.0.1:1/cb", attempt=2, status=200, error=None,
                         ok=True, give_up=False)
    calls, deliveries = book.calls(), book.deliveries()
    assert calls.loc[0, "callback_status"] == "delivered" and calls.loc[0, "callback_attempts"] == 2
    assert deliveries["status"].tolist() == [503, 200] and str(deliveries["status"].dtype) == "Int64"


def test_stopping_cancels_pending_callbacks_and_leaves_given_up_and_delivered_ones():
    book = CallBook()
    for call_id in ("pending", "given-up", "delivered"):
        book.add_call(_call(call_id))
    book.record_delivery(call_id="given-up", url="u", attempt=4, status=None, error="ConnectError", ok=False,
                         give_up=True)
    book.record_delivery(call_id="delivered", url="u", attempt=1, status=204, error=None, ok=True, give_up=False)
    book.cancel_pending()
    statuses = book.calls().set_index("call_id")["callback_status"].to_dict()
    assert statuses == {"pending": "cancelled", "given-up": "failed", "delivered": "delivered"}
    assert book.result_codes() == {10: 3} and book.sizes() == (0, 3)


def test_a_delivery_for_a_call_forgotten_by_clear_is_still_recorded():
    book = CallBook()
    book.add_call(_call("a"))
    book.clear()
    book.record_delivery(call_id="a", url="u", attempt=1, status=200, error=None, ok=True, give_up=False)
    assert len(book.calls()) == 0 and book.deliveries()["call_id"].tolist() == ["a"]
