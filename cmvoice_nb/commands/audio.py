"""``cmvoice audio convert`` and ``cmvoice audio check``: thin wrappers over :mod:`cmvoice_nb.audio`.

Exit status: 0 when every file converted/checked compliant, 1 when any failed or
is not compliant, 2 for usage errors. ``--json`` prints one JSON array with one object
per file; counts and rates (``samplerate``, ``channels``, ``bits``) are JSON integers.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from .. import spec
from ..messages import decimal_number


def register(subparsers: argparse._SubParsersAction) -> None:
    audio = subparsers.add_parser("audio", help="convert prompts to telephony WAV and check them",
                                  description="Convert prompts to 8 kHz mono G.711 A-law WAV and check files "
                                              "against the provider's spec.")
    sub = audio.add_subparsers(dest="audio_command", metavar="ACTION")
    audio.set_defaults(func=lambda args: (audio.print_help(), 2)[1])

    conv = sub.add_parser("convert", help="convert files or folders (folders are mirrored into OUT_DIR)")
    conv.add_argument("sources", nargs="+", metavar="SRC", help="audio files or folders")
    conv.add_argument("-o", "--out", required=True, metavar="OUT_DIR", help="output folder")
    conv.add_argument("--target", choices=tuple(spec.AUDIO_FORMATS), default=spec.AUDIO_FORMAT.target,
                      help="; ".join(f"{f.target}: {f.label}" + (" (default, preferred)" if f is spec.AUDIO_FORMAT
                                                                  else "") for f in spec.AUDIO_FORMATS.values()))
    conv.add_argument("--normalize-dbfs", type=decimal_number, default=None, metavar="DBFS",
                      help="bring the RMS level to DBFS (e.g. -20); peaks kept at or below -1 dBFS")
    conv.add_argument("--trim", action="store_true", help="trim leading/trailing silence (keeps 0.1 s padding)")
    conv.add_argument("--trim-threshold-dbfs", type=decimal_number, default=-45.0, metavar="DBFS")
    conv.add_argument("--padding-s", type=decimal_number, default=0.1, metavar="SECONDS")
    conv.add_argument("--no-overwrite", action="store_true", help="fail files whose target already exists")
    conv.add_argument("--strict", action="store_true",
                      help="fail damaged sources (truncated, unknown sizes) instead of converting what is there")
    _limits(conv)
    conv.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    conv.add_argument("--json", action="store_true", help="print one JSON array with one object per file")
    conv.set_defaults(func=run_convert)

    chk = sub.add_parser("check", help="check WAV files or folders against the provider's spec")
    chk.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    chk.add_argument("--strict-alaw", action="store_true", help="treat 16-bit PCM as not compliant")
    _limits(chk)
    chk.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    chk.add_argument("--json", action="store_true", help="print one JSON array with one object per file")
    chk.set_defaults(func=run_check)


def _limits(parser: argparse.ArgumentParser) -> None:
    from ..audio.batch import DEFAULT_FILE_TIMEOUT_S
    from ..audio.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION_S

    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                        help=f"fail input files larger than N bytes (default {DEFAULT_MAX_BYTES:,})")
    parser.add_argument("--max-duration-s", type=decimal_number, default=DEFAULT_MAX_DURATION_S, metavar="SECONDS",
                        help=f"fail audio longer than this (default {DEFAULT_MAX_DURATION_S:g})")
    parser.add_argument("--timeout-s", type=decimal_number, default=DEFAULT_FILE_TIMEOUT_S, metavar="SECONDS",
                        help=f"fail a file still running after this, with worker processes "
                             f"(default {DEFAULT_FILE_TIMEOUT_S:g}; 0: no limit)")


#: Fields that are counts or rates: JSON integers, never ``8.0`` (pandas turns an integer
#: column with a missing value into floats).
INT_FIELDS = frozenset({"samplerate", "channels", "bits", "source_samplerate", "source_channels"})


def _clean(value: Any, *, integer: bool = False) -> Any:
    # JSON has no NaN/inf; pandas gives NaN for missing numbers and numpy scalars for the rest.
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if integer and value.is_integer():
            return int(value)
        return round(value, 3)
    return value


def _records(df, columns: list[str]) -> list[dict]:
    out = []
    for row in df.to_dict("records"):
        rec = {c: _clean(row.get(c), integer=c in INT_FIELDS) for c in columns}
        rec["ok"] = bool(rec.get("ok"))
        rec["problems"] = list(rec.get("problems") or [])
        rec["warnings"] = list(rec.get("warnings") or [])
        out.append(rec)
    return out


def _progress(args) -> bool:
    return not args.json and sys.stderr.isatty()


def _print_rows(records: list[dict], *, verb: str) -> None:
    for rec in records:
        head = "OK  " if rec["ok"] else "FAIL"
        dest = f" -> {rec['target']}" if rec.get("target") and rec.get("status") == "converted" else ""
        print(f"{head} {rec['source']}{dest}")
        if rec.get("error"):
            print(f"     error: {rec['error']}")
        for p in rec["problems"]:
            print(f"     problem: {p}")
        for w in rec["warnings"]:
            print(f"     warning: {w}")
    bad = sum(not r["ok"] for r in records)
    print(f"{len(records)} file(s) {verb}, {len(records) - bad} ok, {bad} failed or not compliant")


def run_convert(args) -> int:
    from ..audio.batch import convert_paths, find_audio_files

    out = Path(args.out)
    pairs = []
    for s in args.sources:
        p = Path(s)
        if p.is_dir():
            for f in find_audio_files(p, exclude=out):
                pairs.append((str(f), f, out / f.relative_to(p).with_suffix(".wav")))
        else:
            # Nonexistent paths go through too: the worker reports "file not found" in their row.
            pairs.append((str(p), p, out / (p.stem + ".wav")))
    df = convert_paths(pairs, target=args.target, workers=args.workers, progress=_progress(args),
                       normalize_dbfs=args.normalize_dbfs, trim=args.trim,
                       trim_threshold_dbfs=args.trim_threshold_dbfs, padding_s=args.padding_s,
                       overwrite=not args.no_overwrite, strict=args.strict, max_bytes=args.max_bytes,
                       max_duration_s=args.max_duration_s, timeout_s=args.timeout_s or None)
    records = _records(df, ["source", "target", "status", "ok", "error", "problems", "warnings", "duration_s"])
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        _print_rows(records, verb="converted")
    return 0 if records and all(r["ok"] for r in records) else 1


def run_check(args) -> int:
    from ..audio.batch import check_paths, find_audio_files

    items: list[tuple[str, Path]] = []
    for s in args.paths:
        p = Path(s)
        if p.is_dir():
            items.extend((str(f), f) for f in find_audio_files(p))
        else:
            items.append((str(p), p))
    df = check_paths(items, workers=args.workers, progress=_progress(args), allow_pcm16=not args.strict_alaw,
                     max_bytes=args.max_bytes, max_duration_s=args.max_duration_s, timeout_s=args.timeout_s or None)
    records = _records(df, ["source", "ok", "problems", "warnings", "error", "container", "codec", "samplerate",
                            "channels",
                            "bits", "duration_s", "peak_dbfs", "rms_dbfs", "leading_silence_s",
                            "trailing_silence_s"])
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        _print_rows(records, verb="checked")
    return 0 if records and all(r["ok"] for r in records) else 1


__all__ = ["register", "run_convert", "run_check"]
