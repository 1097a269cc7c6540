"""Checkers for appendix A1 (making BERT fast): packing a padded batch into its real tokens and
back, and one Linear layer quantized to int8 by hand, as the library's int8 engine does it."""

from __future__ import annotations

import torch

from course_lib.inference import QuantizedDense

from .calling import call_learner
from .cases import Case, check_cases
from .compare import as_tensor
from .fixtures import keep_mask, randn
from .mistakes import name_mistake
from .report import CheckReport
from .rules import exercise

# --- exercise 1: pack and unpack ----------------------------------------------------------------


def _padded_batch(bool_mask: bool):
    """(hidden (3, 7, 5), mask (3, 7)): right padding, and a hole in the middle of text 2, so
    that "the first n rows of each text" is not the same as "the real rows"."""
    hidden = randn(11, 3, 7, 5)  # (batch, seq, hidden)
    keep = keep_mask([7, 4, 2], 7)  # (batch, seq) bool
    keep[0, 3] = False  # a hole: position 4 of text 1 is padding too
    return hidden, (keep if bool_mask else keep.long())


def pack_mistakes(hidden, mask) -> dict[str, torch.Tensor]:
    keep = mask.bool()
    width = hidden.shape[-1]
    return {
        "padding was kept: every (batch * seq) row is there; keep only rows where mask is 1":
            hidden.reshape(-1, width),
        "padding was set to 0 but kept; drop those rows instead": (hidden * keep[..., None]
                                                                  ).reshape(-1, width),
        "the tokens were taken position by position across the texts (column order); keep "
        "each text's tokens together, one text after the other":
            hidden.transpose(0, 1)[keep.t()],
        "the 0/1 mask was used as integer indices (rows 0 and 1 picked again and again); "
        "turn it into booleans first: mask.bool()": hidden[mask.long()],
        "each text's first n rows were taken (n = its real tokens); padding can sit anywhere, "
        "as in the hole at position 4 of text 1: take the rows where the mask is 1":
            torch.cat([text[:n] for text, n in zip(hidden, keep.sum(dim=1).tolist(),
                                                   strict=True)]),
    }


def unpack_mistakes(packed, mask, hidden) -> dict[str, torch.Tensor]:
    keep = mask.bool()
    batch, seq = keep.shape
    first = torch.zeros(batch * seq, packed.shape[-1])
    first[: packed.shape[0]] = packed  # rows written at the start of the grid
    by_column = torch.zeros(seq, batch, packed.shape[-1])
    by_column[keep.t()] = packed  # column order
    prefix = torch.zeros(batch, seq, packed.shape[-1])
    for text, rows in enumerate(packed.split(keep.sum(dim=1).tolist())):
        prefix[text, :len(rows)] = rows  # each text's rows at its first positions
    return {
        "the rows were written one after the other at the start of the grid, not at the "
        "positions the mask marks": first.view(batch, seq, -1),
        "the rows were placed position by position across the texts (column order)":
            by_column.transpose(0, 1),
        "padded positions keep the original padded vectors; they should be zeros":
            hidden.clone(),
        "each text's rows were written at its first n positions; write them where the mask "
        "marks real tokens (text 1 has a hole at position 4)": prefix,
    }


@exercise(forbids=("course_lib.inference.TokenLayout.unpack",),
          write_from="boolean indexing with the mask")
def check_pack_unpack(pack, unpack) -> CheckReport:
    """``pack(hidden, mask)``: (batch, seq, hidden) -> (tokens, hidden), the real tokens only,
    text after text; ``unpack(packed, mask)``: back to (batch, seq, hidden), zeros at padding."""
    report = CheckReport("packing a padded batch into its real tokens, and back")
    for bool_mask in (False, True):
        hidden, mask = _padded_batch(bool_mask)
        keep = mask.bool()
        kind = "bool mask" if bool_mask else "0/1 mask (as the tokenizer gives)"
        packed = hidden[keep]  # (tokens, hidden)
        unpacked = torch.zeros_like(hidden)
        unpacked[keep] = packed
        ok = check_cases(report, "pack", pack, [Case(f"pack, {kind}", (hidden, mask), packed,
                                                     pack_mistakes(hidden, mask),
                                                     call=f"pack(hidden, mask) with a {kind}")])
        ok = check_cases(report, "unpack", unpack, [
            Case(f"unpack, {kind}", (packed, mask), unpacked,
                 unpack_mistakes(packed, mask, hidden),
                 call=f"unpack(packed, mask) with a {kind}")]) and ok
        if not ok:
            return report
    hidden, mask = _padded_batch(False)
    finished, packed = call_learner(report, "pack(hidden, mask)", pack, hidden.clone(),
                                    mask.clone())
    if finished:
        finished, back = call_learner(report, "unpack(pack(hidden, mask), mask)", unpack,
                                      as_tensor(packed), mask.clone())
        if finished and torch.equal(as_tensor(back)[mask.bool()].float(),
                                    hidden[mask.bool()]):
            report.ok("unpack(pack(hidden, mask), mask) gives every real token back unchanged")
        elif finished:
            report.fail("unpack(pack(hidden, mask), mask) does not give the real tokens back")
    return report


