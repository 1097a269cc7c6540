"""The teacher's view of the room (course_kit/classroom.py): learners' progress files merged into
one table per exercise, with the named mistakes of failed tries (issue 23)."""

from __future__ import annotations

import json

import pytest

from course_kit import classroom


def write(home, name, exercises):
    path = home / name / ".cache" / "bert-course" / "progress.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"exercises": exercises}))
    return path


@pytest.fixture()
def room(tmp_path):
    write(tmp_path, "ada", {"check_gelu": {"title": "gelu", "passed": True}})
    write(tmp_path, "bo", {"check_gelu": {"title": "gelu", "passed": False,
                                          "mistakes": {"it uses erf(x/2)": 2}}})
    write(tmp_path, "cy", {"check_gelu": {"title": "gelu", "passed": False,
                                          "mistakes": ["it uses erf(x/2)"]},
                           "check_feed_forward": {"passed": "no"}})
    (tmp_path / "dee" / ".cache" / "bert-course").mkdir(parents=True)
    (tmp_path / "dee" / ".cache" / "bert-course" / "progress.json").write_text("{damaged")
    return tmp_path


def test_one_row_per_exercise_with_passed_tried_and_mistakes(room):
    collected = classroom.collect(room)
    assert collected.learners == ["ada", "bo", "cy"]
    rows = {row.exercise: row for row in collected.rows}
    gelu = rows["check_gelu"]
    assert gelu.notebook == "05_encoder_layer"
    assert gelu.passed == {"ada"} and gelu.tried == {"bo", "cy"}
    assert gelu.mistakes == {"it uses erf(x/2)": 2}  # two learners, each counted once
    assert rows["check_feed_forward"].passed == set()  # "no" is not passed
    assert rows["check_feed_forward"].tried == {"cy"}
    # Course order: notebook 00's exercises come before notebook 05's.
    order = [row.exercise for row in collected.rows]
    assert order.index("check_predicted_shapes") < order.index("check_gelu")


def test_a_damaged_file_is_listed_and_left_as_it_is(room):
    damaged = room / "dee" / ".cache" / "bert-course" / "progress.json"
    collected = classroom.collect(room)
    assert collected.unreadable == [damaged]
    assert damaged.read_text() == "{damaged"
    assert "unreadable (left as it is)" in str(collected)


def test_command_line_prints_the_table_and_writes_csv(room, tmp_path, capsys):
    out = tmp_path / "room.csv"
    assert classroom.main(["collect", str(room), "--csv", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "3 learners" in shown and "1 x" not in shown.split("check_gelu")[0]
    assert "2 x it uses erf(x/2)" in shown
    lines = out.read_text().splitlines()
    assert lines[0] == "notebook,exercise,passed,trying,not tried,mistakes"
    assert any(line.startswith("05_encoder_layer,check_gelu,1,2,0,2 x it uses erf(x/2)")
               for line in lines)


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert classroom.main(["collect", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
