"""Plumbing shared by the widget apps: error-catching callbacks and thread-safe output.

Every app is an ``ipywidgets.VBox`` with an ``out`` :class:`ipywidgets.Output` and a
one-line ``status``. Callbacks are wrapped with :meth:`App.guard` so an exception lands
in ``out`` (and in :attr:`App.last_error`) instead of vanishing into the kernel log.

Output is written with ``out.append_stdout`` / ``append_stderr`` /
``append_display_data`` only: they are safe from a worker thread, while
``with out:`` captures whatever the *current* cell prints and breaks from threads.
"""
from __future__ import annotations

import functools
import html
import io
import logging
import threading
from typing import Any, Callable

import ipywidgets as W

logger = logging.getLogger(__name__)

#: Placeholder for "no column" / "no default" in dropdowns.
NONE_LABEL = "—"


def show(out: W.Output, obj: Any) -> None:
    """Display *obj* (DataFrame, report, widget, HTML) at the end of *out*; thread-safe."""
    out.append_display_data(obj)


def say(out: W.Output, text: str) -> None:
    """Append a line of text to *out*; thread-safe."""
    out.append_stdout(text.rstrip("\n") + "\n")


def clear(out: W.Output) -> None:
    """Empty *out*; thread-safe (``clear_output`` needs the widget's context)."""
    out.outputs = ()


def html_message(text: str, *, colour: str = "#1f2328", bold: bool = False) -> W.HTML:
    """A small HTML line (escaped) for status areas."""
    body = html.escape(text)
    if bold:
        body = f"<b>{body}</b>"
    return W.HTML(f"<span style='color:{colour}'>{body}</span>")


def wav_player(data: bytes) -> W.Audio:
    """An inline player for WAV bytes (16-bit PCM plays everywhere; browsers cannot play A-law)."""
    return W.Audio(value=data, format="wav", autoplay=False, loop=False)


def figure_image(fig: Any) -> Any:
    """A PNG ``IPython.display.Image`` of a matplotlib figure, which is then closed.

    Rendering ourselves keeps plots visible from threads and outside IPython's inline backend.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png")


def samples_to_wav(samples: Any, samplerate: int) -> bytes:
    """Encode float samples as 16-bit PCM WAV bytes for a player."""
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(samples, dtype="float64"), -1.0, 1.0), int(samplerate),
             format="WAV", subtype="PCM_16")
    return buf.getvalue()


def playable_wav(path_or_bytes: Any) -> bytes | None:
    """16-bit PCM WAV bytes of any audio the package can decode (A-law included), or None."""
    try:
        from ..audio import load_audio

        samples, rate = load_audio(path_or_bytes)
        return samples_to_wav(samples, rate)
    except Exception as exc:  # a player is a nicety: never let it break the app
        logger.debug("no player for %r: %s", path_or_bytes if not isinstance(path_or_bytes, bytes) else "<bytes>", exc)
        return None


def scroll_layout(max_height: str = "480px") -> W.Layout:
    """Layout of a bordered output area that scrolls instead of growing without bound."""
    return W.Layout(border="1px solid #d0d7de", padding="4px", min_height="2em", max_height=max_height,
                    overflow="auto")


class App(W.VBox):
    """Base of the widget apps: an output area, a status line, guarded callbacks, threads."""

    #: Names of the sub-widgets shown in ``repr`` (subclasses set it).
    _control_names: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A bounded, scrolling output keeps the app's controls in view however much it prints.
        self.out = W.Output(layout=scroll_layout())
        self.status = W.HTML("")
        self.last_error: BaseException | None = None
        self._threads: list[threading.Thread] = []

    # -- callbacks ---------------------------------------------------------------------------
    def report_error(self, exc: BaseException, *, action: str = "") -> None:
        """Show *exc* in the output area and keep it in :attr:`last_error`."""
        self.last_error = exc
        where = f"{action} failed: " if action else ""
        logger.debug("%s%s", where, exc, exc_info=exc)
        self.out.append_stderr(f"{where}{type(exc).__name__}: {exc}\n")
        self.set_status(f"{where}{type(exc).__name__}: {exc}", colour="#cf222e")

    def guard(self, fn: Callable[..., Any], *, action: str = "") -> Callable[..., Any]:
        """Wrap a callback so any exception is shown in ``out`` instead of being lost."""
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                self.report_error(exc, action=action or fn.__name__.strip("_").replace("_", " "))
                return None
        return wrapper

    def set_status(self, text: str, *, colour: str = "#1f2328") -> None:
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"

    def in_thread(self, fn: Callable[[], Any], *, action: str, name: str | None = None) -> threading.Thread:
        """Run *fn* in a daemon thread, errors caught into ``out``; returns the started thread."""
        thread = threading.Thread(target=self.guard(fn, action=action), daemon=True,
                                  name=name or f"cmvoice-{type(self).__name__}-{action}")
        self._threads.append(thread)
        thread.start()
        return thread

    def join(self, timeout: float | None = 30.0) -> None:
        """Wait for every background thread this app started (tests and scripts use it)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def __repr__(self) -> str:
        names = ", ".join(self._control_names)
        return f"<{type(self).__name__} controls: {names}>"
