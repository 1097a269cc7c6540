"""Write the three small task data sets of notebook 10b (written for the course, from templates).

    python tools/make_task_data.py            # rewrites course_lib/assets/data/tasks/*.jsonl

Same seed, same bytes: tests/test_task_data.py checks the SHA-256 of each file and that this
script rebuilds them exactly. Each data set has a card beside it
(course_lib/assets/data/tasks/*.md).

- pairs.jsonl: premise / hypothesis pairs, "entailment" or "not_entailment";
- entities.jsonl: sentences as words with BIO tags for PER, LOC and ORG;
- qa.jsonl: a short biography, a question, and the answer as a word span (or none).

The test split never shares a premise (pairs), an entity name (entities) or a person (qa) with
the training split.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "course_lib" / "assets" / "data" / "tasks"
SEED = 2019

# ---------------------------------------------------------------- sentence pairs

KINDS = {  # subject -> its more general word
    "woman": "person", "man": "person", "girl": "child", "boy": "child", "chef": "person",
    "doctor": "person", "pilot": "person", "student": "person", "teacher": "person",
    "farmer": "person", "nurse": "person", "dog": "animal", "cat": "animal", "horse": "animal",
    "puppy": "animal", "kitten": "animal",
}
ANIMAL_ACTIONS = ["running", "sleeping", "eating", "swimming", "jumping", "resting"]
PERSON_ACTIONS = ANIMAL_ACTIONS + [
    "playing a guitar", "reading a book", "cooking dinner", "riding a bike", "painting a wall",
    "writing a letter", "singing a song", "washing a car", "climbing a tree", "drinking tea",
]
PLACES = ["in the park", "on the beach", "at home", "in the kitchen", "near the river",
          "in the garden", "on the street", "in the forest", "at the station", "in the snow"]


def _article(word: str) -> str:
    return "An" if word[0] in "aeiou" else "A"


def _sentence(subject: str, action: str, place: str | None = None) -> str:
    return f"{_article(subject)} {subject} is {action}{' ' + place if place else ''}."


def make_pairs(rng: random.Random) -> list[dict]:
    """Four kinds of pair per premise; each says what the swapped pair's label is."""
    premises = sorted({(s, a, p) for s in KINDS for a in
                       (ANIMAL_ACTIONS if KINDS[s] == "animal" else PERSON_ACTIONS)
                       for p in PLACES})
    rng.shuffle(premises)
    rows = []
    for index, (subject, action, place) in enumerate(premises[:200]):
        split = "test" if index % 4 == 0 else "train"
        actions = ANIMAL_ACTIONS if KINDS[subject] == "animal" else PERSON_ACTIONS
        other_action = rng.choice([a for a in actions if a != action])
        same_kind = [s for s in KINDS if s != subject and KINDS[s] == KINDS[subject]]
        other_subject = rng.choice(same_kind)
        premise = _sentence(subject, action, place)
        general = _sentence(KINDS[subject], action, place)
        choices = [  # (premise, hypothesis, label, label of the swapped pair, kind)
            (premise, _sentence(KINDS[subject], action), "entailment", "not_entailment",
             "more general subject"),
            (premise, _sentence(subject, action), "entailment", "not_entailment",
             "place dropped"),
            (premise, _sentence(subject, other_action, place), "not_entailment",
             "not_entailment", "other action"),
            (general, premise, "not_entailment", "entailment", "more specific subject"),
            (premise, _sentence(other_subject, action, place), "not_entailment",
             "not_entailment", "other subject"),
        ]
        for a, b, label, swapped, kind in rng.sample(choices, 2 if split == "train" else 4):
            rows.append({"premise": a, "hypothesis": b, "label": label,
                         "swapped_label": swapped, "kind": kind, "split": split})
    return rows


# ---------------------------------------------------------------- named entities

FIRST = ["Anna", "Oluwaseun", "Siobhan", "Kenji", "Priya", "Mateo", "Ingrid", "Tariq", "Leila",
         "Dmitri", "Chiamaka", "Bjorn", "Aoife", "Rafael", "Nkechi", "Yusuf", "Marisol", "Hamish",
         "Thandiwe", "Wojciech", "Esperanza", "Kwame", "Saoirse", "Haruto"]
LAST = ["Silva", "Adeyemi", "Nakamura", "Kowalski", "Okonkwo", "Thorvaldsen", "Ramirez",
        "Haddad", "Fitzgerald", "Vasquez", "Lindqvist", "Mbeki", "Castellanos", "Oyelaran",
        "Brennan", "Szczepanski", "Achterberg", "Papadopoulos", "Nwachukwu", "Yamamoto"]
CITIES = ["Lisbon", "Reykjavik", "Ouagadougou", "New York", "Buenos Aires", "Kuala Lumpur",
          "Nairobi", "Oslo", "Montevideo", "Tbilisi", "Ljubljana", "Cape Town", "Hanoi",
          "Winnipeg", "Valparaiso", "San Francisco", "Addis Ababa", "Krakow", "Brisbane",
          "Marrakesh"]
ORGS = ["Nordwind Air", "Kestrel Dynamics", "Aurora Bank", "Meridian Press", "Halcyon Foods",
        "Bluefin Labs", "Cobalt Systems", "the Red Maple Trust", "Larkspur Studios",
        "Ironbridge Motors", "Zephyr Telecom", "Quillfeather Books", "Solstice Energy",
        "Granite Peak Insurance", "Saltmarsh Brewing", "Orchid Pharma"]
