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
    assert (dtmf.field("timeout").min_value, dtmf.field("timeout").max_value, dtmf.field("timeout").default) == (1000, 10000, 5000)
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
