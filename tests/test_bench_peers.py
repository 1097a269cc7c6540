"""benchmarks/peers.py: a missing peer is a row saying so, never a crash; the FLOP count and the
report's shape; and profiling.speed_ratio, which the appendix notebook's timings rest on."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import peers  # noqa: E402

import course_lib as cl  # noqa: E402
from course_kit.profiling import speed_ratio  # noqa: E402


def test_a_missing_package_is_named():
    engine = peers.Engine("fake", lambda *a: None, ("surely_not_a_package_xyz", "torch"))
    assert peers.missing_package(engine) == "surely_not_a_package_xyz"
    assert peers.missing_package(peers.Engine("ours", peers.ours())) is None


def test_report_shows_missing_peers_as_not_installed():
    columns = [s.label for s in peers.shapes(smoke=True)]
    timed = {peers.REFERENCE: dict.fromkeys(columns, 2.0),
             "ours, int8": dict.fromkeys(columns, 1.0)}
    result = dict(columns=columns, rounds=2, loads=dict.fromkeys(columns, "0.1 -> 0.1"),
                  ratios={name: dict.fromkeys(columns, t / 2.0) for name, t in
                          [(peers.REFERENCE, 2.0), ("ours, int8", 1.0)]},
                  times=timed, agreement={n: dict.fromkeys(columns, "0.0e+00") for n in timed},
                  notes={e.name: "not installed (x)" for e in peers.ENGINES if e.name not in timed})
    text = peers.report(result, {}, cl.BertConfig.tiny(), smoke=True)
    assert "| ours, int8 | 0.50 | 0.50 | 0.50 | 0.50 |" in text
    assert "| CTranslate2 int8 | not installed (x)" in text


def test_model_flops_counts_real_tokens_only():
    config = cl.BertConfig.base()
    one = peers.model_flops(config, peers.Shape("", 1, 128))
    dense = 128 * 2 * (4 * 768 * 768 + 2 * 768 * 3072) * 12
    assert one == pytest.approx(dense + 12 * 4 * 128 * 128 * 768)
    padded = peers.model_flops(config, peers.Shape("", 2, 128, (128, 64)))
    assert one < padded < 2 * one


def test_speed_ratio_sees_which_is_slower():
    def fast():
        return None

    def slow():
        time.sleep(0.01)

    assert speed_ratio(slow, fast, rounds=3) > 5
    assert speed_ratio(fast, slow, rounds=3) < 0.2


def test_bench_names_the_cpus_matrix_features():
    """benchmarks/run.py's header line: each feature yes or no, from the CPU's flags."""
    import run

    avx2_only = run.matrix_features({"avx2", "fma", "sse2"})
    assert avx2_only.startswith("AVX2 yes") and "AVX-512 no" in avx2_only
    assert "VNNI (int8 dot products) no" in avx2_only and "bf16 units no" in avx2_only
    amx = run.matrix_features({"avx2", "avx512f", "avx512_vnni", "amx_tile", "amx_bf16"})
    assert "AMX (int8 and bf16 tiles) yes" in amx and "bf16 units yes (amx_bf16)" in amx
    assert "VNNI (int8 dot products) yes (avx512_vnni)" in amx
