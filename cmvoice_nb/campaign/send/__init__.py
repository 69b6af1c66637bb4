"""Send a planned campaign: paced, bounded, journaled, never calling anyone twice by accident.

The provider has no idempotency key, so the sender retries only what provably was not
processed and writes every row's state to a SQLite journal *before* each request:

* 200 with call ids → ``queued``.
* 400 ``InstructionRejected`` → ``rejected`` (fix the row; a re-run sends it again).
* 429 ``RateLimited`` → retried after ``Retry-After``; the whole pace is halved.
* 503 or connection refused → retried with exponential backoff, a bounded number of times;
  then ``failed`` (nothing was placed; a re-run sends it again).
* read timeout, dropped connection, any other 5xx → ``unknown``: the call MAY exist. Never
  resent unless ``resend_unknown=True``.
* Systemic errors stop the whole run at once, with their reason, instead of failing every
  row: 401/403 (the token), 404 (a wrong base URL or path: the URL called is named) and a
  connection refused on every attempt. Rows not attempted stay pending (``skipped``).

Before anything is sent, each row is matched with the journal (see
:mod:`cmvoice_nb.campaign.plan` for the ids) by :func:`~cmvoice_nb.campaign.send.decide.decide`,
a pure function with the whole rule in one place. The journal guards **people, not positions**: a row whose
callee already has a call ``sending``, ``queued`` or ``unknown`` in this journal — under any id, in any campaign, or
earlier in the same list — is not sent and is reported ``already-called`` with the earlier
instruction id and call id (``allow_repeat=True`` calls them again, for a list that means
it). A row already sent whose content changed since is withheld and reported ``changed``
(``resend_changed=True`` sends it again, deliberately).

Result statuses (:data:`cmvoice_nb.spec.STATUS`, each with its exit class): ``queued`` (call
accepted), ``dry-run`` (would be sent), ``suppressed`` (on the do-not-call list: never sent),
``dropped`` (a repeat left out by ``drop_duplicates``), ``holdout`` (an A/B test's control group:
never called) — final; ``skipped`` (not sent: the run
ended or was stopped first), ``failed`` (nothing placed after the retries) and ``deferred``
(outside its calling hours, not waited for) — a later run sends them; and the ones the operator
must act on: ``invalid``, ``refused-country``, ``rejected``, ``unknown``, ``changed``,
``already-called``, ``budget``, ``no-zone``. :func:`~cmvoice_nb.campaign.summarize_results`
tells the operator what each needs; :func:`forecast` says before a run what it will do.

Calling hours (``calling_hours=``, see :class:`SendOptions`): a row is sent only while its
window holds in the callee's zone, checked again just before its request leaves; rows outside
wait (the clock and the sleep are injectable) or, with ``wait=False``, end ``deferred``.

Defaults are conservative — 5 calls/s, burst 5, 4 requests in flight — because the
provider documents no rate limit: a real campaign is limited by people's phones, not by
HTTP, and a slow start is cheap while a blocked account is not. Raise them for the
simulator or once the provider has confirmed your limits.

The modules: :mod:`.decide` (the rule, pure), ``_forecast`` (:func:`forecast`: the rule over
what the journal holds, the counts every front-end shows), ``_options`` (:class:`SendOptions`,
:class:`RetryPolicy`, :func:`classify_error`), ``_attempt`` (one row: mark ``sending``, POST the
frozen bytes, classify, record), ``_waiting`` (calling hours), :mod:`.pacing`
(:class:`TokenBucket`), ``_sender`` (:class:`CampaignSender`, which orchestrates) and ``_api``
(:func:`send_campaign`, :func:`run_until_done`).

Examples
--------
>>> import pathlib, tempfile, pandas as pd, cmvoice_nb as cm
>>> df = pd.DataFrame({"callee": ["+31612345610", "+31612345611"], "name": ["Ann", "Bob"]})
>>> journal = pathlib.Path(tempfile.mkdtemp()) / "spring.sqlite"
>>> with cm.Simulator() as sim:
...     res = send_campaign(df, sim.client(), journal=journal, app="notification", name="spring",
...                         defaults={"caller": "+31201234567", "prompt": "Hi {name}", "prompt-type": "TTS"},
...                         rate=50, progress=False)
>>> res["status"].tolist()
['queued', 'queued']
"""
from __future__ import annotations

from ..results import RESULT_COLUMNS
from ._api import run_until_done, send_campaign
from ._forecast import Forecast, forecast
from ._options import RetryPolicy, SendOptions, callback_urls, check_callback_urls, classify_error
from ._sender import CampaignSender
from .pacing import TokenBucket

__all__ = ["CampaignSender", "send_campaign", "SendOptions", "RetryPolicy", "classify_error", "run_until_done",
           "TokenBucket", "RESULT_COLUMNS", "Forecast", "forecast", "callback_urls", "check_callback_urls"]
