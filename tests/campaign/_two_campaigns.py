"""Two campaigns, one callback log, built by hand for the funnel and the report.

Two campaigns made from two people.csv files got the same position-based instruction ids
(people-0, people-1, ...), as ids made without a campaign key are; one callback log holds both.
"""
import datetime as dt

import pandas as pd

from cmvoice_nb.callbacks import load_callbacks

from ..callbacks._factory import T0, callback

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


def cid(tag):
    """A provider-style call id (lower-case uuid) for a short tag."""
    return f"00000000-0000-4000-8000-{tag.encode().hex():0>12}"


def two_campaign_results():
    a = pd.DataFrame({
        "instruction_id": ["people-0", "people-1", "people-2", "people-3", "people-4"],
        "callee": ["+31612345600", "+31612345601", "+31612345602", "+31612345603", "+31612345604"],
        "status": ["queued", "queued", "queued", "unknown", "invalid"],
        # people-2 dialled two callees in one instruction: two call ids, ";"-separated
        "call_ids": [cid("a0"), cid("a1"), f"{cid('a2')};{cid('a2b')}", None, None],
        "sent_at": [T0] * 5,
    }, index=pd.Index(range(5), name="row"))
    b = pd.DataFrame({  # the other people.csv, sent the day before
        "instruction_id": ["people-0", "people-1", "people-2", "people-3"],
        "callee": ["+31612345700", "+31612345701", "+31612345702", "+31612345603"],
        "status": ["queued", "queued", "rejected", "queued"],
        "call_ids": [cid("b0"), cid("b1"), None, cid("b3")],
        "sent_at": [T0 - DAY] * 4,
    }, index=pd.Index(range(4), name="row"))
    return a, b


def two_campaign_calls():
    def cb(tag, iid, callee, code, start):
        return callback(0, instruction_id=iid, callee=callee, code=code, start=start, **{"call-id": cid(tag)})

    return load_callbacks([
        cb("a0", "people-0", "0031612345600", 10, T0 + 1 * MINUTE),
        cb("a1", "people-1", "0031612345601", 9, T0 + 2 * MINUTE),
        cb("a2", "people-2", "0031612345602", 10, T0 + 3 * MINUTE),
        cb("a2b", "people-2", "0031612345699", 9, T0 + 3 * MINUTE),
        cb("a3", "people-3", "0031612345603", 10, T0 + 4 * MINUTE),  # A's unknown row: it was placed
        cb("b0", "people-0", "0031612345700", 10, T0 - DAY + 1 * MINUTE),
        cb("b1", "people-1", "0031612345701", 10, T0 - DAY + 2 * MINUTE),
        cb("b3", "people-3", "0031612345603", 10, T0 - DAY + 3 * MINUTE),  # same person, the day before
        cb("c3", "people-3", "0031699999999", 10, T0 + 5 * MINUTE),  # a third campaign's people-3
        cb("x1", "people-9", "0031612345609", 10, T0 + 6 * MINUTE),  # ids in neither campaign
        cb("x2", "other-0", "0031612345610", 11, T0 + 7 * MINUTE),
    ])