ENTITY_TEMPLATES = [
    "{PER} moved to {LOC} in {YEAR} .",
    "{PER} works for {ORG} in {LOC} .",
    "{ORG} opened a new office in {LOC} last week .",
    "Yesterday {PER} met {PER} at the {ORG} headquarters .",
    "The mayor of {LOC} praised {ORG} for its work .",
    "According to {PER} , {ORG} will hire more staff .",
    "{PER} was born in {LOC} and studied in {LOC} .",
    "Shares of {ORG} rose after {PER} joined the board .",
    "A storm closed the airport in {LOC} on Monday .",
    "Nobody expected the match to end so early .",
    "{PER} thanked the team at {ORG} .",
    "Flights from {LOC} to {LOC} were cancelled .",
]
YEARS = [str(y) for y in range(1990, 2024)]


def _entity_names(rng: random.Random):
    """Every person, city and company, split into a training and a held-out half."""
    people = [f"{f} {last}" for f in FIRST for last in LAST]
    rng.shuffle(people)
    pools = {"PER": people[:40], "LOC": CITIES[:], "ORG": ORGS[:]}
    for names in pools.values():
        rng.shuffle(names)
    return ({k: v[: len(v) * 3 // 4] for k, v in pools.items()},
            {k: v[len(v) * 3 // 4 :] for k, v in pools.items()})


def make_entities(rng: random.Random) -> list[dict]:
    train_names, test_names = _entity_names(rng)
    rows = []
    for split, count, names in (("train", 320, train_names), ("test", 100, test_names)):
        for _ in range(count):
            words, tags, used = [], [], set()
            for slot in rng.choice(ENTITY_TEMPLATES).split():
                if slot.startswith("{") and slot.strip("{}") in names:
                    kind = slot.strip("{}")
                    name = rng.choice([n for n in names[kind] if n not in used])
                    used.add(name)
                    parts = name.split()
                    words += parts
                    tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(parts) - 1)
                else:
                    words.append(rng.choice(YEARS) if slot == "{YEAR}" else slot)
                    tags.append("O")
            rows.append({"words": words, "tags": tags, "split": split})
    return rows


# ---------------------------------------------------------------- extractive QA

SUBJECTS = ["chemistry", "history", "law", "music", "economics", "medicine", "architecture",
            "linguistics", "geology", "philosophy"]
JOBS = ["pilot", "nurse", "journalist", "engineer", "librarian", "chef", "lawyer", "architect",
        "teacher", "photographer"]
PETS = ["cats", "dogs", "parrots", "rabbits", "horses"]
COUNTS = ["two", "three", "four", "five", "six"]
UNANSWERABLE = ["What is {P}'s favourite colour ?", "How tall is {P} ?",
                "What car does {P} drive ?"]


def _biography(rng: random.Random, person: str, he: str) -> tuple[list[str], list[tuple]]:
    """A context as words, and its questions: (question, answer's first word, last word)."""
    born, works = rng.sample(CITIES, 2)
    year, subject, job = rng.choice(YEARS), rng.choice(SUBJECTS), rng.choice(JOBS)
    count, pets = rng.choice(COUNTS), rng.choice(PETS)
    sentences = [
        f"{person} was born in {born} in {year} .",
        f"{he} studied {subject} at university and now works as {_article(job).lower()} {job} "
        f"in {works} .",
        f"{he} lives with {count} {pets} .",
    ]
    words = " ".join(sentences).split()
    first = person.split()[0]

    def span(answer: str, after: int = 0) -> tuple[int, int]:
        parts = answer.split()
        for i in range(after, len(words)):
            if words[i : i + len(parts)] == parts:
                return i, i + len(parts) - 1
        raise AssertionError(answer)

    year_at = span(year)
    questions = [
        (f"Where was {first} born ?", *span(born)),
        (f"In which year was {first} born ?", *year_at),
        (f"What did {first} study ?", *span(subject)),
        (f"What does {first} work as ?", *span(job)),
        (f"In which city does {first} work ?", *span(works, after=year_at[1] + 1)),
        (f"How many {pets} does {first} live with ?", *span(count)),
    ]
    return words, questions


def make_qa(rng: random.Random) -> list[dict]:
    people = [(f"{f} {last}", rng.choice(["She", "He"])) for f in FIRST for last in LAST]
    rng.shuffle(people)
    rows = []
    for index, (person, he) in enumerate(people[:160]):
        split = "test" if index % 4 == 0 else "train"
        words, questions = _biography(rng, person, he)
        chosen = rng.sample(questions, 3 if split == "train" else 4)
        if rng.random() < 0.4:  # some questions have no answer in the context
            chosen.append((rng.choice(UNANSWERABLE).format(P=person.split()[0]), None, None))
        for question, start, end in chosen:
            rows.append({"context": words, "question": question, "answer_start": start,
                         "answer_end": end, "split": split})
    return rows


def write_all(folder: Path = OUT) -> dict[str, Path]:
    """Write the three files (one JSON object a line) and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, make in (("pairs", make_pairs), ("entities", make_entities), ("qa", make_qa)):
        rows = make(random.Random(f"{SEED}-{name}"))
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        paths[name] = folder / f"{name}.jsonl"
        paths[name].write_text(text, encoding="utf-8")
    return paths


if __name__ == "__main__":
    for path in write_all().values():
        rows = path.read_text(encoding="utf-8").splitlines()
        print(f"{path}: {len(rows)} rows")
