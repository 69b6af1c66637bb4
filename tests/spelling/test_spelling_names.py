"""File names, locales and character sets (pure)."""
import pytest

from cmvoice_nb.errors import SpellingSetError
from cmvoice_nb.spelling.names import (
    assign_files,
    char_for_name,
    locale_problem,
    normalize_chars,
    provider_voice,
    require_locale,
)


@pytest.mark.parametrize(
    "name, char",
    [
        ("a.wav", "a"), ("A.wav", "a"), ("a.mp3", "a"), ("7.m4a", "7"), ("zero.wav", "0"),
        ("Zero.WAV", "0"), ("letter_b.flac", "b"), ("Letter-B.wav", "b"), ("b_letter.wav", "b"),
        ("digit 3.ogg", "3"), ("nul.wav", "0"), ("een.wav", "1"), ("één.wav", "1"), ("zeven.m4a", "7"),
        ("acht.wav", "8"), ("negen.wav", "9"), ("cijfer_2.wav", "2"), ("seven.wav", "7"), ("nine.mp3", "9"),
    ],
)
def test_names_people_use_map_to_their_character(name, char):
    assert char_for_name(name) == char


@pytest.mark.parametrize("name", ["hello.wav", "ab.wav", "take2.wav", "a_b.wav", "letter.wav", "1_2.wav"])
def test_names_that_spell_no_character_are_not_guessed(name):
    assert char_for_name(name) is None


def test_an_explicit_mapping_wins_over_the_name_and_matches_name_or_stem():
    assert char_for_name("ay.wav", mapping={"ay": "a"}) == "a"
    assert char_for_name("AY.WAV", mapping={"ay.wav": "A"}) == "a"
    assert char_for_name("zero.wav", mapping={"zero.wav": "o"}) == "o"


def test_assignment_reports_unmapped_conflicting_missing_and_ignored_files():
    a = assign_files(["zero.wav", "0.mp3", "1.wav", "B.wav", "take2.wav", "notes.txt", ".DS_Store"], chars="012b")
    assert a.files == {"1": "1.wav", "b": "B.wav"}
    assert a.conflicts == {"0": ["0.mp3", "zero.wav"]}
    assert a.unmapped == ["take2.wav"]
    assert a.missing == ["2"]
    assert a.ignored == [".DS_Store", "notes.txt"]
    assert not a.ok
    text = " ".join(a.describe())
    assert "take2.wav" in text and "0.mp3" in text and "zero.wav" in text and "2" in text


def test_files_for_characters_outside_the_requested_set_are_set_aside():
    a = assign_files(["0.wav", "1.wav", "z.wav"], chars="01")
    assert a.ok
    assert a.outside == {"z.wav": "z"}


def test_a_well_formed_locale_passes_and_a_lower_case_one_gets_a_suggestion():
    assert locale_problem("en-GB") is None
    assert "did you mean 'en-GB'" in locale_problem("en_gb")
    assert locale_problem("english") is not None
    with pytest.raises(SpellingSetError, match="xx-XX"):
        require_locale("EN-GB")


def test_character_sets_are_lower_cased_deduplicated_and_limited_to_what_the_provider_spells():
    assert normalize_chars("0AaB1") == "0ab1"
    with pytest.raises(SpellingSetError, match="'#'"):
        normalize_chars("01#")


def test_the_provider_voice_catalogue_knows_en_gb_and_nl_nl_but_not_a_made_up_locale():
    assert provider_voice("en-GB") is True
    assert provider_voice("nl-NL") is True
    assert provider_voice("xx-YY") is False
