"""Our model equals `transformers.BertModel` on the same weights: hidden states, attentions."""

from __future__ import annotations

import pytest
import torch
from helpers import padded_batch, reference_model

import course_lib as cl

TOLERANCE = 1e-5


def _compare(folder, lengths, seed=0):
    ours = cl.load_pretrained(folder)
    ref = reference_model(folder, attention="eager")
    ids, mask, segments = padded_batch(ours.config.vocab_size, lengths, seed)
    with torch.no_grad():
        mine = ours(ids, mask, segments, output_attentions=True, output_hidden_states=True)
        fused = ours(ids, mask, segments)
        theirs = ref(
            input_ids=ids,
            attention_mask=mask,
            token_type_ids=segments,
            output_attentions=True,
            output_hidden_states=True,
        )
    real = mask.bool()
    gap = (mine.last_hidden_state - theirs.last_hidden_state)[real].abs().max().item()
    fused_gap = (fused.last_hidden_state - theirs.last_hidden_state)[real].abs().max().item()
    assert gap < TOLERANCE, f"hidden states differ by {gap}"
    assert fused_gap < TOLERANCE, f"fused-attention hidden states differ by {fused_gap}"
    assert len(mine.attentions) == len(theirs.attentions) == ours.config.num_layers
    for layer, (a, b) in enumerate(zip(mine.attentions, theirs.attentions, strict=True)):
        assert a.shape == b.shape
        keep = real[:, None, :, None] & real[:, None, None, :]  # real query and key positions
        attention_gap = (a - b).abs().masked_fill(~keep, 0).max().item()
        assert attention_gap < TOLERANCE, f"layer {layer} attention differs by {attention_gap}"
    for layer, (a, b) in enumerate(zip(mine.hidden_states, theirs.hidden_states, strict=True)):
        hidden_gap = (a - b)[real].abs().max().item()
        assert hidden_gap < TOLERANCE, f"hidden state {layer} differs by {hidden_gap}"


def test_shipped_model_equals_reference(minilm_folder):
    _compare(minilm_folder, lengths=(32, 20, 7, 3))


@pytest.mark.parametrize("seed", [0, 1])
def test_random_bert_base_equals_reference(random_base_folder, seed):
    _compare(random_base_folder, lengths=(40, 25, 9), seed=seed)


def test_padding_does_not_change_real_tokens(minilm_folder):
    """A sentence alone and the same sentence padded in a batch give the same vectors."""
    model = cl.load_pretrained(minilm_folder)
    ids, mask, segments = padded_batch(model.config.vocab_size, lengths=(30, 12))
    with torch.no_grad():
        batch = model(ids, mask, segments).last_hidden_state
        alone = model(ids[1:, :12], mask[1:, :12], segments[1:, :12]).last_hidden_state
    assert (batch[1, :12] - alone[0]).abs().max().item() < TOLERANCE


def test_our_weights_load_into_reference(tmp_path):
    """The reverse name map writes a checkpoint that `transformers` reads and agrees with."""
    transformers = pytest.importorskip("transformers")
    from safetensors.torch import save_file

    from course_lib.weights import ours_to_checkpoint_state

    torch.manual_seed(7)
    config = cl.BertConfig.tiny()
    ours = cl.BertModel(config).eval()
    state = {k: v.contiguous() for k, v in ours_to_checkpoint_state(ours).items()}
    save_file(state, str(tmp_path / "model.safetensors"))
    hf_config = transformers.BertConfig(**config.to_hf_dict(), attn_implementation="eager")
    ref = transformers.BertModel(hf_config, add_pooling_layer=False).eval()
    missing, unexpected = ref.load_state_dict(state, strict=False)
    assert not unexpected and all("position_ids" in name for name in missing)
    ids, mask, segments = padded_batch(config.vocab_size, lengths=(10, 6))
    with torch.no_grad():
        gap = (
            ours(ids, mask, segments).last_hidden_state
            - ref(input_ids=ids, attention_mask=mask, token_type_ids=segments).last_hidden_state
        )
    assert gap[mask.bool()].abs().max().item() < TOLERANCE
