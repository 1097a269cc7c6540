"""course_lib.finetune on tiny configs, and the checker of the "one training step" exercise fed
right answers written in different ways and each named mistake."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib as cl
from course_kit.checks.finetune import MAX_GRAD_NORM, check_training_step, raw_gradient_norm
from course_lib import finetune as ft


def tiny_encoder(seed: int = 0, pooler: bool = False) -> cl.BertModel:
    config = cl.BertConfig(vocab_size=60, hidden_size=16, num_layers=2, num_heads=2,
                           intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(seed)
    return cl.BertModel(config, add_pooler=pooler)


def toy_data(n: int = 48, seed: int = 0):
    """Two classes told apart by which half of the vocabulary their words come from, padded."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2  # (n,)
    ids = torch.zeros(n, 10, dtype=torch.long)  # (n, seq)
    mask = torch.zeros(n, 10, dtype=torch.long)
    for row in range(n):
        length = int(torch.randint(4, 11, (1,), generator=generator))
        low = 5 if labels[row] == 0 else 33
        ids[row, 1 : length - 1] = torch.randint(low, low + 27, (length - 2,), generator=generator)
        ids[row, 0], ids[row, length - 1] = 2, 3  # [CLS] ... [SEP]
        mask[row, :length] = 1
    return ids, mask, labels


# ---------------------------------------------------------------- the classifier


@pytest.mark.parametrize("pooling", ft.POOLINGS)
def test_classifier_scores_have_one_column_per_class(pooling):
    ids, mask, _ = toy_data(6)
    model = ft.SentenceClassifier(tiny_encoder(), num_classes=3, pooling=pooling).eval()
    assert model(ids, mask).shape == (6, 3)


def test_pooler_is_added_when_missing_and_kept_when_present():
    encoder = tiny_encoder(pooler=True)
    kept = encoder.pooler.dense.weight.clone()
    ft.SentenceClassifier(encoder, 2)
    assert torch.equal(encoder.pooler.dense.weight, kept)
    bare = tiny_encoder()
    ft.SentenceClassifier(bare, 2)
    assert bare.pooler is not None and abs(bare.pooler.dense.weight.std().item() - 0.02) < 0.005


def test_sentence_vector_of_each_pooling():
    ids, mask, _ = toy_data(5)
    encoder = tiny_encoder(pooler=True).eval()
    with torch.no_grad():
        out = encoder(ids, attention_mask=mask)
        expected = {"pooler": out.pooler_output, "cls": out.last_hidden_state[:, 0],
                    "average": cl.global_average_pooling(out.last_hidden_state, mask)}
        for pooling, vector in expected.items():
            model = ft.SentenceClassifier(encoder, 2, pooling=pooling).eval()
            torch.testing.assert_close(model.sentence_vector(ids, mask), vector)


def test_classifier_refuses_unknown_pooling_and_too_few_classes():
    with pytest.raises(ValueError, match="pooling must be one of"):
        ft.SentenceClassifier(tiny_encoder(), 2, pooling="max")
    with pytest.raises(ValueError, match="num_classes must be an int of at least 2"):
        ft.SentenceClassifier(tiny_encoder(), 1)


def test_dropout_acts_in_train_mode_only():
    ids, mask, _ = toy_data(4)
    model = ft.SentenceClassifier(tiny_encoder(), 2)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(ids, mask), model(ids, mask))
        model.train()
        assert not torch.equal(model(ids, mask), model(ids, mask))


# ---------------------------------------------------------------- optimiser and schedule


def test_optimizer_decays_matrices_but_not_biases_or_layernorm():
    model = ft.SentenceClassifier(tiny_encoder(), 2)
    optimizer = ft.make_optimizer(model, lr=1e-3, weight_decay=0.01)
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_warmup_then_linear_decay():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = ft.warmup_linear_decay(optimizer, warmup_steps=4, total_steps=12)
    rates = []
    for _ in range(12):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] > 0  # the first step already moves the weights
    assert all(a < b for a, b in zip(rates[:5], rates[1:5], strict=False))  # warm-up: rising
    assert rates[4] == pytest.approx(1.0)  # the peak, right after warm-up
    assert all(a > b for a, b in zip(rates[4:], rates[5:], strict=False))  # then falling
    assert rates[-1] == pytest.approx(1 / 8)  # one step before reaching 0
    assert optimizer.param_groups[0]["lr"] == 0.0  # 0 after the last step


def test_schedule_refuses_impossible_steps():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="warmup_steps"):
        ft.warmup_linear_decay(optimizer, warmup_steps=5, total_steps=3)


# ---------------------------------------------------------------- one step, the loop


def test_training_step_switches_on_train_mode_clips_and_steps():
    ids, mask, labels = toy_data(8)
    model = ft.SentenceClassifier(tiny_encoder(), 2).eval()
    reference = copy.deepcopy(model).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    for p in model.parameters():  # stale gradients from "an earlier step"
        p.grad = torch.ones_like(p)
    torch.manual_seed(5)
    loss = ft.training_step(model, ids, mask, labels, optimizer, max_grad_norm=0.01)
    assert model.training
    torch.manual_seed(5)
    expected = F.cross_entropy(reference(ids, mask), labels)
    expected.backward()
    nn.utils.clip_grad_norm_(reference.parameters(), 0.01)
    assert loss == pytest.approx(expected.item(), rel=1e-6)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), q.detach() - q.grad, atol=1e-7, rtol=0)


def test_shuffled_batches_cover_every_example_each_pass():
    generator = torch.Generator().manual_seed(0)
    batches = list(ft.shuffled_batches(10, 4, steps=6, generator=generator))
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    assert sorted(torch.cat(batches[:3]).tolist()) == list(range(10))


