"""The task data sets of notebook 10b: the shipped bytes, rebuilt exactly by their generator, and
the promises of their cards (held-out names and people, answers inside the context)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_task_data  # noqa: E402  (tools/make_task_data.py)

SHA256 = {
    "pairs": "c1cc55be070734d5fe740ab9622a74bc4bc0e132a5ae69aecf572cf19cb1d8b2",
    "entities": "d132a115ede01430bfe9e4145699e2038387bbb013e99c2b409776e9f0f167f7",
    "qa": "079b516c2c5e7ad7c0b87552d963dbf0dbebeb1abae39c2cf5ae872911fdbf95",
}


def rows(name: str) -> list[dict]:
    text = (make_task_data.OUT / f"{name}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("name", list(SHA256))
def test_shipped_file_has_its_hash_and_a_card(name):
    data = (make_task_data.OUT / f"{name}.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[name], \
        f"{name}.jsonl changed: rebuild with python tools/make_task_data.py and update the hash"
    card = (make_task_data.OUT / f"{name}.md").read_text(encoding="utf-8")
    for part in ("How it was made", "Size", "License", "Known biases"):
        assert part in card, f"{name}.md has no '{part}'"


def test_generator_rebuilds_the_same_bytes(tmp_path):
    for name, path in make_task_data.write_all(tmp_path).items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name], name


def spans(tags: list[str]) -> list[tuple[int, int]]:
    """(first, last) word of each entity of a BIO sequence."""
    starts = [i for i, tag in enumerate(tags) if tag.startswith("B-")]
    ends = [i for i, tag in enumerate(tags) if tag != "O" and (i + 1 == len(tags)
                                                              or not tags[i + 1].startswith("I-"))]
    return list(zip(starts, ends, strict=True))


def test_held_out_splits_share_no_names_or_people():

    def names(split):  # whole names: first names and surnames recur in other combinations
        return {" ".join(row["words"][s : e + 1]) for row in rows("entities")
                if row["split"] == split for s, e in spans(row["tags"])}

    assert names("train") and not names("train") & names("test")
    people = {split: {" ".join(r["context"][:2]) for r in rows("qa") if r["split"] == split}
              for split in ("train", "test")}
    assert people["train"] and not people["train"] & people["test"]
    def base(row):  # the specific sentence a pair was built from
        return row["hypothesis"] if row["kind"] == "more specific subject" else row["premise"]

    premises = {split: {base(r) for r in rows("pairs") if r["split"] == split}
                for split in ("train", "test")}
    assert not premises["train"] & premises["test"]


def test_every_tag_and_answer_is_consistent():
    for row in rows("entities"):
        assert len(row["words"]) == len(row["tags"])
        for previous, tag in zip(["O", *row["tags"]], row["tags"], strict=False):
            assert not tag.startswith("I-") or previous[2:] == tag[2:], row
    for row in rows("qa"):
        if row["answer_start"] is not None:
            assert 0 <= row["answer_start"] <= row["answer_end"] < len(row["context"])
    assert {r["label"] for r in rows("pairs")} == {"entailment", "not_entailment"}
