"""Instructions: wire serialisation, lenient parsing and validation of every spec rule."""
import pytest

from cmvoice_nb import DTMF, OTP, Notification, Voice, instruction_from_json, spec
from cmvoice_nb.errors import ValidationError
from cmvoice_nb.instructions import INSTRUCTION_CLASSES

CALLEE, CALLER = "+31612345678", "+31201234567"

BASE = {
    "notification": dict(callee=CALLEE, caller=CALLER, prompt="Hello", prompt_type="TTS"),
    "otp": dict(callee=CALLEE, caller=CALLER, code="123abc"),
    "dtmf": dict(callee=CALLEE, caller=CALLER, min_digits=1, max_digits=5, max_attempts=3),
}


def make(app, **changes):
    values = {**BASE[app], **changes}
    return INSTRUCTION_CLASSES[app](**values)


def valid_value(f):
    """A value the field accepts: at the edge of its limits where it has them."""
    if f.kind == "str":
        if f.key == "callback-url":
            return "https://example.com/cb"
        if f.phone:
            return "+3161234567"
        if f.charset:
            return f.charset[: f.max_length]
        if f.key == "regex":
            return "[0-9]{1,5}"
        if f.template:  # a prompt: its type defaults to File, so a file path at the length limit
            return "prompts/" + "x" * (f.max_length - len("prompts/.wav")) + ".wav"
        return "x" * (f.max_length or 10)
    if f.kind == "int":
        return f.max_value
    if f.kind == "bool":
        return True
    if f.kind == "enum":
        return f.choices[-1]
    if f.kind == "list":
        return ["+31612345678", "+31612345679"]
    if f.kind == "voice":
        return Voice(language="nl-NL", gender="Male")
    raise AssertionError(f.kind)


def invalid_values(f):
    """Values that break the field's own rule(s)."""
    out = []
    if f.kind == "str":
        out.append(12)
        if f.max_length:
            out.append("9" * (f.max_length + 1))
        if f.charset:
            out.append("1a")
    elif f.kind == "int":
        out.append("many")
        if f.min_value is not None:
            out.append(f.min_value - 1)
        if f.max_value is not None:
            out.append(f.max_value + 1)
    elif f.kind == "bool":
        out.append("maybe")
    elif f.kind == "enum":
        out.append("Loud")
    elif f.kind == "list":
        out += [[], ["9" * 25], "not-a-list-but-str" and 5]
    elif f.kind == "voice":
        out.append("en-GB")
    return out


CASES = [(app, f) for app, a in spec.APPS.items() for f in a.fields]


@pytest.mark.parametrize("app,f", CASES, ids=[f"{a}-{f.key}" for a, f in CASES])
def test_every_field_accepts_a_valid_value_and_refuses_invalid_ones(app, f):
    changes = {}
    if f.key == "callees":
        changes["callee"] = None
    if f.key == "min-digits":
        changes["max_digits"] = 99
    if f.key == "code" :
        pass
    if f.forbidden:
        inst = make(app, **{f.name: "Stop"})
        assert [p.field for p in inst.validate()] == [f.key]
        assert "not supported" in inst.validate()[0].message
        # the official SDK always writes its default ("Ignore" = no detection): that must pass
        assert make(app, **{f.name: f.default}).validate() == []
        return
    ok = make(app, **changes, **{f.name: valid_value(f)})
    assert ok.validate() == [], ok.validate()
    for bad in invalid_values(f):
        inst = make(app, **changes, **{f.name: bad})
        fields = [p.field for p in inst.validate()]
        assert f.key in fields, (bad, inst.validate())


@pytest.mark.parametrize("app,f", [(a, f) for a, f in CASES if f.required], ids=lambda x: getattr(x, "key", x))
def test_required_fields_are_reported_when_missing(app, f):
    problems = make(app, **{f.name: None}).validate()
    assert (f.key, "is required") in [(p.field, p.message) for p in problems]


def test_validate_returns_every_problem_at_once():
    inst = DTMF(callee="123", caller=None, min_digits=9, max_digits=2, max_attempts=0, timeout=50,
                terminators="A", regex="([0-9]", voicemail_response="Stop")
    fields = {p.field for p in inst.validate()}
    assert fields >= {"callee", "caller", "min-digits", "max-attempts", "timeout", "terminators", "regex",
                      "voicemail-response"}


def test_callee_and_callees_are_mutually_exclusive_and_one_is_needed():
    assert [p.field for p in make("otp", callee=None).validate()] == ["callee"]
    both = make("otp", callees=["+31612345679"])
    assert [p.field for p in both.validate()] == ["callees"]


def test_numbers_must_be_in_international_format():
    problems = make("notification", callee="0612345678").validate()
    assert problems[0].field == "callee" and "international" in problems[0].message


