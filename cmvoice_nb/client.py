"""``VoiceClient``: sends one instruction to the CM Voice API Apps, safely.

The client validates before it sends (an invalid instruction never costs a
request), POSTs with the product token in ``X-CM-PRODUCTTOKEN``, reads the
provider's array (or the SDK's single object) of ``call-queued`` results, and
translates every failure once, at this boundary, into the tree of
:mod:`cmvoice_nb.errors` — telling apart what is safe to retry (connection
refused, 429, 503) from what may already have placed a call (read timeout,
dropped connection, other 5xx). It never retries by itself: a campaign
(:mod:`cmvoice_nb.campaign`) owns that decision and its journal.

Examples
--------
>>> from cmvoice_nb import Simulator, Notification
>>> with Simulator() as sim:                                    # doctest: +SKIP
...     client = sim.client()
...     result = client.send(Notification(callee="+31612345610", caller="+31201234567",
...                                       prompt="Hello", prompt_type="TTS"))
...     result.ok
True
"""
from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import spec
from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ConnectionDropped,
    InstructionRejected,
    RateLimited,
    ReadTimeout,
    ServerError,
    redact,
    redact_json,
    scrub_exception,
    shorten,
    walk_exceptions,
)
from .instructions import Instruction, instruction_from_json
from .wire import encode_body

log = logging.getLogger(__name__)

#: (connect, read) seconds. The read timeout is generous: a read timeout leaves the call
#: "unknown" (it may have been placed), which costs the user a manual reconciliation.
DEFAULT_TIMEOUT = (3.05, 30.0)


class _Secret:
    """Holds the product token; its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


@dataclass(frozen=True)
class CalleeResult:
    """The provider's answer for one dialled callee (one ``call-queued`` object)."""

    callee: str | None
    success: bool
    call_id: str | None = None
    instruction_id: str | None = None
    caller: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What one POST returned: HTTP status, raw body, and one :class:`CalleeResult` per callee."""

    status: int
    body: str
    results: tuple[CalleeResult, ...] = field(default_factory=tuple)
    app: str = ""
    instruction_id: str | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every callee was queued."""
        return self.status == 200 and bool(self.results) and all(r.success for r in self.results)

    @property
    def call_ids(self) -> list[str]:
        """Call ids of the queued callees."""
        return [r.call_id for r in self.results if r.success and r.call_id]

    @property
    def errors(self) -> list[str]:
        """``"<callee>: <error>"`` for every callee the provider did not queue."""
        return [f"{r.callee}: {r.error or 'not queued'}" for r in self.results if not r.success]

    def __repr__(self) -> str:
        return (f"SendResult(status={self.status}, ok={self.ok}, call_ids={self.call_ids!r}"
                + (f", errors={self.errors!r}" if self.errors else "") + ")")


def parse_queued(body: Any) -> tuple[CalleeResult, ...]:
    """Read the synchronous answer: an array of ``call-queued`` objects, or one object (SDK).

    Examples
    --------
    >>> parse_queued({"type": "call-queued", "call-id": "a", "callee": "+31612345678", "success": True})
    (CalleeResult(callee='+31612345678', success=True, call_id='a', instruction_id=None, caller=None, error=None),)
    """
    items = body if isinstance(body, list) else [body]
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        success = item.get("success")
        if isinstance(success, str):
            success = success.strip().lower() == "true"
        out.append(CalleeResult(
            callee=item.get("callee"),
            success=bool(success),
            call_id=item.get("call-id") or item.get("callId") or item.get("call_id"),
            instruction_id=item.get("instruction-id"),
            caller=item.get("caller"),
            error=item.get("error") or item.get("message"),
        ))
    return tuple(out)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Return *url* without a trailing slash, or raise :class:`ConfigurationError`.

    ``https://`` is required, except plain ``http://`` to a loopback address (the simulator):
    the product token must never cross a network in clear text.
    """
    parts = urlsplit(str(url).strip())
    if parts.scheme == "https" and parts.hostname:
        return str(url).strip().rstrip("/")
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return str(url).strip().rstrip("/")
    if parts.scheme == "http":
        raise ConfigurationError(f"refusing plain http:// to {parts.hostname}: the product token would travel "
                                 "unencrypted; use https:// (http is allowed only to loopback, e.g. the simulator)")
    raise ConfigurationError(f"base URL {url!r} is not an https:// URL with a host")


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL a :class:`VoiceClient` would use: *base_url*, else ``CMVOICE_BASE_URL``, else the provider's.

    Checked like :func:`check_base_url` (https, or http to loopback).
    """
    return check_base_url(base_url or os.environ.get(spec.BASE_URL_ENV) or spec.DEFAULT_BASE_URL)


def is_real_api(base_url: str) -> bool:
    """True when *base_url* is the real API: its host is not loopback (the simulator always is).

    Examples
    --------
    >>> is_real_api("https://api.cmtelecom.com/voiceapi/v2"), is_real_api("http://127.0.0.1:8765")
    (True, False)
    """
    return not _is_loopback(urlsplit(str(base_url).strip()).hostname)


