"""Checkers for notebook 02 (word embeddings): the three-way sum, LayerNorm, nearest neighbours."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import BertConfig
from ..embeddings import BertEmbeddings
from ._learner import as_plain_list, call_learner, clones, seeded
from .core import CheckReport, compare_tensors

SMALL = BertConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                   max_position_embeddings=12)


def small_embeddings() -> BertEmbeddings:
    """A seeded small embedding layer, LayerNorm scale and shift made non-trivial, in eval mode."""
    with seeded(2):
        embeddings = BertEmbeddings(SMALL)
        with torch.no_grad():
            embeddings.layer_norm.weight.normal_(1.0, 0.3)
            embeddings.layer_norm.bias.normal_(0.0, 0.3)
    return embeddings.eval()


def embedding_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """IDs and segment IDs, (2, 7) each; the first row is a sentence pair."""
    with seeded(3):
        ids = torch.randint(0, SMALL.vocab_size, (2, 7))  # (batch, seq)
    segments = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0] * 7])  # (batch, seq)
    return ids, segments


def check_embeddings(bert_embeddings) -> CheckReport:
    """Run ``bert_embeddings(input_ids, token_type_ids, embeddings)`` against BertEmbeddings."""
    report = CheckReport("bert_embeddings")
    embeddings = small_embeddings()
    ids, segments = embedding_inputs()
    finished, answer = call_learner(report, "bert_embeddings", bert_embeddings,
                                    *clones(ids, segments), embeddings)
    if not finished:
        return report
    with torch.no_grad():
        expected = embeddings(ids, segments)  # (batch, seq, hidden)
        word = embeddings.word_embeddings(ids)  # (batch, seq, hidden)
        segment = embeddings.token_type_embeddings(segments)  # (batch, seq, hidden)
        positions = embeddings.position_embeddings.weight  # (max_positions, hidden)
        position = positions[: ids.shape[1]]  # (seq, hidden), broadcast over the batch
        norm = embeddings.layer_norm
        hints = {
            "the position embeddings were left out": norm(word + segment),
            "the segment embeddings were left out": norm(word + position),
            "the LayerNorm was skipped": word + position + segment,
            "positions were counted from 1; the first token has position 0":
                norm(word + positions[1: ids.shape[1] + 1] + segment),
            "the LayerNorm lost its learned scale and shift (weight, bias)":
                F.layer_norm(word + position + segment, (SMALL.hidden_size,), eps=norm.eps),
        }
    compare_tensors(report, "the embedding output", answer, expected, atol=1e-5, hints=hints)
    return report


def layer_norm_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Vectors (2, 5, 8) far from mean 0 / std 1, and a non-trivial scale and shift (8,)."""
    with seeded(4):
        x = torch.randn(2, 5, 8) * 2.0 + 3.0  # (batch, seq, hidden)
        weight = torch.randn(8) * 0.5 + 1.0  # (hidden,)
        bias = torch.randn(8) * 0.5  # (hidden,)
    return x, weight, bias


def _normalise(x: torch.Tensor, dim: int, unbiased: bool = False) -> torch.Tensor:
    mean = x.mean(dim=dim, keepdim=True)
    var = x.var(dim=dim, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(var + 1e-12)


def check_layer_norm(layer_norm) -> CheckReport:
    """Run ``layer_norm(x, weight, bias, eps)`` against torch.nn.functional.layer_norm."""
    report = CheckReport("layer_norm")
    x, weight, bias = layer_norm_inputs()
    eps = 1e-12
    finished, answer = call_learner(report, "layer_norm", layer_norm, *clones(x, weight, bias), eps)
    if not finished:
        return report
    expected = F.layer_norm(x, (x.shape[-1],), weight, bias, eps)  # (batch, seq, hidden)
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)
    hints = {
        "the wrong axis was normalised: use the last axis, each token's vector on its own":
            _normalise(x, dim=-2) * weight + bias,
        "it used the unbiased variance (divides by n - 1); LayerNorm divides by n "
        "(unbiased=False)": _normalise(x, dim=-1, unbiased=True) * weight + bias,
        "the learned scale and shift (weight, bias) were left out": _normalise(x, dim=-1),
        "it divided by the variance instead of the standard deviation (its square root)":
            (x - mean) / (var + eps) * weight + bias,
        "it only subtracted the mean; divide by the standard deviation too":
            (x - mean) * weight + bias,
    }
    compare_tensors(report, "the LayerNorm output", answer, expected, atol=1e-4, hints=hints)
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


def check_nearest_neighbours(nearest_neighbours) -> CheckReport:
    """Run ``nearest_neighbours(query, table, k) -> indices`` (cosine similarity, best first)."""
    report = CheckReport("nearest_neighbours")
    table, queries = neighbour_inputs()
    k = 5
    for number, query in enumerate(queries, start=1):
        what = f"nearest_neighbours(query {number}, table of {len(table)}, k={k})"
        finished, answer = call_learner(report, what, nearest_neighbours, *clones(query, table), k)
        if not finished:
            return report
        if isinstance(answer, torch.Tensor) and answer.is_floating_point():
            report.fail(f"{what}: return the row indices (integers), not the similarities")
            continue
        indices = as_plain_list(answer)
        expected = reference_neighbours(query, table, k)
        if indices is None:
            report.fail(f"{what}: return a 1-D tensor or list of {k} row indices")
        elif indices == expected:
            report.ok(f"query {number}: rows {expected}")
        elif len(indices) != k:
            report.fail(f"{what}: expected {k} indices, got {len(indices)}")
        else:
            report.fail(f"query {number}: expected rows {expected}, got {indices}: "
                        f"{_neighbour_hint(indices, query, table, k)}")
    return report


def _neighbour_hint(indices: list[int], query: torch.Tensor, table: torch.Tensor, k: int) -> str:
    """Name the mistake behind a wrong ranking."""
    cosine = F.cosine_similarity(table, query.unsqueeze(0), dim=-1)  # (n,)
    if indices == (table @ query).topk(k).indices.tolist():
        return ("it ranks by the plain dot product; divide by both vectors' lengths "
                "(cosine similarity), or long vectors win")
    if indices == (-cosine).topk(k).indices.tolist():
        return "these are the least similar rows; sort from the largest similarity down"
    if indices == (-(table - query).norm(dim=-1)).topk(k).indices.tolist():
        return "it ranks by Euclidean distance; use cosine similarity"
    if sorted(indices) == sorted(reference_neighbours(query, table, k)):
        return "the right rows in the wrong order: most similar first"
    return "rank the rows by cosine similarity, most similar first"