def test_callback_url_needs_http_or_https_scheme():
    assert [p.field for p in make("otp", callback_url="ftp://x/y").validate()] == ["callback-url"]
    assert make("otp", callback_url="http://127.0.0.1:8000/cb").validate() == []


def test_min_digits_may_not_exceed_max_digits():
    problems = make("dtmf", min_digits=6, max_digits=5).validate()
    assert [(p.field, p.message) for p in problems] == [("min-digits", "must not exceed max-digits (5)")]


def test_regex_must_compile():
    assert make("dtmf", regex="[0-9]{2,4}").validate() == []
    assert [p.field for p in make("dtmf", regex="(12").validate()] == ["regex"]


def test_voice_is_checked_against_the_catalogue():
    assert make("otp", voice=Voice(language="en-US", gender="Female", number=5)).validate() == []
    sixth = make("otp", voice=Voice(language="en-US", gender="Female", number=6))
    assert [p.field for p in sixth.validate()] == ["voice.number"]
    assert [p.field for p in make("otp", voice=Voice(language="tr-TR", gender="Male")).validate()] == ["voice.gender"]
    assert [p.field for p in make("otp", voice=Voice(language="xx-XX")).validate()] == ["voice.language"]
    assert [p.field for p in make("otp", voice=Voice(language="english")).validate()] == ["voice.language"]


def test_the_catalogue_check_can_be_overridden_for_new_voices():
    inst = make("otp", voice=Voice(language="fi-FI", gender="Female"))
    assert inst.validate() != []
    assert inst.validate(check_voice_catalogue=False) == []


def test_custom_otp_codes_may_only_hold_spelling_characters():
    assert make("otp", code="12AB", code_type="Custom").validate() == []
    assert [p.field for p in make("otp", code="12-ab", code_type="Custom").validate()] == ["code"]
    assert make("otp", code="12-ab", code_type="TTS").validate() == []


def test_to_json_writes_kebab_keys_and_omits_unset_fields():
    inst = make("dtmf", timeout=3000, voice=Voice(language="nl-NL"))
    assert inst.to_json() == {"callee": CALLEE, "caller": CALLER, "min-digits": 1, "max-digits": 5,
                              "max-attempts": 3, "timeout": 3000, "voice": {"language": "nl-NL"}}


@pytest.mark.parametrize("app", list(spec.APPS))
def test_serialisation_round_trips(app):
    full = {f.name: valid_value(f) for f in spec.APPS[app].fields if not f.forbidden and f.key != "callees"}
    if app == "dtmf":
        full["max_digits"] = 99
    inst = INSTRUCTION_CLASSES[app](**full)
    again = instruction_from_json(app, inst.to_json())
    assert again == inst
    assert again.to_json() == inst.to_json()


def test_from_json_accepts_the_official_sdks_integers_and_nulls():
    body = {"instruction-id": None, "callee": CALLEE, "callees": None, "caller": CALLER, "anonymous": False,
            "disable-callees-validation": False, "voicemail-response": 2, "prompt": "Hi", "prompt-type": 1,
            "voice": {"language": "en-GB", "gender": 1, "number": 1, "volume": 0, "premium": False},
            "customGrouping3": "x"}
    inst = instruction_from_json("notification", body)
    assert (inst.prompt_type, inst.voicemail_response, inst.voice.gender) == ("TTS", "Stop", "Female")
    assert inst.instruction_id is None and inst.callees is None
    assert inst.extra == {"customGrouping3": "x"}
    assert inst.validate() == []


def test_from_json_is_lenient_about_case_snake_keys_partial_voice_and_empty_callback_url():
    inst = instruction_from_json("OTP", {"Callee": CALLEE, "caller": CALLER, "code": "42", "code_type": "custom",
                                         "voice": {"language": "nl-NL"}, "callback-url": ""})
    assert inst.code_type == "Custom" and inst.callback_url is None
    assert inst.voice.effective() == {"language": "nl-NL", "gender": "Female", "number": 1,
                                      "volume": 0, "premium": False}


def test_from_json_keeps_unreadable_values_for_validate_to_report():
    inst = instruction_from_json("dtmf", {**make("dtmf").to_json(), "max-digits": "lots"})
    assert inst.max_digits == "lots"
    assert [p.field for p in inst.validate()] == ["max-digits"]


def test_unknown_keyword_is_a_type_error_naming_valid_fields():
    with pytest.raises(TypeError, match="valid fields"):
        Notification(callee=CALLEE, caller=CALLER, prompt="x", promt_type="TTS")


def test_raise_for_problems_lists_all_problems_in_one_error():
    with pytest.raises(ValidationError) as info:
        DTMF(callee=CALLEE, caller=CALLER).raise_for_problems()
    assert {p.field for p in info.value.problems} == {"min-digits", "max-digits", "max-attempts"}
    assert isinstance(info.value, ValueError)


