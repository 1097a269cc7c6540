"""The BERT Encoder block: its contract from the reference page."""

from __future__ import annotations

import pytest
import torch

import course_lib as cl


@pytest.fixture(scope="module")
def shipped_cls():
    return cl.BertEncoderBlock.from_pretrained("minilm")


def test_random_bert_base_block_gives_768_wide_cls():
    torch.manual_seed(0)
    block = cl.BertEncoderBlock().eval()
    assert block.vocab_size == 30522 and block.model.config.num_layers == 12
    with torch.no_grad():
        assert block(torch.tensor([101, 7592, 102])).shape == (768,)
        assert block(torch.randint(0, 30522, (2, 512))).shape == (2, 768)


def test_cls_is_first_vector_of_sequence(shipped_cls):
    sequence = cl.BertEncoderBlock(output="sequence", model=shipped_cls.model)
    ids = torch.tensor([101, 7592, 1010, 2088, 999, 102])
    with torch.no_grad():
        all_vectors = sequence(ids)
        assert all_vectors.shape == (6, 384)
        assert torch.allclose(shipped_cls(ids), all_vectors[0])


def test_sequence_then_pooling(shipped_cls):
    model = shipped_cls.model
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2204, 2851, 2000, 2017, 102]])
    mask = (ids != 0).long()
    with torch.no_grad():
        sequence = cl.BertEncoderBlock(output="sequence", model=model)(ids, mask)
        average = cl.BertEncoderBlock(output="sequence", pooling="average", model=model)(ids, mask)
        maximum = cl.BertEncoderBlock(output="sequence", pooling="max", model=model)(ids, mask)
    assert sequence.shape == (2, 6, 384) and average.shape == maximum.shape == (2, 384)
    assert torch.allclose(average[0], sequence[0, :4].mean(0), atol=1e-6)
    assert torch.allclose(maximum[0], sequence[0, :4].max(0).values)
    assert torch.allclose(average, cl.global_average_pooling(sequence, mask))


def test_pooling_leaves_padding_out():
    vectors = torch.tensor([[1.0, 5.0], [3.0, -1.0], [100.0, 100.0]])
    mask = torch.tensor([1, 1, 0])
    assert torch.equal(cl.global_average_pooling(vectors, mask), torch.tensor([2.0, 2.0]))
    assert torch.equal(cl.global_max_pooling(vectors, mask), torch.tensor([3.0, 5.0]))
    assert torch.equal(cl.global_max_pooling(vectors), torch.tensor([100.0, 100.0]))


def test_pretrained_block_on_real_text(shipped_cls):
    tok = cl.load_tokenizer("minilm")
    ids = torch.tensor(tok.encode("The bank raised its interest rates."))
    assert ids[0].item() == 101 and ids[-1].item() == 102
    with torch.no_grad():
        vector = shipped_cls(ids)
    assert vector.shape == (384,) and torch.isfinite(vector).all()


def test_related_sentences_are_closer_with_pretrained_weights(shipped_cls):
    """Pretrained weights carry meaning: two sentences on one topic beat an unrelated one."""
    tok = cl.load_tokenizer("minilm")
    block = cl.BertEncoderBlock(output="sequence", pooling="average", model=shipped_cls.model)
    texts = [
        "The football match ended in a draw.",
        "The soccer game finished level.",
        "I baked bread with flour and yeast.",
    ]
    batch = tok.encode_batch(texts)
    with torch.no_grad():
        vectors = block(batch["input_ids"], batch["attention_mask"])
    similar = torch.cosine_similarity(vectors[0], vectors[1], dim=0)
    unrelated = torch.cosine_similarity(vectors[0], vectors[2], dim=0)
    assert similar > unrelated + 0.2