def test_trim_padding_keeps_the_longest_real_length():
    ids, mask = torch.tensor([[2, 7, 3, 0, 0], [2, 3, 0, 0, 0]]), torch.tensor(
        [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]])
    short_ids, short_mask = ft.trim_padding(ids, mask)
    assert short_ids.tolist() == [[2, 7, 3], [2, 3, 0]] and short_mask.shape == (2, 3)


def test_training_learns_the_toy_task_and_is_seeded():
    ids, mask, labels = toy_data()
    test_ids, test_mask, test_labels = toy_data(32, seed=1)
    setup = ft.TrainingSetup(steps=40, batch_size=8, lr=3e-3, seed=3)
    model = ft.SentenceClassifier(tiny_encoder(), 2, pooling="average")
    assert ft.accuracy(model, test_ids, test_mask, test_labels) < 0.8
    history = ft.train_classifier(model, ids, mask, labels, setup, progress=False)
    assert not model.training  # left ready for evaluation
    assert len(history.losses) == len(history.learning_rates) == 40
    assert sum(history.losses[-5:]) < sum(history.losses[:5])
    assert ft.accuracy(model, test_ids, test_mask, test_labels) >= 0.9
    again = ft.SentenceClassifier(tiny_encoder(), 2, pooling="average")
    assert ft.train_classifier(again, ids, mask, labels, setup, progress=False).losses == \
        history.losses


def test_train_classifier_refuses_mismatched_shapes():
    ids, mask, labels = toy_data(8)
    with pytest.raises(ValueError, match="must be"):
        ft.train_classifier(ft.SentenceClassifier(tiny_encoder(), 2), ids, mask, labels[:5],
                            progress=False)


def test_progress_bar_on_a_terminal(capsys):
    bar = ft.ProgressBar(4, "demo")
    for _ in range(4):
        bar.update("loss 0.5")
    bar.close("done")
    line = capsys.readouterr().err.split("\r")[-1]
    assert line == "demo [" + "#" * 30 + "] 4/4 done\n"


def test_sentence_vectors_equal_the_model_outputs_in_any_batching():
    ids, mask, _ = toy_data(7)
    encoder = tiny_encoder().eval()
    features = ft.sentence_vectors(encoder, ids, mask, batch_size=3)
    with torch.no_grad():
        hidden = encoder(ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(features["CLS"], hidden[:, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(features["average"], cl.global_average_pooling(hidden, mask),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(features["max"], cl.global_max_pooling(hidden, mask),
                               atol=1e-5, rtol=0)


# ---------------------------------------------------------------- the exercise's checker


def step_as_the_library(model, input_ids, attention_mask, labels, optimizer, max_grad_norm):
    return ft.training_step(model, input_ids, attention_mask, labels, optimizer,
                            max_grad_norm=max_grad_norm)


def step_manual_clip_tensor_loss(model, input_ids, attention_mask, labels, optimizer,
                                 max_grad_norm):
    """Right, written differently: model.zero_grad, nn.CrossEntropyLoss, clipping by hand,
    the loss returned as a 0-d tensor."""
    model.zero_grad()
    model.train()
    loss = nn.CrossEntropyLoss()(model(input_ids, attention_mask), labels)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    if norm > max_grad_norm:
        for g in grads:
            g.mul_(max_grad_norm / (norm + 1e-6))
    optimizer.step()
    return loss.detach()


def step_zero_grad_at_the_end(model, input_ids, attention_mask, labels, optimizer,
                              max_grad_norm):
    """Right too: gradients cleared after the update, so the next step starts clean."""
    model.train()
    loss = F.cross_entropy(model(input_ids, attention_mask), labels)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=False)
    return float(loss.detach())


@pytest.mark.parametrize("answer", [step_as_the_library, step_manual_clip_tensor_loss,
                                    step_zero_grad_at_the_end])
def test_training_step_checker_accepts_right_answers(answer):
    report = check_training_step(answer)
    assert report.passed, str(report)


def test_clipping_matters_for_the_checkers_batch():
    assert raw_gradient_norm() > 5 * MAX_GRAD_NORM


def _step(zero_grad=True, train=True, clip=True, step=True, clip_after=False,
          loss_item=True):
    def training_step(model, input_ids, attention_mask, labels, optimizer, max_grad_norm):
        if train:
            model.train()
        if zero_grad:
            optimizer.zero_grad()
        loss = F.cross_entropy(model(input_ids, attention_mask), labels)
        loss.backward()
        if clip and not clip_after:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        if step:
            optimizer.step()
        if clip_after:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        return loss.item() if loss_item else "loss"
    return training_step


@pytest.mark.parametrize("wrong, phrase", [
    (_step(zero_grad=False), "call optimizer.zero_grad()"),
    (_step(train=False), "call model.train() at the start of the step"),
    (_step(clip=False), "the gradients were not clipped before the update"),
    (_step(clip_after=True), "the gradients were not clipped before the update"),
    (_step(step=False), "call optimizer.step()"),
    (_step(loss_item=False), "return the loss as a number"),
])
def test_training_step_checker_names_each_mistake(wrong, phrase):
    report = check_training_step(wrong)
    assert not report.passed
    assert phrase in "\n".join(report.failed_points), str(report)


def test_training_step_checker_survives_crashes_and_blanks():
    def crash(*_args):
        raise RuntimeError("boom")

    assert "raised RuntimeError: boom" in str(check_training_step(crash))
    assert "returned None" in str(check_training_step(lambda *args: None))
    assert "expected a function" in str(check_training_step(3))
