"""Checkers for notebook 07 (pretrained weights): the checkpoint name map, loading a checkpoint by
hand with clear errors, and the cosine similarity matrix used to compare sentence vectors."""

from __future__ import annotations

import torch

from course_lib.config import BertConfig
from course_lib.model import BertModel
from course_lib.weights import checkpoint_name_to_ours, ours_to_checkpoint_state

from .calling import call_learner, describe_error, run_learner, timeout_message
from .cases import Case, check_cases
from .fixtures import seeded
from .report import CheckReport
from .rules import exercise

LAYER_PARTS = ("attention.self.query", "attention.self.key", "attention.self.value",
               "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
               "output.dense", "output.LayerNorm")
EMBEDDING_PARTS = ("embeddings.word_embeddings", "embeddings.position_embeddings",
                   "embeddings.token_type_embeddings", "embeddings.LayerNorm")
SET_ASIDE_NAMES = ("embeddings.position_ids", "cls.predictions.bias",
                   "cls.predictions.transform.dense.weight", "cls.seq_relationship.weight")


def name_map_cases() -> list[str]:
    """Checkpoint names the map must handle: every kind of tensor, with and without "bert.",
    old LayerNorm names (gamma/beta), two-digit layer numbers, and names to set aside."""
    names = [f"{part}.{kind}" for part in EMBEDDING_PARTS for kind in ("weight", "bias")
             if not (part != "embeddings.LayerNorm" and kind == "bias")]
    for layer in (0, 5, 11):
        names += [f"encoder.layer.{layer}.{part}.{kind}" for part in LAYER_PARTS
                  for kind in ("weight", "bias")]
    names += ["pooler.dense.weight", "pooler.dense.bias"]
    names += [f"bert.{name}" for name in ("embeddings.word_embeddings.weight",
                                          "encoder.layer.3.attention.self.query.weight",
                                          "encoder.layer.10.output.dense.bias")]
    names += ["bert.embeddings.LayerNorm.gamma", "encoder.layer.2.output.LayerNorm.beta"]
    names += list(SET_ASIDE_NAMES) + ["bert.embeddings.position_ids"]
    return names


def _name_map_mistake(name: str, answer, right) -> str:
    """Say what a wrong answer for one checkpoint name most likely got wrong."""
    if right is None:
        return "this tensor has no place in our encoder: return None (it is set aside)"
    if answer is None:
        return f"this tensor belongs in our model as {right!r}; return that, not None"
    if not isinstance(answer, str):
        return f"return a str (or None), got {type(answer).__name__}"
    if answer.startswith("bert."):
        return "the 'bert.' prefix must be dropped: our model has no 'bert' submodule"
    if answer.endswith((".gamma", ".beta")):
        return "old checkpoints call LayerNorm's weight 'gamma' and its bias 'beta': rename them"
    if ".layer." in answer and ".layers." not in answer:
        return "our layers live in 'encoder.layers.<i>' (plural), not 'encoder.layer.<i>'"
    if answer.split(".")[-1] != right.split(".")[-1]:
        return "keep the last part ('weight' or 'bias') as it is"
    return f"expected {right!r}"


@exercise(forbids=("course_lib.checkpoint_name_to_ours",),
          write_from="the rules of the name map")
def check_name_map(to_our_name) -> CheckReport:
    """``to_our_name(checkpoint_name) -> str | None``: our parameter name for a Hugging Face
    checkpoint name, or None for tensors our encoder does not use."""
    report = CheckReport("checkpoint name -> our name")
    wrong: dict[str, list[str]] = {}
    cases = name_map_cases()
    right_count = 0
    for name in cases:
        ran, answer = call_learner(report, f"to_our_name({name!r})", to_our_name, name,
                                   none_ok=True)  # None is a legal answer: "set it aside"
        if not ran:
            return report
        right = checkpoint_name_to_ours(name)
        if (answer is None or isinstance(answer, str)) and answer == right:
            right_count += 1
            continue
        why = _name_map_mistake(name, answer, right)
        wrong.setdefault(why, []).append(f"{name!r} -> {answer!r}")
    if right_count:
        report.ok(f"{right_count} of {len(cases)} names are mapped right")
    for why, examples in wrong.items():
        shown = "; ".join(examples[:2]) + (f" (and {len(examples) - 2} more)" if len(examples) > 2
                                            else "")
        report.fail(f"{shown}: {why}")
    return report


LOAD_CONFIG = BertConfig.tiny(vocab_size=120, max_position_embeddings=32)


def _source_checkpoint() -> tuple[BertModel, dict[str, torch.Tensor]]:
    """A seeded tiny model and its weights under Hugging Face names, with the extras real
    checkpoints carry: the "bert." prefix, position_ids, a pooler and a pre-training head."""
    with seeded(7):
        source = BertModel(LOAD_CONFIG)
    state = {f"bert.{name}": tensor.clone() for name, tensor in
             ours_to_checkpoint_state(source).items()}
    hidden = LOAD_CONFIG.hidden_size
    state["bert.embeddings.position_ids"] = torch.arange(LOAD_CONFIG.max_position_embeddings)[None]
    state["bert.pooler.dense.weight"] = torch.zeros(hidden, hidden)
    state["bert.pooler.dense.bias"] = torch.zeros(hidden)
    state["cls.predictions.bias"] = torch.zeros(LOAD_CONFIG.vocab_size)
    return source, state


def _fresh_target() -> BertModel:
    with seeded(8):
        return BertModel(LOAD_CONFIG)


def _same_weights(a: BertModel, b: BertModel) -> list[str]:
    """Names of the parameters that differ between two models."""
    theirs = dict(b.named_parameters())
    return [name for name, p in a.named_parameters() if not torch.equal(p, theirs[name])]


