"""Learner-speed time estimate of each course notebook, from what is in it.

    python tools/time_estimates.py            # a Markdown table: notebook, parts, estimate

The estimate of a notebook is the sum of
- reading its prose at READING_WPM words a minute (technical text, read closely);
- reading the code it shows, and its output, at CODE_LINES_PER_MIN lines a minute;
- EXERCISE_MIN minutes per exercise or inquiry task (write, run the checker, fix once), and
  STRETCH_MIN for a stretch exercise;
- PLAY_MIN minutes per widget or explorer to try;
- its run time, measured (RUN_SECONDS: tools/run_notebooks.py on the course's shared 2-core
  machine, 2026-12-01, with another session running, so on the slow side),
rounded up to 5 minutes. Every run time that a notebook's header or the README states is
`run_time_text` of RUN_SECONDS (tests/test_time_estimates.py). The rates are assumptions, not a
timed study. A test learner (issue 12) took about 7 hours for the whole course when many
exercises could still be solved by copying a cell above them; with the exercises first, 8 minutes
each is our honest guess, so the total here is somewhat above those 7 hours.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from colab_cell import TAG as SETUP_TAG  # noqa: E402  (setup cells are not the lesson: left out)

READING_WPM = 200
CODE_LINES_PER_MIN = 20
EXERCISE_MIN = 8
STRETCH_MIN = 12
PLAY_MIN = 4
ROUND_TO_MIN = 5
RUN_SECONDS = {  # tools/run_notebooks.py, 2026-12-01 23:50 UTC, shared machine, light load
    "00_welcome": 34, "01_text_to_token_ids": 8, "02_word_embeddings": 14,
    "03_self_attention": 14, "04_multi_head_attention": 11, "05_encoder_layer": 13,
    "06_full_encoder": 29, "07_pretrained_weights": 14, "07b_your_own_bert": 15,
    "08_attention_explorer": 12, "09_pretraining_bert": 113, "10_fine_tuning_bert": 197,
    "11_where_next": 8, "A1_making_bert_fast": 80,  # A1: 22 s in that run, 74-233 s in others
    # 10b, 2026-12-06: 388 s on the shared machine (307 s of CPU time); 644-797 s under load.
    # `make notebooks` on the idle machine, 2026-12-06 05:20 UTC: 10b 67 s, 09 45 s, 10 71 s,
    # A1 16 s, all 30 notebooks 331 s; these stay the loaded figures, as a learner's may be.
    "10b_bert_at_work": 388,
    # 09b, 2026-12-06 08:11 UTC: 137 s on the shared machine, load average 4.3.
    "09b_pretraining_on_real_text": 137,
}
# Every course notebook: 00-11, the capstone 07b, the appendix A1 (not the solutions).
COURSE_NOTEBOOKS = "[0-9A][0-9]*_*"
EXERCISE = re.compile(r"^(\*\*Exercise [^*]*\*\*|#+ Exercise|\*\*Task \d)", re.MULTILINE)
STRETCH = re.compile(r"^\*\*Exercise [^*]*stretch", re.MULTILINE | re.IGNORECASE)
PLAY = re.compile(r"widgets\.VBox|AttentionExplorer\(|AttentionMapsWidget\(|tokenizer_playground"
                  r"|\.widget\(")


def parts_of(path: Path) -> dict[str, float]:
    """Words of prose, lines of shown code, exercises, stretch exercises, widgets, run seconds."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    words = lines = exercises = stretch = play = 0
    for cell in notebook.cells:
        if SETUP_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            words += len(re.sub(r"`[^`]*`", "x", cell.source).split())  # code spans: one word
            stretch += len(STRETCH.findall(cell.source))
            exercises += len(EXERCISE.findall(cell.source))
        elif cell.cell_type == "code" and "NotImplementedError" not in cell.source:
            lines += sum(1 for line in cell.source.splitlines()
                         if line.strip() and not line.strip().startswith("#"))
            play += len(PLAY.findall(cell.source))
    return {"words": words, "code": lines, "exercises": exercises - stretch, "stretch": stretch,
            "play": play, "run_s": RUN_SECONDS.get(path.stem, 30)}


def run_time_text(stem: str) -> str:
    """A notebook's run time as its header and the README state it: "about 30 seconds"."""
    seconds = RUN_SECONDS[stem]
    if seconds < 90:
        return f"about {max(10, round(seconds / 10) * 10)} seconds"
    return f"about {round(seconds / 60)} minutes"


def minutes(parts: dict[str, float]) -> int:
    """The estimate in minutes, rounded up to ROUND_TO_MIN."""
    total = (parts["words"] / READING_WPM + parts["code"] / CODE_LINES_PER_MIN
             + EXERCISE_MIN * parts["exercises"] + STRETCH_MIN * parts["stretch"]
             + PLAY_MIN * parts["play"] + parts["run_s"] / 60)
    return ROUND_TO_MIN * math.ceil(total / ROUND_TO_MIN)


def course_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob(f"{COURSE_NOTEBOOKS}.ipynb"))


def main() -> int:
    print("| notebook | prose (words) | code (lines) | exercises | widgets | run (s) | estimate |")
    print("|---|---|---|---|---|---|---|")
    total = 0
    for path in course_notebooks():
        parts, estimate = parts_of(path), minutes(parts_of(path))
        total += estimate
        stretch = f" + {parts['stretch']} stretch" if parts["stretch"] else ""
        print(f"| {path.stem} | {parts['words']} | {parts['code']} | {parts['exercises']}{stretch} "
              f"| {parts['play']} "
              f"| {parts['run_s']} | {estimate} min |")
    print(f"| total | | | | | | {total} min ({total / 60:.1f} h) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
