"""Generate the shipped notebooks from this one reviewable script.

    python notebooks/_build.py          # rewrite notebooks/*.ipynb (outputs empty)
    python notebooks/_build.py --check  # exit 1 if a notebook differs from what this script writes

Every notebook runs top to bottom on a fresh install with no account and no network:
it starts the built-in simulator and a callback receiver on 127.0.0.1. Notebooks read
sample data from ``sample_audio/`` (``cmvoice_nb.demo.sample_audio()``: the checkout's, or the copy
an installed wheel carries) and write everything under ``../build/notebooks``
(or ``$CMVOICE_NB_WORKDIR``, which the tests point at a temporary folder).
Cell ids are fixed and outputs are empty so the files diff cleanly in review.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from cmvoice_nb._fsutil import atomic_write_text

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def setup_cell(sub: str) -> str:
    return f'''import os
from pathlib import Path

import pandas as pd

from cmvoice_nb.demo import sample_audio

# The small sample recordings: the checkout's sample_audio/, or the copy an installed package carries.
SAMPLES = sample_audio()
# Everything this notebook writes goes here (never into the repository's tracked files).
WORK = Path(os.environ.get("CMVOICE_NB_WORKDIR", "../build/notebooks")) / "{sub}"
WORK.mkdir(parents=True, exist_ok=True)
pd.set_option("display.max_colwidth", 80)
WORK'''


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01_audio_preparation"] = [
    ("md", """# 1 · Audio preparation

The provider plays `File` prompts only in one format: **WAV, G.711 A-law, 8 kHz, mono, 8-bit (64 kbps)**.
A 44.1 kHz stereo WAV or an MP3 is accepted by the upload page but stays silent on the call.
This notebook checks recordings, converts them, listens before/after and saves the result into a
local folder that mirrors your Audio Prompt Manager (`prompts/`).

Everything runs locally: no account, no network."""),
    ("code", setup_cell("01_audio") + '\nPROMPTS = WORK / "prompts"'),
    ("md", """## Check what we have

`check_prompt` reads the RIFF chunks of a file (it does not trust the extension) and says exactly what is
wrong and how to fix it. It never raises for bad content: every finding is in the report."""),
    ("code", """from cmvoice_nb.audio import check_paths, check_prompt, convert_paths, convert_prompt, check_folder

AUDIO = {".wav", ".mp3", ".m4a", ".flac", ".ogg"}
samples = sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in AUDIO)
from cmvoice_nb.widgets import table  # the apps' table style: readable cells, problems first

before = check_paths([(p.name, p) for p in samples], workers=1, progress=False)
table(before[["source", "ok", "problems", "warnings"]])"""),
    ("md", "One report in detail, with a player (browsers cannot play A-law, so the player gets 16-bit PCM of "
           "the same audio):"),
    ("code", """check_prompt(SAMPLES / "hello_44k_stereo.wav")"""),
    ("md", """## Convert one file

`convert_prompt` decodes anything (WAV, MP3, M4A, FLAC, OGG; M4A through the ffmpeg that ships as a wheel),
mixes to mono, resamples with a proper anti-alias filter, optionally trims silence and normalises loudness,
encodes A-law and writes atomically. It returns the check of the written file."""),
    ("code",
     """fixed = convert_prompt(SAMPLES / "hello_44k_stereo.wav", PROMPTS / "hello.wav", normalize_dbfs=-20, trim=True)
fixed"""),
    ("md", "## Convert them all, then check the result folder"),
    ("code", """converted = convert_paths([(p.name, p, PROMPTS / (p.stem + ".wav")) for p in samples],
                          normalize_dbfs=-20, trim=True, workers=1, progress=False)
table(converted[["source", "target", "status", "ok", "duration_s"]])"""),
    ("code", """after = check_folder(PROMPTS, workers=1, progress=False)
print(f"{int(after['ok'].sum())} of {len(after)} files compliant")
table(after[["source", "ok", "codec", "samplerate", "channels", "bits", "duration_s"]])"""),
    ("md", """## The app

The same, point and click: upload one or many files (the uploaded bytes are cleared from the widget after
conversion, so recordings do not end up in the saved notebook), or convert a whole folder."""),
    ("code", """from cmvoice_nb.widgets import AudioPrep

audio_app = AudioPrep(audio_root=PROMPTS, source_dir=SAMPLES)
audio_app"""),
    ("md", """## With your real account

