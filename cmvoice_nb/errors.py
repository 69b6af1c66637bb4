"""The one exception tree of cmvoice_nb.

Every error the package raises on purpose derives from :class:`CMVoiceError`;
errors about bad arguments or bad data also derive from :class:`ValueError` so
that ``except ValueError`` keeps working for callers who do not know us::

    CMVoiceError
    ├── ConfigurationError (ValueError)   no token, bad base URL, plain http to a remote host
    ├── ValidationError (ValueError)      an instruction breaks the contract; .problems lists all
    ├── NumberError (ValueError)          a phone number that cannot be normalised; .value, .reason
    ├── APIError                          the provider answered with an error status
    │   ├── AuthenticationError           401 / 403: token missing, unknown or not allowed
    │   ├── InstructionRejected           400: the provider's message names what is wrong
    │   ├── RateLimited                   429: .retry_after seconds; nothing was placed, safe to retry
    │   └── ServerError                   5xx: 503 was not processed; others may have placed the call
    ├── TransportError                    no HTTP answer at all
    │   ├── ConnectError                  the request never left: safe to retry
    │   ├── ReadTimeout                   sent, no answer in time: the call MAY have been placed
    │   └── ConnectionDropped             sent, connection lost: the call MAY have been placed
    ├── AudioError (ValueError)           a file that cannot be decoded, converted or written
    ├── SpellingSetError (ValueError)     a spelling set that cannot be built or packed
    ├── CampaignError (ValueError)        a campaign that cannot be planned or sent
    │   ├── JournalError                  the SQLite journal is unusable or belongs to another campaign
    │   │   └── JournalBusy               another run holds the journal: try again when it ended
    │   └── SuppressionError              a do-not-call list too unreadable to trust; .unreadable, .entries
    └── CallbackError                     the callback receiver or loader cannot proceed
        └── CallbackTimeout (+TimeoutError) fewer callbacks than awaited arrived in time

The provider has no idempotency key, so every error says whether a retry is
safe: :attr:`CMVoiceError.retry_safe` is True only when the request provably was
not processed, and :attr:`CMVoiceError.may_have_been_placed` is True when a call
may exist even though we saw no success.

No error message ever contains the product token. A provider may echo it back
(``unknown product token <token>``), upper-cased, JSON-escaped or URL-encoded, so
the client passes everything it keeps through :func:`redact` (text),
:func:`redact_json` (decoded bodies) and :func:`scrub_exception` (the error it
raises, its attributes and its cause) before any of it reaches a message, a log,
a journal or a results file. :func:`shorten` keeps provider messages and echoed
values readable in messages.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

#: What a secret is replaced with.
REDACTED = "***"
#: Longest provider message (characters) an error message quotes; the full text stays in ``.body``.
MESSAGE_LIMIT = 200
#: Longest echoed value (its repr, characters) a validation message quotes.
VALUE_LIMIT = 100


def _char_pattern(ch: str) -> str:
    # One character of the secret as a server may write it back, in either letter case: as is,
    # JSON/JS-escaped (\u0041, with up to 8 backslashes: JSON encoded up to four times), a Python
    # escape, URL-encoded (%41; multi-byte UTF-8 as %E2%82%AC) or an HTML character reference.
    # Every repeat is bounded: an unbounded one lets a run of backslashes take quadratic time.
    forms = []
    for variant in dict.fromkeys((ch, ch.lower(), ch.upper())):
        if len(variant) != 1:  # 'ß'.upper() == 'SS': the plain form below covers it case-insensitively
            continue
        code = ord(variant)
        forms.append(re.escape(variant))
        if code < 0x10000:
            forms.append(r"\\{1,8}u" + f"{code:04x}")
        else:  # JSON writes astral characters as a surrogate pair
            hi, lo = divmod(code - 0x10000, 0x400)
            forms.append(r"\\{1,8}u" + f"{0xD800 + hi:04x}" + r"\\{1,8}u" + f"{0xDC00 + lo:04x}")
        if code < 0x100:
            forms.append(r"\\{1,8}x" + f"{code:02x}")
        forms.append("".join(f"%{b:02x}" for b in variant.encode("utf-8", "surrogatepass")))
        forms.append(r"&#x0{0,8}" + f"{code:x};")
        forms.append(r"&#0{0,8}" + f"{code};")
    return "(?:" + "|".join(forms) + ")"


@functools.lru_cache(maxsize=8)
def _secret_patterns(secret: str) -> tuple[re.Pattern, re.Pattern]:
    # The dashes of a GUID token are optional (a server may print it with or without them,
    # or the user may have pasted it without), so a pattern is the secret's other characters
    # in order with an optional dash between. The first pattern takes the characters as they
    # are (any case); the second also every escaped form, and is only needed when the text
    # holds an escape introducer: most text does not, and the plain pattern is much faster.
    core = [c for c in secret if c != "-"] or list(secret)
    plain = re.compile("-?".join(re.escape(c) for c in core), re.IGNORECASE)
    dash = _char_pattern("-") + "?"
    return plain, re.compile(dash.join(_char_pattern(c) for c in core), re.IGNORECASE)


def redact(text: str, secret: str | None) -> str:
    r"""Return *text* with every occurrence of *secret* replaced by ``***``.

    Matches the secret in any letter case, with or without its dashes, and written back
    JSON-escaped (``\u0061``), URL-encoded (``%61``) or as HTML character references, in
    any mix: the forms a server's error message or a log may give it.

    Examples
    --------
    >>> redact("token abc-123 refused", "abc-123")
    'token *** refused'
    >>> redact('{"message": "unknown token ABC123 / \\u0061bc-\\u0031\\u0032\\u0033"}', "abc-123")
    '{"message": "unknown token *** / ***"}'
    """
    if not secret or not text or not isinstance(text, str):
        return text
    plain, escaped = _secret_patterns(secret)
    if "\\" in text or "%" in text or "&" in text:
        return escaped.sub(REDACTED, text)
    return plain.sub(REDACTED, text)


def redact_json(value: Any, secret: str | None) -> Any:
    """A copy of a decoded JSON value with *secret* redacted from every string (keys included).

    Walked without recursion: a body nested a hundred thousand levels deep (a provider's error
    page, or an attacker's) is copied in a loop, never on Python's call stack.

    Examples
    --------
    >>> redact_json({"message": "token S3CRET refused", "codes": [1, "s3cret"]}, "s3cret")
    {'message': 'token *** refused', 'codes': [1, '***']}
    """
    if not secret:
        return value

    def rebuild(original: Any, items: list) -> Any:
        if isinstance(original, dict):
            return dict(items)
        if isinstance(original, tuple) and hasattr(original, "_fields"):  # a NamedTuple such as a Problem
            return type(original)(*items)
        try:
            return type(original)(items)
        except TypeError:  # a sequence subclass with its own constructor: a plain one will do
            return list(items) if isinstance(original, list) else tuple(items)

    def children(node: Any) -> list:
        if isinstance(node, dict):
            return [pair for key, item in node.items() for pair in (key, item)]
        return list(node)

    def is_container(node: Any) -> bool:
        return isinstance(node, (dict, list, tuple))

    if not is_container(value):
        return redact(value, secret) if isinstance(value, str) else value
    # Each frame: (the original container, its children, the copies made so far).
    stack: list[tuple[Any, list, list]] = [(value, children(value), [])]
    while True:
        node, todo, done = stack[-1]
        if len(done) < len(todo):
            child = todo[len(done)]
            if is_container(child):
                stack.append((child, children(child), []))
            else:
                done.append(redact(child, secret) if isinstance(child, str) else child)
            continue
        items = list(zip(done[0::2], done[1::2], strict=True)) if isinstance(node, dict) else done
        copy = rebuild(node, items)
        stack.pop()
        if not stack:
            return copy
        stack[-1][2].append(copy)


def is_valid_unicode(text: str) -> bool:
    """True when *text* can be written as UTF-8 (no lone surrogate, as a broken file or escape leaves).

    Examples
    --------
    >>> is_valid_unicode("café"), is_valid_unicode("bad-" + chr(0xD800))
    (True, False)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shorten(text: Any, limit: int = MESSAGE_LIMIT) -> str:
    r"""*text* on one line, cut to about *limit* characters with an ellipsis saying how much was left out.

    Examples
    --------
    >>> shorten("a  long\nmessage", 200)
    'a long message'
    >>> shorten("x" * 300, 20)
    'xxxxxxxxxxxxxxxxxxxx... (+280 characters)'
    """
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    return f"{flat[:limit].rstrip()}... (+{len(flat) - limit} characters)"


def _scrub_value(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, (list, tuple, dict)):
        return redact_json(value, secret)
    return value


def walk_exceptions(exc: BaseException | None, *, nested: bool = False):
    """Yield *exc* and every exception it was raised from or during, each once (cycles are safe).

    With *nested*, also follow exceptions held in ``.reason`` and in ``args``, which is how
    urllib3 and requests wrap the low-level socket error.

    Examples
    --------
    >>> try:
    ...     try:
    ...         raise KeyError("inner")
    ...     except KeyError as inner:
    ...         raise ValueError("outer") from inner
    ... except ValueError as outer:
    ...     [type(e).__name__ for e in walk_exceptions(outer)]
    ['ValueError', 'KeyError']
    """
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        links: list[Any] = [current.__cause__, current.__context__]
        if nested:
            links.append(getattr(current, "reason", None))
            links.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        stack.extend(link for link in links if isinstance(link, BaseException))


def scrub_exception(exc: BaseException, secret: str | None) -> BaseException:
    """Redact *secret* from an exception in place: its args, its text attributes, and its causes.

    In the chain of causes (``raise ... from``), a foreign exception's ``request.headers``
    (requests keeps the prepared request, headers and all) get the secret's value replaced
    too, so that no traceback, debugger or error tracker finds the token there.
    Returns *exc*.
    """
    if not secret:
        return exc
    for current in walk_exceptions(exc):
        try:
            current.args = tuple(_scrub_value(a, secret) for a in current.args)
        except (AttributeError, TypeError):  # pragma: no cover - exotic exceptions with read-only args
            pass
        for name, value in list(getattr(current, "__dict__", {}).items()):
            if isinstance(value, (str, list, tuple, dict)):
                try:
                    setattr(current, name, _scrub_value(value, secret))
                except (AttributeError, TypeError, RecursionError):  # pragma: no cover - read-only or too deep
                    pass
        headers = getattr(getattr(current, "request", None), "headers", None)
        if headers is not None and hasattr(headers, "items"):
            for key, value in list(headers.items()):
                if isinstance(value, str) and redact(value, secret) != value:
                    headers[key] = REDACTED
    return exc


class CMVoiceError(Exception):
    """Root of every error cmvoice_nb raises on purpose.

    A message may name options (:func:`cmvoice_nb.messages.opt`): ``str(exc)`` says them as
    Python does (``resend_unknown=True``), :meth:`say` as another front-end does.
    """

    #: True when the request provably was not processed, so sending it again cannot double-call.
    retry_safe: bool = False
    #: True when a call may have been placed although no success was seen.
    may_have_been_placed: bool = False

    def __str__(self) -> str:
        return self.say("python")

    def say(self, front: str = "python") -> str:
        """The message with its options said as *front* (``"python"``, ``"cli"``, ``"widget"``) says them."""
        from .messages import say

        return say(Exception.__str__(self), front)


class ConfigurationError(CMVoiceError, ValueError):
    """The client or a command is configured in a way that cannot work (no token, bad URL)."""


class ValidationError(CMVoiceError, ValueError):
    """An instruction breaks the contract.

    Parameters
    ----------
    problems
        Every problem found, each with ``field``, ``value`` and ``message``.
    """

    def __init__(self, problems: Sequence[Any], *, context: str = "") -> None:
        self.problems = list(problems)
        lines = [f"{p.field}: {p.message} (got {shorten(repr(p.value), VALUE_LIMIT)})" for p in self.problems]
        head = f"{context}: " if context else ""
        n = len(self.problems)
        super().__init__(f"{head}{n} problem{'s' if n != 1 else ''}: " + "; ".join(lines))


class NumberError(CMVoiceError, ValueError):
    """A phone number that cannot be normalised.

    Attributes
    ----------
    value
        The input as given.
    reason
        Plain-language reason, e.g. ``"too short for region NL"``.
    """

    def __init__(self, value: Any, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid phone number {value!r}: {reason}")


class APIError(CMVoiceError):
    """The provider answered with an HTTP error status.

    Attributes
    ----------
    status
        The HTTP status code.
    message
        The provider's message (``{"message": ...}``) or the response text, redacted.
        ``str(exc)`` quotes it on one line, cut to :data:`MESSAGE_LIMIT` characters.
    body
        The response text, redacted (a provider may echo the token in it).
    """

    def __init__(self, status: int, message: str, *, body: str = "") -> None:
        self.status = status
        self.message = message
        self.body = body
        super().__init__(f"HTTP {status}: {shorten(message)}")


class AuthenticationError(APIError):
    """401/403: the product token is missing, unknown or not allowed. Not retry-safe to loop on."""


class InstructionRejected(APIError):
    """400: the provider refused the instruction; nothing was placed. Fix it, then resend."""


class RateLimited(APIError):
    """429: too many requests; nothing was placed. Wait :attr:`retry_after` seconds, then retry."""

    retry_safe = True

    def __init__(self, status: int, message: str, *, body: str = "", retry_after: float | None = None) -> None:
        super().__init__(status, message, body=body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx from the provider.

    503 (service unavailable) means the request was not processed and is retry-safe.
    Any other 5xx may have happened after the call was placed: do not resend blindly.
    """

    def __init__(self, status: int, message: str, *, body: str = "", retry_after: float | None = None) -> None:
        super().__init__(status, message, body=body)
        self.retry_after = retry_after
        self.retry_safe = status == 503
        self.may_have_been_placed = status != 503


class TransportError(CMVoiceError):
    """No HTTP answer was received."""


class ConnectError(TransportError):
    """The connection could not be opened: the request never left, so a retry is safe."""

    retry_safe = True


class ReadTimeout(TransportError):
    """The request was sent but no answer came in time: the call MAY have been placed."""

    may_have_been_placed = True


class ConnectionDropped(TransportError):
    """The request was sent and the connection was lost: the call MAY have been placed."""

    may_have_been_placed = True


class AudioError(CMVoiceError, ValueError):
    """An audio file cannot be decoded, converted or written.

    Attributes
    ----------
    path
        The file concerned, when there is one.
    """

    def __init__(self, message: str, *, path: Any = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class SpellingSetError(CMVoiceError, ValueError):
    """A spelling set cannot be built, validated or packed as asked."""


class CampaignError(CMVoiceError, ValueError):
    """A campaign cannot be planned or sent as asked."""


class JournalError(CampaignError):
    """The campaign journal (SQLite) is unusable, locked, or belongs to another campaign."""


class JournalBusy(JournalError):
    """Another run (or program) holds the journal: the same command succeeds once it let go."""

    retry_safe = True


class SuppressionError(CampaignError):
    """A do-not-call list of which none, or more than 1 %, of the entries are phone numbers.

    Raised before any call: everyone on such a list could be called. Not a retry question:
    fix the list, or say explicitly to go on with the numbers that could be read.

    Attributes
    ----------
    source
        The list's path or description.
    entries
        How many entries the list has.
    unreadable
        The entries that are not numbers (``line``, ``value``, ``reason`` each).
    """

    def __init__(self, message: str, *, source: str = "", entries: int = 0, unreadable: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.source = source
        self.entries = entries
        self.unreadable = tuple(unreadable)


class CallbackError(CMVoiceError):
    """The callback receiver or loader cannot proceed."""


class CallbackTimeout(CallbackError, TimeoutError):
    """``wait_for`` on a receiver ran out of time before enough callbacks arrived."""


__all__ = [
    "is_valid_unicode",
    "redact",
    "redact_json",
    "scrub_exception",
    "walk_exceptions",
    "shorten",
    "REDACTED",
    "MESSAGE_LIMIT",
    "VALUE_LIMIT",
    "CMVoiceError",
    "ConfigurationError",
    "ValidationError",
    "NumberError",
    "APIError",
    "AuthenticationError",
    "InstructionRejected",
    "RateLimited",
    "ServerError",
    "TransportError",
    "ConnectError",
    "ReadTimeout",
    "ConnectionDropped",
    "AudioError",
    "SpellingSetError",
    "CampaignError",
    "JournalError",
    "JournalBusy",
    "SuppressionError",
    "CallbackError",
    "CallbackTimeout",
]
