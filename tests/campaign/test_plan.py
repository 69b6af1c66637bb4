"""Planning: rows → instructions, problems, ids, duplicates and audio preflight; input untouched."""
import re

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignPlan, Journal, derive_instruction_id, plan_campaign, render_template
from cmvoice_nb.campaign.plan import TemplateError, content_key, template_columns
from cmvoice_nb.errors import CampaignError

from .._audio import sine, write_sf, write_telephony_wav
from .._wait import scaled
from ._lists import CALLER, notification_defaults

#: Our caller id and TTS prompts, the prompt itself from a column of the list.
TTS = notification_defaults(prompt=None)


def people():
    return pd.DataFrame(
        {
            "phone": ["+31612345610", "06 1234 5611", "0031612345612"],
            "first_name": ["Ann", "Bob", "Cy"],
            "date": ["2024-05-03", "2024-12-24", "2025-01-01"],
        },
        index=[10, 11, 12],
    )


def notification_plan(df=None, **kw):
    kw.setdefault("defaults", notification_defaults("Hello {first_name}"))
    kw.setdefault("columns", {"callee": "phone"})
    return plan_campaign(people() if df is None else df, app="notification", name="spring", region="NL", **kw)


def prompts(plan):
    return [i.to_json()["prompt"] for i in plan.instructions]


# ----------------------------------------------------------------------------- mapping
def test_columns_named_like_fields_map_in_kebab_or_snake_case():
    df = pd.DataFrame({"callee": ["+31612345610"], "caller": [CALLER], "prompt": ["Hi"],
                       "prompt_type": ["tts"], "max-replays": ["2"], "auto_replay": ["yes"]})
    plan = plan_campaign(df, app="notification", name="c")
    body = plan.instructions.iloc[0].to_json()
    assert body["prompt-type"] == "TTS" and body["max-replays"] == 2 and body["auto-replay"] is True


def test_an_explicit_mapping_wins_over_a_column_with_the_field_name():
    df = pd.DataFrame({"callee": ["+31612345611"], "mobile": ["+31612345610"]})
    plan = plan_campaign(df, app="notification", name="c", columns={"callee": "mobile"},
                         defaults=notification_defaults("Hi"))
    assert plan.instructions.iloc[0].callee == "+31612345610"


def test_a_row_value_wins_over_the_default_and_the_default_fills_empty_cells():
    df = pd.DataFrame({"callee": ["+31612345610", "+31612345611"], "prompt": ["Own text", ""]})
    plan = plan_campaign(df, app="notification", name="c", defaults=notification_defaults("Default text"))
    assert prompts(plan) == ["Own text", "Default text"]


def test_mapping_an_unknown_field_names_the_valid_fields():
    with pytest.raises(CampaignError, match="not a field of notification; fields: instruction-id"):
        plan_campaign(people(), app="notification", name="c", columns={"telephone": "phone"})


def test_mapping_a_missing_column_names_the_columns_there_are():
    with pytest.raises(CampaignError, match="no column 'mobile' in the DataFrame; columns: phone"):
        plan_campaign(people(), app="notification", name="c", columns={"callee": "mobile"})


def test_a_default_for_an_unknown_field_is_refused():
    with pytest.raises(CampaignError, match="defaults= sets 'promt'"):
        notification_plan(defaults=notification_defaults(None, promt="Hi"))


def test_an_unknown_app_is_refused():
    with pytest.raises(CampaignError, match="unknown app 'sms'"):
        plan_campaign(people(), app="sms", name="c")


def test_a_campaign_needs_a_name():
    with pytest.raises(CampaignError, match="non-empty name"):
        plan_campaign(people(), app="notification", name=" ")


def test_voice_columns_and_voice_defaults_build_the_voice_object():
    df = pd.DataFrame({"callee": ["+31612345610", "+31612345611"], "voice.language": ["nl-NL", ""]})
    plan = plan_campaign(df, app="notification", name="c",
                         defaults=notification_defaults("Hoi", voice={"language": "en-GB", "gender": "Male"}))
    voices = [i.to_json()["voice"] for i in plan.instructions]
    assert voices == [{"language": "nl-NL", "gender": "Male"}, {"language": "en-GB", "gender": "Male"}]


