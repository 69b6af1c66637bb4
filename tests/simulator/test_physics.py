"""The simulator's call physics: pure functions, no server."""
from __future__ import annotations

import random
import re

import pytest

from cmvoice_nb import spec
from cmvoice_nb.audio.wavfile import wav_duration_s
from cmvoice_nb.errors import ConfigurationError
from cmvoice_nb.simulator import MAGIC_ENDINGS, Behaviour, CallPlan, iso_utc, judge_dtmf, magic_result_code, plan_call
from cmvoice_nb.timing import prompt_duration_s

from .._audio import alaw_riff

ORDINARY = "+31612345678"  # ends in 78: not magic


@pytest.mark.parametrize("number, code", [
    ("+31612345609", 9), ("+31612345610", 10), ("0031612345611", 11), ("+31 6 1234 5612", 12),
    ("+31612345678", None), ("+31612345613", None), ("+31612345608", None),
])
def test_the_last_two_digits_of_the_callee_pick_the_magic_result_code(number, code):
    assert magic_result_code(number) == code


def test_every_result_code_of_the_contract_has_its_magic_ending():
    assert sorted(MAGIC_ENDINGS.values()) == sorted(spec.RESULT_CODES)
    assert all(int(ending) == code for ending, code in MAGIC_ENDINGS.items())


@pytest.mark.parametrize("code", sorted(spec.RESULT_CODES))
def test_a_plan_is_answered_exactly_when_the_contract_says_its_code_is(code):
    assert CallPlan(code, ring_s=1.0, talk_s=0.0).answered is spec.RESULT_CODES[code].answered


def test_iso_timestamps_have_milliseconds_and_a_z():
    from datetime import datetime, timezone

    assert iso_utc(datetime(2018, 2, 9, 11, 0, 31, 752999, tzinfo=timezone.utc)) == "2018-02-09T11:00:31.752Z"


class TestJudgeDtmf:
    def test_the_terminator_ends_the_input_and_is_not_part_of_the_digits(self):
        assert judge_dtmf("1234#", min_digits=2, max_digits=5) == (True, "1234")

    def test_too_few_digits_are_invalid(self):
        assert judge_dtmf("1#", min_digits=2, max_digits=5) == (False, "1")

    def test_too_many_digits_are_invalid(self):
        assert judge_dtmf("123456#", min_digits=2, max_digits=5) == (False, "123456")

    def test_the_regex_must_match_the_whole_input(self):
        assert judge_dtmf("123", regex="12", min_digits=1, max_digits=5)[0] is False
        assert judge_dtmf("12", regex="12", min_digits=1, max_digits=5)[0] is True

    def test_no_input_is_a_timeout_and_invalid(self):
        assert judge_dtmf("", min_digits=0, max_digits=5) == (False, "")
        assert judge_dtmf(None) == (False, "")

    def test_any_of_several_terminators_ends_the_input(self):
        assert judge_dtmf("42*", min_digits=2, max_digits=5, terminators="#*") == (True, "42")

    def test_without_terminators_the_whole_input_counts(self):
        assert judge_dtmf("42#", regex="[0-9#]*", min_digits=2, max_digits=5, terminators="") == (True, "42#")


class TestPromptDuration:
    def test_tts_speaks_two_and_a_half_words_per_second(self):
        assert prompt_duration_s("one two three four five", "TTS") == pytest.approx(2.0)

    def test_ssml_tags_are_not_spoken(self):
        assert prompt_duration_s("<speak>one <break time='2s'/> two</speak>", "TTS_SSML") == pytest.approx(0.8)

    def test_a_file_lasts_as_long_as_the_file(self):
        assert prompt_duration_s("a.wav", "File", file_duration_s=lambda p: 1.25) == 1.25

    def test_an_unknown_file_gets_the_default_duration(self):
        assert prompt_duration_s("a.wav", "File", file_duration_s=lambda p: None, default_file_s=3.0) == 3.0

    def test_an_empty_prompt_takes_no_time(self):
        assert prompt_duration_s(None, "TTS") == 0.0
        assert prompt_duration_s("", "File") == 0.0


