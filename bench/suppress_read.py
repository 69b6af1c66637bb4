"""Reading a do-not-call list: ``read_suppression`` vs the per-entry reader on 1,000,000 entries.

The list is written the way a Dutch operator's Excel exports it: ``Telefoonnummer;Naam`` with a
byte-order mark and CRLF line ends. Its numbers are NL, BE, DE and GB mobile and landline
numbers (phonenumbers' own example numbers with their last six digits drawn at random) in mixed
spellings (``+31 6 1234 5678``, ``0031…``, ``06-12345678``, ``+44 (0)20 …``, ``tel:+49-…``,
``32470123456``, a spreadsheet's ``31612345678.0``), about a tenth of them repeats, and a few
hundred bad lines (``n/a``, ``3.16123E+10``, ``12345``). Contenders, each in a fresh subprocess
(so peak memory, ``ru_maxrss``, is its own):

* ``new``: :func:`~cmvoice_nb.campaign.ops.suppress.read_suppression` as shipped (decoder, sniffer,
  column-wise :func:`~cmvoice_nb.numbers.normalize_numbers`);
* ``baseline``: ``read_suppression_reference``, the per-entry reader (one ``try_normalize``
  call per entry), kept as a private reference function.

Printed: wall and CPU seconds of the read, entries/s, peak RSS of the process and its growth
during the read, the ratio, and whether both gave the same numbers and the same unreadable
entries (line, value, reason).

Run: ``.venv/bin/python bench/suppress_read.py [--entries 1000000] [--keep FILE]``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGIONS = ("NL", "BE", "DE", "GB")
BAD = ("n/a", "3.16123E+10", "3,16124E+10", "12345", "onbekend", "+31 6 1234", "")


def _templates() -> dict:
    """Per region, the example numbers (mobile and landline) as (country code, national digits)."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    out = {}
    for region in REGIONS:
        out[region] = []
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            ex = phonenumbers.example_number_for_type(region, kind)
            out[region].append((ex.country_code, phonenumbers.national_significant_number(ex)))
    return out


def write_list(path: Path, n: int, seed: int = 20) -> None:
    """Write the *n*-entry list to *path* (UTF-8 with BOM, ``;``, CRLF)."""
    rnd = random.Random(seed)
    templates = _templates()
    distinct: list[str] = []
    lines = ["Telefoonnummer;Naam"]
    names = ["Jan", "Piet", "Anja", "Lotte", "Sem", "Noor", "Daan", "Émile", "Zoë", "Jürgen"]
    for _ in range(n):
        if rnd.random() < 0.0005:
            lines.append(f"{rnd.choice(BAD)};{rnd.choice(names)}")
            continue
        if distinct and rnd.random() < 0.1:
            lines.append(f"{rnd.choice(distinct)};{rnd.choice(names)}")  # a repeat, as written before
            continue
        region = rnd.choices(REGIONS, weights=(55, 15, 15, 15))[0]
        cc, nsn = rnd.choice(templates[region])
        keep = max(2, len(nsn) - 6)
        nsn = nsn[:keep] + "".join(rnd.choice("0123456789") for _ in range(len(nsn) - keep))
        style = rnd.randrange(7)
        if style == 0:
            text = f"+{cc} {nsn[:1]} {nsn[1:5]} {nsn[5:]}"
        elif style == 1:
            text = f"00{cc}{nsn}"
        elif style == 2 and region == "NL":
            text = f"0{nsn[:1]}-{nsn[1:]}"
        elif style == 3:
            text = f"+{cc} (0){nsn[:2]} {nsn[2:]}"
        elif style == 4:
            text = f"tel:+{cc}-{nsn[:3]}-{nsn[3:]}"
        elif style == 5:
            text = f"{cc}{nsn}.0"  # a spreadsheet float, exported as text
        else:
            text = f"+{cc}{nsn}"
        distinct.append(text)
        lines.append(f"{text};{rnd.choice(names)}")
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))


def _digest(dnc) -> str:
    h = hashlib.sha256()
    for number in sorted(dnc.numbers):
        h.update(number.encode() + b"\n")
    for u in dnc.unreadable:
        h.update(repr((u.line, u.value, u.reason)).encode() + b"\n")
    return h.hexdigest()


def run_one(contender: str, path: Path) -> dict:
    """Read *path* with one contender in this process; the figures as a dict."""
    import resource

    from cmvoice_nb.campaign.ops import _suppress_reference, suppress
    from cmvoice_nb.numbers import normalize_numbers

    normalize_numbers(["+31612345678"], region="NL")  # imports (pyarrow, phonenumbers' metadata) outside the timing
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    if contender == "new":
        dnc = suppress.read_suppression(path, region="NL", allow_unreadable_suppress=True)
    else:
        dnc = _suppress_reference.read_suppression_reference(path, region="NL")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"contender": contender, "entries": dnc.entries, "numbers": len(dnc), "unreadable": len(dnc.unreadable),
            "seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024,
            "digest": _digest(dnc)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="write the list here and keep it")
    ap.add_argument("--one", choices=["new", "baseline"], help=argparse.SUPPRESS)
    ap.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.path)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "dnc.csv"
        start = time.perf_counter()
        write_list(path, args.entries)
        print(f"list: {args.entries:,} entries, {path.stat().st_size / 2**20:.1f} MiB, written in "
              f"{time.perf_counter() - start:.1f} s (not timed below)")
        results = {}
        for contender in ("new", "baseline"):
            out = subprocess.run([sys.executable, __file__, "--one", contender, "--path", str(path)],
                                 check=True, capture_output=True, text=True).stdout
            results[contender] = r = json.loads(out.strip().splitlines()[-1])
            print(f"{contender:8s} {r['entries']:>9,} entries  {r['seconds']:7.2f} s (CPU {r['cpu']:6.2f} s)  "
                  f"{r['entries'] / r['seconds']:>9,.0f} entries/s  peak {r['peak_mb']:6.0f} MB "
                  f"(+{r['growth_mb']:.0f} MB while reading)  {r['numbers']:,} numbers, {r['unreadable']:,} unreadable")
    new, base = results["new"], results["baseline"]
    same = new["digest"] == base["digest"]
    print(f"ratio    {base['seconds'] / new['seconds']:.1f}x by wall clock, "
          f"{base['cpu'] / new['cpu']:.1f}x by CPU time; same numbers and unreadable entries: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
