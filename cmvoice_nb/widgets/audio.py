"""AudioPrep: upload or pick prompt recordings, convert them to telephony WAV, check, listen, save.

Wiring only: every action calls :func:`cmvoice_nb.audio.convert_prompt`,
:func:`~cmvoice_nb.audio.convert_folder` or :func:`~cmvoice_nb.audio.check_folder`
with the options shown in the controls.
"""
from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from typing import Any

import ipywidgets as W

from .. import spec
from ._common import BAD, OK, WARN, App, playable_wav, show, table, wav_player

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

    def __init__(self, *, audio_root: str | os.PathLike = "prompts",
                 source_dir: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-audio-prep")
        style = {"description_width": "13em"}
        wide = W.Layout(width="36em")
        self.upload = W.FileUpload(accept=AUDIO_ACCEPT, multiple=True, description="Upload audio",
                                   layout=W.Layout(width="13em"))
        self.folder = W.Text(value="" if source_dir is None else str(source_dir), description="Source folder",
                             placeholder="folder of recordings", style=style, layout=wide)
        self.audio_root = W.Text(value=str(audio_root), description="Save into", style=style, layout=wide)
        self.target = W.Dropdown(options=[(_format_label(f, preferred=f is spec.AUDIO_FORMAT), f.target)
                                          for f in spec.AUDIO_FORMATS.values()],
                                 value=spec.AUDIO_FORMAT.target, description="Format", style=style, layout=wide)
        self.normalize = W.Checkbox(value=True, description="Normalise loudness", indent=False,
                                    layout=W.Layout(width="16em"))
        self.normalize_dbfs = W.FloatSlider(value=-20.0, min=-35.0, max=-10.0, step=0.5, description="to (dBFS RMS)",
                                            style=style, layout=W.Layout(width="36em"))
        self.trim = W.Checkbox(value=True, description="Trim leading/trailing silence", indent=False,
                               layout=W.Layout(width="16em"))
        self.trim_threshold_dbfs = W.FloatSlider(value=-45.0, min=-70.0, max=-20.0, step=1.0,
                                                 description="silence below (dBFS)", style=style,
                                                 layout=W.Layout(width="36em"))
        self.padding_s = W.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.05, description="keep padding (s)",
                                       style=style, layout=W.Layout(width="36em"))
        self.overwrite = W.Checkbox(value=True, description="Replace existing files in the save folder", indent=False,
                                    layout=W.Layout(width="24em"))
        button = W.Layout(width="13em")
        self.convert_uploads = W.Button(description="Convert uploads", button_style="primary", icon="cogs",
                                        layout=button)
        self.convert_folder = W.Button(description="Convert folder", icon="folder-open", layout=button)
        self.check_root = W.Button(description="Check saved files", icon="check", layout=button)
        self.reports: dict[str, Any] = {}
        self.table = None
        #: The rows shown for the last uploads (one per file).
        self.file_rows: list[W.HBox] = []

        busy = [self.convert_uploads, self.convert_folder, self.check_root, self.upload, self.target,
                self.normalize, self.normalize_dbfs, self.trim, self.trim_threshold_dbfs, self.padding_s,
                self.overwrite, self.folder, self.audio_root]
        self.convert_uploads.on_click(self.action("convert uploads", self._convert_uploads, busy=busy,
                                                  working="converting the uploads", background=True))
        self.convert_folder.on_click(self.action("convert folder", self._convert_folder, busy=busy,
                                                 working="converting the folder", background=True))
        self.check_root.on_click(self.action("check", self._check_root, busy=busy, working="checking the saved files",
                                             background=True))

        self.children = [
            W.HTML("<h3>Audio preparation</h3><p>Converts recordings to WAV, G.711 A-law, 8 kHz, mono "
                   "(the provider's preferred format) and checks every file.</p>"),
            W.HTML("<b>1. Options</b>"),
            W.HBox([self.target, self.overwrite]),
            W.HBox([self.normalize, self.normalize_dbfs]),
            W.HBox([self.trim, self.trim_threshold_dbfs]),
            W.HBox([W.HTML(layout=W.Layout(width="16em")), self.padding_s]),
            W.HTML("<b>2. Convert or check</b>"),
            W.HBox([self.audio_root, self.check_root]),
            W.HBox([self.folder, self.convert_folder]),
            W.HBox([self.upload, self.convert_uploads]),
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
    def _convert_uploads(self) -> None:
        from ..audio import convert_prompt
        from ._common import plain_error

        files = list(self.upload.value or ())
        self.reports = {}
        self.file_rows = []
        if not files:
            self.set_status("Choose one or more files with 'Upload audio' first.", colour=WARN)
            return
        root = Path(self.audio_root.value).expanduser()
        reports: dict[str, Any] = {}
        failed: list[str] = []
        try:
            for item in files:
                # Only the base name: an upload's name must never steer where we write.
                name = Path(str(item["name"])).name
                data = bytes(item["content"])
                dst = root / (Path(name).stem + ".wav")
                try:
                    # name=: the library's errors and the report's source name the upload, never <bytes>.
                    report = convert_prompt(data, dst, name=name, **self.options())
                except Exception as exc:  # one bad file must not stop the others
                    reason = plain_error(exc)
                    if reason.startswith(f"{name}: "):  # the row already shows the name
                        reason = reason[len(name) + 2:]
                    failed.append(name)
                    self.file_rows.append(self.file_row(name, None, None, error=reason))
                    show(self.out, self.file_rows[-1])
                    continue
                reports[name] = report
                self.file_rows.append(self.file_row(name, data, report))
                show(self.out, self.file_rows[-1])
        finally:
            # The uploaded bytes live in the widget state (and so in saved notebooks): drop them.
            self.upload.value = ()
        self.reports = reports
        ok = sum(r.ok for r in reports.values())
        text = f"{len(reports)} converted into {root}, {ok} compliant"
        if failed:
            text += f", {len(failed)} failed ({', '.join(failed)})"
        self.set_status(text, colour=OK if not failed and ok == len(reports) else (BAD if not reports else WARN))

    @staticmethod
    def file_row(name: str, data: bytes | None, report: Any, *, error: str | None = None) -> W.HBox:
        """One compact row per file: name, an OK badge, the before and after players, what is wrong."""
        if error is not None:
            badge, colour, note = "failed", BAD, error
        elif report.ok:
            badge, colour, note = "OK", OK, "; ".join(report.warnings)
        else:
            badge, colour, note = "problems", BAD, "; ".join(report.problems + report.warnings)
        cells: list[W.Widget] = [
            W.HTML(f"<b title='{html.escape(name, quote=True)}'>{html.escape(name)}</b>",
                   layout=W.Layout(width="16em", overflow="hidden")),
            W.HTML(f"<span style='background:{colour};color:white;border-radius:8px;padding:1px 8px'>{badge}</span>",
                   layout=W.Layout(width="7em")),
        ]
        for label, wav in (("before", playable_wav(data) if data is not None else None),
                           ("after", playable_wav(report.path) if report is not None and report.path else None)):
            if wav is not None:
                player = wav_player(wav)
                player.layout = W.Layout(width="15em", height="32px")
                cells += [W.HTML(f"<span style='color:#57606a'>{label}</span>", layout=W.Layout(width="3.5em")),
                          player]
        if report is not None and report.duration_s is not None:
            note = f"{report.duration_s:.2f} s" + (f" — {note}" if note else "")
        cells.append(W.HTML(html.escape(note), layout=W.Layout(flex="1 1 auto")))
        row = W.HBox(cells, layout=W.Layout(align_items="center"))
        row.add_class("cmvoice-file-row")
        return row

    def _convert_folder(self) -> None:
        from ..audio import convert_folder

        if not self.folder.value.strip():
            self.table = None
            self.set_status("Type the folder of recordings to convert.", colour=WARN)
            return
        src = Path(self.folder.value).expanduser()
        table_ = convert_folder(src, Path(self.audio_root.value).expanduser(), workers=1, progress=False,
                                **self.options())
        self.table = table_
        self._show_table(table_, f"Converted {src.name or src} into {self.audio_root.value}")

    def _check_root(self) -> None:
        from ..audio import check_folder

        table_ = check_folder(Path(self.audio_root.value).expanduser(), workers=1, progress=False)
        self.table = table_
        self._show_table(table_, f"Checked {self.audio_root.value}")

    def _show_table(self, frame: Any, what: str) -> None:
        ok = int(frame["ok"].sum()) if "ok" in frame else 0
        n = len(frame)
        self.set_status(f"{what}: {n} files, {ok} compliant",
                        colour=OK if ok == n else (BAD if ok == 0 else WARN))
        cols = [c for c in ("source", "target", "status", "ok", "duration_s", "problems", "warnings", "error")
                if c in frame.columns]
        show(self.out, table(frame[cols], caption=f"{n} files (problems first)"))


__all__ = ["AudioPrep", "AUDIO_ACCEPT"]