Upload the files in `PROMPTS` with the provider's **Audio Prompt Manager** (keep the folder layout), then send
`prompt-type: File` with the path relative to your folder's root, e.g. `"prompt": "prompts/hello.wav"`.
From a shell: `cmvoice audio convert recordings/ --out prompts/` and `cmvoice audio check prompts/`."""),
]

NOTEBOOKS["02_otp_spelling_set"] = [
    ("md", """# 2 · An OTP spelling set

With `code-type: Custom` an OTP call reads the code one character at a time from **your own recordings**:
`/spelling/<locale>/<char>.wav` (lower-case names `0.wav`…`9.wav`, `a.wav`…`z.wav`, the locale is the call's
voice language). This notebook builds such a set from a folder of recordings with messy names, checks it,
spells a code the way the call will, and zips it for upload."""),
    ("code", setup_cell("02_spelling") + '\nUPLOAD = WORK / "upload"'),
    ("md",
     "The recordings: one per character, named however the speaker saved them (`A.wav`, `Eight.wav`, `7.m4a`, …)."),
    ("code", """sorted(p.name for p in (SAMPLES / "spelling_en").iterdir())[:12]"""),
    ("md", """## Build

Names are mapped to characters, every file is trimmed to its speech, brought to one loudness and written as
compliant A-law under `UPLOAD/spelling/en-GB/`."""),
    ("code", """from cmvoice_nb.spelling import build_spelling_set, check_spelling_set, pack_spelling_set, preview_audio

from cmvoice_nb.widgets import table

built = build_spelling_set(SAMPLES / "spelling_en", UPLOAD, locale="en-GB", overwrite=True, progress=False)
table(built.frame[["char", "source", "duration_s", "loudness_lufs", "gain_db"]], max_rows=8)"""),
    ("md", "## Check\n\nEvery character gets a row (`report` alone shows them with a player each); `codes=` makes "
           "exactly their characters required. The rows that need attention come first."),
    ("code", """report = check_spelling_set(UPLOAD, locale="en-GB", codes=["48213", "7k9x2"])
print(report.summary)
table(report.frame[["char", "present", "ok", "duration_s", "loudness_lufs", "problems", "warnings"]], max_rows=8)"""),
    ("md", "## Hear a code the way the call reads it"),
    ("code", """preview_audio(UPLOAD, "48213", locale="en-GB")"""),
    ("md", "## Pack for upload\n\nPacking validates first and refuses a broken set."),
    ("code", """import zipfile

zip_path = pack_spelling_set(UPLOAD, locale="en-GB", out=WORK / "spelling-en-GB.zip")
print(zip_path)
sorted(zipfile.ZipFile(zip_path).namelist())[:6]"""),
    ("md", """## No recordings yet? Text-to-speech

`source="tts"` uses espeak-ng to make a placeholder set (here the digits of a Dutch set), useful for a
rehearsal before the real voice talent records."""),
    ("code",
     'tts = build_spelling_set("tts", WORK / "tts", locale="nl-NL", chars="0123456789", overwrite=True, '
     """progress=False)
check_spelling_set(WORK / "tts", locale="nl-NL", chars="0123456789").summary"""),
    ("md", "## The app"),
    ("code", """from cmvoice_nb.widgets import SpellingSet

spelling_app = SpellingSet(root=WORK / "app", source=SAMPLES / "spelling_en", locale="en-GB")
spelling_app"""),
    ("md", """## With your real account

Upload the zip's `spelling/en-GB/` folder with the Audio Prompt Manager, then send OTP instructions with
`"code-type": "Custom"` and a voice whose language is `en-GB`. A campaign planned with
`spelling_root=UPLOAD` refuses codes the set cannot spell. Shell: `cmvoice spelling build|check|pack|preview`."""),
]

NOTEBOOKS["03_campaign"] = [
    ("md", """# 3 · A campaign

From a DataFrame of people to calls that are **validated, paced, journaled and never placed twice**.
We rehearse against the built-in **simulator**: a real HTTP server on 127.0.0.1 that validates exactly like the
provider, "places" calls and POSTs callbacks to our **receiver**. The last section shows the switch to a real
account."""),
    ("code", setup_cell("03_campaign")),
    ("md", """## Simulator and callback receiver

