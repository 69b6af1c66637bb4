"""``cmvoice spelling build|check|pack|preview`` — OTP spelling sets from the command line.

Thin wrappers over :mod:`cmvoice_nb.spelling`; exit status 0 on success, 1 when
the set cannot be built/packed or the check finds any problem.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..messages import decimal_number, say


def register(subparsers) -> None:
    """Add ``spelling`` and its sub-commands to the ``cmvoice`` parser."""
    parser = subparsers.add_parser(
        "spelling",
        help="build, check and pack OTP spelling sets (spelling/<locale>/<char>.wav)",
        description="OTP spelling sets for code-type Custom: /spelling/<locale>/<char>.wav.",
    )
    sub = parser.add_subparsers(dest="spelling_command", metavar="ACTION")
    parser.set_defaults(func=run, _spelling_help=parser.print_help)

    b = sub.add_parser("build", help="build a compliant set from a folder, one recording, or tts",
                       description="Build ROOT/spelling/<locale>/<char>.wav from SOURCE.")
    b.add_argument("source", metavar="SOURCE",
                   help="a folder of per-character recordings, one recording of the whole sequence, or 'tts'")
    b.add_argument("--locale", required=True, help="five characters like en-GB (the OTP voice language)")
    b.add_argument("-o", "--output", dest="root", required=True, metavar="ROOT",
                   help="folder that will hold spelling/<locale>/")
    b.add_argument("--chars", default=None, help="characters to build, in reading order (default 0-9a-z)")
    b.add_argument("--map", dest="mapping", action="append", default=[], metavar="NAME=CHAR",
                   help="map a file name the tool cannot read to a character (repeatable)")
    b.add_argument("--threshold-dbfs", type=decimal_number, default=-45.0, help="silence threshold (default -45)")
    b.add_argument("--min-silence-s", type=decimal_number, default=0.3, help="pause between characters (default 0.3)")
    b.add_argument("--target-dbfs", type=decimal_number, default=-20.0, help="common speech loudness (default -20)")
    b.add_argument("--padding-s", type=decimal_number, default=0.1,
                   help="silence kept around each character (default 0.1)")
    b.add_argument("--target", choices=("alaw", "pcm16"), default="alaw", help="output encoding (default alaw)")
    b.add_argument("--engine", default="espeak-ng", help="text-to-speech engine for SOURCE 'tts'")
    b.add_argument("--voice", default=None, metavar="VOICE",
                   help="engine voice for SOURCE 'tts' (e.g. en, nl); needed for a locale the provider's "
                        "catalogue or the engine has no voice for")
    b.add_argument("--overwrite", action="store_true", help="replace existing files in the set")
    b.add_argument("--json", action="store_true", help="print the report as JSON")

    c = sub.add_parser("check", help="validate a set; exit status 1 on any problem",
                       description="Check ROOT/spelling/<locale>/ against the provider's rules.")
    c.add_argument("root", metavar="ROOT", help="folder holding spelling/<locale>/ (or that folder itself)")
    c.add_argument("--locale", required=True, help="five characters like en-GB")
    c.add_argument("--code", dest="codes", action="append", default=None, metavar="C",
                   help="an OTP code the set must be able to read (repeatable)")
    c.add_argument("--chars", default=None, help="characters the set should cover (default 0-9a-z)")
    c.add_argument("--json", action="store_true",
                   help="print {ok, missing, problems, characters: [...]} as JSON")

    p = sub.add_parser("pack", help="zip a passing set for the Audio Prompt Manager",
                       description="Write FILE.zip holding spelling/<locale>/<char>.wav.")
    p.add_argument("root", metavar="ROOT", help="folder holding spelling/<locale>/")
    p.add_argument("--locale", required=True, help="five characters like en-GB")
    p.add_argument("-o", "--output", dest="out", required=True, metavar="FILE.zip", help="the zip to write")
    p.add_argument("--code", dest="codes", action="append", default=None, metavar="C",
                   help="only require the characters of these codes (repeatable)")
    p.add_argument("--chars", default=None, help="characters the set should cover (default 0-9a-z)")
    p.add_argument("--force", action="store_true", help="pack even when the check finds problems")

    v = sub.add_parser("preview", help="write a WAV of a code read the way the call reads it")
    v.add_argument("root", metavar="ROOT", help="folder holding spelling/<locale>/")
    v.add_argument("--locale", required=True, help="five characters like en-GB")
    v.add_argument("--code", required=True, help="the code to read")
    v.add_argument("-o", "--output", dest="out", required=True, metavar="FILE.wav", help="the WAV to write")
    v.add_argument("--gap-s", type=decimal_number, default=0.15, help="pause between characters (default 0.15)")


def run(args: argparse.Namespace) -> int:
    """Dispatch ``cmvoice spelling ACTION``; returns the exit status."""
    actions = {"build": run_build, "check": run_check, "pack": run_pack, "preview": run_preview}
    action = actions.get(getattr(args, "spelling_command", None) or "")
    if action is None:
        args._spelling_help()
        return 2
    return action(args)


def _parse_mapping(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        name, sep, char = item.rpartition("=")
        if not sep or not name or len(char) != 1:
            raise SystemExit(f"cmvoice spelling build: --map {item!r}: expected NAME=CHAR, e.g. --map ay.wav=a")
        mapping[name] = char
    return mapping


def run_build(args: argparse.Namespace) -> int:
    from ..errors import CMVoiceError
    from ..spelling.build import build_spelling_set
    from ..spelling.names import DEFAULT_CHARS

    try:
        report = build_spelling_set(
            args.source, args.root, locale=args.locale, chars=args.chars or DEFAULT_CHARS,
            mapping=_parse_mapping(args.mapping) or None, threshold_dbfs=args.threshold_dbfs,
            min_silence_s=args.min_silence_s, target_dbfs=args.target_dbfs, padding_s=args.padding_s,
            target=args.target, engine=args.engine, overwrite=args.overwrite, progress=sys.stderr.isatty(),
            voice=args.voice,
        )
    except CMVoiceError as exc:
        print(f"cmvoice spelling build: {say(exc, 'cli')}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"ok": True, "locale": report.locale, "folder": str(report.folder),
                          "route": report.route, "level_lufs": round(report.level_lufs, 2),
                          "notes": report.notes, "characters": report.rows}, indent=2))
    else:
        for row in report.rows:
            print(f"{row['char']}  {row['source']} -> {row['target']}  {row['duration_s']:.2f} s  "
                  f"gain {row['gain_db']:+.1f} dB")
        for note in report.notes:
            print(f"note: {note}")
        print(f"built {len(report.rows)} characters for {report.locale} at {report.level_lufs:.1f} LUFS "
              f"in {report.folder}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ..errors import CMVoiceError
    from ..spelling.check import check_spelling_set

    try:
        report = check_spelling_set(args.root, locale=args.locale, codes=args.codes, chars=args.chars)
    except CMVoiceError as exc:
        print(f"cmvoice spelling check: {say(exc, 'cli')}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.summary)
        for p in report.problems:
            print(f"problem: {p}")
        for w in report.warnings:
            print(f"warning: {w}")
    return 0 if report.ok else 1


def run_pack(args: argparse.Namespace) -> int:
    from ..errors import CMVoiceError
    from ..spelling.pack import pack_spelling_set

    try:
        out = pack_spelling_set(args.root, locale=args.locale, out=args.out, force=args.force,
                                codes=args.codes, chars=args.chars)
    except CMVoiceError as exc:
        print(f"cmvoice spelling pack: {say(exc, 'cli')}", file=sys.stderr)
        return 1
    print(f"wrote {out} (upload it through the Audio Prompt Manager; it unpacks to spelling/{args.locale}/)")
    return 0


def run_preview(args: argparse.Namespace) -> int:
    from .._fsutil import atomic_write_bytes, same_file
    from ..errors import CMVoiceError
    from ..spelling.check import resolve_folder
    from ..spelling.names import locale_problem
    from ..spelling.preview import preview_wav

    problem = locale_problem(args.locale)
    if problem:  # the locale names a folder: never join a malformed one into a path
        print(f"cmvoice spelling preview: {problem}", file=sys.stderr)
        return 1
    folder = resolve_folder(args.root, args.locale)
    if folder.is_dir() and any(same_file(args.out, p) for p in folder.iterdir()):
        print(f"cmvoice spelling preview: {args.out} is a file of the set; choose another name", file=sys.stderr)
        return 1
    try:
        data = preview_wav(args.root, args.code, locale=args.locale, gap_s=args.gap_s)
    except CMVoiceError as exc:
        print(f"cmvoice spelling preview: {say(exc, 'cli')}", file=sys.stderr)
        return 1
    atomic_write_bytes(args.out, data)
    print(f"wrote {args.out}")
    return 0


__all__ = ["register", "run", "run_build", "run_check", "run_pack", "run_preview"]


__all__ = ["register", "run", "run_build", "run_check", "run_pack", "run_preview"]
