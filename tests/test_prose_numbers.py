"""Numbers in the prose come from the code.

Two checks on every executed course notebook:
- every decimal number its markdown states (0.56, 2.7%, 12.6) appears in a code cell of the
  notebook, as printed output or in the code itself (an assert, a constant), unless it is listed in
  SOURCED with where it comes from (a paper, a configuration's arithmetic). Whole numbers are
  not scanned: too many are counts of things the text names, not results;
- CLAIMS: the comparisons and rankings the text states about a notebook's own results, each with
  the output line that backs it (a sentence built from the values, or an assert's verdict).
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import time_estimates  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob(f"{time_estimates.COURSE_NOTEBOOKS}.ipynb"))
DECIMAL = re.compile(r"(?<![\w.])(\d*\.\d+)(?![\w.])")
# Section numbers ("section 3.1", "### 5.5", "Sections 5.1-5.5") are not results.
SECTION = re.compile(r"(?:sections?\s+|^#+\s+)\d+\.\d+(?:-\d+\.\d+)?", re.IGNORECASE | re.MULTILINE)

# Decimals stated in the prose that are not the notebook's results, and where each comes from.
AMD_RUN = "the README's Speed table, AMD EPYC (benchmarks/peers.py, 2026-12-06)"
SOURCED = {
    "00_welcome": {"12.7": "total hours, tools/time_estimates.py (tests/test_time_estimates.py)",
                   "7.5": "the full day's hours, rounded (the path table)"},
    "06_full_encoder": {"4.1": "a section of this notebook (masked max pooling)",
                        "4.3": "arithmetic: BERT-base's FLOPs at 512 tokens over those at 128"},
    "08_attention_explorer": {"37.7": "12 x 12 x 512 x 512, arithmetic on BERT-base's sizes"},
    "09_pretraining_bert": {"6.1": "ln(455), the loss of a uniform guess over the vocabulary"},
    "10_fine_tuning_bert": {"3.3": "BooksCorpus + English Wikipedia, Devlin et al. 2019"},
    "10b_bert_at_work": {"22.7": "MiniLM's parameter count (notebook 06 counts it)",
                         "96.1": "Devlin et al. 2019, Table 7 (CoNLL-2003 dev F1)",
                         "96.4": "Devlin et al. 2019, Table 7 (CoNLL-2003 dev F1)",
                         "5.3": "a section of Devlin et al. 2019",
                         "2.0": "the name of SQuAD 2.0 (Rajpurkar et al. 2018)"},
    "A1_making_bert_fast": {"12.6": "12 x 512 x 512 float32 scores, arithmetic",
                            "9.4": "a 768 x 3072 float32 weight, arithmetic",
                            **dict.fromkeys(("0.18", "0.11", "0.13", "0.26", "0.23"), AMD_RUN),
                            "0.17": "GELU's lowest value, -0.16997 (tests/test_inference.py)",
                            "0.37": "the README's Speed table: the AMD EPYC's run in one process"},
}

# (notebook, what the prose says, a pattern the outputs must match)
CLAIMS = [
    ("09_pretraining_bert", "**Capitals are not**",
     r"capitals at chance, yet every guess for .* is a capital city: True"),
    ("09_pretraining_bert", "*blueberry* among the split ones",
     r"splits: \[[^\]]*'blueberry'"),
    ("09_pretraining_bert", "tens of millions of times the compute",
     r"against \S+ here, [1-9]e\+07 times more"),
    ("10_fine_tuning_bert", "**average pooling is best, raw CLS behind**",
     r"pretrained, best first: average, \w+, CLS"),
    ("10_fine_tuning_bert", "Random features are well above chance but far below the pretrained",
     r"random: 0\.\d\d to 0\.\d\d, above chance \(0\.25\)"),
    ("10_fine_tuning_bert", "reads the topic from raw [CLS] about as well as from the average",
     r"before: average beats raw CLS; after fine-tuning, CLS finds the topic .*: True"),
    ("10_fine_tuning_bert", "stays far below, though above chance",
     r"random init far below both, above chance: True"),
    ("A1_making_bert_fast", "The last line compares",
     r"hand-written attention's time share here: \d+\.\d times its FLOP share at 128 tokens"),
    ("11_where_next", "a few hundred single ideographs, each also as a `##` piece",
     r"single-ideograph pieces: (\d+), and \1 of them also as ##pieces"),
    ("08_attention_explorer", "so their sum can be above 1",
     r"\| their sum: (1\.\d\d|[2-9]\.\d\d)"),
    ("05_encoder_layer", "scaled by the product printed above, far below 1",
     r"product over the 12 LayerNorms: 0\.0\d\d"),
]


def markdown_and_code(path: Path) -> tuple[list[str], str]:
    """The notebook's markdown cells, and all its code and printed output as one text."""
    notebook = nbformat.read(path, as_version=4)
    markdown, code = [], []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            markdown.append(cell.source)
            continue
        code.append(cell.source)
        for output in cell.get("outputs", []):
            code.append(output.get("text", ""))
            data = output.get("data", {})
            code.extend("".join(data.get(kind, ""))
                        for kind in ("text/plain", "text/html", "text/markdown"))
    return markdown, "\n".join(code)


def unbacked_decimals(markdown: list[str], code: str, sourced: dict[str, str]) -> list[str]:
    """Decimals of the prose (outside code spans, math and section numbers) that no cell shows."""
    found = []
    for text in markdown:
        prose = SECTION.sub("", re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", "", text, flags=re.DOTALL))
        for match in DECIMAL.finditer(prose):
            number = match.group(1)
            if number not in code and number not in sourced:
                context = prose[max(0, match.start() - 50):match.end() + 20].replace("\n", " ")
                found.append(f"{number}: ...{context}...")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_decimal_in_the_prose_is_shown_by_a_cell(path):
    markdown, code = markdown_and_code(path)
    found = unbacked_decimals(markdown, code, SOURCED.get(path.stem, {}))
    assert not found, (f"{path.name}: numbers in the text that no cell prints or asserts (print "
                       "them, or list their source in SOURCED):\n" + "\n".join(found))


@pytest.mark.parametrize("notebook, said, printed", CLAIMS,
                         ids=[f"{c[0]}: {c[1][:30]}" for c in CLAIMS])
def test_each_stated_result_is_printed_by_the_notebook(notebook, said, printed):
    markdown, code = markdown_and_code(ROOT / "notebooks" / f"{notebook}.ipynb")
    assert any(said in text for text in markdown), f"{notebook}: the text no longer says {said!r}"
    assert re.search(printed, code), f"{notebook} says {said!r}, but no output matches {printed!r}"


def test_sourced_numbers_are_still_in_the_text():
    for notebook, numbers in SOURCED.items():
        markdown, _ = markdown_and_code(ROOT / "notebooks" / f"{notebook}.ipynb")
        for number in numbers:
            assert any(number in text for text in markdown), f"{notebook}: {number} is gone"


def test_the_rule_catches_an_unprinted_number():
    markdown = ["Each token keeps 0.56 of itself; see section 3.1 and `x = 0.5`.", "### 5.5 Speed"]
    found = unbacked_decimals(markdown, "print(0.57)", {})
    assert len(found) == 1 and found[0].startswith("0.56: ...Each token keeps 0.56"), found
    assert unbacked_decimals(markdown, "share 0.56", {}) == []
