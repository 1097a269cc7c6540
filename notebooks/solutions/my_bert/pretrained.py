"""my_bert.pretrained: my code from the course notebooks, saved by %%my_bert.

Each block is one definition of a cell; running the cell again replaces the
blocks of the names it defines, so edit the cell in the notebook rather than this
file."""

import torch

import course_lib as cl

# [my_bert cell] defines: LAYER_PARTS
LAYER_PARTS = {
    "attention.self.query": "attention.query",
    "attention.self.key": "attention.key",
    "attention.self.value": "attention.value",
    "attention.output.dense": "attention.output",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "feed_forward.intermediate",
    "output.dense": "feed_forward.output",
    "output.LayerNorm": "output_norm",
}


# [my_bert cell] defines: OTHER_PARTS
OTHER_PARTS = {
    "embeddings.word_embeddings": "embeddings.word_embeddings",
    "embeddings.position_embeddings": "embeddings.position_embeddings",
    "embeddings.token_type_embeddings": "embeddings.token_type_embeddings",
    "embeddings.LayerNorm": "embeddings.layer_norm",
    "pooler.dense": "pooler.dense",
}


# [my_bert cell] defines: to_our_name
def to_our_name(checkpoint_name: str) -> str | None:
    name = checkpoint_name.removeprefix("bert.")
    if name.endswith(".gamma"):
        name = name.removesuffix(".gamma") + ".weight"
    elif name.endswith(".beta"):
        name = name.removesuffix(".beta") + ".bias"
    stem, _, kind = name.rpartition(".")
    if kind not in ("weight", "bias"):
        return None  # e.g. embeddings.position_ids
    if stem.startswith("encoder.layer."):
        index, _, part = stem.removeprefix("encoder.layer.").partition(".")
        ours = LAYER_PARTS.get(part)
        return f"encoder.layers.{index}.{ours}.{kind}" if ours else None
    ours = OTHER_PARTS.get(stem)
    return f"{ours}.{kind}" if ours else None


# [my_bert cell] defines: load_weights
def load_weights(model: cl.BertModel, checkpoint: dict) -> None:
    ours = model.state_dict()
    plan, problems = {}, []
    for name, tensor in checkpoint.items():
        target = to_our_name(name)  # exercise 1's name map
        if target not in ours:
            continue  # set aside: position_ids, the pooler, cls.* heads
        if tuple(tensor.shape) != tuple(ours[target].shape):
            problems.append(f"mis-shaped {name}: checkpoint {tuple(tensor.shape)}, "
                            f"model {tuple(ours[target].shape)}")
        plan[target] = tensor  # a mis-shaped one is in the plan too: it is not *missing*
    problems += [f"missing from the checkpoint: {name}" for name in ours if name not in plan]
    if problems:
        raise ValueError("the checkpoint does not fit the model:\n  " + "\n  ".join(problems))
    with torch.no_grad():
        for target, tensor in plan.items():
            ours[target].copy_(tensor)


# [my_bert cell] defines: cosine_similarity_matrix
def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    unit = vectors / vectors.norm(dim=1, keepdim=True)  # (n, d): every row of length 1
    return unit @ unit.T  # (n, n): all dot products of unit vectors = cosines
