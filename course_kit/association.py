"""Notebook 09b, section 6: how strongly a model's vectors tie two sets of target words (say,
occupations) to two sets of attribute words (male and female words): the Word Embedding
Association Test of Caliskan, Bryson and Narayanan (2017), on word vectors or on sentences built
from a template (May et al. 2019)."""

from __future__ import annotations

import torch

from course_lib import WordPieceTokenizer
from course_lib.pooling import global_average_pooling

# Word lists of the course's test (each word one piece in MiniLM's vocabulary). Occupations that
# the US labour statistics and earlier association studies report as mostly held by men (X) or by
# women (Y); the attribute words are male (A) and female (B) nouns, in pairs, all of which fit the
# template "this is the {}.".
MALE_OCCUPATIONS = ("engineer", "carpenter", "mechanic", "programmer", "pilot", "surgeon",
                    "architect", "scientist", "farmer", "soldier")
FEMALE_OCCUPATIONS = ("nurse", "receptionist", "secretary", "librarian", "nanny", "dancer",
                      "teacher", "housekeeper", "maid", "singer")
MALE_WORDS = ("man", "boy", "brother", "father", "son", "uncle", "husband", "gentleman", "king",
              "nephew")
FEMALE_WORDS = ("woman", "girl", "sister", "mother", "daughter", "aunt", "wife", "lady", "queen",
                "niece")


def association(W: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """s(w, A, B) for each row w of W (n, d): mean cosine to A's rows minus mean cosine to B's."""
    def cosines(U, V):
        return torch.nn.functional.normalize(U, dim=-1) @ torch.nn.functional.normalize(V, dim=-1).T

    return cosines(W, A).mean(1) - cosines(W, B).mean(1)  # (n,)


def _check_vectors(**sets: torch.Tensor) -> None:
    """A clear error unless every set is an (n, d) float tensor, all with the same d."""
    for name, vectors in sets.items():
        if not isinstance(vectors, torch.Tensor) or vectors.dim() != 2 or len(vectors) == 0:
            shape = tuple(vectors.shape) if isinstance(vectors, torch.Tensor) else type(vectors)
            raise ValueError(f"{name} must be an (n, d) tensor of word vectors, one per row, "
                             f"got {shape}")
    widths = {name: vectors.shape[1] for name, vectors in sets.items()}
    if len(set(widths.values())) > 1:
        raise ValueError(f"every set of vectors must have the same width d, got {widths}")


def effect_size(X: torch.Tensor, Y: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> float:
    """WEAT's effect size: (mean s(x) over X - mean s(y) over Y) / std of s(w) over X and Y
    together (sample standard deviation); 0 = no difference, and about 2 at most in size when X
    and Y have as many words."""
    _check_vectors(X=X, Y=Y, A=A, B=B)
    sx, sy = association(X, A, B), association(Y, A, B)
    return float((sx.mean() - sy.mean()) / torch.cat([sx, sy]).std())


def permutation_p_value(X, Y, A, B, rounds: int = 10_000, seed: int = 0) -> float:
    """One-sided p-value: the share of random equal-size splits of X and Y's words whose
    difference of summed associations is at least the observed one."""
    _check_vectors(X=X, Y=Y, A=A, B=B)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a whole number of at least 1, got {rounds!r}")
    s = association(torch.cat([X, Y]), A, B)  # (n_x + n_y,)
    observed = s[: len(X)].sum() - s[len(X):].sum()
    generator = torch.Generator().manual_seed(seed)
    orders = torch.stack([torch.randperm(len(s), generator=generator) for _ in range(rounds)])
    shuffled = s[orders]  # (rounds, n_x + n_y)
    statistic = shuffled[:, : len(X)].sum(1) - shuffled[:, len(X):].sum(1)
    return float((statistic >= observed).float().mean())


def word_vectors(embeddings: torch.nn.Embedding, tokenizer: WordPieceTokenizer,
                 words) -> torch.Tensor:
    """The input embedding rows (words, hidden) of words that are one piece each."""
    if isinstance(words, str):
        raise TypeError(f"words must be a list of words, got the single string {words!r}")
    split = {w: tokenizer.tokenize(w) for w in words}
    several = [w for w, pieces in split.items() if len(pieces) != 1]
    if several:
        raise ValueError(f"word vectors need words that are one piece in this vocabulary; these "
                         f"are not: {several}; use sentence_vectors or other words")
    ids = torch.tensor([tokenizer.convert_tokens_to_ids(pieces[0]) for pieces in split.values()])
    return embeddings.weight[ids].detach()


@torch.no_grad()
def sentence_vectors(model, tokenizer: WordPieceTokenizer, words,
                     template: str = "this is the {}.") -> torch.Tensor:
    """One vector (words, hidden) per word: the mean of the encoder's last-layer vectors of the
    template sentence filled with the word (how MiniLM makes its sentence embeddings)."""
    batch = tokenizer.encode_batch([template.format(word) for word in words])
    hidden = model(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    return global_average_pooling(hidden, batch["attention_mask"])  # (words, hidden)


__all__ = ["FEMALE_OCCUPATIONS", "FEMALE_WORDS", "MALE_OCCUPATIONS", "MALE_WORDS", "association",
           "effect_size", "permutation_p_value", "sentence_vectors", "word_vectors"]
