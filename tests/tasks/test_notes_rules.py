"""The note and per-criterion rules (pure): frames and timecodes from the real frame rate, every
malformed note refused with which note and why, per-criterion choices in item labels, and the
frame rate read from an mp4's own sample table and from ffprobe's answer."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from tasks.catalogue import frame_rate
from tasks.rating.notes import (
    MAX_NOTE_CHARS, MAX_NOTES, NoteError, Side, criteria_json, frame_at, note_json, parse_criteria, parse_notes,
    timecode,
)

DEMO_VIDEO = Path(__file__).resolve().parents[2] / "demo" / "media" / "video"
SIDES = {"left": Side("b", duration_s=4.0, frame_rate=24.0), "right": Side("a", duration_s=3.0, frame_rate=30000 / 1001)}
SCRIPT = {"left": Side("a", n_lines=10), "right": Side("b", n_lines=3)}
CRITERIA = [{"key": "motion", "name": "Motion coherence", "description": "…"},
            {"key": "sync", "name": "Sound sync", "description": "…"}]


def test_frames_and_timecodes_follow_the_media_frame_rate():
    assert frame_at(1.5, 24.0) == 36 and frame_at(1.5, 25.0) == 37 and frame_at(1.5, None) is None
    assert frame_at(0.5, 24.0) == 12  # float noise (0.5 * 24 = 11.999…) does not drop a frame
    assert timecode(3661.5, 24.0) == "01:01:01:12"
    assert timecode(1.0 - 1e-9, 24.0) == "00:00:01:00"
    assert timecode(2.99, 30000 / 1001) == "00:00:02:29"  # 29.97: the frame within the second, at most 29
    assert timecode(12.25, None) == "00:00:12.250"  # audio: milliseconds
    assert timecode(None, 24.0) is None


def test_a_media_note_is_stored_in_item_labels_with_frames_computed_by_the_server():
    sent = [{"side": "left", "t_in": 1.5, "t_out": 2.0, "text": " the hand melts into the railing ",
             "label": "zzz", "frame_in": 999, "timecode_in": "forged"},  # echoed fields: ignored
            {"side": "right", "t_in": 2.99, "text": "a pop on the cut"}]
    stored = parse_notes(sent, SIDES, "video")
    assert stored == [
        {"label": "b", "t_in": 1.5, "t_out": 2.0, "frame_in": 36, "frame_out": 48, "text": "the hand melts into the railing"},
        {"label": "a", "t_in": 2.99, "t_out": None, "frame_in": 89, "frame_out": None, "text": "a pop on the cut"}]
    shown = note_json(stored[0], {"a": "right", "b": "left"}.get, {"a": 30000 / 1001, "b": 24.0})
    assert shown["side"] == "left" and shown["timecode_in"] == "00:00:01:12" and shown["timecode_out"] == "00:00:02:00"
    assert note_json(stored[1], None, {})["side"] is None  # an imported judgment: nobody saw a side


@pytest.mark.parametrize("note, message", [
    ({"side": "left", "t_in": math.nan, "text": "x"}, "t_in must be a time"),
    ({"side": "left", "t_in": math.inf, "text": "x"}, "t_in must be a time"),
    ({"side": "left", "t_in": -0.1, "text": "x"}, "t_in must be a time"),
    ({"side": "left", "t_in": True, "text": "x"}, "t_in must be a time"),
    ({"side": "left", "t_in": "1.5", "text": "x"}, "t_in must be a time"),
    ({"side": "left", "t_in": 2.0, "t_out": 1.0, "text": "x"}, "t_out (1 s) is before t_in (2 s)"),
    ({"side": "left", "t_in": 1.0, "t_out": -math.inf, "text": "x"}, "t_out must be null"),
    ({"side": "left", "t_in": 4.6, "text": "x"}, "past the end of the media (4 s)"),
    ({"side": "right", "t_in": 1.0, "t_out": 3.6, "text": "x"}, "past the end of the media (3 s)"),
    ({"side": "left", "t_in": 1.0, "text": "  "}, "text is empty"),
    ({"side": "left", "t_in": 1.0, "text": "a\x00b"}, "control characters"),
    ({"side": "left", "t_in": 1.0, "text": "x" * (MAX_NOTE_CHARS + 1)}, f"longer than {MAX_NOTE_CHARS}"),
    ({"side": "left", "t_in": 1.0, "text": ["x"]}, "text must be text"),
    ({"side": "output", "t_in": 1.0, "text": "x"}, "side must be one of left, right"),
    ({"side": "left", "t_in": 1.0, "text": "x", "line_in": 3}, "unknown field(s) line_in"),
    ("left at 1 s", "must be an object"),
])
def test_every_malformed_note_is_refused_naming_the_note(note, message):
    with pytest.raises(NoteError) as refused:
        parse_notes([{"side": "left", "t_in": 0.0, "text": "fine"}, note], SIDES, "video")
    assert str(refused.value).startswith("note 2: ") and message in str(refused.value)


def test_a_note_list_is_a_bounded_list():
    with pytest.raises(NoteError, match="notes must be a list"):
        parse_notes({"side": "left"}, SIDES, "video")
    with pytest.raises(NoteError, match=f"at most {MAX_NOTES} notes"):
        parse_notes([{"side": "left", "t_in": 0, "text": "x"}] * (MAX_NOTES + 1), SIDES, "video")
    assert parse_notes(None, SIDES, "video") == [] and parse_notes([], SIDES, "video") == []
    unknown = Side("a", duration_s=None)  # unknown duration: bounded by a day
    assert parse_notes([{"side": "left", "t_in": 7200.0, "text": "x"}], {"left": unknown}, "video")[0]["frame_in"] is None


def test_script_notes_anchor_to_lines_of_that_sides_text():
    stored = parse_notes([{"side": "right", "line_in": 2, "line_out": 3, "char_in": 4, "char_out": 1,
                           "quote": "INT. KITCHEN", "text": "the prop vanishes"},
                          {"side": "left", "line_in": 7, "text": "on the nose"}], SCRIPT, "script")
    assert stored[0] == {"label": "b", "line_in": 2, "line_out": 3, "char_in": 4, "char_out": 1,
                         "quote": "INT. KITCHEN", "text": "the prop vanishes"}
    assert stored[1]["line_out"] is None and stored[1]["quote"] is None
    for bad, message in (({"line_in": 4}, "from 1 to 3"), ({"line_in": 0}, "from 1 to 3"),
                         ({"line_in": 2, "line_out": 1}, "line_out must be null or a line number from line_in (2)"),
                         ({"line_in": 1, "char_in": 5, "char_out": 2}, "char_out is before char_in"),
                         ({"line_in": 1, "char_in": -1}, "char_in must be null"),
                         ({"line_in": 1, "t_in": 1.0}, "unknown field(s) t_in"),
                         ({"line_in": 1, "quote": "q" * 501}, "quote is longer than 500")):
        with pytest.raises(NoteError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_notes([{"side": "right", "text": "x", **bad}], SCRIPT, "script")


def test_imported_notes_name_the_output_by_its_label():
    sides = {"a": Side("a", 4.0, 24.0), "b": Side("b", 4.0, 24.0)}
    assert parse_notes([{"label": "b", "t_in": 1.0, "text": "x"}], sides, "video", anchor="label")[0]["label"] == "b"
    with pytest.raises(NoteError, match="label must be one of a, b"):
        parse_notes([{"label": "left", "t_in": 1.0, "text": "x"}], sides, "video", anchor="label")
    with pytest.raises(NoteError, match="unknown field"):
        parse_notes([{"side": "left", "label": "a", "t_in": 1.0, "text": "x"}], sides, "video", anchor="label")


def test_per_criterion_choices_are_stored_in_item_labels_and_every_criterion_is_needed():
    label_of = {"left": "b", "right": "a"}.get
    stored, problems = parse_criteria({"motion": {"choice": "left", "strength": 3},
                                       "sync": {"choice": "tie", "strength": 2}}, CRITERIA, label_of)
    assert problems == {} and stored == {"motion": {"choice": "b", "strength": 3}, "sync": {"choice": "tie", "strength": None}}
    assert criteria_json(stored, {"a": "right", "b": "left"}.get) == {
        "motion": {"choice": "left", "strength": 3}, "sync": {"choice": "tie", "strength": None}}
    _, problems = parse_criteria({"motion": {"choice": "left"}, "colour": {"choice": "tie"}}, CRITERIA, label_of)
    assert problems == {"criteria": "unknown criterion: colour",
                        "criteria.motion": "Motion coherence: how much better, 1 (slightly), 2 (clearly) or 3 (much)",
                        "criteria.sync": "Sound sync: choose left, right or tie"}
    for bad in ({"motion": "left", "sync": {"choice": "tie"}}, {"motion": {"choice": "a", "strength": 1}, "sync": {"choice": "tie"}},
                {"motion": {"choice": "left", "strength": True}, "sync": {"choice": "tie"}},
                {"motion": {"choice": "left", "strength": 1, "why": "x"}, "sync": {"choice": "tie"}}):
        assert "criteria.motion" in parse_criteria(bad, CRITERIA, label_of)[1]
    assert parse_criteria(["motion"], CRITERIA, label_of)[1] == {"criteria": "per-criterion choices: {key: {choice, strength}}"}
    assert parse_criteria(None, [], label_of) == (None, {}) and parse_criteria({}, [], label_of) == (None, {})
    assert parse_criteria({"motion": {}}, [], label_of)[1] == {"criteria": "this project has no per-criterion choices"}


def test_imported_criteria_use_labels_and_refuse_a_strength_on_a_tie():
    ok, problems = parse_criteria({"motion": {"choice": "a"}, "sync": {"choice": "b", "strength": 2}}, CRITERIA, None,
                                  imported=True)
    assert problems == {} and ok == {"motion": {"choice": "a", "strength": None}, "sync": {"choice": "b", "strength": 2}}
    _, problems = parse_criteria({"motion": {"choice": "tie", "strength": 1}, "sync": {"choice": "left"}}, CRITERIA, None,
                                 imported=True)
    assert problems == {"criteria.motion": "Motion coherence: a tie has no strength",
                        "criteria.sync": "Sound sync: choose a, b or tie"}


def test_the_frame_rate_comes_from_the_mp4_sample_table_or_ffprobe():
    clip = DEMO_VIDEO / "alley-001-a.mp4"
    assert frame_rate.from_mp4(clip) == 24.0  # the demo clips are 24 fps (demo/make_media.sh)
    assert frame_rate.probe(clip, "mp4")[0] == 24.0
    assert frame_rate.probe(clip, "ogg") == (None, "none")
    assert frame_rate.from_ffprobe_json(b'{"streams": [{"r_frame_rate": "30000/1001", "avg_frame_rate": "0/0"}]}') \
        == pytest.approx(29.97003, abs=1e-5)
    assert frame_rate.from_ffprobe_json('{"streams": [{"r_frame_rate": "0/0", "avg_frame_rate": "25/1"}]}') == 25.0
    assert frame_rate.from_ffprobe_json("not json") is None
    assert frame_rate.parse_rate("90000/0") is None and frame_rate.parse_rate("5000/1") is None


def test_a_file_that_is_not_an_mp4_has_no_frame_rate(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\xff" * 64)
    assert frame_rate.from_mp4(junk) is None
    truncated = tmp_path / "short.mp4"
    truncated.write_bytes((DEMO_VIDEO / "alley-001-a.mp4").read_bytes()[:40])
    assert frame_rate.from_mp4(truncated) is None
