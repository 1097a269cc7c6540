"""Appendix A1's checkers: right answers written differently pass, classic mistakes are named."""

from __future__ import annotations

import pytest
import torch

from course_kit.checks.speed import (
    _truncated,
    _truncated_before_zero,
    check_int8_linear,
    check_pack_unpack,
)

# --- pack / unpack ---------------------------------------------------------------------------


def pack_boolean_index(hidden, mask):
    return hidden[mask.bool()]


def pack_loop(hidden, mask):
    rows = [hidden[b, mask[b].nonzero().squeeze(1)] for b in range(hidden.shape[0])]
    return torch.cat(rows)


def pack_flat(hidden, mask):
    flat = hidden.reshape(-1, hidden.shape[-1])  # (batch * seq, hidden)
    return flat.index_select(0, mask.reshape(-1).nonzero().squeeze(1)).double()


def unpack_index_put(packed, mask):
    out = packed.new_zeros(*mask.shape, packed.shape[-1])
    out[mask.bool()] = packed
    return out


def unpack_masked_scatter(packed, mask):
    keep = mask.bool()[..., None].expand(*mask.shape, packed.shape[-1])
    return packed.new_zeros(keep.shape).masked_scatter(keep, packed)


@pytest.mark.parametrize("pack", [pack_boolean_index, pack_loop, pack_flat])
@pytest.mark.parametrize("unpack", [unpack_index_put, unpack_masked_scatter])
def test_right_packing_passes(pack, unpack):
    report = check_pack_unpack(pack, unpack)
    assert report.passed, str(report)


@pytest.mark.parametrize(("pack", "named"), [
    (lambda h, m: h.reshape(-1, h.shape[-1]), "padding was kept"),
    (lambda h, m: (h * m.bool()[..., None]).reshape(-1, h.shape[-1]), "set to 0 but kept"),
    (lambda h, m: h.transpose(0, 1)[m.bool().t()], "column order"),
    (lambda h, m: h[m], "integer indices"),
    (lambda h, m: torch.cat([t[:n] for t, n in zip(h, m.sum(1).tolist(), strict=True)]),
     "first n rows"),
])
def test_packing_mistakes_are_named(pack, named):
    report = check_pack_unpack(pack, unpack_index_put)
    assert not report.passed and named in str(report), str(report)


def unpack_at_start(packed, mask):
    out = torch.zeros(mask.numel(), packed.shape[-1])
    out[: packed.shape[0]] = packed
    return out.view(*mask.shape, -1)


def unpack_each_text_at_its_start(packed, mask):
    out, start = torch.zeros(*mask.shape, packed.shape[-1]), 0
    for text, n in enumerate(mask.sum(1).tolist()):  # ignores where the mask's holes are
        out[text, :n] = packed[start:start + n]
        start += n
    return out


@pytest.mark.parametrize(("unpack", "named"), [
    (unpack_at_start, "at the start of the grid"),
    (unpack_each_text_at_its_start, "at its first n positions"),
])
def test_unpacking_mistakes_are_named(unpack, named):
    report = check_pack_unpack(pack_boolean_index, unpack)
    assert not report.passed and named in str(report), str(report)


def test_a_crashing_pack_is_reported():
    def pack(hidden, mask):
        raise NotImplementedError("write pack")

    report = check_pack_unpack(pack, unpack_index_put)
    assert not report.passed and "NotImplementedError" in str(report)


# --- int8 linear -----------------------------------------------------------------------------


def int8_linear_floats(x, weight, bias):
    """The recipe, in float arithmetic (exact: the integers stay small)."""
    w_scale = weight.abs().amax(dim=1) / 127  # (out,)
    qw = torch.round(weight / w_scale[:, None])  # (out, in)
    low = x.amin(dim=1, keepdim=True).clamp(max=0)
    high = x.amax(dim=1, keepdim=True).clamp(min=0)
    scale = (high - low) / 255  # (tokens, 1)
    zero = torch.round(-low / scale)
    qx = torch.clamp(torch.round(x / scale) + zero, 0, 255)
    return ((qx - zero) @ qw.t()) * scale * w_scale + bias


def int8_linear_integers(x, weight, bias):
    """Real integer tensors, an int64 product, multiplication by 1/scale, a loop over tokens."""
    w_scale = weight.abs().max(dim=1).values / 127
    qw = (weight * (1 / w_scale[:, None])).round().to(torch.int8)
    rows = []
    for token in x:
        lo, hi = min(token.min().item(), 0.0), max(token.max().item(), 0.0)
        s = (hi - lo) / 255
        z = round(-lo / s)
        q = (token / s + z).round().clamp(0, 255).to(torch.uint8)
        acc = (q.long() - z) @ qw.long().t()  # int64: exact
        rows.append(acc.double() * s * w_scale.double() + bias.double())
    return torch.stack(rows)


@pytest.mark.parametrize("fn", [int8_linear_floats, int8_linear_integers])
def test_right_int8_linear_passes(fn):
    report = check_int8_linear(fn)
    assert report.passed, str(report)


def _variant(**changes):
    from course_kit.checks.speed import _quantized

    return lambda x, w, b: _quantized(x, w, b, **changes)


@pytest.mark.parametrize(("fn", "named"), [
    (lambda x, w, b: x @ w.t() + b, "nothing was quantized"),
    (_variant(weight_rows=False), "one scale for the whole matrix; give each output row"),
    (_variant(token_rows=False), "give each token"),
    (_variant(subtract_zero=False), "zero point was not subtracted"),
    (_variant(weight_rounding=torch.trunc, rounding=_truncated), "values were truncated"),
    (_variant(weight_rounding=torch.trunc), "weights were truncated"),
    (_variant(rounding=_truncated), "activations were truncated (trunc"),
    (_variant(rounding=_truncated_before_zero), "truncated before adding the zero point"),
    (_variant(range_holds_zero=False), "range must include 0"),
    (_variant(zero_point=False), "symmetric int8"),
])
def test_int8_mistakes_are_named(fn, named):
    report = check_int8_linear(fn)
    assert not report.passed and named in str(report), str(report)


def test_int8_wrong_shape_and_other_errors_are_plain():
    report = check_int8_linear(lambda x, w, b: (x @ w.t() + b).t())
    assert not report.passed and "shape" in str(report)
    report = check_int8_linear(lambda x, w, b: torch.full((6, 20), float("nan")))
    assert not report.passed and "NaN" in str(report)
    report = check_int8_linear(lambda x, w, b: torch.zeros(6, 20))
    assert not report.passed and "relative difference" in str(report)
