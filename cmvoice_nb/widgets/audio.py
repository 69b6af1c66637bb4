"""AudioPrep: upload or pick prompt recordings, convert them to telephony WAV, check, listen, save.

Wiring only: every action calls :func:`cmvoice_nb.audio.convert_prompt`,
:func:`~cmvoice_nb.audio.convert_folder` or :func:`~cmvoice_nb.audio.check_folder`
with the options shown in the controls.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import ipywidgets as W

from .. import spec
from ._common import App, clear, playable_wav, say, show, wav_player

logger = logging.getLogger(__name__)

#: The upload's file filter: the package's one list of audio suffixes.
AUDIO_ACCEPT = ",".join(sorted(spec.AUDIO_SUFFIXES))



def _format_label(fmt: spec.AudioFormat, *, preferred: bool) -> str:
    """``"8-bit G.711 A-law, 8 kHz mono (preferred)"`` for the format dropdown."""
    mono = "mono" if fmt.channels == 1 else f"{fmt.channels} channels"
    return f"{fmt.label}, {fmt.samplerate // 1000} kHz {mono}" + (" (preferred)" if preferred else "")

class AudioPrep(App):
    """Convert prompt recordings to the provider's format and check them.

    Parameters
    ----------
    audio_root
        The local mirror of the Audio Prompt Manager folder: converted files are saved here.
    source_dir
        Pre-filled folder for "Convert folder" (e.g. ``"../sample_audio"``).

    Attributes
    ----------
    upload, folder, audio_root, target, normalize, normalize_dbfs, trim, trim_threshold_dbfs,
    padding_s, overwrite, convert_uploads, convert_folder, check_root
        The controls (set ``.value`` / call ``.click()`` from code).
    reports
        ``{file name: PromptReport}`` of the last uploads converted.
    table
        The DataFrame of the last folder conversion or check.

    Examples
    --------
    >>> app = AudioPrep(audio_root="prompts")          # doctest: +SKIP
    >>> app.folder.value = "../sample_audio"; app.convert_folder.click()  # doctest: +SKIP
    >>> app.table[["source", "ok"]]                    # doctest: +SKIP
    """

    _control_names = ("upload", "folder", "audio_root", "target", "normalize", "normalize_dbfs", "trim",
                      "trim_threshold_dbfs", "padding_s", "overwrite", "convert_uploads", "convert_folder",
                      "check_root")

    def __init__(self, *, audio_root: str | os.PathLike = "prompts", source_dir: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-audio-prep")
        style = {"description_width": "10em"}
        self.upload = W.FileUpload(accept=AUDIO_ACCEPT, multiple=True, description="Upload audio")
        self.folder = W.Text(value="" if source_dir is None else str(source_dir), description="Source folder",
                             placeholder="folder of recordings", style=style)
        self.audio_root = W.Text(value=str(audio_root), description="Save into", style=style)
        self.target = W.Dropdown(options=[(_format_label(f, preferred=f is spec.AUDIO_FORMAT), f.target)
                                          for f in spec.AUDIO_FORMATS.values()],
                                 value=spec.AUDIO_FORMAT.target, description="Format", style=style)
        self.normalize = W.Checkbox(value=True, description="Normalise loudness", indent=False)
        self.normalize_dbfs = W.FloatSlider(value=-20.0, min=-35.0, max=-10.0, step=0.5, description="to (dBFS RMS)",
                                            style=style)
        self.trim = W.Checkbox(value=True, description="Trim leading/trailing silence", indent=False)
        self.trim_threshold_dbfs = W.FloatSlider(value=-45.0, min=-70.0, max=-20.0, step=1.0,
                                                 description="silence below (dBFS)", style=style)
        self.padding_s = W.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.05, description="keep padding (s)",
                                       style=style)
        self.overwrite = W.Checkbox(value=True, description="Replace existing files in the save folder", indent=False)
        self.convert_uploads = W.Button(description="Convert uploads", button_style="primary", icon="cogs")
        self.convert_folder = W.Button(description="Convert folder", icon="folder-open")
        self.check_root = W.Button(description="Check saved files", icon="check")
        self.reports: dict[str, Any] = {}
        self.table = None

        self.convert_uploads.on_click(self.guard(self._on_convert_uploads, action="convert uploads"))
        self.convert_folder.on_click(self.guard(self._on_convert_folder, action="convert folder"))
        self.check_root.on_click(self.guard(self._on_check_root, action="check"))

        self.children = [
            W.HTML("<h3>Audio preparation</h3><p>Converts recordings to WAV, G.711 A-law, 8 kHz, mono "
                   "(the provider's preferred format) and checks every file.</p>"),
            W.HBox([self.upload, self.convert_uploads]),
            W.HBox([self.folder, self.convert_folder]),
            W.HBox([self.audio_root, self.check_root]),
            W.HBox([self.target, self.overwrite]),
            W.HBox([self.normalize, self.normalize_dbfs]),
            W.HBox([self.trim, self.trim_threshold_dbfs, self.padding_s]),
            self.status,
            self.out,
        ]

    # -- options --------------------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        """The conversion keyword arguments the controls stand for."""
        return {
            "target": self.target.value,
            "normalize_dbfs": float(self.normalize_dbfs.value) if self.normalize.value else None,
            "trim": bool(self.trim.value),
            "trim_threshold_dbfs": float(self.trim_threshold_dbfs.value),
            "padding_s": float(self.padding_s.value),
            "overwrite": bool(self.overwrite.value),
        }

    # -- actions --------------------------------------------------------------------------------
    def _on_convert_uploads(self, _button: Any = None) -> None:
        from ..audio import convert_prompt

        files = list(self.upload.value or ())
        clear(self.out)
        if not files:
            self.set_status("Choose one or more files with 'Upload audio' first.", colour="#9a6700")
            return
        root = Path(self.audio_root.value).expanduser()
        reports: dict[str, Any] = {}
        failed = 0
        try:
            for item in files:
                # Only the base name: an upload's name must never steer where we write.
                name = Path(str(item["name"])).name
                data = bytes(item["content"])
                dst = root / (Path(name).stem + ".wav")
                try:
                    report = convert_prompt(data, dst, **self.options())
                except Exception as exc:  # one bad file must not stop the others
                    failed += 1
                    self.out.append_stderr(f"{name}: {type(exc).__name__}: {exc}\n")
                    continue
                reports[name] = report
                self._show_before_after(name, data, report)
        finally:
            # The uploaded bytes live in the widget state (and so in saved notebooks): drop them.
            self.upload.value = ()
        self.reports = reports
        ok = sum(r.ok for r in reports.values())
        self.set_status(f"{len(reports)} converted into {root}, {ok} compliant, {failed} failed",
                        colour="#1a7f37" if failed == 0 and ok == len(reports) else "#cf222e")

    def _show_before_after(self, name: str, data: bytes, report: Any) -> None:
        before = playable_wav(data)
        after = playable_wav(report.path) if report.path is not None else None
        players = []
        if before is not None:
            players.append(W.VBox([W.HTML("<b>before</b>"), wav_player(before)]))
        if after is not None:
            players.append(W.VBox([W.HTML("<b>after</b>"), wav_player(after)]))
        show(self.out, W.VBox([W.HTML(f"<h4>{name}</h4>"), W.HBox(players)]))
        show(self.out, report)

    def _on_convert_folder(self, _button: Any = None) -> None:
        from ..audio import convert_folder

        src = Path(self.folder.value).expanduser()
        clear(self.out)
        if not self.folder.value.strip():
            self.set_status("Type the folder of recordings to convert.", colour="#9a6700")
            return
        table = convert_folder(src, Path(self.audio_root.value).expanduser(), workers=1, progress=False,
                               **self.options())
        self.table = table
        self._show_table(table, f"converted {src} → {self.audio_root.value}")

    def _on_check_root(self, _button: Any = None) -> None:
        from ..audio import check_folder

        clear(self.out)
        table = check_folder(Path(self.audio_root.value).expanduser(), workers=1, progress=False)
        self.table = table
        self._show_table(table, f"checked {self.audio_root.value}")

    def _show_table(self, table: Any, what: str) -> None:
        ok = int(table["ok"].sum()) if "ok" in table else 0
        self.set_status(f"{what}: {len(table)} files, {ok} compliant",
                        colour="#1a7f37" if ok == len(table) else "#9a6700")
        cols = [c for c in ("source", "target", "status", "ok", "duration_s", "problems", "warnings", "error")
                if c in table.columns]
        show(self.out, table[cols])
        say(self.out, f"{ok}/{len(table)} compliant")
