"""Audio preparation: decode anything, convert to telephony WAV, check files against the spec.

Public names are imported lazily so ``import cmvoice_nb.audio`` stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "alaw_encode": "codec",
    "alaw_decode": "codec",
    "ulaw_encode": "codec",
    "ulaw_decode": "codec",
    "WavInfo": "wavfile",
    "parse_wav": "wavfile",
    "encode_wav": "wavfile",
    "read_wav_samples": "wavfile",
    "load_audio": "decode",
    "load_mono": "decode",
    "find_ffmpeg": "decode",
    "to_mono": "dsp",
    "resample": "dsp",
    "dbfs_peak": "dsp",
    "dbfs_rms": "dsp",
    "speech_bounds": "dsp",
    "trim_silence": "dsp",
    "normalize_rms": "dsp",
    "split_on_silence": "dsp",
    "prepare_samples": "convert",
    "convert_prompt": "convert",
    "to_audio_segment": "convert",
    "PromptReport": "check",
    "check_prompt": "check",
    "convert_folder": "batch",
    "check_folder": "batch",
    "convert_paths": "batch",
    "check_paths": "batch",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # numpy/soxr/soundfile load on first use; editors see the names here
    from .batch import (
        check_folder as check_folder,
        check_paths as check_paths,
        convert_folder as convert_folder,
        convert_paths as convert_paths,
    )
    from .check import PromptReport as PromptReport, check_prompt as check_prompt
    from .codec import (
        alaw_decode as alaw_decode,
        alaw_encode as alaw_encode,
        ulaw_decode as ulaw_decode,
        ulaw_encode as ulaw_encode,
    )
    from .convert import (
        convert_prompt as convert_prompt,
        prepare_samples as prepare_samples,
        to_audio_segment as to_audio_segment,
    )
    from .decode import find_ffmpeg as find_ffmpeg, load_audio as load_audio, load_mono as load_mono
    from .dsp import (
        dbfs_peak as dbfs_peak,
        dbfs_rms as dbfs_rms,
        normalize_rms as normalize_rms,
        resample as resample,
        speech_bounds as speech_bounds,
        split_on_silence as split_on_silence,
        to_mono as to_mono,
        trim_silence as trim_silence,
    )
    from .wavfile import (
        WavInfo as WavInfo,
        encode_wav as encode_wav,
        parse_wav as parse_wav,
        read_wav_samples as read_wav_samples,
    )
