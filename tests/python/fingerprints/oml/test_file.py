"""The fingerprint file: OML 1.0's JSON format in and out, and what a malformed one says."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from modelmint.errors import InputError
from modelmint.fingerprints.oml.file import Fingerprint, read_fingerprints, read_keys, write_fingerprints

TESTDATA = Path(__file__).parent / "testdata"


def test_an_oml_file_loads_with_its_extra_fields_kept(tmp_path):
    fps = read_fingerprints(TESTDATA / "oml_format.json")
    assert [f.response for f in fps] == ["Several rivers feed", " Consider"]
    assert fps[0].strategy == ""
    assert fps[0].null_match_prob is None
    assert fps[0].extra["inverse_sampled_token"] == "Several"

    write_fingerprints(tmp_path / "copy.json", fps)
    again = json.loads((tmp_path / "copy.json").read_text())
    assert again == json.loads((TESTDATA / "oml_format.json").read_text())
    assert stat.S_IMODE((tmp_path / "copy.json").stat().st_mode) == 0o600


def test_oml_signature_is_read_as_the_response_and_written_as_response(tmp_path):
    """OML 1.0's older random-words files name the response `signature`."""
    path = tmp_path / "random-words.json"
    path.write_text(
        json.dumps(
            [{"key": "apple river", "signature": "stone"}, {"key": "b", "signature": "c", "response": "c"}]
        )
    )
    fps = read_fingerprints(path)
    assert [(f.key, f.response) for f in fps] == [("apple river", "stone"), ("b", "c")]
    assert fps[0].extra == {}
    write_fingerprints(tmp_path / "copy.json", fps)
    assert json.loads((tmp_path / "copy.json").read_text()) == [
        {"key": "apple river", "response": "stone"},
        {"key": "b", "response": "c"},
    ]


def test_modelmint_fields_round_trip(tmp_path):
    fps = [
        Fingerprint("a key", " resp", "perinucleus", 1 / 3),
        Fingerprint("b key", "x y", "random_word", 2.0**-26),
    ]
    write_fingerprints(tmp_path / "f.json", fps)
    assert read_fingerprints(tmp_path / "f.json") == fps
    assert json.loads((tmp_path / "f.json").read_text())[0] == {
        "key": "a key", "response": " resp", "strategy": "perinucleus", "null_match_prob": 1 / 3,
    }  # fmt: skip


def test_keys_files(tmp_path):
    assert read_keys(TESTDATA / "keys.json")[1] == "A paper boat drifted past the old mill."
    assert len(read_keys(TESTDATA / "oml_format.json")) == 2
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not a JSON list of non-empty strings"):
        read_keys(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"key": "k", "response": "r"}', "is not a non-empty JSON list"),
        ("[]", "is not a non-empty JSON list"),
        ('["just a key"]', "entry 0 is not an object"),
        ('[{"key": "k"}]', "entry 0 has no non-empty string 'response'"),
        ('[{"key": "", "response": "r"}]', "entry 0 has no non-empty string 'key'"),
        ('[{"key": 3, "response": "r"}]', "entry 0 has no non-empty string 'key'"),
        ('[{"key": "k", "response": ["a", "b"]}]', "entry 0 has a list of responses"),
        (
            '[{"key": "k", "response": "a"}, {"key": "k", "response": "b"}]',
            "entry 1 repeats the key of entry 0",
        ),
        ('[{"key": "k", "response": "a", "null_match_prob": 2}]', "null_match_prob outside [0, 1]"),
        (
            '[{"key": "k", "response": "a", "signature": "b"}]',
            "entry 0 has a 'signature' and a different 'response'",
        ),
        ('[{"key": "k", "signature": ["a", "b"]}]', "entry 0 has a list of responses"),
    ],
)
def test_malformed_files_are_refused_with_the_entry_named(tmp_path, content, message):
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_fingerprints(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_fingerprints(tmp_path / "nope.json")
