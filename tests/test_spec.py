"""The spec table is the contract: these tests pin it to API-CONTRACT.md."""
from cmvoice_nb import spec


def test_each_app_posts_to_its_exactly_cased_endpoint():
    assert {a.name: a.endpoint for a in spec.APPS.values()} == {
        "notification": "Notification", "otp": "OTP", "dtmf": "DTMF"}


def test_callback_types_map_back_to_apps():
    assert spec.CALLBACK_TYPES == {"notification-finished": "notification", "otp-finished": "otp",
                                   "dtmf-finished": "dtmf"}


def test_result_codes_are_the_four_documented_ones_and_only_finished_is_answered():
    assert sorted(spec.RESULT_CODES) == [9, 10, 11, 12]
    assert [rc.name for rc in spec.RESULT_CODES.values() if rc.answered] == ["Finished"]


def test_sdk_integer_enums_match_the_contract():
    assert spec.SDK_ENUM_INTS["prompt_type"] == {0: "File", 1: "TTS", 2: "TTS_SSML"}
    assert spec.SDK_ENUM_INTS["code_type"] == {0: "Default", 1: "TTS", 2: "Custom"}
    assert spec.SDK_ENUM_INTS["voicemail_response"] == {0: "Ignore", 1: "Restart", 2: "Stop"}
    assert spec.SDK_ENUM_INTS["gender"] == {0: "Male", 1: "Female"}


def test_limits_from_the_contract_are_in_the_table():
    dtmf = spec.APPS["dtmf"]
    timeout = dtmf.field("timeout")
    assert (timeout.min_value, timeout.max_value, timeout.default) == (1000, 10000, 5000)
    assert dtmf.field("terminators").default == "#" and dtmf.field("terminators").max_length == 8
    assert dtmf.field("regex").default == "[0-9]*"
    assert dtmf.field("voicemail-response").forbidden
    assert spec.APPS["otp"].field("code").max_length == 64
    assert spec.APPS["notification"].field("prompt").max_length == 500
    assert spec.APPS["notification"].field("replay-prompt-type").default == "TTS"
    assert spec.APPS["otp"].field("intro-prompt-type").default == "File"
    for app in spec.APPS.values():
        assert app.field("instruction-id").max_length == 64
        assert app.field("callback-url").max_length == 256
        assert app.field("callee").max_length == 24
        assert app.field("caller").required


def test_field_lookup_accepts_snake_case_and_names_valid_keys_when_wrong():
    assert spec.APPS["dtmf"].field("max_digits").key == "max-digits"
    try:
        spec.APPS["dtmf"].field("nope")
    except KeyError as exc:
        assert "min-digits" in str(exc)
    else:
        raise AssertionError("unknown field accepted")


def test_voice_catalogue_has_the_seed_table():
    assert len(spec.VOICES) == 40
    assert spec.voice_count("en-US", "Female") == 5
    assert spec.voice_count("en-GB", "Male") == 2
    assert spec.voice_count("tr-TR", "Male") == 0
    assert "nl-NL" in spec.voice_languages()


def test_app_spec_accepts_endpoint_and_callback_type():
    assert spec.app_spec("DTMF").name == "dtmf"
    assert spec.app_spec("otp-finished").name == "otp"


def test_fields_frame_lists_every_key():
    frame = spec.fields_frame("otp")
    assert list(frame["key"]) == list(spec.APPS["otp"].keys)


# --- facts the rest of the package reads from here ------------------------------------------

def test_the_audio_format_is_the_seeds_custom_audio_spec():
    # seed "Custom audio files": "*.wav, G.711 A-law, 8 kHz, mono, 8-bit, 64 kbps"
    f = spec.AUDIO_FORMAT
    assert (f.suffix, f.codec, f.samplerate, f.channels, f.bits, f.kbps) == (".wav", "alaw", 8000, 1, 8, 64)
    assert list(spec.AUDIO_FORMATS) == ["alaw", "pcm16"] and spec.AUDIO_SAMPLERATE == 8000
    pcm = spec.AUDIO_FORMATS["pcm16"]
    assert (pcm.codec, pcm.samplerate, pcm.channels, pcm.bits, pcm.kbps) == ("pcm", 8000, 1, 16, 128)