def test_prompt_files_lists_prompts_played_from_files_using_defaults():
    inst = OTP(callee=CALLEE, caller=CALLER, code="1", intro_prompt="prompts/hi.wav",
               outro_prompt="Bye", outro_prompt_type="TTS")
    assert inst.prompt_files() == [("intro-prompt", "prompts/hi.wav")]


def test_dtmf_judge_uses_regex_and_digit_limits():
    inst = make("dtmf", min_digits=2, max_digits=4, regex="1[0-9]*")
    assert inst.judge("123") and not inst.judge("1") and not inst.judge("223") and not inst.judge("12345")


def test_replace_returns_a_modified_copy():
    a = make("otp")
    b = a.replace(code="999")
    assert (a.code, b.code) == ("123abc", "999")


# --- File prompts: text sent as the default File type ---------------------------------------------

PROMPT_FIELDS = [(app, f) for app, a in spec.APPS.items() for f in a.fields if f.template]


def test_every_prompt_field_of_every_app_is_covered():
    assert {(app, f.key) for app, f in PROMPT_FIELDS} == {
        ("notification", "prompt"), ("notification", "replay-prompt"),
        ("otp", "intro-prompt"), ("otp", "code-prompt"), ("otp", "replay-prompt"), ("otp", "outro-prompt"),
        ("dtmf", "prompt"), ("dtmf", "valid-prompt"), ("dtmf", "invalid-prompt"),
    }


@pytest.mark.parametrize("app,f", PROMPT_FIELDS, ids=[f"{a}-{f.key}" for a, f in PROMPT_FIELDS])
@pytest.mark.parametrize("text", [
    "This is a test notification call using the C M voice A P I.",  # the seed's prompt, as File
    "That's not right!",                                            # the seed's invalid-prompt
    "Welcome",                                                      # one word: no audio extension
    "prompts/welcome",                                              # a path without its extension
    "welcome,again.wav",                                            # sentence punctuation
])
def test_text_in_a_file_prompt_is_a_problem_naming_the_fix(app, f, text):
    inst = make(app, **{f.name: text, f"{f.name}_type": "File"})
    problems = [p for p in inst.validate() if p.field == f.key]
    assert len(problems) == 1, inst.validate()
    assert problems[0].value == text
    assert problems[0].message.startswith(f"set {f.key}-type=TTS") and "not the path" in problems[0].message


FILE_BY_DEFAULT = [(a, f) for a, f in PROMPT_FIELDS if spec.APPS[a].field(f"{f.key}-type").default == "File"]


@pytest.mark.parametrize("app,f", FILE_BY_DEFAULT, ids=[f"{a}-{f.key}" for a, f in FILE_BY_DEFAULT])
def test_the_default_prompt_type_is_file_and_is_checked_too(app, f):
    inst = make(app, **{f.name: "Your code is ready", f"{f.name}_type": None})
    [problem] = [p for p in inst.validate() if p.field == f.key]
    assert "File (the default)" in problem.message and "contains spaces" in problem.message


@pytest.mark.parametrize("path", ["prompts/welcome.wav", "welcome.WAV", "nl/otp/intro.mp3",
                                  "/spelling/en-GB/a.wav", "prompts\\outro.flac", " prompts/x.wav "])
def test_real_file_paths_are_accepted(path):
    assert make("otp", intro_prompt=path, outro_prompt=path).validate() == []
    assert make("notification", prompt=path, prompt_type="File").validate() == []


def test_the_same_text_as_tts_or_ssml_is_fine():
    assert make("notification", prompt="Hello there, friend!", prompt_type="TTS").validate() == []
    assert make("dtmf", prompt="<speak>Press 1</speak>", prompt_type="TTS_SSML").validate() == []


def test_the_problem_lists_every_reason_and_only_once_per_field():
    inst = make("dtmf", prompt="Press 1, then hash!", valid_prompt="ok.wav", invalid_prompt="Sorry?")
    by_field = {p.field: p.message for p in inst.validate()}
    assert set(by_field) == {"prompt", "invalid-prompt"}
    assert ("contains spaces and contains sentence punctuation (!,) and has no audio file extension"
            in by_field["prompt"])


def test_the_simulator_refuses_text_sent_as_a_file_prompt_with_the_same_message():
    from cmvoice_nb import Simulator
    from cmvoice_nb.errors import InstructionRejected

    with Simulator() as sim:
        client = sim.client()
        with pytest.raises(InstructionRejected, match="prompt-type=TTS"):
            client.send_json("notification", {"callee": CALLEE, "caller": CALLER, "prompt": "Hello there"},
                             validate=False)
