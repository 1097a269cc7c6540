"""The exercise checkers of notebooks 06, 07, 09 and 10, fed right answers and typical wrong ones;
plus the course data set and the diagrams those notebooks use."""

from __future__ import annotations

import csv
import importlib.util
import math
import unicodedata
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
import torch

import course_lib as cl
from course_kit.checks.classify import (
    check_held_out_accuracy,
    check_sentence_features,
    check_standardize,
)
from course_kit.checks.encoder import (
    check_attention_flop_share,
    check_growth_exponent,
    check_masked_max_pooling,
    check_parameter_count,
    true_parameter_count,
)
from course_kit.checks.pretrained import (
    check_cosine_similarity_matrix,
    check_load_weights,
    check_name_map,
)
from course_kit.checks.where_next import check_space_around_cjk, check_uncased_normalize

ROOT = Path(__file__).resolve().parent.parent


def failures(report) -> str:
    """All the [fix] points of a report, as one string to search in."""
    return "\n".join(report.failed_points)


def assert_fails_with(report, *phrases: str) -> None:
    assert not report.passed, str(report)
    text = failures(report)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in:\n{report}"


def crash(*_args, **_kwargs):
    raise RuntimeError("boom")


def not_written(*_args, **_kwargs):
    return None


# ---------------------------------------------------------------- 06: parameter count


def right_count(config: cl.BertConfig) -> int:
    h, i = config.hidden_size, config.intermediate_size
    rows = config.vocab_size + config.max_position_embeddings + config.type_vocab_size
    per_layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h
    return rows * h + 2 * h + config.num_layers * per_layer


@pytest.mark.parametrize("config", [cl.BertConfig.base(), cl.BertConfig.tiny(),
                                    cl.BertConfig(hidden_size=48, num_heads=4, num_layers=3,
                                                  intermediate_size=100, type_vocab_size=3)])
def test_true_parameter_count_is_the_real_model_and_the_library(config):
    assert true_parameter_count(config) == cl.count_bert_parameters(config)["total"]
    assert true_parameter_count(config) == right_count(config)


def test_parameter_count_right_answer_passes():
    report = check_parameter_count(right_count)
    assert report.passed, str(report)
    assert "108,891,648" in str(report)


def test_parameter_count_numpy_int_is_accepted():
    assert check_parameter_count(lambda c: np.int64(right_count(c))).passed


def test_parameter_count_without_biases():
    def no_biases(config):
        h, i, n = config.hidden_size, config.intermediate_size, config.num_layers
        return right_count(config) - n * (4 * h + i + h)

    assert_fails_with(check_parameter_count(no_biases), "biases")


def test_parameter_count_without_layer_norms():
    def no_norms(config):
        h, n = config.hidden_size, config.num_layers
        return right_count(config) - 2 * h - n * 4 * h

    assert_fails_with(check_parameter_count(no_norms), "LayerNorm scales and shifts")


def test_parameter_count_with_pooler():
    def with_pooler(config):
        return right_count(config) + config.hidden_size**2 + config.hidden_size

    assert_fails_with(check_parameter_count(with_pooler), "pooler")


def test_parameter_count_without_position_and_segment_tables():
    def words_only(config):
        h = config.hidden_size
        return right_count(config) - (config.max_position_embeddings + config.type_vocab_size) * h

    assert_fails_with(check_parameter_count(words_only), "position and segment")


def test_parameter_count_hard_coded_base_fails_on_other_sizes():
    report = check_parameter_count(lambda config: 108_891_648)
    assert not report.passed
    assert any("BERT-base" in point for point in report.passed_points)
    assert "MiniLM" in failures(report)


def test_parameter_count_wrong_types_and_crashes_are_reported():
    assert_fails_with(check_parameter_count(lambda c: float(right_count(c)) + 0.5), "whole number")
    assert_fails_with(check_parameter_count(crash), "RuntimeError: boom")
    assert_fails_with(check_parameter_count(not_written), "returned None")
    assert_fails_with(check_parameter_count("not a function"), "expected a function")