class TestWavDuration:
    def test_duration_is_read_past_list_and_fact_chunks(self, tmp_path):
        path = tmp_path / "p.wav"
        path.write_bytes(alaw_riff(1.5))
        assert wav_duration_s(path) == pytest.approx(1.5)

    def test_a_file_that_is_not_wav_has_no_duration(self, tmp_path):
        path = tmp_path / "p.wav"
        path.write_bytes(b"ID3 not a wave file at all")
        assert wav_duration_s(path) is None

    def test_a_truncated_header_has_no_duration(self, tmp_path):
        path = tmp_path / "p.wav"
        path.write_bytes(alaw_riff(1.0)[:30])
        assert wav_duration_s(path) is None

    def test_a_missing_file_has_no_duration(self, tmp_path):
        assert wav_duration_s(tmp_path / "nope.wav") is None

    def test_an_empty_file_or_a_folder_has_no_duration(self, tmp_path):
        (tmp_path / "empty.wav").write_bytes(b"")
        (tmp_path / "folder.wav").mkdir()
        assert wav_duration_s(tmp_path / "empty.wav") is None
        assert wav_duration_s(tmp_path / "folder.wav") is None

    def test_a_streamed_header_of_unknown_size_lasts_to_the_end_of_the_file(self, tmp_path):
        # ffmpeg/sox writing to a pipe leave the data size at 0xFFFFFFFF.
        data = bytearray(alaw_riff(2.0, list_chunk=False))
        at = data.index(b"data") + 4
        data[at:at + 4] = b"\xff\xff\xff\xff"
        path = tmp_path / "stream.wav"
        path.write_bytes(bytes(data))
        assert wav_duration_s(path) == pytest.approx(2.0)

    def test_a_cut_download_lasts_as_long_as_the_audio_present(self, tmp_path):
        whole = alaw_riff(2.0, list_chunk=False)
        path = tmp_path / "cut.wav"
        path.write_bytes(whole[: len(whole) - 8000])  # one second of A-law missing
        assert wav_duration_s(path) == pytest.approx(1.0)

    def test_any_codec_counts_by_its_byte_rate(self, tmp_path):
        import numpy as np

        from cmvoice_nb.audio.wavfile import encode_wav

        path = tmp_path / "pcm.wav"
        path.write_bytes(encode_wav(np.zeros(12000), target="pcm16"))  # 1.5 s of 16-bit PCM
        assert wav_duration_s(path) == pytest.approx(1.5)

    def test_it_agrees_with_the_packages_riff_reader(self, tmp_path):
        from cmvoice_nb.audio.wavfile import parse_wav

        data = alaw_riff(0.75)
        path = tmp_path / "p.wav"
        path.write_bytes(data)
        assert wav_duration_s(path) == pytest.approx(parse_wav(data).duration_s)


def _notification(callee=ORDINARY, **extra):
    return {"callee": callee, "caller": "+31201234567", "prompt": "one two three four five",
            "prompt-type": "TTS", **extra}


def _dtmf(callee=ORDINARY, **extra):
    return {"callee": callee, "caller": "+31201234567", "prompt": "enter your code", "prompt-type": "TTS",
            "min-digits": 2, "max-digits": 5, "max-attempts": 3, **extra}


ALWAYS_ANSWER = dict(p_answer=1.0, p_rejected=0.0, p_failed=0.0)