# --------------------------------------------------------------------------- templates
def test_templates_are_filled_per_row_with_date_formats():
    plan = notification_plan(defaults=notification_defaults("Hello {first_name}, see you on {date:%d %B}"))
    assert prompts(plan)[0] == "Hello Ann, see you on 03 May"
    assert prompts(plan)[1] == "Hello Bob, see you on 24 December"


def test_a_template_placeholder_without_a_column_is_a_clear_error():
    with pytest.raises(CampaignError, match=r"uses \{first_nam\}, which is not a column; "
                                            r"did you mean \{first_name\}\? columns: phone"):
        notification_plan(defaults=notification_defaults("Hello {first_nam}"))


def test_an_empty_placeholder_value_makes_only_that_row_invalid():
    df = people()
    df.loc[11, "first_name"] = ""
    plan = notification_plan(df)
    problems = plan.problems
    assert list(problems["row"]) == [11]
    assert problems.iloc[0]["field"] == "prompt"
    assert "{first_name} is empty" in problems.iloc[0]["message"]
    assert plan.summary()["valid"] == 2


def test_an_unreadable_date_is_a_row_problem():
    df = people()
    df.loc[12, "date"] = "next tuesday"
    plan = notification_plan(df, defaults=notification_defaults("On {date:%d %B}"))
    assert "cannot read 'next tuesday' as a date" in plan.problems.iloc[0]["message"]


def test_literal_braces_are_escaped_and_values_in_columns_are_not_templates():
    df = pd.DataFrame({"callee": ["+31612345610"], "prompt": ["{not a template}"]})
    plan = plan_campaign(df, app="notification", name="c", defaults=TTS)
    assert prompts(plan) == ["{not a template}"]
    assert render_template("{{x}} {a}", {"a": 1}) == "{x} 1"


def test_template_helpers_list_placeholders_and_refuse_positional_ones():
    assert template_columns("{a} {b:>3} {{c}}") == ["a", "b"]
    with pytest.raises(TemplateError, match="positional"):
        template_columns("Hello {}")
    assert render_template("{n:.1f}", {"n": "2.25"}) == "2.3"  # amounts round half up, as on an invoice
    assert render_template("{n}", {"n": 3.0}) == "3"


# -------------------------------------------------------------------------- validation
def test_phone_numbers_are_normalised_with_the_default_region():
    plan = notification_plan()
    assert [i.callee for i in plan.instructions] == ["+31612345610", "+31612345611", "+31612345612"]


def test_the_00_style_sends_numbers_with_a_double_zero():
    plan = notification_plan(number_style="00")
    assert plan.instructions.iloc[0].callee == "0031612345610"


def test_a_bad_phone_number_is_reported_with_row_field_value_and_reason():
    df = people()
    df.loc[11, "phone"] = "12"
    plan = notification_plan(df)
    p = plan.problems.iloc[0]
    assert (p["row"], p["field"], p["value"]) == (11, "callee", "12")
    assert p["message"].startswith("not a phone number")


def test_every_problem_of_a_row_is_reported_not_only_the_first():
    df = pd.DataFrame({"callee": ["nope"], "caller": ["bad"], "max-replays": ["lots"], "auto-replay": ["maybe"]})
    plan = plan_campaign(df, app="notification", name="c", defaults={"prompt-type": "TTS"})
    fields = set(plan.problems["field"])
    assert {"callee", "caller", "max-replays", "auto-replay", "prompt"} <= fields
    messages = dict(zip(plan.problems["field"], plan.problems["message"], strict=True))
    assert messages["max-replays"] == "expected a whole number"
    assert messages["auto-replay"].startswith("expected true or false")
    assert messages["prompt"] == "is required"


def test_contract_limits_are_checked_by_the_spec():
    df = pd.DataFrame({"callee": ["+31612345610", "+31612345611"], "prompt": ["x" * 501, "ok"],
                       "max-replays": ["1", "7"]})
    plan = plan_campaign(df, app="notification", name="c", defaults=TTS)
    by_row = plan.problems.groupby("row")["field"].apply(list).to_dict()
    assert by_row == {0: ["prompt"], 1: ["max-replays"]}


def test_an_enum_value_outside_the_choices_is_reported_with_the_choices():
    df = pd.DataFrame({"callee": ["+31612345610"], "prompt-type": ["mp3"]})
    plan = plan_campaign(df, app="notification", name="c", defaults={"caller": CALLER, "prompt": "x"})
    assert plan.problems.iloc[0]["message"] == "expected one of File, TTS, TTS_SSML"


