"""The inline ``<audio>`` player shared by every notebook report (pure, no imports beyond stdlib).

Prompt reports (:mod:`cmvoice_nb.audio.check`) and spelling-set reports
(:mod:`cmvoice_nb.spelling`) embed the same player; it lives here, below both, so
neither report module has to import the other.
"""
from __future__ import annotations

import base64


def audio_player(wav: bytes) -> str:
    """An HTML ``<audio>`` element playing *wav* inline (base64 data URL, loaded on demand).

    Browsers cannot play A-law WAV, so callers pass 16-bit PCM (or whatever the browser can
    play); the bytes are embedded as they are.

    Examples
    --------
    >>> audio_player(b"RIFF")
    '<audio controls preload="none" src="data:audio/wav;base64,UklGRg=="></audio>'
    """
    b64 = base64.b64encode(bytes(wav)).decode("ascii")
    return f'<audio controls preload="none" src="data:audio/wav;base64,{b64}"></audio>'