# ---------------------------------------------------------------- 06: masked max pooling


def right_max(sequence, mask):
    return sequence.masked_fill(~mask.bool().unsqueeze(-1), float("-inf")).max(dim=1).values


def test_masked_max_right_answer_passes():
    assert check_masked_max_pooling(right_max).passed


def test_masked_max_that_includes_padding():
    assert_fails_with(check_masked_max_pooling(lambda s, m: s.max(dim=1).values),
                      "padding was included")


def test_masked_max_that_fills_padding_with_zero():
    report = check_masked_max_pooling(lambda s, m: (s * m.unsqueeze(-1)).max(dim=1).values)
    assert_fails_with(report, "-inf")


def test_masked_max_over_the_wrong_axis():
    report = check_masked_max_pooling(
        lambda s, m: s.masked_fill(~m.bool().unsqueeze(-1), float("-inf")).max(dim=-1).values)
    assert_fails_with(report, "over the hidden features")


def test_masked_max_returning_values_and_indices():
    report = check_masked_max_pooling(
        lambda s, m: tuple(s.masked_fill(~m.bool().unsqueeze(-1), float("-inf")).max(dim=1)))
    assert_fails_with(report, "(values, indices)")


def test_masked_max_that_edits_its_input_in_place_still_gets_a_fair_check():
    def in_place(sequence, mask):
        sequence[mask == 0] = float("-inf")  # changes the learner's copy only
        return sequence.max(dim=1).values

    assert check_masked_max_pooling(in_place).passed


def test_masked_max_crash_is_reported():
    assert_fails_with(check_masked_max_pooling(crash), "RuntimeError")


# ---------------------------------------------------------------- 06: FLOP share and exponent


def right_share(n, config):
    h, i = config.hidden_size, config.intermediate_size
    attention = 4 * n * n * h
    return attention / (attention + 8 * n * h * h + 4 * n * h * i)


def test_flop_share_right_answer_passes():
    assert check_attention_flop_share(right_share).passed


def test_flop_share_common_mistakes_are_named():
    def only_scores(n, config):
        h, i = config.hidden_size, config.intermediate_size
        return 2 * n * n * h / (2 * n * n * h + 8 * n * h * h + 4 * n * h * i)

    def no_feed_forward(n, config):
        h = config.hidden_size
        return 4 * n * n * h / (4 * n * n * h + 8 * n * h * h)

    assert_fails_with(check_attention_flop_share(only_scores), "weights @ V")
    assert_fails_with(check_attention_flop_share(no_feed_forward), "feed-forward network was left")
    assert_fails_with(check_attention_flop_share(lambda n, c: 100 * right_share(n, c)),
                      "percentage")


def test_growth_exponent_right_answers_pass():
    assert check_growth_exponent(
        lambda n, v: np.polyfit(np.log(n), np.log(v), 1)[0]).passed
    assert check_growth_exponent(  # base-10 logs give the same slope
        lambda n, v: torch.tensor(np.polyfit(np.log10(n), np.log10(v), 1)[0])).passed


def test_growth_exponent_mistakes_are_named():
    assert_fails_with(check_growth_exponent(lambda n, v: np.polyfit(n, v, 1)[0]), "linear axes")
    assert_fails_with(check_growth_exponent(lambda n, v: np.polyfit(np.log(v), np.log(n), 1)[0]),
                      "swapped")
    assert_fails_with(check_growth_exponent(
        lambda n, v: math.log(v[-1] / v[0]) / math.log(n[-1] / n[0])), "first and last")
    assert_fails_with(check_growth_exponent(lambda n, v: "two"), "one number")


# ---------------------------------------------------------------- 07: name map


def only_the_rule_fails(report, name: str) -> None:
    """Every value right; what fails is the call of course_lib's own version."""
    assert [p.split(":")[0] for p in report.failed_points] == [f"you called `{name}`"], str(report)