#: Private networks by RFC 1918, and IPv6's unique local addresses (RFC 4193).
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))


def callback_url_problem(callback_url: str | None, *, base_url: str) -> str | None:
    """Why the provider behind *base_url* can never reach *callback_url*, or None when nothing says so.

    Only the real API is checked (:func:`is_real_api`: the simulator on loopback reaches a
    loopback receiver). The URL's literal host is read, with no DNS lookup: ``localhost`` (and
    ``*.localhost``), a loopback address, a private one (RFC 1918, IPv6 ``fc00::/7``), a
    link-local one (``169.254.0.0/16``, ``fe80::/10``) or ``0.0.0.0`` is a problem. A name that
    resolves to such an address, or a tunnel to one, is not seen: the check catches the
    forgotten ``127.0.0.1``, not every unreachable host.

    Examples
    --------
    >>> callback_url_problem("http://127.0.0.1:9000/cb", base_url="https://api.cmtelecom.com/voiceapi/v2")
    'callback URL http://127.0.0.1:9000/cb: 127.0.0.1 is a loopback address, which the provider cannot reach'
    >>> callback_url_problem("http://127.0.0.1:9000/cb", base_url="http://127.0.0.1:8765") is None
    True
    >>> callback_url_problem("https://cb.example.org/x", base_url="https://api.cmtelecom.com/voiceapi/v2") is None
    True
    """
    if not callback_url or not is_real_api(base_url):
        return None
    host = (urlsplit(str(callback_url).strip()).hostname or "").strip("[]").lower()
    what = None
    if host == "localhost" or host.endswith(".localhost"):
        what = "localhost"
    else:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return None
        if ip.is_loopback:
            what = "a loopback address"
        elif ip.is_link_local:
            what = "a link-local address"
        elif ip.is_unspecified:
            what = "the unspecified address"
        elif any(ip in net for net in _PRIVATE if net.version == ip.version):
            what = "a private address"
    if what is None:
        return None
    if what == "localhost":
        what = "this machine"
    return f"callback URL {shorten(str(callback_url), 80)}: {host} is {what}, which the provider cannot reach"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class VoiceClient:
    """Client for the CM Voice API Apps.

    Parameters
    ----------
    token
        The product token. Defaults to the ``CM_PRODUCT_TOKEN`` environment variable
        (read when the client is created). It is never shown in a repr, log or error.
    base_url
        Defaults to ``CMVOICE_BASE_URL``, then the contract's ``https://api.cmtelecom.com/voiceapi/v2``.
        Plain ``http://`` is refused except to loopback.
    timeout
        ``(connect, read)`` seconds, or one number for both. Always finite.
    session
        A ``requests.Session`` to use (inject adapters, proxies, retries off); one is created otherwise.
    check_voice_catalogue
        Validate TTS voices against the provider's table before sending.

    Raises
    ------
    ConfigurationError
        No token, or a base URL that is not https (or http to loopback).
    """

    def __init__(self, token: str | None = None, *, base_url: str | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, session=None,
                 check_voice_catalogue: bool = True) -> None:
        token = token if token is not None else os.environ.get(spec.TOKEN_ENV)
        if not token or not str(token).strip():
            raise ConfigurationError(
                f"no product token: pass token=... or set the {spec.TOKEN_ENV} environment variable "
                "(or use cmvoice_nb.Simulator().client() to try things without an account)")
        self._token = _Secret(str(token).strip())
        self.base_url = resolve_base_url(base_url)
        if isinstance(timeout, (int, float)):
            timeout = (float(timeout), float(timeout))
        if not all(t and t > 0 and t != float("inf") for t in timeout):
            raise ConfigurationError(f"timeout must be finite and positive, got {timeout!r}")
        self.timeout = tuple(timeout)
        self.check_voice_catalogue = check_voice_catalogue
        self._own_session = session is None
        if session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            # Campaigns send from several threads: size the pool so each keeps its connection
            # (requests' default of 10 would open and drop connections above that). No automatic
            # retries: only the caller knows whether resending is safe.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session

    def __repr__(self) -> str:
        return f"VoiceClient(base_url={self.base_url!r}, token='***')"

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> VoiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------------
    def url_for(self, app: str) -> str:
        """The endpoint URL of an app, e.g. ``.../voiceapi/v2/Notification``."""
        return f"{self.base_url}/{spec.app_spec(app).endpoint}"

    def send(self, instruction: Instruction) -> SendResult:
        """Validate, then POST one instruction; return the provider's answer.

        Raises
        ------
        ValidationError
            The instruction breaks the contract; no request was made.
        AuthenticationError, InstructionRejected
            401/403, 400: nothing was placed.
        RateLimited, ServerError(503), ConnectError
            Not processed: safe to retry (``exc.retry_safe``).
        ReadTimeout, ConnectionDropped, ServerError(other 5xx)
            The call MAY have been placed (``exc.may_have_been_placed``): do not resend blindly.
        """
        if not isinstance(instruction, Instruction):
            raise TypeError(f"send() takes a Notification, OTP or DTMF instruction, got {type(instruction).__name__}")
        with self._scrubbed():
            instruction.raise_for_problems(check_voice_catalogue=self.check_voice_catalogue)
            return self._post(instruction.APP, encode_body(instruction.to_json()),
                              instruction_id=instruction.instruction_id)

    def send_json(self, app: str, body: Mapping[str, Any], *, validate: bool = True) -> SendResult:
        """POST a wire dict as it is (after validating it as *app* unless ``validate=False``)."""
        with self._scrubbed():
            if validate:
                instruction_from_json(app, body).raise_for_problems(check_voice_catalogue=self.check_voice_catalogue)
            return self._post(spec.app_spec(app).name, encode_body(dict(body)),
                              instruction_id=body.get("instruction-id"))

    def send_payload(self, app: str, body: bytes | Mapping[str, Any], *,
                     instruction_id: str | None = None) -> SendResult:
        """POST a payload that was already validated (by :func:`~cmvoice_nb.campaign.plan_campaign`), as it is.

        *body* is the wire JSON as bytes (:func:`encode_body`), sent byte for byte, or a wire
        dict encoded here. Nothing is validated again; errors are raised and scrubbed of the
        token exactly as by :meth:`send`.

        Examples
        --------
        >>> encode_body({"callee": "+31612345678", "prompt": "Hé"})
        b'{"callee": "+31612345678", "prompt": "H\\xc3\\xa9"}'
        """
        with self._scrubbed():
            data = body if isinstance(body, bytes) else encode_body(body)
            return self._post(spec.app_spec(app).name, data, instruction_id=instruction_id)

    @contextlib.contextmanager
    def _scrubbed(self):
        # The one exit of every send: whatever is raised, its text, attributes and causes are
        # scrubbed of the token first (a provider may echo it in any form, a row may hold it).
        try:
            yield
        except BaseException as exc:
            scrub_exception(exc, self._token.reveal())
            raise

    def _post(self, app: str, data: bytes, *, instruction_id: str | None) -> SendResult:
        import requests

        url = self.url_for(app)
        headers = {
            spec.TOKEN_HEADER: self._token.reveal(),
            "Content-Type": spec.CONTENT_TYPE,
            "Accept": "application/json",
        }
        started = time.monotonic()
        try:
            response = self.session.post(url, data=data, headers=headers, timeout=self.timeout)
        except requests.exceptions.ConnectTimeout as exc:
            raise ConnectError(f"could not connect to {url} in time; nothing was sent") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise ReadTimeout(f"no answer from {url} within {self.timeout[1]} s after sending: "
                              "the call may have been placed") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise ConnectError(f"could not connect to {url}: {self._safe(exc)}; nothing was sent") from exc
            raise ConnectionDropped(f"connection to {url} lost after sending: the call may have been placed "
                                    f"({self._safe(exc)})") from exc
        except requests.exceptions.RequestException as exc:
            raise ConnectionDropped(f"request to {url} failed after sending: {self._safe(exc)}") from exc
        elapsed = time.monotonic() - started
        log.debug("POST %s -> %s in %.3f s", url, response.status_code, elapsed)
        return self._interpret(app, response, instruction_id=instruction_id, elapsed_s=elapsed)

    def _safe(self, exc: BaseException) -> str:
        return shorten(redact(str(exc), self._token.reveal()))

    def _interpret(self, app: str, response, *, instruction_id: str | None, elapsed_s: float) -> SendResult:
        # Redact once, right here, both the text and the decoded body: everything below (results,
        # messages, the body kept on an error) is built from the redacted versions only.
        secret = self._token.reveal()
        status = response.status_code
        text = redact(response.text, secret)
        try:
            payload = redact_json(response.json(), secret)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
            payload = None
        if status == 200:
            results = parse_queued(payload) if payload is not None else ()
            return SendResult(status, text, results, app=app, instruction_id=instruction_id, elapsed_s=elapsed_s)
        message = payload.get("message") if isinstance(payload, Mapping) and payload.get("message") else text.strip()
        message = str(message or redact(response.reason or "", secret) or "no message")
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status in (401, 403):
            raise AuthenticationError(status, f"product token refused: {message}", body=text)
        if status == 400:
            raise InstructionRejected(status, message, body=text)
        if status == 429:
            raise RateLimited(status, message, body=text, retry_after=retry_after)
        if status >= 500:
            raise ServerError(status, message, body=text, retry_after=retry_after)
        raise APIError(status, message, body=text)


def _never_connected(exc: BaseException) -> bool:
    """True when a requests ConnectionError happened before any byte of the request was sent."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    never_sent = (NewConnectionError, ConnectTimeoutError, NameResolutionError, ConnectionRefusedError)
    return any(isinstance(e, never_sent) for e in walk_exceptions(exc, nested=True))


__all__ = ["VoiceClient", "SendResult", "CalleeResult", "parse_queued", "check_base_url", "resolve_base_url",
           "is_real_api", "callback_url_problem", "parse_retry_after", "DEFAULT_TIMEOUT"]