Callee numbers ending in `10` are always answered, `09` never picked up, `11` fail, `12` are rejected;
other numbers draw from seeded probabilities."""),
    ("code", """from cmvoice_nb.callbacks import CallbackReceiver
from cmvoice_nb.simulator import Simulator

sim = Simulator(seed=7)
rx = CallbackReceiver(WORK / "callbacks.jsonl").start()
print("simulator:", sim.base_url)
print("callbacks:", rx.url)"""),
    ("md", """## The people to call

As they come out of a spreadsheet: national numbers, spaces, a float that lost its `+`, one number that is
not a phone number and one person listed twice."""),
    ("code", """people = pd.DataFrame({
    "first_name": ["Ann", "Bob", "Cem", "Dora", "Eve", "Finn", "Gus", "Ann"],
    "phone": ["+31 6 1234 5610", "0612345611", "31612345612.0", "+31612345609",
              "06-1234-5610", "+31 6 12 34 56 78", "not a number", "+31 6 1234 5610"],
    "date": pd.to_datetime(["2026-12-01"] * 8),
})
people"""),
    ("md", """## Plan

`plan_campaign` maps columns to contract fields, fills per-row templates, normalises numbers, validates every
row against the contract and gives every row an **instruction id**. Nothing is sent.

An `instruction_id` column is used as given. Otherwise the id is
`<name>-<campaign key>-<callee digits>-<occurrence>`, for example `reminder-7f3a9c2d-31612345610-1`:

- the **campaign key** is drawn at random by the journal when it is created and kept for ever, so re-runs on the
  same journal derive the same ids, and two campaigns (even two `people.csv` in other folders) never share one;
- the **callee digits and occurrence** (1 for the first row with that number, 2 for the second …) name the row by
  its content, not its position: inserting, deleting or reordering rows moves nobody's id.