# --- exercise 2: one Linear layer in int8 -----------------------------------------------------

CLOSE_SHARE = 0.2  # "equal up to rounding": within a fifth of int8's own distance from fp32


def int8_fixture():
    """x (6, 48) whose tokens span very different ranges (0.01 to 10), one token all positive;
    a Linear 48 -> 20 whose rows span very different sizes: a single scale for all tokens or
    all rows shows at once."""
    x = randn(21, 6, 48) * torch.tensor([0.01, 0.3, 1.0, 3.0, 10.0, 1.0])[:, None]
    x[5] = x[5].abs() + 0.5  # a token with no negative value: its range must still hold 0
    weight = randn(22, 20, 48) * torch.logspace(-2, 1, 20)[:, None]  # (out, in)
    bias = randn(23, 20)
    return x, weight, bias


def far_from_zero_fixture():
    """x (2, 16) with every value between 100 and 101: each token's range must still reach down
    to 0 (so 0.0 stays exact), which makes its scale coarse; a range of 100..101 alone would be
    finer, and shows."""
    x = 100 + randn(24, 2, 16).sigmoid()
    return x, randn(25, 8, 16), randn(26, 8)


def _reference(x, weight, bias) -> torch.Tensor:
    """What the library's int8 engine computes (its float32 emulation of the int8 kernel)."""
    linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        linear.weight.copy_(weight)
        linear.bias.copy_(bias)
    return QuantizedDense.of(linear, onednn=False)(x)


def _rounded(values, zero):
    """round(x / s + z): the recipe."""
    return torch.round(values + zero)


def _truncated(values, zero):
    """trunc(x / s + z): the fraction dropped (what .to(torch.uint8) alone does)."""
    return torch.trunc(values + zero)


def _truncated_before_zero(values, zero):
    """trunc(x / s) + z: the fraction dropped before the zero point is added."""
    return torch.trunc(values) + zero


def _quantized(x, weight, bias, *, weight_rows=True, token_rows=True, zero_point=True,
               weight_rounding=torch.round, rounding=_rounded, subtract_zero=True,
               weight_levels=127, range_holds_zero=True) -> torch.Tensor:
    """The scheme with one piece changed: the catalogue of classic mistakes is built from it.
    ``rounding(x / s_x, z)`` makes q_x before clamping."""
    w_max = weight.abs().amax(dim=1, keepdim=True) if weight_rows else weight.abs().amax()
    w_scale = w_max / weight_levels
    qw = weight_rounding(weight / w_scale).clamp(-weight_levels, weight_levels)
    dims = dict(dim=1, keepdim=True) if token_rows else {}
    low, high = x.amin(**dims), x.amax(**dims)
    if range_holds_zero:
        low, high = low.clamp(max=0), high.clamp(min=0)
    if zero_point:
        scale = (high - low) / 255
        zero = torch.round(-low / scale)
        qx = rounding(x / scale, zero).clamp(0, 255)
    else:
        scale = torch.maximum(high, -low) / 127
        zero = torch.zeros_like(scale)
        qx = torch.round(x / scale).clamp(-127, 127)
    shifted = qx - zero if subtract_zero else qx
    w_scale_t = w_scale.reshape(1, -1) if weight_rows else w_scale
    return (shifted.double() @ qw.double().t()).float() * scale * w_scale_t + bias


def int8_mistakes(x, weight, bias) -> dict[str, torch.Tensor]:
    return {
        "nothing was quantized: this is the float32 layer (x @ W.T + b)":
            x @ weight.t() + bias,
        "the weights got one scale for the whole matrix; give each output row its own "
        "(per-channel: weight.abs().amax(dim=1))": _quantized(x, weight, bias, weight_rows=False),
        "the activations got one scale for the whole matrix; give each token (row of x) its "
        "own scale and zero point": _quantized(x, weight, bias, token_rows=False),
        "the zero point was not subtracted before the matrix multiply ((q_x - z) @ q_W.T)":
            _quantized(x, weight, bias, subtract_zero=False),
        "the values were truncated (.to(torch.int8) alone drops the fraction); round first":
            _quantized(x, weight, bias, weight_rounding=torch.trunc, rounding=_truncated),
        "the weights were truncated (.to(torch.int8) alone drops the fraction); round them "
        "first": _quantized(x, weight, bias, weight_rounding=torch.trunc),
        "the activations were truncated (trunc, or .to(torch.uint8) alone, drops the "
        "fraction); round x / s_x + z first":
            _quantized(x, weight, bias, rounding=_truncated),
        "the activations were truncated before adding the zero point (trunc(x / s_x) + z); "
        "round first": _quantized(x, weight, bias, rounding=_truncated_before_zero),
        "the activations are symmetric int8 without a zero point (a valid scheme, but "
        "coarser); this exercise asks for uint8 0..255 with a zero point per token, as the "
        "engine uses for Q/K/V":
            _quantized(x, weight, bias, zero_point=False),
    }


