"""SpellingSet: build, check, preview and pack an OTP spelling set (``spelling/<locale>/<char>.wav``).

Wiring only over :mod:`cmvoice_nb.spelling`: ``build_spelling_set``,
``check_spelling_set``, ``preview_code`` and ``pack_spelling_set``.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import ipywidgets as W

from ._common import App, clear, samples_to_wav, say, show, wav_player

logger = logging.getLogger(__name__)

SOURCES = (("Folder of per-character recordings", "folder"),
           ("One recording of the whole sequence", "recording"),
           ("Text-to-speech (espeak-ng)", "tts"))


def _locales() -> list[str]:
    from ..spec import voice_languages

    return list(voice_languages())


class SpellingSet(App):
    """Build and validate the per-character files an OTP ``code-type: Custom`` call plays.

    Parameters
    ----------
    root
        The upload root that will hold ``spelling/<locale>/``.
    source
        Pre-filled source path (a folder or one recording).
    locale
        The OTP voice language, five characters (``en-GB``).

    Attributes
    ----------
    locale, source_kind, source, root, chars, overwrite, build, check, code, play, zip_path, pack
        The controls.
    build_report, report, preview, packed
        Results of the last build, check, preview (``(samples, rate)``) and pack (zip path).

    Examples
    --------
    >>> app = SpellingSet(root="upload", source="../sample_audio/spelling_en")  # doctest: +SKIP
    >>> app.build.click(); app.report.ok                                        # doctest: +SKIP
    True
    """

    _control_names = ("locale", "source_kind", "source", "root", "chars", "overwrite", "build", "check",
                      "code", "play", "zip_path", "pack")

    def __init__(self, *, root: str | os.PathLike = "upload", source: str | os.PathLike | None = None,
                 locale: str = "en-GB") -> None:
        from ..spelling import DEFAULT_CHARS

        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-spelling-set")
        style = {"description_width": "9em"}
        self.locale = W.Combobox(options=_locales(), value=locale, description="Locale", ensure_option=False,
                                 style=style)
        self.source_kind = W.Dropdown(options=SOURCES, value="folder", description="Source", style=style)
        self.source = W.Text(value="" if source is None else str(source), description="Source path",
                             placeholder="folder or recording (not used for TTS)", style=style,
                             layout=W.Layout(width="32em"))
        self.root = W.Text(value=str(root), description="Upload root", style=style, layout=W.Layout(width="32em"))
        self.chars = W.Text(value=DEFAULT_CHARS, description="Characters", style=style, layout=W.Layout(width="32em"))
        self.overwrite = W.Checkbox(value=True, description="Replace an existing set", indent=False)
        self.build = W.Button(description="Build", button_style="primary", icon="hammer")
        self.check = W.Button(description="Check", icon="check")
        self.code = W.Text(value="48213", description="Try a code", style=style)
        self.play = W.Button(description="Spell it", icon="play")
        self.zip_path = W.Text(value="", description="Zip to", placeholder="(default: <root>/spelling-<locale>.zip)",
                               style=style, layout=W.Layout(width="32em"))
        self.pack = W.Button(description="Pack zip", icon="file-archive-o")
        self.player_box = W.Box()
        self.build_report = None
        self.report = None
        self.preview = None
        self.packed: Path | None = None

        self.build.on_click(self.guard(self._on_build, action="build"))
        self.check.on_click(self.guard(self._on_check, action="check"))
        self.play.on_click(self.guard(self._on_play, action="preview"))
        self.pack.on_click(self.guard(self._on_pack, action="pack"))

        self.children = [
            W.HTML("<h3>OTP spelling set</h3><p>Builds <code>spelling/&lt;locale&gt;/&lt;char&gt;.wav</code> for "
                   "<code>code-type: Custom</code>, checks it, and spells a code the way the call will.</p>"),
            W.HBox([self.locale, self.source_kind]),
            self.source, self.root, self.chars,
            W.HBox([self.build, self.check, self.overwrite]),
            W.HBox([self.code, self.play, self.player_box]),
            W.HBox([self.zip_path, self.pack]),
            self.status,
            self.out,
        ]

    # -- arguments ------------------------------------------------------------------------------
    def _root(self) -> Path:
        return Path(self.root.value).expanduser()

    def _source(self) -> Any:
        if self.source_kind.value == "tts":
            return "tts"
        if not self.source.value.strip():
            raise ValueError("type the source folder or recording path (or choose text-to-speech)")
        return Path(self.source.value).expanduser()

    def _zip(self) -> Path:
        if self.zip_path.value.strip():
            return Path(self.zip_path.value).expanduser()
        return self._root() / f"spelling-{self.locale.value}.zip"

    # -- actions --------------------------------------------------------------------------------
    def _on_build(self, _button: Any = None) -> None:
        from ..spelling import build_spelling_set

        clear(self.out)
        self.set_status("building …")
        self.build_report = build_spelling_set(self._source(), self._root(), locale=self.locale.value,
                                               chars=self.chars.value, overwrite=bool(self.overwrite.value),
                                               progress=False)
        show(self.out, self.build_report)
        self._on_check(clear_first=False)

    def _on_check(self, _button: Any = None, *, clear_first: bool = True) -> None:
        from ..spelling import check_spelling_set

        if clear_first:
            clear(self.out)
        self.report = check_spelling_set(self._root(), locale=self.locale.value, chars=self.chars.value)
        show(self.out, self.report)
        self.set_status(self.report.summary, colour="#1a7f37" if self.report.ok else "#cf222e")

    def _on_play(self, _button: Any = None) -> None:
        from ..spelling import preview_code

        samples, rate = preview_code(self._root(), self.code.value, locale=self.locale.value)
        self.preview = (samples, rate)
        self.player_box.children = [wav_player(samples_to_wav(samples, rate))]
        self.set_status(f"{self.code.value!r}: {len(samples) / rate:.2f} s")

    def _on_pack(self, _button: Any = None) -> None:
        from ..spelling import pack_spelling_set

        self.packed = pack_spelling_set(self._root(), locale=self.locale.value, out=self._zip(),
                                        chars=self.chars.value)
        say(self.out, f"packed {self.packed} — upload it in the Audio Prompt Manager")
        self.set_status(f"packed {self.packed}", colour="#1a7f37")