A plan made without a journal has a provisional key (`plan.key_is_provisional`); `send_campaign` re-keys it to
its journal's key (pass `journal=` to `plan_campaign` to see the final ids)."""),
    ("code", """from cmvoice_nb.campaign import plan_campaign, send_campaign

defaults = {
    "caller": "+31201234567",
    "prompt": "Hello {first_name}, this is a reminder of your appointment on {date:%d %B}.",
    "prompt-type": "TTS",
    "voice.language": "en-GB",
    "callback-url": rx.url,
}
plan = plan_campaign(people, app="notification", name="reminder", columns={"callee": "phone"},
                     defaults=defaults, region="NL", drop_duplicates=True)
print(repr(plan))"""),
    ("md",
     "Every problem names the row, the field, the value and what was expected; duplicates are reported and left out:"),
    ("code", """from cmvoice_nb.widgets import table

table(plan.problems)"""),
    ("code", "table(plan.duplicates)"),
    ("md", "## Dry run\n\nValidates and matches with the journal, sends nothing, writes nothing, waits for no pacing."),
    ("code", """dry = send_campaign(plan, sim.client(), journal=None, dry_run=True, progress=False)
table(dry["status"].value_counts())"""),
    ("md", """## A Dutch list, as the CRM exports it

A real export: `;`-separated with a byte-order mark and CRLF, day-first dates, amounts with decimal commas, a
German and a Belgian customer with national numbers, and a country column. `read_table` reads every cell as text
and numbers the rows by their spreadsheet line. `columns={"region": "Land"}` reads each row's number in its own
country; dates and amounts are read **per column** (`13-12-2025` makes the whole column day-first) and spoken in
the voice's language; `plan.preview()` shows what each row will hear before anything is sent."""),
    ("code", """from cmvoice_nb.campaign.inputs import read_table

(WORK / "klanten.csv").write_bytes((
    "Klantnummer;Naam;Telefoon;Land;Datum;Bedrag\\r\\n"
    "10234;Anne de Vries;06 12345610;NL;09-12-2025;12,50\\r\\n"
    "10235;Jörg Müller;030 2345678;DE;13-12-2025;1.250,00\\r\\n"
    "10236;Els Peeters;0470 12 34 56;België;10-12-2025;7,00\\r\\n").encode("utf-8-sig"))
klanten = read_table(WORK / "klanten.csv")
dutch = plan_campaign(klanten, app="notification", name="klanten", region="NL",
                      columns={"callee": "Telefoon", "region": "Land", "id": "Klantnummer"}, keep=["Naam"],
                      defaults={"caller": "+31201234567", "prompt-type": "TTS", "voice.language": "nl-NL",
                                "prompt": "Beste {Naam}, uw afspraak is op {Datum:%-d %B %Y}. "
                                          "U betaalt {Bedrag:currency:EUR}."})
table(dutch.preview())"""),
    ("md", """## Before sending: who must not be called, where calls may go, what it costs

`suppress=` takes a do-not-call list (a CSV or TXT file, a DataFrame or numbers, in any spelling: the CSV's
number column is found by its name or its content); listed rows are `suppressed` and never sent, in this run and
in every follow-up wave. `allowed_countries=` makes a number of another country invalid. `plan.estimate()` counts
calls per country and talk minutes (TTS at the simulator's speaking rate, every replay heard) and, with a price
table, the cost, its assumptions stated. Calling hours are an option of the send:
`send_campaign(..., calling_hours="09:00-20:00", days="mon-fri")` calls each row only inside that window of the
callee's local time (`wait=False`: rows outside it end `deferred` and a later run sends them)."""),
    ("code", """(WORK / "do-not-call.csv").write_text("name,phone\\nBob,06 1234 5611\\n", encoding="utf-8")
careful = plan_campaign(people, app="notification", name="reminder", columns={"callee": "phone"},
                        defaults=defaults, region="NL", drop_duplicates=True,
                        suppress=WORK / "do-not-call.csv", allowed_countries="NL")
print(repr(careful))
display(table(careful.suppressed))
careful.estimate(prices=pd.DataFrame({"country": ["NL"], "price_per_minute": [0.06], "setup": [0.01]}))"""),
    ("md", """## Public holidays and a validity window

`public_holidays=True` keeps each callee's own country's public holidays (from the `holidays` package; a
state's or province's with `columns={"subdivision": ...}`), beside your own `holidays=` dates. `valid_for="2h"`
gives every row two hours from its registration to be placed; a row not placed by then ends `expired` and is
never sent later, whatever it waited for (an OTP campaign has ten minutes unless told otherwise). On King's Day
a Dutch number waits for the next morning, past its two hours, and expires; a Belgian one is called at once. A
`ManualClock` stands in for the real one, so nobody waits for 27 April."""),
    ("code", """import datetime as dt
from cmvoice_nb.campaign.ops.schedule import ManualClock

for stale in WORK.glob("kingsday.*"):
    stale.unlink()
kings_day = ManualClock(dt.datetime(2026, 4, 27, 8, 0, tzinfo=dt.timezone.utc))  # Monday, 10:00 in Amsterdam
neighbours = pd.DataFrame({"first_name": ["Anne", "Els"], "phone": ["+31612345610", "+32470123410"],
                           "date": pd.to_datetime(["2026-04-28"] * 2)})
holiday = send_campaign(neighbours, sim.client(), journal=WORK / "kingsday.sqlite", app="notification",
                        name="kingsday", columns={"callee": "phone"}, defaults=defaults, progress=False,
                        calling_hours="09:00-20:00", public_holidays=True, valid_for="2h", now=kings_day)
table(holiday[["callee", "status", "error"]])"""),
    ("code", """from cmvoice_nb.campaign.ops.hours import window_status

window_status(neighbours["phone"], calling_hours="09:00-20:00", public_holidays=True, now=kings_day.now())"""),
    ("md", """## Send

The journal (SQLite) records every row *before* its request. Retry only what provably was not processed
(connection refused, 429, 503); a read timeout is marked `unknown` for you to reconcile, never resent blindly."""),
    ("code", """results = send_campaign(plan, sim.client(), journal=WORK / "reminder.sqlite",
                        results_path=WORK / "reminder-results.csv", progress=False)
table(results.drop(columns=["campaign_key", "input_position"]))"""),
    ("code", """placed = sim.placed_count()
again = send_campaign(plan, sim.client(), journal=WORK / "reminder.sqlite", progress=False)
print(f"calls placed: {placed} before the re-run, {sim.placed_count()} after it (nothing was sent twice)")"""),
    ("md", """## Edit the list and send again

The journal guards **people, not positions**. Here the list gets a newcomer at the top, loses a row, and one
person's name is corrected. On the re-run:

- the newcomer is called (once);
- everyone already called keeps their own id and call id (`queued`, "already done"), whatever their new position;
- the corrected row is **withheld** as `changed`: the person was called with the old text. `resend_changed=True`
  calls them again with the new text, deliberately;
- a row whose callee already has a call (`queued`, `unknown` or in flight) anywhere in this journal, under any id,
  is `already-called`, with the earlier id and call id (`allow_repeat=True` for a list that means to call twice).

`CampaignSender(...).summary()` is what `cmvoice send` prints at the end of every run: the counts, and for every
status that needs attention the first rows with their reason and what resolves it."""),
    ("code", """from cmvoice_nb.campaign import CampaignSender

edited = pd.concat([pd.DataFrame({"first_name": ["Nina"], "phone": ["+31612345666"],
                                  "date": pd.to_datetime(["2026-12-01"])}),
                    people.drop(index=[1])], ignore_index=True)
edited.loc[edited["first_name"] == "Dora", "first_name"] = "Doortje"
edited_plan = plan_campaign(edited, app="notification", name="reminder", columns={"callee": "phone"},
                            defaults=defaults, region="NL", drop_duplicates=True)
job = CampaignSender(edited_plan, sim.client(), journal=WORK / "reminder.sqlite", progress=False)
edited_results = job.run()
print(job.summary())
table(edited_results[["instruction_id", "callee", "status", "call_ids", "input_position"]])"""),
    ("md", """### Statuses and exit codes

| status | meaning | what resolves it |
|---|---|---|
| `queued` | the provider accepted the call | nothing |
| `dry-run` | would be sent | nothing |
| `skipped` | not sent: the run ended first (or a repeat left out by `drop_duplicates`) | run again |
| `invalid` | the row breaks the contract | fix the row, run again |
| `rejected` | the provider refused it (400) | fix the row, run again |
| `failed` | nothing was placed (refused connections, 503) | run again |
| `unknown` | the call **may** have been placed (timeout, dropped connection) | check; `resend_unknown=True` |
| `changed` | sent earlier with other content | `resend_changed=True` |
| `already-called` | this journal already called that person | `allow_repeat=True` |

`cmvoice send` exits with 0 when every row is final and nothing needs attention, 1 when the run finished (or
stopped on a refused token, a wrong URL or an unreachable provider) but some rows need attention, and 2 for a
usage error (a bad flag, an unknown field or column, an unreadable file)."""),
    ("md", "## Callbacks"),
    ("code", """sim.wait_idle(30)
rx.wait_for(sim.placed_count(), timeout=60)  # one callback per call placed
table(rx.frame()[["instruction_id", "callee", "outcome", "ring_seconds", "talk_seconds"]])"""),
    ("md", """## A follow-up wave: call the unanswered again

`plan_followup` reads the campaign's journal (every attempt, with the exact request it sent) and its
callbacks, and plans the next wave: everyone whose latest call was not answered (`Cancelled`, `Failed`), called
fewer than `max_attempts` times, whose latest call ended at least `min_gap` ago. Each attempt has its own id
(`<id>-w2`), so the journal allows one call per person per wave and callbacks map to the right attempt.
Here a faster simulator (its clock runs 1000× faster) places a first wave to eight people and reports back:
`…10` answers, `…09` never picks up, `…12` is rejected, the others answer by chance."""),
    ("code", """import cmvoice_nb as cm

# This section tells the same story on every run, so it starts afresh: each run's simulator is new, and
# an earlier run's journal would already have everyone called.
for stale in WORK.glob("waves.*"):
    stale.unlink()
fast = Simulator(seed=7, speed=1000)
wave_rx = CallbackReceiver(WORK / "waves.jsonl").start()
journal = WORK / "waves.sqlite"
crowd = pd.DataFrame({"first_name": ["Ann", "Bob", "Cem", "Dora", "Eve", "Finn", "Gus", "Hana"],
                      "phone": ["0612345710", "0612345709", "0612345721", "0612345722",
                                "0612345712", "0612345723", "0612345724", "0612345725"]})
first = cm.send_campaign(crowd, fast.client(), journal=journal, app="notification", name="waves",
                         columns={"callee": "phone"}, region="NL", rate=50, progress=False,
                         defaults={"caller": "+31201234567", "prompt": "Hello {first_name}, a reminder.",
                                   "prompt-type": "TTS", "callback-url": wave_rx.url})
fast.wait_idle(30)
wave_rx.wait_for(fast.placed_count(), timeout=60)  # one callback per call placed
calls = cm.load_callbacks(WORK / "waves.jsonl")
# The simulator's call times run ahead of the clock: measure min_gap from just after its last call.
now = calls["finished_on"].max() + pd.Timedelta("31min")
wave = cm.plan_followup(journal, calls, now=now, callback_url=wave_rx.url)  # where callbacks go now
print(repr(wave))
table(wave.left_out_summary())"""),
    ("code", """second = cm.send_campaign(wave, fast.client(), journal=journal, rate=50, progress=False)
fast.wait_idle(30)
wave_rx.wait_for(fast.placed_count(), timeout=60)
calls = cm.load_callbacks(WORK / "waves.jsonl")
both = pd.concat([first, second])
print(cm.funnel(both, calls).to_text())
table(cm.reach_by_wave(both, calls))"""),
    ("md",
     """`cmvoice followup --journal waves.sqlite --callbacks waves.jsonl -o wave2.csv` does the same from the shell.
Rows on the do-not-call list (`--suppress`), answered, rejected (check the number), still waiting for a
callback or `unknown` are left out, each counted with its reason."""),
    ("code", "wave_rx.stop(); fast.close()"),
    ("md", """## An A/B test of two prompts, with a holdout

`variants=` gives each variant the fields it changes (they win over the defaults and the list's columns;
templates work); `holdout=` holds a share of the people out as a control group: planned, never called (status
`holdout`). Each **person** gets a variant by a hash of `seed` and their number, not by row order: the same person
gets the same variant on every re-run and in every follow-up wave, and the journal keeps it. Here the simulator is
told to answer the "Goedemiddag" prompt more often (`behaviour_by=`), so the report in notebook 4 has a real
difference to find."""),
    ("code", """for stale in WORK.glob("ab.*"):
    stale.unlink()
ab_sim = Simulator(seed=7, speed=1000, p_answer=0.4, p_rejected=0.0, p_failed=0.0, p_voicemail=0.0,
                   behaviour_by={"prompt:Goedemiddag": {"p_answer": 0.75}})
ab_rx = CallbackReceiver(WORK / "ab.jsonl").start()
ab_people = pd.DataFrame({"naam": [f"Klant {i}" for i in range(240)],
                          "telefoon": [f"06 12{i:04d}13" for i in range(240)]})
ab_plan = plan_campaign(ab_people, app="notification", name="ab", columns={"callee": "telefoon"}, region="NL",
                        journal=WORK / "ab.sqlite", seed=2026, holdout=0.1,
                        defaults={"caller": "+31201234567", "prompt-type": "TTS", "voice.language": "nl-NL",
                                  "callback-url": ab_rx.url},
                        variants={"A": {"prompt": "Hallo {naam}, morgen is uw afspraak."},
                                  "B": {"prompt": "Goedemiddag {naam}: uw afspraak is morgen."}})
display(table(ab_plan.to_frame()["variant"].value_counts()))
table(ab_plan.preview(1)[["row", "field", "text"]])"""),
    ("code", """ab_results = send_campaign(ab_plan, ab_sim.client(), journal=WORK / "ab.sqlite", rate=200,
                            progress=False)
ab_sim.wait_idle(30)
ab_rx.wait_for(ab_sim.placed_count(), timeout=60)
print(cm.ab_report(cm.load_callbacks(WORK / "ab.jsonl"), WORK / "ab.sqlite"))
ab_rx.stop(); ab_sim.close()"""),
    ("md", """## The app

**Load list** reads a CSV (any separator and encoding), Excel or Parquet file in the app and proposes its columns
from their names and contents (a column of phone numbers is the callee whatever its header, a column of
countries each row's country); check them in the form. One row per field: choose its column *or* type a default
for every row (hover the ? for help; rarely used fields are under "More fields"). **Validate**, **Dry run**,
**Send**; the send runs in the background with the form locked, a live progress bar, the calls per second beside
the set rate, the time left and a working **Stop**. A run ends *finished*, *waiting* (Send again later),
*needs you* (rows to fix or decide) or *nothing to send* (Send is then off, with the reason); every results row is
shown, paged, with a status filter and a download link.

Before the fields: **Calling hours** and **Days** (in each callee's local time) with **Wait for calling hours**
(unticked: rows outside their hours end `deferred`), allowed **Countries**, a **Do-not-call** list (a file path,
or **Upload list**: the file's bytes are dropped once read) and a **Prices** table. Validate and Dry run show the
estimate; during a send the counts say how many rows wait for their calling hours and until when.

The app always starts on the **simulator** and typing a token never changes that. Choosing
"CM Voice API (real)" turns the banner red and shows the base URL; **Send** then first shows what will happen
(the calls it would place now, countries, the estimate, the calling hours, the callback URL) and places nothing
until you type the campaign name and press the confirmation button; while it is open the form is locked, and any
change withdraws it.
A token typed into the password field is never echoed or saved."""),
    ("code", """from cmvoice_nb.widgets import Campaign

campaign_app = Campaign(people, name="reminder-app", simulator=sim, journal_dir=WORK / "app",
                        columns={"callee": "phone"}, defaults=defaults, drop_duplicates=True, rate=20)
campaign_app"""),
    ("md", """## With your real account

```python
from cmvoice_nb import VoiceClient
client = VoiceClient()   # reads CM_PRODUCT_TOKEN; or VoiceClient(token=...)
results = send_campaign(plan, client, journal="reminder.sqlite", rate=5)
```

The provider cannot reach `127.0.0.1`: expose the receiver through a tunnel (or your own HTTPS endpoint) and put
that URL in `callback-url`. Shell: `cmvoice send people.csv --app notification ...`.
When you are done here: `rx.stop(); sim.close()`."""),
]

