"""Where the time of a forward pass goes, by kind of operation, from PyTorch's profiler; and
how two ways of computing the same thing compare in speed (interleaved ratios)."""

from __future__ import annotations

import contextlib
import os

import torch

# Profiler operation names (without "aten::") -> the part of BERT they implement.
OPERATION_GROUPS = {
    "matrix multiplies (Q/K/V, output, feed-forward)": {"addmm", "addmm_", "mm", "linear"},
    "attention (scores, softmax, weighted sum)": {
        "_scaled_dot_product_flash_attention_for_cpu", "scaled_dot_product_attention",
        "_scaled_dot_product_attention_math", "bmm", "_softmax", "softmax", "masked_fill",
        "masked_fill_", "div", "div_"},
    "LayerNorm": {"native_layer_norm", "layer_norm"},
    "GELU": {"gelu", "gelu_"},
}
OTHER = "adds, copies, embeddings, the rest"


@contextlib.contextmanager
def quiet_stderr():
    """The profiler's C++ side logs a line per start and stop straight to stderr: hide them."""
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters): nothing to hide
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def time_shares(model: torch.nn.Module, input_ids: torch.Tensor, **kwargs) -> dict[str, float]:
    """Percent of CPU time per kind of operation in one ``model(input_ids, **kwargs)`` call.

    Runs once untimed first (caches, allocator), then once under ``torch.profiler``; each
    operation's own time (without the operations it calls) is added to its group.
    """
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        model(input_ids, **kwargs)
        with quiet_stderr(), profile(activities=[ProfilerActivity.CPU]) as prof:
            model(input_ids, **kwargs)
    totals = dict.fromkeys([*OPERATION_GROUPS, OTHER], 0.0)
    for event in prof.key_averages():
        name = event.key.removeprefix("aten::")
        group = next((g for g, names in OPERATION_GROUPS.items() if name in names), OTHER)
        totals[group] += event.self_cpu_time_total
    whole = sum(totals.values()) or 1.0
    return {group: 100 * value / whole for group, value in totals.items()}


def speed_ratio(candidate, baseline, rounds: int = 5) -> float:
    """Median over ``rounds`` of time(candidate()) / time(baseline()), the two run back to back
    and in alternating order: on a shared machine a load spike slows both halves of a round,
    so the ratio is steadier than either time. Both are called once untimed first."""
    import statistics
    import time

    candidate(), baseline()
    ratios = []
    for i in range(rounds):
        took = {}
        for name, function in ((("c", candidate), ("b", baseline)) if i % 2 == 0
                               else (("b", baseline), ("c", candidate))):
            start = time.perf_counter()
            function()
            took[name] = time.perf_counter() - start
        ratios.append(took["c"] / took["b"])
    return statistics.median(ratios)
