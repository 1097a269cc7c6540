"""Learner-facing text counts layers and heads from 1: no notebook's prose names a "layer 0" or
a "head 0" (Python indices from 0 stay inside the code)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_TWINS = sorted((ROOT / "notebooks").rglob("*.py"))
ZERO_BASED = re.compile(r"\b(layers?|heads?)\s+0\b", re.IGNORECASE)


def prose_lines(path: Path):
    """The markdown lines of a jupytext percent-format twin, with their line numbers."""
    in_markdown = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        elif in_markdown:
            yield number, line


@pytest.mark.parametrize("path", NOTEBOOK_TWINS, ids=lambda p: p.name)
def test_prose_counts_layers_and_heads_from_one(path):
    found = [f"{path.name}:{number}: {line.strip()}" for number, line in prose_lines(path)
             if ZERO_BASED.search(re.sub(r"`[^`]*`", "", line))]  # code spans may index from 0
    assert not found, "count layers and heads from 1 in the text:\n" + "\n".join(found)


def test_the_rule_catches_a_zero_based_name(tmp_path):
    twin = tmp_path / "x.py"
    twin.write_text("# %% [markdown]\n# MiniLM's layer 0 looks back, `layers[0]` is fine\n"
                    "# %%\nlayer = 0\n")
    lines = [line for _, line in prose_lines(twin)]
    assert [bool(ZERO_BASED.search(re.sub(r"`[^`]*`", "", line))) for line in lines] == [True]


# Cross-references: "notebook 10", "notebook 00, section 2", "section 6", "layers 6 to 11" are
# checked against the current numbering (notebook files, their `## N.` / `### N.M` headings, and
# BERT-base's 12 layers and heads, counted from 1).
NOTEBOOK_IDS = {path.stem.split("_")[0] for path in (ROOT / "notebooks").glob("[0-9A][0-9]*_*.py")}
LEARNER_TEXTS = [*sorted((ROOT / "notebooks").glob("[0-9A][0-9]*_*.py")),
                 *sorted((ROOT / "notebooks" / "solutions").glob("*.py"))]
ID = r"(?:\d\db?|A\d)"
NOTEBOOK_REF = re.compile(rf"\b[Nn]otebooks? ({ID}(?:\s*(?:-|–|,|and|or|to)\s*{ID})*)"
                          r"(?:,? sections? (\d+(?:\.\d+)?))?")
MORE = r"(?:\s*(?:-|–|,|and|or)\s*\d+(?:\.\d+)?)*"  # "-5", " and 7", ...
BARE_REF = re.compile(rf"\b({ID})\**,? sections? (\d+(?:\.\d+)?{MORE})")
SECTION_REF = re.compile(rf"\b[Ss]ections? (\d+(?:\.\d+)?)({MORE})")
PAPER = re.compile(r"et al|\d{4}\)?,|paper|chapter|appendix|Devlin", re.IGNORECASE)
LAYER_RANGE = re.compile(r"\blayers (\d+)(?: to |-|–)(\d+)\b", re.IGNORECASE)


def headings(stem: str) -> set[str]:
    """The numbers of a notebook's `## N.` and `### N.M` headings."""
    text = (ROOT / "notebooks" / f"{stem}.py").read_text(encoding="utf-8")
    return set(re.findall(r"^# ##+ (\d+(?:\.\d+)?)[. ]", text, re.MULTILINE))


def stem_of(notebook_id: str) -> str:
    return next(p.stem for p in (ROOT / "notebooks").glob(f"{notebook_id}_*.py"))


def numbers_in(listed: str) -> list[str]:
    """'03-04' -> ['03', '04']; '1-5 and 7' -> ['1', '5', '7'] (a range's ends exist, so all do)."""
    return re.findall(rf"{ID}|\d+(?:\.\d+)?", listed)


def broken_references(path: Path, lines) -> list[str]:
    """Cross-references in these prose lines that point at no notebook, section or layer."""
    own = path.stem.removesuffix("_solutions")
    found = []
    for number, line in lines:
        prose = re.sub(r"`[^`]*`", "", line)
        claimed = set()
        for match in NOTEBOOK_REF.finditer(prose):
            ids = numbers_in(match.group(1))
            found += [f"{path.name}:{number}: no notebook {i}"
                      for i in ids if i not in NOTEBOOK_IDS]
            if match.group(2) and ids and ids[-1] in NOTEBOOK_IDS:
                claimed.add(match.start(2))
                if match.group(2) not in headings(stem_of(ids[-1])):
                    found.append(f"{path.name}:{number}: notebook {ids[-1]} "
                                 f"has no section {match.group(2)}")
        for match in BARE_REF.finditer(prose):  # "**03** sections 1-5 and 7" in a path
            if match.start(2) in claimed:
                continue  # "notebook 04, section 2": checked above
            claimed.add(match.start(2))
            if match.group(1) in NOTEBOOK_IDS:
                there = headings(stem_of(match.group(1)))
                found += [f"{path.name}:{number}: notebook {match.group(1)} has no section {s}"
                          for s in numbers_in(match.group(2)) if s not in there]
        for match in SECTION_REF.finditer(prose):
            before = prose[max(0, match.start() - 60):match.start()]
            if match.start(1) in claimed or PAPER.search(before):
                continue  # another notebook's section (checked above), or a paper's
            if (ROOT / "notebooks" / f"{own}.py").exists():
                for section in numbers_in(match.group(1) + match.group(2)):
                    if section not in headings(own):
                        found.append(f"{path.name}:{number}: no section {section} here")
        for first, last in LAYER_RANGE.findall(prose):
            if not 1 <= int(first) <= int(last) <= 12:
                found.append(f"{path.name}:{number}: layers {first} to {last} "
                             "(count from 1, at most 12)")
    return found


@pytest.mark.parametrize("path", LEARNER_TEXTS, ids=lambda p: p.name)
def test_cross_references_point_at_what_exists(path):
    found = broken_references(path, prose_lines(path))
    assert not found, "fix these references to the current numbering:\n" + "\n".join(found)


def test_the_readme_and_the_guide_name_existing_notebooks():
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "teaching").glob("*.md"))]:
        lines = enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        found += [problem for problem in broken_references(path, lines)
                  if "no section" not in problem or "notebook" in problem]
    assert not found, "\n".join(found)


def test_the_reference_rule_catches_a_stale_number(tmp_path):
    twin = tmp_path / "03_self_attention.py"
    lines = [(1, "# as in notebook 12 and notebook 04, section 19; see section 6"),
             (2, "# (Devlin et al. 2019, section 3.1) and layers 0 to 5 or layers 6 to 13")]
    assert broken_references(twin, lines) == [
        "03_self_attention.py:1: no notebook 12",
        "03_self_attention.py:1: notebook 04 has no section 19",
        "03_self_attention.py:2: layers 0 to 5 (count from 1, at most 12)",
        "03_self_attention.py:2: layers 6 to 13 (count from 1, at most 12)"]
