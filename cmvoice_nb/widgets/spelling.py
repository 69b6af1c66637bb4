"""SpellingSet: build, check, preview and pack an OTP spelling set (``spelling/<locale>/<char>.wav``).

Wiring only over :mod:`cmvoice_nb.spelling`: ``build_spelling_set``,
``check_spelling_set``, ``preview_code`` and ``pack_spelling_set``.
"""
from __future__ import annotations

import base64
import html
import logging
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ._common import BAD, OK, WARN, App, playable_wav, samples_to_wav, show, table, wav_player

if TYPE_CHECKING:
    import numpy as np

    from ..spelling import SpellingBuildReport, SpellingCheckReport

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
    chips
        One small play button per character of the last check (``{char: Button}``); one shared
        player plays the character clicked.

    Examples
    --------
    >>> app = SpellingSet(root="upload", source="../sample_audio/spelling_en")  # doctest: +SKIP
    >>> app.build.click(); app.report.ok                                        # doctest: +SKIP
    True
    """

    _control_names = ("locale", "source_kind", "source", "root", "chars", "overwrite", "build", "check",
                      "code", "play", "zip_path", "pack")

    #: Zips up to this size get a download link (embedded in the page); larger ones show their path.
    DOWNLOAD_LIMIT = 20 * 1024 * 1024

    def __init__(self, *, root: str | os.PathLike = "upload", source: str | os.PathLike | None = None,
                 locale: str = "en-GB") -> None:
        from ..spelling import DEFAULT_CHARS

        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-spelling-set")
        style = {"description_width": "9em"}
        wide = W.Layout(width="36em")
        self.locale = W.Combobox(options=_locales(), value=locale, description="Locale", ensure_option=False,
                                 style=style, layout=W.Layout(width="20em"))
        self.source_kind = W.Dropdown(options=SOURCES, value="folder", description="Source", style=style,
                                      layout=W.Layout(width="32em"))
        self.source = W.Text(value="" if source is None else str(source), description="Source path",
                             placeholder="folder or recording", style=style, layout=wide)
        self.root = W.Text(value=str(root), description="Upload root", style=style, layout=wide)
        self.chars = W.Text(value=DEFAULT_CHARS, description="Characters", style=style, layout=wide)
        self.overwrite = W.Checkbox(value=True, description="Replace an existing set", indent=False,
                                    layout=W.Layout(width="18em"))
        button = W.Layout(width="10em")
        self.build = W.Button(description="Build", button_style="primary", icon="hammer", layout=button)
        self.check = W.Button(description="Check", icon="check", layout=button)
        # Enter (or leaving the field) spells the code: continuous_update=False fires on submit only.
        self.code = W.Text(value="48213", description="Try a code", style=style, continuous_update=False,
                           layout=W.Layout(width="20em"))
        self.play = W.Button(description="Spell it", icon="play", layout=button)
        self.zip_path = W.Text(value="", description="Zip to", placeholder="(default: <root>/spelling-<locale>.zip)",
                               style=style, layout=wide)
        self.pack = W.Button(description="Pack zip", icon="file-archive-o", layout=button)
        self.player_box = W.Box()
        self.chip_player = W.Box()
        # A fixed number of columns: "auto-fill" in a box sized by its content collapses to one column.
        self.chips_box = W.GridBox(layout=W.Layout(grid_template_columns="repeat(12, 4.4em)", grid_gap="4px"))
        self.chips: dict[str, W.Button] = {}
        self.download = W.HTML()
        self.build_report: SpellingBuildReport | None = None
        self.report: SpellingCheckReport | None = None
        self.preview: tuple[np.ndarray, int] | None = None
        self.packed: Path | None = None

        self._busy = [self.build, self.check, self.play, self.pack, self.locale, self.source_kind, self.source,
                      self.root, self.chars, self.overwrite, self.code, self.zip_path]
        self.build.on_click(self.action("build", self._build, busy=self._busy, working="building the set",
                                        background=True))
        self.check.on_click(self.action("check", self._check, busy=self._busy, working="checking the set"))
        self.play.on_click(self.action("preview", self._play, busy=self._busy, working="spelling the code"))
        self.pack.on_click(self.action("pack", self._pack, busy=self._busy, working="packing the zip"))
        self.code.observe(lambda _c: self._spell_on_enter(), names="value")
        with warnings.catch_warnings():
            # Enter on an unchanged code sends only "submit"; ipywidgets 8 still delivers it here.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.code.on_submit(lambda _w: self._spell_on_enter())
        self._last_spelled: tuple[str, float] = ("", 0.0)
        self._clock = time.monotonic  # when an Enter came (tests step it by hand)
        self.source_kind.observe(lambda _c: self._source_state(), names="value")
        self._source_state()

        self.children = [
            W.HTML("<h3>OTP spelling set</h3><p>Builds <code>spelling/&lt;locale&gt;/&lt;char&gt;.wav</code> for "
                   "<code>code-type: Custom</code>, checks it, and spells a code the way the call will.</p>"),
            W.HBox([self.locale, self.source_kind]),
            self.source, self.root, self.chars,
            W.HBox([self.build, self.check, self.overwrite]),
            W.HBox([self.code, self.play, self.player_box], layout=W.Layout(align_items="center")),
            W.HBox([self.zip_path, self.pack]),
            self.download,
            self.status,
            W.VBox([self.chip_player, self.chips_box]),
            self.out,
        ]

    def _spell_on_enter(self) -> None:
        # Enter on a changed code fires both the value change and "submit": spell once.
        now = self._clock()
        last, when = self._last_spelled
        if last == self.code.value and now - when < 0.3:
            return
        self._last_spelled = (self.code.value, now)
        self.play.click()

    def _source_state(self) -> None:
        tts = self.source_kind.value == "tts"
        self.source.disabled = tts
        self.source.placeholder = "not used for text-to-speech" if tts else "folder or recording"

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
    def _forget(self) -> None:
        self.player_box.children = []
        self.chip_player.children = []
        self.download.value = ""

    def _build(self) -> None:
        from ..spelling import build_spelling_set

        self._forget()
        self.build_report = build_spelling_set(self._source(), self._root(), locale=self.locale.value,
                                               chars=self.chars.value, overwrite=bool(self.overwrite.value),
                                               progress=False)
        for note in getattr(self.build_report, "notes", []) or []:
            self.out.append_stdout(note + "\n")
        self._check()

    def _check(self) -> None:
        from ..spelling import check_spelling_set

        self.report = check_spelling_set(self._root(), locale=self.locale.value, chars=self.chars.value)
        self._show_chips(self.report)
        frame = self.report.frame
        bad = frame[~frame["ok"].astype(bool)] if "ok" in frame else frame.iloc[0:0]
        for title, items in (("Problems", self.report.problems), ("Warnings", self.report.warnings)):
            if items:
                self.out.append_stdout(f"{title}:\n" + "".join(f"  {i}\n" for i in items))
        if len(bad):
            cols = [c for c in ("char", "present", "compliant", "problems", "warnings", "duration_s") if c in bad]
            show(self.out, table(bad[cols].reset_index(drop=True), caption="Characters that need attention"))
        self.set_status(self.report.summary, colour=OK if self.report.ok else BAD)

    def _show_chips(self, report: Any) -> None:
        chips: dict[str, W.Button] = {}
        for row in report.rows:
            char = row["char"]
            fine = bool(row["ok"])
            chip = W.Button(description=char, icon="play" if row["present"] else "",
                            button_style="" if fine else "danger", disabled=not row["present"],
                            tooltip=f"{char}: " + ("OK" if fine else "; ".join(row["problems"]) or "missing"),
                            layout=W.Layout(width="4.2em", height="28px"))
            chip.add_class("cmvoice-chip")
            chip.on_click(self.guard(lambda _b, c=char: self.play_char(c), action="play"))
            chips[char] = chip
        self.chips = chips
        self.chips_box.children = list(chips.values())

    def play_char(self, char: str) -> None:
        """Play one character's file in the shared player."""
        path = self.report.files.get(char) if self.report is not None else None
        wav = playable_wav(path) if path is not None else None
        if wav is None:
            self.chip_player.children = []
            self.set_status(f"{char!r} has no playable file", colour=WARN)
            return
        player = wav_player(wav)
        player.autoplay = True
        player.layout = W.Layout(width="16em", height="32px")
        self.chip_player.children = [W.HTML(f"<b>{html.escape(char)}</b>&nbsp;"), player]

    def _play(self) -> None:
        from ..spelling import preview_code

        self.player_box.children = []  # a failed spell never leaves the previous code's player
        self.preview = None
        samples, rate = preview_code(self._root(), self.code.value, locale=self.locale.value)
        self.preview = (samples, rate)
        player = wav_player(samples_to_wav(samples, rate))
        player.layout = W.Layout(width="18em", height="32px")
        self.player_box.children = [player]
        self.set_status(f"{self.code.value!r}: {len(samples) / rate:.2f} s", colour=OK)

    def _pack(self) -> None:
        from ..spelling import pack_spelling_set

        self.download.value = ""
        self.packed = pack_spelling_set(self._root(), locale=self.locale.value, out=self._zip(),
                                        chars=self.chars.value)
        size = self.packed.stat().st_size
        name = html.escape(self.packed.name, quote=True)
        if size <= self.DOWNLOAD_LIMIT:
            data = base64.b64encode(self.packed.read_bytes()).decode("ascii")
            self.download.value = (f"<a download='{name}' href='data:application/zip;base64,{data}' "
                                   f"style='font-weight:bold'>⬇ Download {name}</a> ({size / 1024:.0f} KB) — "
                                   "then upload it in the Audio Prompt Manager")
        else:
            self.download.value = f"Saved as <code>{html.escape(str(self.packed))}</code> ({size / 1e6:.0f} MB)"
        self.set_status(f"packed {self.packed}", colour=OK)


__all__ = ["SpellingSet", "SOURCES"]