def _distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def _range_holds_zero(report: CheckReport, int8_linear) -> bool:
    """Tokens far from 0: the recipe's range [min(x, 0), max(x, 0)] against the token's own
    [min(x), max(x)], which the main fixture cannot tell apart within rounding. False (with the
    reason in the report) when the answer follows the token's own range or fails here."""
    x, weight, bias = far_from_zero_fixture()
    finished, answer = call_learner(report, "int8_linear on tokens far from 0", int8_linear,
                                    x.clone(), weight.clone(), bias.clone())
    if not finished:
        return False
    answer = as_tensor(answer)
    expected = _reference(x, weight, bias)
    if not isinstance(answer, torch.Tensor) or answer.shape != expected.shape:
        report.fail(f"int8_linear on tokens far from 0 should return a tensor of shape "
                    f"{tuple(expected.shape)}")
        return False
    own_range = _quantized(x, weight, bias, range_holds_zero=False)
    if _distance(answer.float(), own_range) < _distance(answer.float(), expected):
        report.fail("each token's range must include 0 (low = min(x, 0), high = max(x, 0)), "
                    "so that 0.0 stays exact: on tokens between 100 and 101 your scale is the "
                    "range 100..101 alone")
        return False
    return True


@exercise(forbids=("course_lib.inference.QuantizedDense.of", "course_lib.inference.quantize_weight",
                   "course_lib.inference.quantize_per_token",
                   "course_lib.inference.quantize_with_zero_point"),
          write_from="the recipe's three steps")
def check_int8_linear(int8_linear) -> CheckReport:
    """``int8_linear(x, weight, bias)``: x (tokens, in), weight (out, in), bias (out,) ->
    (tokens, out), computed as the int8 engine does: weights per row symmetric int8 (-127..127),
    activations per token uint8 with a zero point, an integer matrix multiply, then scales."""
    report = CheckReport("one Linear layer in int8, by hand")
    x, weight, bias = int8_fixture()
    expected = _reference(x, weight, bias)
    exact = x @ weight.t() + bias
    budget = CLOSE_SHARE * _distance(expected, exact)  # how far rounding conventions may move it
    finished, answer = call_learner(report, "int8_linear(x, weight, bias)", int8_linear,
                                    x.clone(), weight.clone(), bias.clone())
    if not finished:
        name_mistake(None, int8_mistakes(x, weight, bias))  # always asked: the teaching page
        return report                                        # lists the catalogue
    answer = as_tensor(answer)
    if not isinstance(answer, torch.Tensor):
        report.fail(f"int8_linear should return a torch.Tensor, got {type(answer).__name__}")
        return report
    if tuple(answer.shape) != tuple(expected.shape):
        hint = " (it looks like x.T or W was used the wrong way round)" if tuple(
            answer.shape) == tuple(expected.shape[::-1]) else ""
        report.fail(f"the result has shape {tuple(answer.shape)}, expected "
                    f"{tuple(expected.shape)}: (tokens, out){hint}")
        return report
    report.ok(f"the result has the right shape {tuple(expected.shape)}")
    if not torch.isfinite(answer.double()).all():
        report.fail("the result holds inf or NaN: a scale of 0 somewhere? (a row of zeros)")
        return report
    gap = _distance(answer.float(), expected)
    if gap <= budget:
        if _range_holds_zero(report, int8_linear):
            report.ok(f"it equals the library's int8 layer up to rounding (relative difference "
                      f"{gap:.1e}; int8 itself is {_distance(expected, exact):.1e} from float32)")
        return report
    mistakes = int8_mistakes(x, weight, bias)
    closest_first = dict(sorted(mistakes.items(),
                                key=lambda item: _distance(answer.float(), item[1])))
    named = name_mistake(answer.float(), closest_first,
                         same=lambda mine, wrong: _distance(mine, wrong) <= budget)
    if named:
        report.fail(f"not the engine's int8 layer: it looks like {named}")
    else:
        report.fail(f"not the engine's int8 layer (relative difference {gap:.2g}, where "
                    f"rounding alone stays below {budget:.1g}); compare each step with the "
                    "recipe: scales, zero points, rounding, clamping, the integer product")
    return report