class TestPlanCall:
    def test_a_magic_ten_is_answered_and_talks_for_the_prompt(self):
        callee = "+31612345610"
        plan = plan_call("notification", _notification(callee), callee, rng=random.Random(1))
        assert plan.result_code == 10 and plan.answered
        assert plan.talk_s == pytest.approx(2.0)
        assert plan.voicemail is False

    @pytest.mark.parametrize("ending, code", [("09", 9), ("11", 11), ("12", 12)])
    def test_unanswered_calls_do_not_talk(self, ending, code):
        callee = "+316123456" + ending
        plan = plan_call("notification", _notification(callee), callee, rng=random.Random(1))
        assert plan.result_code == code and not plan.answered and plan.talk_s == 0

    def test_failed_and_rejected_calls_carry_a_sip_reason(self):
        for callee in ("+31612345611", "+31612345612"):
            plan = plan_call("notification", _notification(callee), callee, rng=random.Random(1))
            assert plan.sip_code is not None and plan.sip_reason

    def test_a_cancelled_call_rings_until_the_ringing_timeout(self):
        callee = "+31612345609"
        plan = plan_call("notification", _notification(callee, **{"max-ringing-timeout": 25}), callee,
                         rng=random.Random(1))
        assert plan.ring_s == 25

    def test_probabilities_decide_ordinary_numbers(self):
        rejected = Behaviour(p_answer=0.0, p_rejected=1.0, p_failed=0.0)
        failed = Behaviour(p_answer=0.0, p_rejected=0.0, p_failed=1.0)
        nobody = Behaviour(p_answer=0.0, p_rejected=0.0, p_failed=0.0)
        for seed in range(20):
            assert plan_call("notification", _notification(), ORDINARY, rng=random.Random(seed),
                             behaviour=rejected).result_code == 12
            assert plan_call("notification", _notification(), ORDINARY, rng=random.Random(seed),
                             behaviour=failed).result_code == 11
            assert plan_call("notification", _notification(), ORDINARY, rng=random.Random(seed),
                             behaviour=nobody).result_code == 9

    def test_the_same_seed_gives_the_same_plan(self):
        a = plan_call("dtmf", _dtmf(), ORDINARY, rng=random.Random(42))
        b = plan_call("dtmf", _dtmf(), ORDINARY, rng=random.Random(42))
        assert a == b

    def test_probabilities_outside_zero_and_one_are_refused(self):
        with pytest.raises(ConfigurationError, match="p_answer"):
            Behaviour(p_answer=1.5)
        with pytest.raises(ConfigurationError, match="at most 1"):
            Behaviour(p_answer=0.8, p_rejected=0.3)

    def test_voicemail_with_ignore_plays_the_whole_prompt(self):
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=1.0)
        plan = plan_call("notification", _notification(**{"voicemail-response": "Ignore"}), ORDINARY,
                         rng=random.Random(3), behaviour=b)
        assert plan.voicemail and plan.result_code == 10 and plan.talk_s == pytest.approx(2.0)

    def test_voicemail_with_stop_ends_the_call_answered_after_a_short_talk(self):
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=1.0)
        plan = plan_call("notification", _notification(**{"voicemail-response": "Stop",
                                                          "prompt": " ".join(["word"] * 50)}),
                         ORDINARY, rng=random.Random(3), behaviour=b)
        assert plan.voicemail and plan.answered
        assert 1.0 <= plan.talk_s <= 3.0 < 50 / 2.5

    def test_voicemail_with_restart_plays_the_prompt_again_after_the_greeting(self):
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=1.0)
        plan = plan_call("notification", _notification(**{"voicemail-response": "Restart"}), ORDINARY,
                         rng=random.Random(3), behaviour=b)
        assert plan.voicemail and plan.talk_s >= 2.0 + 4.0

    def test_no_voicemail_when_the_share_is_zero(self):
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=0.0)
        assert not any(plan_call("notification", _notification(), ORDINARY, rng=random.Random(s),
                                 behaviour=b).voicemail for s in range(30))

    def test_otp_auto_replay_repeats_the_code_max_replays_times(self):
        wire = {"callee": ORDINARY, "caller": "+31201234567", "code": "1234", "code-type": "TTS",
                "intro-prompt": "hello there", "intro-prompt-type": "TTS",
                "code-prompt": "your code is", "code-prompt-type": "TTS",
                "outro-prompt": "bye now", "outro-prompt-type": "TTS", "max-replays": 2, "auto-replay": True}
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=0.0, code_char_s=0.5)
        plan = plan_call("otp", wire, ORDINARY, rng=random.Random(0), behaviour=b)
        one_pass = 3 / 2.5 + 4 * 0.5
        assert plan.replays == 2
        assert plan.talk_s == pytest.approx(2 / 2.5 + 3 * one_pass + 2 / 2.5)

    def test_otp_replays_on_request_never_exceed_max_replays(self):
        wire = {"callee": ORDINARY, "caller": "+31201234567", "code": "12", "max-replays": 2}
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=0.0, p_replay=1.0)
        assert plan_call("otp", wire, ORDINARY, rng=random.Random(0), behaviour=b).replays == 2
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=0.0, p_replay=0.0)
        assert plan_call("otp", wire, ORDINARY, rng=random.Random(0), behaviour=b).replays == 0

    def test_dtmf_script_inputs_are_judged_attempt_by_attempt(self):
        plan = plan_call("dtmf", _dtmf("+31612345610"), "+31612345610", rng=random.Random(0),
                         dtmf_inputs=["1#", "12345678#", "4321#"])
        assert plan.digits == "4321" and plan.dtmf_attempts == 3

    def test_dtmf_without_valid_input_reports_empty_digits_after_max_attempts(self):
        plan = plan_call("dtmf", _dtmf("+31612345610"), "+31612345610", rng=random.Random(0),
                         dtmf_inputs=["1#", ""])
        assert plan.digits == "" and plan.dtmf_attempts == 3

    def test_dtmf_stops_at_the_first_valid_attempt(self):
        plan = plan_call("dtmf", _dtmf("+31612345610"), "+31612345610", rng=random.Random(0),
                         dtmf_inputs=["55#", "66#"])
        assert plan.digits == "55" and plan.dtmf_attempts == 1

    def test_generated_dtmf_input_obeys_the_instructions_own_rules(self):
        wire = _dtmf(regex="[1-3]{3,4}", **{"min-digits": 3, "max-digits": 4, "max-attempts": 2})
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=0.0, p_dtmf_valid=0.6)
        seen_valid = seen_empty = 0
        for seed in range(60):
            plan = plan_call("dtmf", wire, ORDINARY, rng=random.Random(seed), behaviour=b)
            if plan.digits:
                assert re.fullmatch("[1-3]{3,4}", plan.digits)
                seen_valid += 1
            else:
                assert plan.dtmf_attempts == 2
                seen_empty += 1
        assert seen_valid and seen_empty

    def test_voicemail_never_enters_dtmf_digits(self):
        b = Behaviour(**ALWAYS_ANSWER, p_voicemail=1.0, p_dtmf_valid=1.0)
        plan = plan_call("dtmf", _dtmf(), ORDINARY, rng=random.Random(0), behaviour=b)
        assert plan.voicemail and plan.digits == "" and plan.dtmf_attempts == 3
