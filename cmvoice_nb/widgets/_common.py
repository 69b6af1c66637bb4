"""Plumbing shared by the widget apps: one action lifecycle, plain errors, thread-safe output.

Every app is an ``ipywidgets.VBox`` with an ``out`` :class:`ipywidgets.Output` and a
one-line ``status``. Every button runs through :meth:`App.action`: it clears the previous
result and error, shows a working status, disables the controls that would conflict, runs
(in the caller or a background thread) and re-enables them when done or failed. An error is
said once, in plain words, in the status line (red) and kept in :attr:`App.last_error`.

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
from collections.abc import Callable
from typing import Any

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


def wav_player(data: bytes) -> W.Audio:
    """An inline player for WAV bytes (16-bit PCM plays everywhere; browsers cannot play A-law)."""
    return W.Audio(value=data, format="wav", autoplay=False, loop=False)


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


#: Colours of the status line.
OK, WARN, BAD, MUTED = "#1a7f37", "#9a6700", "#cf222e", "#57606a"


def plain_error(exc: BaseException) -> str:
    """*exc* in plain words: the package's own errors and OS errors without a class name.

    A file error names the file (never ``<bytes>``); anything else (a bug) keeps its type so it
    can be reported.

    Examples
    --------
    >>> plain_error(FileNotFoundError(2, "No such file or directory", "/tmp/x/welcome.wav"))
    'welcome.wav: no such file or directory'
    >>> plain_error(KeyError("prompt"))
    "KeyError: 'prompt'"
    """
    from ..errors import CMVoiceError

    if isinstance(exc, OSError) and exc.filename is not None:
        from pathlib import Path

        reason = (exc.strerror or str(exc)).rstrip(".")
        return f"{Path(str(exc.filename)).name}: {reason[:1].lower() + reason[1:]}"
    # The package's errors name options as markers: said here as the apps' controls say them.
    text = (exc.say("widget") if isinstance(exc, CMVoiceError) else str(exc)).strip() or type(exc).__name__
    if isinstance(exc, (CMVoiceError, ValueError, TimeoutError, OSError)):
        return text
    return f"{type(exc).__name__}: {text}"


class App(W.VBox):
    """Base of the widget apps: an output area, a status line, one action lifecycle, threads."""

    #: Names of the sub-widgets shown in ``repr`` (subclasses set it).
    _control_names: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A bounded, scrolling output keeps the app's controls in view however much it prints.
        self.out = W.Output(layout=scroll_layout())
        self.status = W.HTML("", layout=W.Layout(min_height="1.6em"))
        self.status.add_class("cmvoice-status")
        self.last_error: BaseException | None = None
        #: True while an action runs (buttons that conflict are disabled meanwhile).
        self.working = False
        self._threads: list[threading.Thread] = []
        self._held: list[tuple[W.Widget, bool]] = []

    # -- callbacks ---------------------------------------------------------------------------
    def report_error(self, exc: BaseException, *, action: str = "") -> None:
        """Say *exc* once, in plain words, in the status line (red); keep it in :attr:`last_error`."""
        self.last_error = exc
        where = f"{action[:1].upper() + action[1:]} failed: " if action else ""
        logger.debug("%s%s", where, exc, exc_info=exc)
        self.set_status(f"{where}{plain_error(exc)}", colour=BAD)

    def guard(self, fn: Callable[..., Any], *, action: str = "") -> Callable[..., Any]:
        """Wrap a callback so any exception is reported (see :meth:`report_error`) instead of lost."""
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

    def _hold(self, controls: Any) -> None:
        self._held = [(c, bool(c.disabled)) for c in controls]
        for c in controls:
            c.disabled = True

    def _release(self) -> None:
        held, self._held = self._held, []
        for c, was in held:
            c.disabled = was
        self.working = False

    def begin(self, working: str, *, busy: Any = ()) -> None:
        """Start an action: clear the last result and error, say *working*, disable *busy*."""
        if self.working:
            raise RuntimeError("another action is still running: wait for it to finish")
        self.working = True
        self._hold(busy)  # first, so a page showing the working status already shows the controls off
        clear(self.out)
        self.last_error = None
        self.set_status(f"Working: {working} …", colour=MUTED)

    def action(self, name: str, fn: Callable[[], Any], *, busy: Any = (), working: str | None = None,
               background: bool = False) -> Callable[..., None]:
        """A button callback running *fn* through the lifecycle (see the module docstring).

        *fn* returns nothing and sets the final status itself; an exception becomes the red
        status. With ``background=True`` *fn* runs in a daemon thread and the controls come
        back when it ends.
        """
        def callback(*_args: Any) -> None:
            if self.working:
                # Only a click from code gets here (the buttons are disabled): keep the running
                # action's status, which is what the operator needs to see.
                logger.debug("%s ignored: another action is running", name)
                return
            self.begin(working or name, busy=busy)
            if background:
                def work() -> None:
                    try:
                        fn()
                    except Exception as exc:
                        self.report_error(exc, action=name)
                    finally:
                        self._release()
                self.in_thread(work, action=name, guarded=False)
                return
            try:
                fn()
            except Exception as exc:
                self.report_error(exc, action=name)
            finally:
                self._release()
        return callback

    def in_thread(self, fn: Callable[[], Any], *, action: str, name: str | None = None,
                  guarded: bool = True) -> threading.Thread:
        """Run *fn* in a daemon thread, errors reported; returns the started thread."""
        target = self.guard(fn, action=action) if guarded else fn
        thread = threading.Thread(target=target, daemon=True,
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


def table(data: Any, *, caption: str = "", max_rows: int | None = 50, failures_first: bool = True) -> Any:
    """*data* (DataFrame or Series) as a displayable object in the shared table style."""
    from .._tables import Table

    return Table(data, caption=caption, max_rows=max_rows, failures_first=failures_first)


__all__ = ["App", "NONE_LABEL", "OK", "WARN", "BAD", "MUTED", "show", "say", "clear", "table", "wav_player",
           "samples_to_wav", "playable_wav", "scroll_layout", "plain_error"]