def test_name_map_right_answer_passes():
    only_the_rule_fails(check_name_map(cl.checkpoint_name_to_ours), "cl.checkpoint_name_to_ours")


def test_name_map_that_keeps_the_bert_prefix():
    def keeps_prefix(name):
        ours = cl.checkpoint_name_to_ours(name)
        return None if ours is None else ("bert." + ours if name.startswith("bert.") else ours)

    assert_fails_with(check_name_map(keeps_prefix), "'bert.' prefix must be dropped")


def test_name_map_that_forgets_gamma_and_beta():
    def no_rename(name):
        if name.endswith((".gamma", ".beta")):
            stem, _, kind = name.rpartition(".")
            ours = cl.checkpoint_name_to_ours(stem + ".weight")
            return ours.rpartition(".")[0] + "." + kind
        return cl.checkpoint_name_to_ours(name)

    assert_fails_with(check_name_map(no_rename), "gamma")


def test_name_map_that_keeps_singular_layer():
    def singular(name):
        ours = cl.checkpoint_name_to_ours(name)
        return ours.replace("encoder.layers.", "encoder.layer.") if ours else None

    assert_fails_with(check_name_map(singular), "plural")


def test_name_map_that_maps_everything():
    def never_none(name):
        return cl.checkpoint_name_to_ours(name) or name

    assert_fails_with(check_name_map(never_none), "return None")


def test_name_map_crash_is_reported():
    assert_fails_with(check_name_map(crash), "raised RuntimeError")


# ---------------------------------------------------------------- 07: loading by hand


def test_load_weights_right_answer_passes():
    only_the_rule_fails(check_load_weights(cl.load_checkpoint_into), "cl.load_checkpoint_into")


def copy_without_checks(model, checkpoint):
    """Copies what fits by name, ignores the rest: silent about problems."""
    ours = model.state_dict()
    with torch.no_grad():
        for name, tensor in checkpoint.items():
            target = cl.checkpoint_name_to_ours(name)
            if target in ours and ours[target].shape == tensor.shape:
                ours[target].copy_(tensor)


def test_load_weights_that_accepts_bad_checkpoints_silently():
    report = check_load_weights(copy_without_checks)
    assert any("every parameter" in point for point in report.passed_points)
    assert_fails_with(report, "accepted silently")


def copy_while_checking(model, checkpoint, order=list):
    """Checks each tensor's shape just before copying it, in ``order`` (the checkpoint's own by
    default), and only afterwards whether any parameter was missing."""
    ours = model.state_dict()
    with torch.no_grad():
        for name, tensor in order(checkpoint.items()):
            target = cl.checkpoint_name_to_ours(name)
            if target not in ours:
                continue
            if ours[target].shape != tensor.shape:
                raise ValueError(f"{name} is mis-shaped")
            ours[target].copy_(tensor)
    missing = set(ours) - {cl.checkpoint_name_to_ours(n) for n in checkpoint}
    if missing:
        raise ValueError(f"missing {sorted(missing)}")


def test_load_weights_that_half_loads_before_failing():
    def copy_then_fail(model, checkpoint):  # the same, in reverse order of the names
        copy_while_checking(model, checkpoint, order=lambda items: sorted(items, reverse=True))

    assert_fails_with(check_load_weights(copy_then_fail), "half loaded")


def test_load_weights_that_copies_while_it_checks_is_named():
    """The mis-shaped tensor late in the checkpoint: a loader that checks each shape just before
    copying it has changed the earlier layers by then."""
    report = check_load_weights(copy_while_checking)
    assert any("first in the checkpoint the model was left unchanged" in point
               for point in report.passed_points)
    assert_fails_with(report, "in the last layer", "changed", "parameters before it found the "
                      "mis-shaped tensor", "check every tensor", "first, then copy")


