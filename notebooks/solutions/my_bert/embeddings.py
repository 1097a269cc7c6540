"""my_bert.embeddings: my code from the course notebooks, saved by %%my_bert.

Each block is one definition of a cell; running the cell again replaces the
blocks of the names it defines, so edit the cell in the notebook rather than this
file."""

import torch


# [my_bert cell] defines: layer_norm
def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # (..., 1), divides by n
    return (x - mean) / torch.sqrt(var + eps) * weight + bias  # (..., hidden)


# [my_bert cell] defines: bert_embeddings
def bert_embeddings(input_ids: torch.Tensor, token_type_ids: torch.Tensor, emb) -> torch.Tensor:
    positions = torch.arange(input_ids.shape[1])  # (seq,)
    summed = (
        emb.word_embeddings(input_ids)  # (batch, seq, hidden)
        + emb.position_embeddings(positions)  # (seq, hidden)
        + emb.token_type_embeddings(token_type_ids)  # (batch, seq, hidden)
    )
    return emb.layer_norm(summed)


# [my_bert cell] defines: nearest_neighbours
def nearest_neighbours(query: torch.Tensor, table: torch.Tensor, k: int):
    cosine = (table @ query) / (table.norm(dim=-1) * query.norm())  # (n,)
    return cosine.topk(k).indices  # largest first