def test_the_audio_modules_read_the_format_from_the_spec():
    from cmvoice_nb.audio import check, convert
    from cmvoice_nb.spelling import _audio

    assert check.SPEC == {"codec": "alaw", "samplerate": 8000, "channels": 1, "bits": 8, "byte_rate": 8000,
                          "suffix": ".wav"}
    assert convert.TARGETS == tuple(spec.AUDIO_FORMATS) and convert.TARGET_RATE == spec.AUDIO_SAMPLERATE
    assert _audio.RATE == spec.AUDIO_SAMPLERATE


def test_iso_utc_writes_the_providers_callback_format():
    import datetime as dt

    # seed callback example: "started-on": "2018-02-09T11:00:31.752Z"
    utc = dt.timezone.utc
    assert spec.iso_utc(dt.datetime(2018, 2, 9, 11, 0, 31, 752999, tzinfo=utc)) == "2018-02-09T11:00:31.752Z"
    # an aware time in another zone is converted, a naive one is taken as UTC
    cet = dt.timezone(dt.timedelta(hours=1))
    assert spec.iso_utc(dt.datetime(2018, 2, 9, 12, 0, 31, tzinfo=cet)) == "2018-02-09T11:00:31.000Z"
    assert spec.iso_utc(dt.datetime(2018, 2, 9, 11, 0, 31)) == "2018-02-09T11:00:31.000Z"
    before = dt.datetime.now(utc).replace(microsecond=0)
    now = dt.datetime.strptime(spec.iso_utc(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=utc)
    assert before <= now <= dt.datetime.now(utc)


def test_voice_language_helpers_read_the_catalogue():
    assert spec.voice_languages() == tuple(sorted({v.language for v in spec.VOICES}))
    assert spec.has_voice_language("nl-NL") and spec.has_voice_language("NL-nl")
    assert not spec.has_voice_language("xx-XX") and not spec.has_voice_language("")


def test_spelling_names_use_the_specs_characters_locale_and_suffixes():
    from cmvoice_nb.spelling import names

    assert names.DEFAULT_CHARS == spec.SPELLING_CHARS
    assert names.LOCALE_RE.pattern == spec.LOCALE_PATTERN
    assert {"." + ext for ext in names.AUDIO_EXTENSIONS} == spec.AUDIO_SUFFIXES
    # matched in full: a trailing newline or a longer string is not a locale
    assert names.locale_problem("en-GB") is None
    assert names.locale_problem("en-GB\n") is not None and names.locale_problem("en-GBx") is not None


def test_the_dashboard_offers_the_specs_outcomes_in_the_specs_order():
    from cmvoice_nb.widgets import CallbackDashboard

    app = CallbackDashboard(log="unused.jsonl")
    assert list(app.outcome.options) == ["all", *spec.OUTCOMES]
    assert list(app.app.options) == ["all", *spec.APPS]


def test_the_spelling_widget_offers_the_catalogues_languages():
    from cmvoice_nb.widgets.spelling import _locales

    assert _locales() == list(spec.voice_languages())


def test_the_callee_format_check_defers_to_the_field_length_from_the_table(monkeypatch):
    import dataclasses

    from cmvoice_nb.instructions import OTP

    caller, code = "+31201234567", "1234"
    # 25 characters: too long for the table's max_length (24): one length problem, no format noise
    long = "+3161234567890123456789x"
    problems = OTP(callee=long + "0", caller=caller, code=code).validate()
    assert [p.field for p in problems] == ["callee"] and "24" in problems[0].message
    # within the limit but not a number: the format problem
    problems = OTP(callee="+31-not-a-number", caller=caller, code=code).validate()
    assert [p.field for p in problems] == ["callee"] and "international" in problems[0].message
    # the limit is read from the table, not a second copy: lengthen it and the format check applies
    otp = spec.APPS["otp"]
    longer = tuple(dataclasses.replace(f, max_length=40) if f.key == "callee" else f for f in otp.fields)
    monkeypatch.setitem(spec.APPS, "otp", spec.AppSpec(otp.name, otp.endpoint, otp.callback_type, otp.title, longer))
    problems = OTP(callee=long + "0", caller=caller, code=code).validate()
    assert any(p.field == "callee" and "international" in p.message for p in problems)