def test_load_weights_that_checks_everything_first_written_differently_passes():
    def check_then_copy(model, checkpoint):
        ours = model.state_dict()
        mapped = {cl.checkpoint_name_to_ours(n): (n, t) for n, t in checkpoint.items()}
        for target, parameter in ours.items():
            if target not in mapped:
                raise ValueError(f"missing {target}")
            name, tensor = mapped[target]
            if tensor.shape != parameter.shape:
                raise ValueError(f"mis-shaped {name}")
        with torch.no_grad():
            for target, parameter in ours.items():
                parameter.copy_(mapped[target][1])

    report = check_load_weights(check_then_copy)
    assert report.passed, str(report)


def test_load_weights_with_the_wrong_error_type():
    def strict_torch(model, checkpoint):
        state = {cl.checkpoint_name_to_ours(n): t for n, t in checkpoint.items()}
        model.load_state_dict({k: v for k, v in state.items() if k in model.state_dict()})

    assert_fails_with(check_load_weights(strict_torch), "should raise ValueError")


def test_load_weights_with_an_error_that_names_nothing():
    def vague(model, checkpoint):
        try:
            cl.load_checkpoint_into(model, checkpoint)
        except ValueError:
            raise ValueError("bad checkpoint") from None

    assert_fails_with(check_load_weights(vague), "message should name it")


def test_load_weights_crash_is_reported():
    assert_fails_with(check_load_weights(crash), "raised RuntimeError")


# ---------------------------------------------------------------- 07: cosine similarity


def test_cosine_right_answers_pass():
    only_the_rule_fails(check_cosine_similarity_matrix(
        lambda v: torch.nn.functional.cosine_similarity(v[:, None], v[None], dim=-1)),
        "F.cosine_similarity")
    unit = lambda v: v / v.norm(dim=1, keepdim=True)  # noqa: E731
    assert check_cosine_similarity_matrix(lambda v: unit(v) @ unit(v).T).passed


def test_cosine_mistakes_are_named():
    assert_fails_with(check_cosine_similarity_matrix(lambda v: v @ v.T), "not normalised")
    assert_fails_with(check_cosine_similarity_matrix(
        lambda v: (v / v.norm(dim=0)) @ (v / v.norm(dim=0)).T), "wrong axis")
    unit = lambda v: v / v.norm(dim=1, keepdim=True)  # noqa: E731
    assert_fails_with(check_cosine_similarity_matrix(lambda v: 1 - unit(v) @ unit(v).T),
                      "distance")
    assert_fails_with(check_cosine_similarity_matrix(lambda v: unit(v)), "shape")


# ---------------------------------------------------------------- 09: features


def right_features(hidden, mask, pooling):
    if pooling == "cls":
        return hidden[:, 0]
    keep = mask.bool().unsqueeze(-1)  # (batch, seq, 1)
    if pooling == "average":
        return (hidden * keep).sum(dim=1) / keep.sum(dim=1)
    return hidden.masked_fill(~keep, float("-inf")).max(dim=1).values


def test_features_right_answer_passes():
    assert check_sentence_features(right_features).passed


def test_features_average_that_includes_padding():
    def mean_of_all(hidden, mask, pooling):
        return hidden.mean(dim=1) if pooling == "average" else right_features(hidden, mask, pooling)

    assert_fails_with(check_sentence_features(mean_of_all), "padding was included in the average")


def test_features_average_divided_by_the_padded_length():
    def zeroed(hidden, mask, pooling):
        if pooling == "average":
            return (hidden * mask.unsqueeze(-1)).sum(dim=1) / hidden.shape[1]
        return right_features(hidden, mask, pooling)

    assert_fails_with(check_sentence_features(zeroed), "full length")


def test_features_cls_from_the_end():
    def last(hidden, mask, pooling):
        return hidden[:, -1] if pooling == "cls" else right_features(hidden, mask, pooling)

    assert_fails_with(check_sentence_features(last), "[CLS] is the first")


def test_features_max_over_the_wrong_axis():
    def wrong_axis(hidden, mask, pooling):
        if pooling == "max":
            return hidden.max(dim=2).values  # over the features: (batch, seq)
        return right_features(hidden, mask, pooling)

    assert_fails_with(check_sentence_features(wrong_axis), "over the hidden features")