def test_dtmf_rules_min_above_max_and_no_voicemail_response():
    df = pd.DataFrame({"callee": ["+31612345610"], "min-digits": ["5"], "max-digits": ["2"],
                       "max-attempts": ["3"], "voicemail-response": ["Stop"]})
    plan = plan_campaign(df, app="dtmf", name="d", defaults={"caller": CALLER})
    fields = list(plan.problems["field"])
    assert "min-digits" in fields and "voicemail-response" in fields


def test_an_otp_without_a_code_is_invalid():
    df = pd.DataFrame({"callee": ["+31612345610", "+31612345611"], "code": ["1234", ""]})
    plan = plan_campaign(df, app="otp", name="o", defaults={"caller": CALLER})
    assert list(plan.problems[["row", "field"]].itertuples(index=False, name=None)) == [(1, "code")]


def test_a_callees_column_splits_on_semicolons():
    df = pd.DataFrame({"callees": ["+31612345610; +31612345611"]})
    plan = plan_campaign(df, app="notification", name="c", defaults=notification_defaults("x"))
    assert plan.instructions.iloc[0].callees == ["+31612345610", "+31612345611"]
    assert plan.to_frame()["callee"].iloc[0] == "+31612345610;+31612345611"


# --------------------------------------------------------------------------------- ids
def test_ids_derive_from_name_key_and_callee_and_are_stable():
    first = notification_plan(campaign_key="k1").instruction_ids
    again = notification_plan(campaign_key="k1").instruction_ids
    assert list(first) == ["spring-k1-31612345610-1", "spring-k1-31612345611-1", "spring-k1-31612345612-1"]
    assert list(first) == list(again)
    assert [i.instruction_id for i in notification_plan(campaign_key="k1").instructions] == list(first)


def test_inserting_deleting_or_reordering_rows_moves_no_other_rows_id():
    base = notification_plan(campaign_key="k1")
    ids = dict(zip(base.to_frame()["callee"], base.instruction_ids, strict=True))
    df = people()
    edited = pd.concat([pd.DataFrame({"phone": ["+31612345699"], "first_name": ["New"], "date": ["2024-01-01"]}),
                        df.iloc[[2, 0]]], ignore_index=True)  # a newcomer on top, row 11 deleted, two swapped
    plan = notification_plan(edited, campaign_key="k1")
    after = dict(zip(plan.to_frame()["callee"], plan.instruction_ids, strict=True))
    assert after["+31612345610"] == ids["+31612345610"] and after["+31612345612"] == ids["+31612345612"]
    assert after["+31612345699"] not in ids.values()


def test_a_callee_listed_twice_gets_its_occurrence_number():
    df = pd.DataFrame({"phone": ["0612345610", "+31612345611", "+31 6 1234 5610"], "first_name": ["A", "B", "C"]})
    assert list(notification_plan(df, campaign_key="k").instruction_ids) == [
        "spring-k-31612345610-1", "spring-k-31612345611-1", "spring-k-31612345610-2"]


def test_without_a_journal_the_plan_has_a_random_provisional_key():
    a, b = notification_plan(), notification_plan()
    assert a.key_is_provisional and a.campaign_key != b.campaign_key
    assert set(a.instruction_ids).isdisjoint(b.instruction_ids)  # two campaigns never share an id