NOTEBOOKS["04_callback_analysis"] = [
    ("md", """# 4 · Callback analysis

Callbacks arrive late, twice or out of order; the receiver stores them raw (append-only JSON Lines) and
`load_callbacks` types and de-duplicates them. To run standalone this notebook first makes a small mixed campaign
(Notification, OTP and DTMF) in the simulator; with your own data, point `load_callbacks` at your logs."""),
    ("code", setup_cell("04_analysis")),
    ("code", """import numpy as np

from cmvoice_nb.callbacks import CallbackReceiver
from cmvoice_nb.campaign import send_campaign
from cmvoice_nb.simulator import Simulator

sim = Simulator(seed=42)
rx = CallbackReceiver(WORK / "callbacks.jsonl").start()
rng = np.random.default_rng(0)
numbers = [f"+3162{n:07d}" for n in rng.integers(1_000_000, 9_999_999, size=60)]
common = {"caller": "+31201234567", "callback-url": rx.url}
jobs = {
    "notification": (pd.DataFrame({"callee": numbers[:30]}),
                     {**common, "prompt": "Your parcel arrives today.", "prompt-type": "TTS"}),
    "otp": (pd.DataFrame({"callee": numbers[30:45], "code": [f"{n:05d}" for n in rng.integers(0, 99999, 15)]}),
            {**common, "intro-prompt": "Your code is", "intro-prompt-type": "TTS"}),
    "dtmf": (pd.DataFrame({"callee": numbers[45:]}),
             {**common, "prompt": "Press 1 to confirm, 2 to cancel.", "prompt-type": "TTS",
              "min-digits": 1, "max-digits": 1, "max-attempts": 2}),
}
parts = [send_campaign(df, sim.client(), journal=WORK / "journal.sqlite", app=app, name=f"demo-{app}",
                       defaults=d, rate=20, burst=20, progress=False) for app, (df, d) in jobs.items()]
results = pd.concat(parts, ignore_index=True)
sim.wait_idle(30)
rx.wait_for(sim.placed_count(), timeout=60)  # one callback per call placed by this simulator

from cmvoice_nb.widgets import table

table(results["status"].value_counts())"""),
    ("md", "## Load"),
    ("code", """from cmvoice_nb.callbacks import load_callbacks

calls = load_callbacks(WORK / "callbacks.jsonl")
table(calls.head(), failures_first=False)"""),
    ("md", "## Summaries\n\nKey on the result **code**, never on its text (the provider's docs disagree with "
           "themselves on it)."),
    ("code", """from cmvoice_nb.callbacks import dtmf_summary, summarize

table(summarize(calls, by="app"), failures_first=False)"""),
    ("code", "dtmf_summary(calls)"),
    ("md", """## From sent to answered

A callback counts for a row only when it is that row's call: rows are joined on their `call_ids`
(an `unknown` row without one falls back to its instruction id, same callee, not before it was sent).
Callbacks of other campaigns in the same log are set aside in `f.unmatched_callbacks`. Each stage is
a share of all rows, of the rows sent, and of the stage before."""),
    ("code", """from cmvoice_nb.campaign import funnel

f = funnel(results, calls)
f"""),
    ("md", "## Plots"),
    ("code", """from cmvoice_nb.callbacks import plot_answer_rate_by_hour, plot_funnel, plot_outcomes, plot_ring_time

plot_outcomes(calls, by="app")"""),
    ("code", "plot_ring_time(calls)"),
    ("code", "plot_answer_rate_by_hour(calls)"),
    ("code", "plot_funnel(f)"),
    ("md", """## An A/B test: which prompt works better?

A campaign planned with `variants=` and `holdout=` (notebook 3) keeps each person's variant in its journal.
`ab_report` gives per variant the calls, answered, completed (heard the whole message; for DTMF: valid input),
DTMF valid and talk time, each rate over the variant's calls with a 95 % Wilson interval, and compares each
variant with the first by a two-proportion z-test, saying in words whether the difference is significant. Here a
small test whose simulator answers prompt B more often."""),
    ("code", """from cmvoice_nb.campaign import ab_report, plan_campaign

ab_sim = Simulator(seed=5, speed=1000, p_answer=0.4, p_rejected=0.0, p_failed=0.0, p_voicemail=0.0,
                   behaviour_by={"prompt:Goedemiddag": {"p_answer": 0.75}})
for stale in WORK.glob("ab.*"):  # a fresh test on every run: its log and journal start empty
    stale.unlink()
ab_rx = CallbackReceiver(WORK / "ab.jsonl").start()
ab_people = pd.DataFrame({"callee": [f"+31612{i:04d}13" for i in range(240)]})
ab_plan = plan_campaign(ab_people, app="notification", name="ab", journal=WORK / "ab.sqlite", seed=2026,
                        holdout=0.1,
                        defaults={"caller": "+31201234567", "prompt-type": "TTS", "callback-url": ab_rx.url},
                        variants={"A": {"prompt": "Hallo, morgen is uw afspraak."},
                                  "B": {"prompt": "Goedemiddag: uw afspraak is morgen."}})
send_campaign(ab_plan, ab_sim.client(), journal=WORK / "ab.sqlite", rate=200, progress=False)
ab_sim.wait_idle(30)
ab_rx.wait_for(ab_sim.placed_count(), timeout=60)
ab = ab_report(load_callbacks(WORK / "ab.jsonl"), WORK / "ab.sqlite")
ab"""),
    ("code", """table(ab.tests, failures_first=False)"""),
    ("md", """`cmvoice report ab.jsonl --journal ab.sqlite --ab --html report.html` prints the same, and the campaign's
HTML report (`write_report(calls, journal=...)`) has an A/B section."""),
    ("code", "ab_rx.stop(); ab_sim.close()"),
    ("md", "## A report to share\n\nOne self-contained HTML file: summaries, DTMF input, funnel and plots."),
    ("code", """from cmvoice_nb.campaign import write_report

report_path = write_report(calls, results=results, html_path=WORK / "report.html", title="Demo campaign")
print(report_path)"""),
    ("md", """## The dashboard

Load logs (or start a receiver: loaded calls stay shown, the URL can be copied), filter by date, app and
outcome; the summary, plots and the funnel of the same filtered calls refresh. A funnel whose results and
callbacks share no call says so."""),
    ("code", """from cmvoice_nb.widgets import CallbackDashboard

from cmvoice_nb.campaign import results_to_csv

results_to_csv(results, WORK / "results.csv")
dashboard = CallbackDashboard(log=WORK / "callbacks.jsonl", results=WORK / "results.csv")
dashboard.load.click()
dashboard"""),
    ("md", """## With your real account

Run `cmvoice receive --out callbacks/` behind a tunnel (or your own HTTPS endpoint) during the campaign, then
`load_callbacks("callbacks/")` here, or `cmvoice report callbacks/ --results results.csv --html report.html`.
When you are done here: `rx.stop(); sim.close()`."""),
]


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"{name[:2]}-{i:02d}"  # fixed ids: regenerating gives identical files
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    return nbformat.writes(build(name, NOTEBOOKS[name])) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    stale = []
    for name in NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        text = render(name)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            atomic_write_text(path, text)
            print(f"wrote {path}")
    if stale:
        print("out of date (run python notebooks/_build.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