def test_features_crash_is_reported():
    assert_fails_with(check_sentence_features(crash), "RuntimeError")


# ---------------------------------------------------------------- 09: standardise


def test_standardize_right_answers_pass():
    def torch_version(train, test):
        mean, std = train.mean(dim=0), train.std(dim=0)
        return (train - mean) / std, (test - mean) / std

    def numpy_version(train, test):
        a, b = train.numpy(), test.numpy()
        mean, std = a.mean(axis=0), a.std(axis=0)  # NumPy divides by n
        return torch.from_numpy((a - mean) / std), torch.from_numpy((b - mean) / std)

    assert check_standardize(torch_version).passed
    assert check_standardize(numpy_version).passed


def test_standardize_test_with_its_own_statistics():
    def own(train, test):
        return ((train - train.mean(0)) / train.std(0), (test - test.mean(0)) / test.std(0))

    assert_fails_with(check_standardize(own), "its own mean and std")


def test_standardize_with_pooled_statistics():
    def pooled(train, test):
        both = torch.cat([train, test])
        return (train - both.mean(0)) / both.std(0), (test - both.mean(0)) / both.std(0)

    assert_fails_with(check_standardize(pooled), "train and test together")


def test_standardize_per_sentence():
    def per_row(train, test):
        def z(x):
            return (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True)

        return z(train), z(test)

    assert_fails_with(check_standardize(per_row), "per sentence")


def test_standardize_wrong_return_value():
    assert_fails_with(check_standardize(lambda train, test: train), "2 results")


# ---------------------------------------------------------------- 09: held-out accuracy


def train_classifier(x, y, steps=150):
    torch.manual_seed(0)
    classifier = torch.nn.Linear(x.shape[1], 4)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.02)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(classifier(x), y).backward()
        optimizer.step()
    return classifier


def score(classifier, x, y):
    with torch.no_grad():
        return (classifier(x).argmax(dim=1) == y).float().mean().item()


def test_held_out_accuracy_right_answer_passes():
    report = check_held_out_accuracy(
        lambda a, b, c, d: score(train_classifier(a, b), c, d))
    assert report.passed, str(report)


def test_held_out_accuracy_on_the_training_split():
    report = check_held_out_accuracy(
        lambda a, b, c, d: score(train_classifier(a, b), a, b))
    assert_fails_with(report, "measured on the training split")


def test_held_out_accuracy_trained_on_the_test_split():
    def leaks(a, b, c, d):
        return score(train_classifier(torch.cat([a, c]), torch.cat([b, d]), steps=300), c, d)

    assert_fails_with(check_held_out_accuracy(leaks), "trained on the test split")


def test_held_out_accuracy_as_percent_and_nan():
    percent = check_held_out_accuracy(lambda a, b, c, d: 100 * score(train_classifier(a, b), c, d))
    assert_fails_with(percent, "not a percent")
    assert_fails_with(check_held_out_accuracy(lambda *args: float("nan")), "NaN")
    assert_fails_with(check_held_out_accuracy(crash), "RuntimeError")


# ---------------------------------------------------------------- 10: CJK and normalisation


def right_cjk(text):
    from course_lib.tokenizer import is_cjk

    return "".join(f" {c} " if is_cjk(c) else c for c in text)


def test_cjk_right_answer_passes():
    assert check_space_around_cjk(right_cjk).passed


def test_cjk_that_splits_kana_and_hangul():
    def every_east_asian(text):
        def split(c):
            name = unicodedata.name(c, "")
            return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))

        return "".join(f" {c} " if split(c) else c for c in text)

    assert_fails_with(check_space_around_cjk(every_east_asian), "hiragana, katakana or Hangul")


def test_cjk_main_block_only():
    report = check_space_around_cjk(
        lambda t: "".join(f" {c} " if 0x4E00 <= ord(c) <= 0x9FFF else c for c in t))
    assert_fails_with(report, "Extension A")