def test_with_a_journal_the_plan_uses_the_journals_key_and_rekey_swaps_it(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        key = j.campaign_key
        plan = notification_plan(journal=j)
    assert plan.campaign_key == key and not plan.key_is_provisional
    assert notification_plan(journal=tmp_path / "j.sqlite").campaign_key == key
    assert not (tmp_path / "other.sqlite").exists()
    notification_plan(journal=tmp_path / "other.sqlite")
    assert not (tmp_path / "other.sqlite").exists()  # planning never creates a journal
    moved = notification_plan(campaign_key="old").rekey(key)
    assert list(moved.instruction_ids) == list(plan.instruction_ids)
    assert [i.instruction_id for i in moved.instructions] == list(plan.instruction_ids)


def test_long_ids_are_cut_to_64_characters_with_a_hash_that_keeps_them_apart():
    a = derive_instruction_id("n" * 70 + "a", "7f3a9c2d", "31612345610")
    b = derive_instruction_id("n" * 70 + "b", "7f3a9c2d", "31612345610")
    assert len(a) == len(b) == 64 and a != b
    assert a == derive_instruction_id("n" * 70 + "a", "7f3a9c2d", "31612345610")
    many = derive_instruction_id("c", "k", content_key([f"+316123456{i:02d}" for i in range(10)]))
    assert len(many) <= 64 and many.startswith("c-k-")


def test_unsafe_characters_in_ids_are_replaced():
    assert derive_instruction_id("spring sale", "k", "a/b", 2) == "spring_sale-k-a_b-2"


def test_a_repeated_index_label_is_fine_because_ids_do_not_come_from_the_index():
    df = people()
    df.index = [1, 1, 2]
    plan = notification_plan(df)
    assert plan.instruction_ids.is_unique and plan.summary()["valid"] == 3


def test_a_typo_in_a_field_or_column_gets_a_did_you_mean():
    with pytest.raises(CampaignError, match="did you mean 'callee'"):
        plan_campaign(people(), app="notification", name="c", columns={"calee": "phone"})
    with pytest.raises(CampaignError, match="did you mean 'phone'"):
        plan_campaign(people(), app="notification", name="c", columns={"callee": "phnoe"})
    with pytest.raises(CampaignError, match="defaults= sets 'promt'.*did you mean 'prompt'"):
        plan_campaign(people(), app="notification", name="c", defaults={"promt": "Hi"})
    with pytest.raises(CampaignError, match=r"\{frist_name\}.*did you mean \{first_name\}"):
        notification_plan(defaults=notification_defaults("Hi {frist_name}"))


def test_on_the_command_line_messages_name_the_flags():
    with pytest.raises(CampaignError) as info:
        plan_campaign(people(), app="notification", name="c", columns={"calee": "phone"})
    assert re.match("^--map calee=phone: .*did you mean 'callee'", info.value.say("cli"))
    assert re.match("^columns= maps 'calee': .*did you mean 'callee'", str(info.value))
    with pytest.raises(CampaignError) as info:
        plan_campaign(people(), app="notification", name="c", defaults={"promt": "Hi"})
    assert re.match("^--set promt=…: .*did you mean 'prompt'", info.value.say("cli"))


def test_an_instruction_id_column_is_used_and_repeats_are_problems():
    df = people().assign(instruction_id=["a", "b", "a"])
    df.index = [1, 1, 2]  # allowed: ids do not come from the index
    plan = notification_plan(df)
    assert list(plan.instruction_ids) == ["a", "b", "a"]
    assert "repeats the instruction id" in plan.problems.iloc[0]["message"]
    assert plan.summary()["invalid"] == 1


# -------------------------------------------------------------------------- duplicates
def test_duplicated_callees_are_reported_and_sent_unless_dropped():
    df = pd.DataFrame({"phone": ["0612345610", "+31612345610", "+31612345611"], "first_name": ["A", "B", "C"]})
    plan = notification_plan(df)
    dups = plan.duplicates
    assert list(dups[["row", "callee", "first_row"]].itertuples(index=False, name=None)) == [(1, "+31612345610", 0)]
    assert len(plan.instructions) == 3
    dropped = notification_plan(df, drop_duplicates=True)
    assert list(dropped.instructions.index) == [0, 2]
    assert dropped.summary()["dropped"] == 1


# ------------------------------------------------------------------------- the plan
def test_the_input_dataframe_is_never_modified():
    df = people()
    before = df.copy(deep=True)
    notification_plan(df, defaults=notification_defaults("Hello {first_name} {date:%d %B}"))
    pd.testing.assert_frame_equal(df, before)


def test_summary_counts_and_reprs_describe_the_plan():
    df = people()
    df.loc[12, "phone"] = "x"
    plan = notification_plan(df)
    s = plan.summary()
    assert (s["rows"], s["valid"], s["invalid"], s["problems"], s["to_send"]) == (3, 2, 1, 1, 2)
    assert isinstance(plan, CampaignPlan) and "valid=2" in repr(plan)
    assert "<table>" in plan._repr_html_() and "callee" in plan._repr_html_()


def test_instructions_are_a_series_aligned_on_the_input_index():
    plan = notification_plan()
    assert list(plan.instructions.index) == [10, 11, 12]


def test_the_accessor_is_a_thin_namespace_over_plan_campaign():
    plan = people().cmvoice.plan(app="notification", name="spring", region="NL", columns={"callee": "phone"},
                                 defaults=notification_defaults("Hello {first_name}"))
    assert prompts(plan) == prompts(notification_plan())


# ---------------------------------------------------------------------------- preflight
@pytest.fixture
def audio_root(tmp_path):
    root = tmp_path / "upload"
    write_telephony_wav(root / "prompts" / "welcome.wav", sine(440, 1.0, amplitude=0.3))
    write_sf(root / "prompts" / "hifi.wav", sine(440, 1.0, 44100, amplitude=0.3), 44100)  # not telephony audio
    for ch in "0123456789":
        write_telephony_wav(root / "spelling" / "en-GB" / f"{ch}.wav", sine(440, 0.4, amplitude=0.3))
    return root


def test_file_prompts_must_exist_under_the_audio_root_and_comply(audio_root):
    df = pd.DataFrame({"callee": ["+31612345610", "+31612345611", "+31612345612"],
                       "prompt": ["prompts/welcome.wav", "/prompts/missing.wav", "prompts/hifi.wav"]})
    plan = plan_campaign(df, app="notification", name="c", defaults={"caller": CALLER}, audio_root=audio_root)
    problems = plan.problems.set_index("row")
    assert 0 not in problems.index
    assert "not found under the audio root" in problems.loc[1, "message"]
    assert "not telephony audio" in problems.loc[2, "message"] and "44100" in problems.loc[2, "message"]


def test_tts_prompts_are_not_looked_up_as_files(audio_root):
    df = pd.DataFrame({"callee": ["+31612345610"], "prompt": ["prompts/nothing.wav"]})
    plan = plan_campaign(df, app="notification", name="c", defaults=TTS, audio_root=audio_root)
    assert plan.problems.empty


def test_custom_otp_codes_must_be_covered_by_the_spelling_set(audio_root):
    df = pd.DataFrame({"callee": ["+31612345610", "+31612345611", "+31612345612"],
                       "code": ["4821", "12ab", "999"], "code-type": ["Custom", "Custom", "Default"]})
    plan = plan_campaign(df, app="otp", name="o", defaults={"caller": CALLER}, audio_root=audio_root)
    assert list(plan.problems["row"]) == [1]
    message = plan.problems.iloc[0]["message"]
    assert "spelling/en-GB/" in message and "a.wav" in message and "b.wav" in message


def test_a_custom_code_for_a_locale_without_a_spelling_set_is_invalid(audio_root):
    df = pd.DataFrame({"callee": ["+31612345610"], "code": ["12"], "code-type": ["Custom"],
                       "voice.language": ["nl-NL"]})
    plan = plan_campaign(df, app="otp", name="o", defaults={"caller": CALLER}, spelling_root=audio_root)
    assert "spelling/nl-NL/" in plan.problems.iloc[0]["message"]


def test_the_accessor_is_registered_on_first_use_not_by_importing_the_package():
    import subprocess
    import sys

    code = ("import pandas as pd, cmvoice_nb as cm\n"
            "before = hasattr(pd.DataFrame, 'cmvoice')\n"
            "cm.plan_campaign\n"
            "print(before, hasattr(pd.DataFrame, 'cmvoice'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=scaled(60))
    assert out.stdout.split() == ["False", "True"], out.stderr


def test_long_echoed_names_are_cut_to_a_readable_length():
    long = "x" * 5000
    for kwargs in ({"columns": {long: "phone"}}, {"columns": {"callee": long}}, {"defaults": {long: "v"}}):
        with pytest.raises(CampaignError) as info:
            plan_campaign(people(), app="notification", name="c", **kwargs)
        for front in ("python", "cli", "widget"):
            assert len(info.value.say(front)) < 1000 and "…" in info.value.say(front)


def test_a_wide_input_lists_only_the_first_columns_in_a_message():
    wide = pd.DataFrame({f"column_{i}_" + "y" * 100: ["v"] for i in range(500)})
    with pytest.raises(CampaignError, match=r"\(480 more\)") as info:
        plan_campaign(wide, app="notification", name="c", columns={"callee": "phone"})
    assert len(str(info.value)) < 1500
