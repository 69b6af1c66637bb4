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
    │   └── JournalError                  the SQLite journal is unusable or belongs to another campaign
    └── CallbackError                     the callback receiver or loader cannot proceed

The provider has no idempotency key, so every error says whether a retry is
safe: :attr:`CMVoiceError.retry_safe` is True only when the request provably was
not processed, and :attr:`CMVoiceError.may_have_been_placed` is True when a call
may exist even though we saw no success.

No error message ever contains the product token: messages are built from the
response body and status only, and :func:`redact` scrubs a token from any text
that reaches us from elsewhere.
"""
from __future__ import annotations

from typing import Any, Sequence


def redact(text: str, secret: str | None) -> str:
    """Return *text* with every occurrence of *secret* replaced by ``***``.

    Examples
    --------
    >>> redact("token abc-123 refused", "abc-123")
    'token *** refused'
    """
    if not secret or not text:
        return text
    return text.replace(secret, "***")


class CMVoiceError(Exception):
    """Root of every error cmvoice_nb raises on purpose."""

    #: True when the request provably was not processed, so sending it again cannot double-call.
    retry_safe: bool = False
    #: True when a call may have been placed although no success was seen.
    may_have_been_placed: bool = False


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
        lines = [f"{p.field}: {p.message} (got {p.value!r})" for p in self.problems]
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
        The provider's message (``{"message": ...}``) or the response text.
    body
        The raw response text (never contains the token: the provider does not echo it).
    """

    def __init__(self, status: int, message: str, *, body: str = "") -> None:
        self.status = status
        self.message = message
        self.body = body
        super().__init__(f"HTTP {status}: {message}")


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


class CallbackError(CMVoiceError):
    """The callback receiver or loader cannot proceed."""


__all__ = [
    "redact",
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
    "CallbackError",
]