def test_cjk_every_non_ascii_character():
    report = check_space_around_cjk(lambda t: "".join(f" {c} " if ord(c) > 127 else c for c in t))
    assert_fails_with(report, "non-ASCII")


def test_cjk_wrong_type_and_crash():
    assert_fails_with(check_space_around_cjk(lambda t: t.split()), "return a str")
    assert_fails_with(check_space_around_cjk(crash), "RuntimeError")


def right_normalize(text):
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def test_uncased_right_answer_passes():
    assert check_uncased_normalize(right_normalize).passed


def test_uncased_mistakes_are_named():
    assert_fails_with(check_uncased_normalize(lambda t: right_normalize(t).upper()))
    assert_fails_with(check_uncased_normalize(lambda t: t.lower()), "accents were kept")
    assert_fails_with(check_uncased_normalize(
        lambda t: t.lower().encode("ascii", "ignore").decode()), "non-ASCII")
    assert_fails_with(check_uncased_normalize(
        lambda t: "".join(c for c in unicodedata.normalize("NFKD", t.lower())
                          if unicodedata.category(c) != "Mn")), "NFKD")
    assert_fails_with(check_uncased_normalize(
        lambda t: "".join(c for c in unicodedata.normalize("NFD", t)
                          if unicodedata.category(c) != "Mn")), "not lowercased")
    assert_fails_with(check_uncased_normalize(not_written), "returned None")


# ---------------------------------------------------------------- the data set and diagrams


def test_sentences_data_set_is_as_the_notebook_describes():
    with open(cl.course_file("data/sentences.csv"), encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["text", "label", "split"]
    assert len(rows) >= 300
    texts = [row["text"] for row in rows]
    assert len(set(texts)) == len(texts), "every sentence appears once"
    assert all(text.strip() == text and len(text.split()) >= 3 for text in texts)
    labels = {row["label"] for row in rows}
    assert labels == {"sport", "food", "weather", "technology"}
    assert {row["split"] for row in rows} == {"train", "test"}
    for label in labels:
        splits = [row["split"] for row in rows if row["label"] == label]
        assert splits.count("train") == 60 and splits.count("test") == 30, label


@pytest.mark.parametrize("script", ["make_diagrams_00_05", "make_diagrams_06_10",
                                    "make_diagrams_09_pretraining"])
def test_diagram_scripts_draw_well_formed_svg_equal_to_the_committed_files(script):
    """Every diagram is well-formed SVG, and the committed file is what its script draws now."""
    folder = cl.course_file("diagrams")
    spec = importlib.util.spec_from_file_location(
        script, ROOT / "tools/assets/diagrams" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    builds = {name: getattr(module, attr) for name, attr in DIAGRAM_BUILDS[script]}
    for name, build in builds.items():
        drawn = build().svg()
        root = ElementTree.fromstring(drawn)
        assert root.tag.endswith("svg") and len(list(root.iter())) > 20, name
        committed = (folder / name).read_text(encoding="utf-8")
        assert committed == drawn, (
            f"{name} is out of date: run python tools/assets/diagrams/{script}.py")
    if script == "make_diagrams_06_10":
        stack = builds["06_encoder_stack.svg"]().svg()
        assert stack.count("encoder layer ") == 12
        assert "108,891,648" in stack


DIAGRAM_BUILDS = {
    "make_diagrams_00_05": [("embeddings_sum.svg", "embeddings_sum"),
                            ("qkv_one_head.svg", "qkv_one_head"),
                            ("heads_split_merge.svg", "heads_split_merge"),
                            ("encoder_layer.svg", "encoder_layer")],
    "make_diagrams_06_10": [("06_encoder_stack.svg", "encoder_stack"),
                            ("07_checkpoint_names.svg", "checkpoint_names"),
                            ("09_classifier_pipeline.svg", "classifier_pipeline")],
    "make_diagrams_09_pretraining": [("09_causal_vs_bidirectional.svg", "causal_vs_bidirectional"),
                                     ("09_masked_lm.svg", "masked_lm")],
}
