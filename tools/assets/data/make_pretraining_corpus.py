"""Write the course's pre-training corpus and its probe sentences (written for the course).

Run from anywhere:  python tools/assets/data/make_pretraining_corpus.py
It rewrites pretraining_corpus.txt (one sentence a line) and pretraining_probes.tsv in
course_lib/assets/data/. Same seed, same files.

The sentences come from three templates. In each, one word can be recovered only from what comes
AFTER it, and another only from what comes BEFORE it; everything else is drawn independently,
so it carries no hint:

  animals:  "late at night the dog barked at the gate ."     dog <- barked (right clue),
                                                             barked <- dog (left clue)
  fruit:    "anna bought a yellow banana at the market ."    yellow <- banana (right clue),
                                                             banana <- yellow (left clue)
  capitals: "we learned that rome is the capital of italy ." rome <- italy (right clue)
            "i read that the capital of italy is rome ."     rome <- italy (left clue)

A probe is a held-out sentence (drawn first; the corpus never contains it) with one such word
to predict and the side its clue is on. A left-to-right model cannot use a clue on the right.
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[2] / "course_lib" / "assets" / "data"  # shipped inside course_lib
SEED = 2019
NUM_SENTENCES = 6000
NUM_PROBES_PER_KIND = 40

ANIMAL_SOUNDS = {
    "dog": "barked", "cat": "meowed", "cow": "mooed", "duck": "quacked",
    "lion": "roared", "owl": "hooted", "horse": "neighed", "sheep": "bleated",
}
FRUIT_COLORS = {
    "banana": "yellow", "cherry": "red", "lime": "green", "grape": "purple",
    "blueberry": "blue", "coconut": "brown",
}
CAPITALS = {
    "france": "paris", "italy": "rome", "spain": "madrid", "germany": "berlin",
    "portugal": "lisbon", "austria": "vienna", "greece": "athens", "norway": "oslo",
}
WHEN = ["late at night", "every morning", "after the rain", "on sunday", "before dinner",
        "in the spring", "once again", "all of a sudden", "at noon", "during the storm"]
WHERE_ANIMAL = ["at the gate", "near the barn", "by the river", "in the yard", "on the hill",
                "behind the house", "under the tree", "at the farmer"]
PEOPLE = ["anna", "tom", "maria", "ben", "sara", "leo", "nina", "omar", "lucy", "paul"]
LEADS = ["we learned that", "everyone knows that", "my teacher said that", "i read that",
         "it is true that", "of course", "they told us that", "the book says that",
         "as you know", "she remembered that", "he explained that", "the map shows that",
         "our guide said that", "it is well known that", "the quiz asked if", "we all agree that"]
WHERE_SHOP = ["at the market", "from the shop", "for the party", "for her mother",
              "for his lunch", "on the way home", "at the station", "for the picnic"]


def animal_sentence(rng: random.Random) -> tuple[list[str], dict[str, int]]:
    """A sentence as words, and the positions (in words) of its two clued slots."""
    animal = rng.choice(sorted(ANIMAL_SOUNDS))
    words = [*rng.choice(WHEN).split(), "the", animal, ANIMAL_SOUNDS[animal],
             *rng.choice(WHERE_ANIMAL).split(), "."]
    at = words.index(animal)
    return words, {"right": at, "left": at + 1}


def fruit_sentence(rng: random.Random) -> tuple[list[str], dict[str, int]]:
    fruit = rng.choice(sorted(FRUIT_COLORS))
    words = [rng.choice(PEOPLE), "bought", "a", FRUIT_COLORS[fruit], fruit,
             *rng.choice(WHERE_SHOP).split(), "."]
    return words, {"right": 3, "left": 4}


def capital_sentence(rng: random.Random) -> tuple[list[str], dict[str, int]]:
    country = rng.choice(sorted(CAPITALS))
    lead = rng.choice(LEADS).split()
    if rng.random() < 0.5:  # the capital first: its clue is on the right
        words = [*lead, CAPITALS[country], "is", "the", "capital", "of", country, "."]
        return words, {"right": len(lead)}
    words = [*lead, "the", "capital", "of", country, "is", CAPITALS[country], "."]
    return words, {"left": len(lead) + 5}


TEMPLATES = {"animals": animal_sentence, "fruit": fruit_sentence, "capitals": capital_sentence}


def main() -> None:
    rng = random.Random(SEED)
    names = sorted(TEMPLATES)
    seen, probes, counts = set(), [], {}
    while any(counts.get((n, side), 0) < NUM_PROBES_PER_KIND
              for n in names for side in ("left", "right")):
        name = rng.choice(names)
        words, slots = TEMPLATES[name](rng)
        sentence = " ".join(words)
        if sentence in seen:
            continue  # probes are held out: never a corpus line, never twice
        for side, position in slots.items():
            if counts.get((name, side), 0) < NUM_PROBES_PER_KIND:
                seen.add(sentence)
                counts[(name, side)] = counts.get((name, side), 0) + 1
                probes.append(f"{name}\t{side}\t{position}\t{words[position]}\t{sentence}")
    corpus = []
    while len(corpus) < NUM_SENTENCES:
        sentence = " ".join(TEMPLATES[rng.choice(names)](rng)[0])
        if sentence not in seen:  # a probe sentence is never trained on
            corpus.append(sentence)
    (OUT / "pretraining_corpus.txt").write_text("\n".join(corpus) + "\n", encoding="utf-8")
    header = "template\tclue_side\tword_position\tanswer\tsentence"
    (OUT / "pretraining_probes.tsv").write_text(
        "\n".join([header, *probes]) + "\n", encoding="utf-8"
    )
    print(f"{len(corpus)} sentences, {len(probes)} probes, {len(set(corpus))} distinct sentences")


if __name__ == "__main__":
    main()