@exercise(forbids=("course_lib.load_checkpoint_into",),
          write_from="the name map, a shape check and `copy_`")
def check_load_weights(load_weights) -> CheckReport:
    """``load_weights(model, checkpoint)``: copy every checkpoint tensor into the model by name;
    set aside position_ids, the pooler and the pre-training heads; raise ValueError naming the
    tensor when one is mis-shaped or missing, before changing the model."""
    report = CheckReport("loading a checkpoint by hand")
    source, checkpoint = _source_checkpoint()
    target = _fresh_target()
    ran, _ = call_learner(report, "load_weights(model, a complete checkpoint)", load_weights,
                          target, dict(checkpoint), none_ok=True)
    if not ran:
        return report
    differ = _same_weights(target, source)
    if differ:
        report.fail(f"after loading, {len(differ)} parameters still differ from the checkpoint, "
                    f"e.g. {differ[0]!r}")
    else:
        report.ok("every parameter now holds the checkpoint's tensor (pooler, position_ids and "
                  "the 'cls.' head were set aside)")

    last = LOAD_CONFIG.num_layers - 1  # a late tensor: a loader that copies as it checks has
    # changed most of the model by the time it gets there
    broken_cases = (
        ("mis-shaped", "first in the checkpoint", "bert.embeddings.word_embeddings.weight",
         torch.zeros(LOAD_CONFIG.vocab_size - 1, LOAD_CONFIG.hidden_size)),
        ("mis-shaped", f"in the last layer (layer {last + 1})",
         f"bert.encoder.layer.{last}.output.dense.weight",
         torch.zeros(LOAD_CONFIG.hidden_size, LOAD_CONFIG.intermediate_size - 1)),
        ("missing", "in layer 2", "bert.encoder.layer.1.attention.self.query.weight", None),
    )
    for kind, where, name, replacement in broken_cases:
        broken = dict(checkpoint)
        if replacement is None:
            del broken[name]
        else:
            broken[name] = replacement
        fresh = _fresh_target()
        before = {n: p.clone() for n, p in fresh.named_parameters()}
        raised = _expect_value_error(report, load_weights, fresh, broken, kind, name, where)
        changed = [n for n, p in fresh.named_parameters() if not torch.equal(p, before[n])]
        if changed and raised:
            report.fail(f"with a {kind} tensor {where} the model was half loaded: your loader "
                        f"changed {len(changed)} parameters before it found the {kind} tensor: "
                        "check every tensor (its shape, that it is there) first, then copy")
        elif changed:
            report.fail(f"with a {kind} tensor {where} your loader changed {len(changed)} "
                        f"parameters and never noticed the {kind} tensor: check every tensor "
                        "(its shape, that it is there) first, then copy")
        else:
            report.ok(f"with a {kind} tensor {where} the model was left unchanged")
    return report


def _expect_value_error(report, load_weights, model, checkpoint, kind, name, where) -> bool:
    """The loader must raise ValueError naming the ``kind`` ("mis-shaped", "missing") tensor;
    True when it raised an error at all."""
    what = f"a {kind} tensor {where}"  # e.g. "a missing tensor in layer 2"
    short = name.removeprefix("bert.")
    ours = checkpoint_name_to_ours(name)  # a message may name either side's name
    outcome = run_learner(load_weights, model, checkpoint)
    error = outcome.error
    if outcome.timed_out:
        report.fail(timeout_message(f"load_weights(model, a checkpoint with {what})",
                                    outcome.seconds))
    elif isinstance(error, ValueError) and (short in str(error) or ours in str(error)):
        report.ok(f"{what} raises ValueError naming it")
    elif isinstance(error, ValueError):
        report.fail(f"{what} raises ValueError, but the message should name it "
                    f"({short!r}); got: {error}")
    elif error is not None:  # any other exception type is the wrong kind of error
        report.fail(f"{what} should raise ValueError naming it, got {describe_error(error)}")
    else:
        report.fail(f"{what} ({short}) was accepted silently: raise ValueError naming it")
    return error is not None


def cosine_mistakes(vectors: torch.Tensor) -> dict[str, torch.Tensor]:
    unit = vectors / vectors.norm(dim=1, keepdim=True)  # (n, d), every row of length 1
    column_unit = vectors / vectors.norm(dim=0, keepdim=True)  # normalised the wrong way
    return {
        "the vectors were not normalised (plain dot products)": vectors @ vectors.T,
        "the vectors were normalised over the wrong axis (dim=0, each feature instead of each "
        "vector)": column_unit @ column_unit.T,
        "it returned the cosine distance 1 - cos instead of the similarity": 1 - unit @ unit.T,
    }


@exercise(forbids=("torch.nn.functional.cosine_similarity", "torch.cosine_similarity"),
          write_from="its definition: each vector divided by its length, then one matrix product")
def check_cosine_similarity_matrix(cosine_similarity_matrix) -> CheckReport:
    """``cosine_similarity_matrix(vectors)``: (n, d) -> (n, n), entry [i, j] is the cosine of the
    angle between vector i and vector j (1 on the diagonal)."""
    report = CheckReport("cosine similarity matrix")
    with seeded(9):
        vectors = torch.randn(5, 16) * torch.tensor([0.5, 1.0, 2.0, 3.0, 10.0])[:, None]
    unit = vectors / vectors.norm(dim=1, keepdim=True)  # (n, d), every row of length 1
    case = Case("similarity matrix", (vectors,), unit @ unit.T, cosine_mistakes(vectors),
                call="cosine_similarity_matrix(vectors)")
    check_cases(report, "cosine_similarity_matrix", cosine_similarity_matrix, [case])
    return report


__all__ = [
    "check_cosine_similarity_matrix",
    "check_load_weights",
    "check_name_map",
    "name_map_cases",
]
