"""Checkers for notebook 02 (word embeddings): the three-way sum, LayerNorm, nearest neighbours.

Each tensor exercise runs at two sizes (``fixtures.SMALL``, then ``fixtures.OTHER`` with another
width and sequence length), so that code with the first size written into it is caught.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.config import BertConfig
from course_lib.embeddings import BertEmbeddings

from .cases import Case, Unreadable, check_cases
from .compare import as_plain_list, as_tensor
from .fixtures import OTHER, SMALL, randn, seeded, seeded_module
from .report import CheckReport, recorded
from .rules import exercise

EMBEDDING_NORM = ("layer_norm",)


def small_embeddings(config: BertConfig = SMALL) -> BertEmbeddings:
    """A seeded small embedding layer, LayerNorm scale and shift made non-trivial, in eval mode."""
    return seeded_module(BertEmbeddings, config, seed=2, norms=EMBEDDING_NORM)


def embedding_inputs(config: BertConfig = SMALL) -> tuple[torch.Tensor, torch.Tensor]:
    """IDs and segment IDs: (2, 7) each at SMALL (the first row a sentence pair); (3, 4) at any
    other size."""
    batch, seq = (2, 7) if config is SMALL else (3, 4)
    with seeded(3):
        ids = torch.randint(0, config.vocab_size, (batch, seq))  # (batch, seq)
    segments = torch.zeros(batch, seq, dtype=torch.long)  # (batch, seq)
    segments[0, seq // 2 + 1:] = 1  # the first row is a pair: segment B on its second half
    return ids, segments


def embedding_mistakes(embeddings: BertEmbeddings, ids, segments) -> dict[str, torch.Tensor]:
    """The catalogue: what each typical mistake gives on these inputs."""
    word = embeddings.word_embeddings(ids)  # (batch, seq, hidden)
    segment = embeddings.token_type_embeddings(segments)  # (batch, seq, hidden)
    positions = embeddings.position_embeddings.weight  # (max_positions, hidden)
    position = positions[: ids.shape[1]]  # (seq, hidden), broadcast over the batch
    norm = embeddings.layer_norm
    return {
        "the position embeddings were left out": norm(word + segment),
        "the segment embeddings were left out": norm(word + position),
        "the LayerNorm was skipped": word + position + segment,
        "positions were counted from 1; the first token has position 0":
            norm(word + positions[1: ids.shape[1] + 1] + segment),
        "the LayerNorm lost its learned scale and shift (weight, bias)":
            F.layer_norm(word + position + segment, (word.shape[-1],), eps=norm.eps),
    }


def _embedding_case(config: BertConfig) -> Case:
    embeddings = small_embeddings(config)
    ids, segments = embedding_inputs(config)
    with torch.no_grad():
        expected = embeddings(ids, segments)  # (batch, seq, hidden)
        mistakes = embedding_mistakes(embeddings, ids, segments)
    batch, seq = ids.shape
    sizes = f"{batch} inputs of {seq} tokens, hidden size {config.hidden_size}"
    return Case("the embedding output" + ("" if config is SMALL else f" ({sizes})"),
                (ids, segments, embeddings), expected, mistakes, call=f"bert_embeddings ({sizes})",
                sizes=sizes)


@exercise(forbids=("course_lib.BertEmbeddings",),
          write_from="the tables of `emb` and `emb.layer_norm`")
def check_embeddings(bert_embeddings) -> CheckReport:
    """Run ``bert_embeddings(input_ids, token_type_ids, embeddings)`` against BertEmbeddings."""
    report = CheckReport("bert_embeddings")
    check_cases(report, "bert_embeddings", bert_embeddings,
                [_embedding_case(SMALL), _embedding_case(OTHER)])
    return report


def layer_norm_inputs(shape: tuple[int, ...] = (2, 5, 8)) -> tuple[torch.Tensor, ...]:
    """Vectors far from mean 0 / std 1, and a non-trivial scale and shift (hidden,)."""
    hidden = shape[-1]
    x = randn(4, *shape) * 2.0 + 3.0  # (..., hidden)
    weight = randn(5, hidden) * 0.5 + 1.0  # (hidden,)
    bias = randn(6, hidden) * 0.5  # (hidden,)
    return x, weight, bias


def _normalize(x: torch.Tensor, dim, unbiased: bool = False, eps: float = 1e-12) -> torch.Tensor:
    mean = x.mean(dim=dim, keepdim=True)
    var = x.var(dim=dim, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(var + eps)


def layer_norm_mistakes(x, weight, bias, eps) -> dict[str, torch.Tensor]:
    """The catalogue: what each typical mistake gives on these inputs."""
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)
    wrong_axes = {f"the wrong axis (dim={dim}) was normalised; use the last axis (dim=-1), each "
                  "token's vector on its own": _normalize(x, dim=dim) * weight + bias
                  for dim in range(x.dim() - 1)}
    return {
        **wrong_axes,
        "the whole tensor was normalised at once; normalise each token's vector (dim=-1)":
            _normalize(x, dim=tuple(range(x.dim()))) * weight + bias,
        "it used the unbiased variance (divides by n - 1); LayerNorm divides by n "
        "(unbiased=False)": _normalize(x, dim=-1, unbiased=True) * weight + bias,
        "the learned scale and shift (weight, bias) were left out": _normalize(x, dim=-1),
        "it divided by the variance instead of the standard deviation (its square root)":
            (x - mean) / (var + eps) * weight + bias,
        "it only subtracted the mean; divide by the standard deviation too":
            (x - mean) * weight + bias,
    }


@exercise(forbids=("torch.nn.functional.layer_norm", "torch.layer_norm", "torch.nn.LayerNorm"),
          write_from="the mean and the variance over the last axis")
def check_layer_norm(layer_norm) -> CheckReport:
    """Run ``layer_norm(x, weight, bias, eps)`` against torch.nn.functional.layer_norm."""
    report = CheckReport("layer_norm")
    eps = 1e-12
    cases = []
    for shape in ((2, 5, 8), (4, 6)):
        x, weight, bias = layer_norm_inputs(shape)
        expected = F.layer_norm(x, (x.shape[-1],), weight, bias, eps)  # same shape as x
        label = "the LayerNorm output" + ("" if shape == (2, 5, 8) else f" on a {shape} input")
        cases.append(Case(label, (x, weight, bias, eps), expected,
                          layer_norm_mistakes(x, weight, bias, eps),
                          call=f"layer_norm on a {shape} input", sizes=f"shape {shape}"))
    check_cases(report, "layer_norm", layer_norm, cases, atol=1e-4)
    return report


def neighbour_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """A table of 20 vectors (20, 8) with very different lengths, and 2 queries (2, 8)."""
    with seeded(5):
        directions = torch.randn(20, 8)  # (n, hidden)
        lengths = torch.exp(torch.randn(20, 1) * 1.5)  # (n, 1): lengths spread 20x either way
        queries = torch.randn(2, 8)  # (2, hidden)
    queries[1] = directions[7] * 0.1 + queries[1] * 0.01  # the second query is close to row 7
    return directions * lengths, queries


def reference_neighbours(query: torch.Tensor, table: torch.Tensor, k: int) -> list[int]:
    """Indices of the k rows with the largest cosine similarity to ``query``, best first."""
    similarity = F.cosine_similarity(table, query.unsqueeze(0), dim=-1)  # (n,)
    return similarity.topk(k).indices.tolist()


def neighbour_mistakes(query, table, k) -> dict[str, list[int]]:
    """The catalogue: the rankings the typical mistakes give."""
    cosine = F.cosine_similarity(table, query.unsqueeze(0), dim=-1)  # (n,)
    return {
        "it ranks by the plain dot product; divide by both vectors' lengths (cosine "
        "similarity), or long vectors win": (table @ query).topk(k).indices.tolist(),
        "these are the least similar rows; sort from the largest similarity down":
            (-cosine).topk(k).indices.tolist(),
        "it ranks by Euclidean distance; use cosine similarity":
            (-(table - query).norm(dim=-1)).topk(k).indices.tolist(),
        "the right rows in the wrong order: most similar first":
            reference_neighbours(query, table, k)[::-1],
    }


def _read_indices(answer) -> list:
    answer = as_tensor(answer)
    if isinstance(answer, torch.Tensor) and answer.is_floating_point():
        raise Unreadable("return the row indices (integers), not the similarities")
    indices = as_plain_list(answer)
    if indices is None:
        raise Unreadable("return a 1-D tensor or list of row indices")
    return indices


def _explain_neighbours(case: Case, indices: list) -> str:
    k = len(case.expected)
    if len(indices) != k:
        return f"expected {k} indices, got {len(indices)}"
    return "rank the rows by cosine similarity, most similar first"


@recorded
def check_nearest_neighbours(nearest_neighbours) -> CheckReport:
    """Run ``nearest_neighbours(query, table, k) -> indices`` (cosine similarity, best first)."""
    report = CheckReport("nearest_neighbours")
    table, queries = neighbour_inputs()
    k = 5
    cases = [Case(f"query {number}", (query, table, k), reference_neighbours(query, table, k),
                  neighbour_mistakes(query, table, k),
                  call=f"nearest_neighbours(query {number}, table of {len(table)}, k={k})")
             for number, query in enumerate(queries, start=1)]
    check_cases(report, "nearest_neighbours", nearest_neighbours, cases, read=_read_indices,
                explain=_explain_neighbours)
    return report
