"""Speed of our BERT (the readable model and the engine) against `transformers.BertModel`.

    python benchmarks/run.py               # BERT-base, every case (about 8 minutes on 2 cores)
    python benchmarks/run.py --smoke       # a tiny model, every case once: that it runs, in seconds
    python benchmarks/run.py --notebooks   # also time the notebook suite (pytest --nbval-lax)
    python benchmarks/run.py --no-peers    # without ONNX Runtime / CTranslate2 / torch int8

The peers (benchmarks/peers.py) need `pip install -r benchmarks/requirements.txt` (make bench
does it); a missing one shows "not installed" in its row.

Our side is either the readable ``cl.BertModel`` (what the notebooks build and every call of the
model runs) or the explicit engine ``cl.InferenceBert.from_model(model, ...)``. Both run in this
one process, on the same random BERT-base checkpoint (written by
`transformers`), with the same thread count, each case's runs interleaved (ours, theirs, theirs,
ours, ...). Reported: the median of the per-pair time ratios, ours / reference, so a load spike
on a shared machine hits both sides of a pair; absolute times vary from run to run, ratios much
less. Peak memory is measured in a fresh subprocess per model and case (see ``memory_probe``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import course_lib as cl  # noqa: E402
from course_kit.profiling import OPERATION_GROUPS, OTHER, time_shares  # noqa: E402
from course_lib.inference import BF16_UNITS, cpu_flags  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = 0
SWEEP_BASE = (16, 32, 64, 128, 256, 512)
SWEEP_SMOKE = (16, 32, 64)
TINY = dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=256)


# --- the cases -------------------------------------------------------------------------------


@dataclass
class Case:
    """One row of the table: our model in one mode against one reference setting."""

    key: str
    label: str
    shape: tuple  # (batch, seq) uniform, or ("mixed", lengths) for a padded batch
    reference: str  # "sdpa" or "eager" attention in transformers
    ours: str = "engine"  # "engine" (cl.InferenceBert) or "model" (the readable cl.BertModel)
    engine_options: dict = field(default_factory=dict)  # padding_free / precision
    maps: bool = False  # both sides return attention maps
    reference_autocast: bool = False  # reference under torch.autocast(bfloat16)
    target: float | None = None  # ours / reference must be at most this
    target_note: str = ""
    bf16: bool = False  # report cosine similarity instead of the max difference


def build_cases(smoke: bool) -> list[Case]:
    """The table's rows; ``smoke`` shrinks every size so the whole run takes seconds."""
    big, long, small = ((2, 16), (1, 64), (1, 16)) if smoke else ((8, 128), (1, 512), (1, 128))
    lengths = (4, 8, 12, 16) if smoke else tuple(range(8, 129, 8))  # 16 texts, 8..128 tokens
    mixed = ("mixed", lengths)
    mixed_label = f"{len(lengths)} texts, {lengths[0]}..{lengths[-1]} tokens, padded"
    bf16 = {"precision": "bf16"}
    return [
        Case("model_uniform", f"readable model, {big[0]} x {big[1]} tokens", big, "sdpa",
             ours="model", target=1.10),
        Case("model_long", f"readable model, {long[0]} x {long[1]} tokens", long, "sdpa",
             ours="model", target=1.10),
        Case("uniform", f"engine, {big[0]} x {big[1]} tokens", big, "sdpa", target=0.95),
        Case("long", f"engine, {long[0]} x {long[1]} tokens", long, "sdpa", target=0.95),
        Case("maps", f"engine, {small[0]} x {small[1]}, attention maps returned", small, "eager",
             maps=True, target=1.0),
        Case("padded", f"engine, {mixed_label}, padding-free (default)", mixed, "sdpa",
             target=0.60),
        Case("padded_dense", f"engine, {mixed_label}, padding_free=False", mixed, "sdpa",
             engine_options={"padding_free": False}),
        Case("prepacked_small", f"engine, prepack=True, {small[0]} x {small[1]} tokens", small,
             "sdpa", engine_options={"prepack": True}),
        Case("prepacked", f"engine, prepack=True, {big[0]} x {big[1]} tokens", big, "sdpa",
             engine_options={"prepack": True}),
        Case("bf16_vs_fp32", f"engine bf16, {small[0]} x {small[1]}, vs reference fp32", small,
             "sdpa", engine_options=bf16, target=1 / 3, target_note="on CPUs with bf16 units",
             bf16=True),
        Case("bf16_vs_autocast", f"engine bf16, {small[0]} x {small[1]}, vs reference bf16 "
             "autocast", small, "sdpa", engine_options=bf16, reference_autocast=True, bf16=True),
    ]


def make_inputs(shape: tuple, vocab_size: int):
    """(ids, mask or None, segments) for a case; seeded, so every process builds the same."""
    generator = torch.Generator().manual_seed(SEED)
    if shape[0] != "mixed":
        ids = torch.randint(1000, vocab_size, shape, generator=generator)
        return ids, None, torch.zeros_like(ids)
    lengths = shape[1]
    ids = torch.randint(1000, vocab_size, (len(lengths), max(lengths)), generator=generator)
    mask = torch.zeros_like(ids)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
    return ids * mask, mask, torch.zeros_like(ids)  # padding holds ID 0, as tokenizers do


def ours_for(model, case: Case):
    """What runs on our side of a case: the readable model, or an engine built from it."""
    if case.ours == "model":
        return model
    return cl.InferenceBert.from_model(model, **case.engine_options)


def reference_model(folder: Path, attention: str):
    import transformers

    transformers.utils.logging.disable_progress_bar()
    return transformers.BertModel.from_pretrained(
        str(folder), attn_implementation=attention, add_pooling_layer=False
    ).eval()


def runner(model, case: Case, inputs, which: str):
    """A no-argument function running one forward pass, and returning the hidden states."""
    ids, mask, segments = inputs
    if which == "ours":
        return lambda: model(ids, mask, segments, output_attentions=case.maps).last_hidden_state

    def reference():
        with torch.autocast("cpu", torch.bfloat16, enabled=case.reference_autocast):
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=segments,
                        output_attentions=case.maps)
        return out.last_hidden_state.float()

    return reference


# --- timing ----------------------------------------------------------------------------------


def interleaved(ours, theirs, repeats: int) -> tuple[float, float, float]:
    """Median ms of each and the median of per-pair ratios; the order alternates every pair."""
    ours_ms, theirs_ms, ratios = [], [], []
    for i in range(repeats):
        pair = {}
        for name in (("ours", "theirs") if i % 2 == 0 else ("theirs", "ours")):
            start = time.perf_counter()
            (ours if name == "ours" else theirs)()
            pair[name] = (time.perf_counter() - start) * 1000
        ours_ms.append(pair["ours"])
        theirs_ms.append(pair["theirs"])
        ratios.append(pair["ours"] / pair["theirs"])
    return statistics.median(ours_ms), statistics.median(theirs_ms), statistics.median(ratios)


def repeats_for(seconds_per_pair: float, args) -> int:
    """As many pairs as fit the time budget per case, odd, within [min, max]."""
    if args.repeats:
        return args.repeats
    count = int(args.budget / max(seconds_per_pair, 1e-3))
    count = max(args.min_repeats, min(41, count))
    return count if count % 2 else count + 1


def agreement(case: Case, ours_out, theirs_out, fp32_reference, real) -> str:
    """Max abs difference on real tokens (fp32), or the cosine similarity to fp32 (bf16)."""
    if case.bf16:
        cosine = F.cosine_similarity(ours_out[real], fp32_reference[real], dim=-1).min().item()
        text = f"cos {cosine:.5f}"
        if case.reference_autocast:
            theirs = F.cosine_similarity(theirs_out[real], fp32_reference[real], dim=-1)
            text += f" (ref autocast: {theirs.min().item():.5f})"
        return text
    return f"{(ours_out - theirs_out)[real].abs().max().item():.1e}"


def time_cases(cases, folder: Path, args) -> list[dict]:
    rows, references = [], {}
    model = cl.load_pretrained(folder)  # one model; each engine case builds its engine from it
    for case in cases:
        if case.reference not in references:
            references[case.reference] = reference_model(folder, case.reference)
        theirs = references[case.reference]
        ours = ours_for(model, case)
        inputs = make_inputs(case.shape, model.config.vocab_size)
        real = torch.ones(inputs[0].shape, dtype=torch.bool) if inputs[1] is None \
            else inputs[1].bool()
        run_ours, run_theirs = runner(ours, case, inputs, "ours"), runner(theirs, case, inputs,
                                                                           "theirs")
        with torch.inference_mode():
            start = time.perf_counter()
            ours_out, theirs_out = run_ours(), run_theirs()  # warm-up
            pair_seconds = time.perf_counter() - start
            fp32_reference = None
            if case.bf16:
                fp32_reference = runner(references["sdpa"], Case("", "", (), "sdpa"), inputs,
                                        "theirs")()
            repeats = repeats_for(pair_seconds, args)
            ours_ms, theirs_ms, ratio = interleaved(run_ours, run_theirs, repeats)
        rows.append(dict(case=case, ours_ms=ours_ms, theirs_ms=theirs_ms, ratio=ratio,
                         repeats=repeats,
                         agreement=agreement(case, ours_out, theirs_out, fp32_reference, real)))
        print(f"  measured {case.label}: ratio {ratio:.3f} over {repeats} pairs", flush=True)
        del ours  # an engine holds its own copy of the weights
    return rows


# --- peak memory -----------------------------------------------------------------------------


def read_status_kb(field_name: str) -> int | None:
    """A field of /proc/self/status in kB (Linux), or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's resident-set high-water mark (Linux >= 4.0); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def memory_probe(folder: Path, case_key: str, which: str, smoke: bool) -> dict:
    """In a fresh process: load one model (for an engine case: build the engine, then drop the
    model), run the case once (the reference's memory-mapped weights are read in), note the
    resident memory, reset the peak, run it again and read the peak. Python's tracemalloc does
    not see torch's allocations; the kernel's resident-set counters do.
    """
    case = next(c for c in build_cases(smoke) if c.key == case_key)
    model = ours_for(cl.load_pretrained(folder), case) if which == "ours" \
        else reference_model(folder, case.reference)  # the loaded model is gone for an engine
    inputs = make_inputs(case.shape, model.config.vocab_size)
    run = runner(model, case, inputs, which)
    with torch.inference_mode():
        run()
        before = read_status_kb("VmRSS") or 0
        exact = reset_peak_rss()
        run()
    peak = read_status_kb("VmHWM") if exact else None
    if peak is None:  # not Linux, or no permission: the lifetime peak (includes loading)
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return {"before_mb": before / 1024, "peak_mb": peak / 1024, "exact": exact}


def measure_memory(cases, folder: Path, args) -> dict:
    """Peak memory of each (case, side), each in its own subprocess."""
    results = {}
    chosen = cases[:1] if args.smoke else [c for c in cases if c.key != "bf16_vs_autocast"]
    for case in chosen:
        for which in ("ours", "theirs"):
            command = [sys.executable, str(Path(__file__).resolve()), "--memory-probe",
                       case.key, which, "--folder", str(folder),
                       "--threads", str(args.threads)] + (["--smoke"] if args.smoke else [])
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = done.stdout.strip().splitlines()
            if done.returncode != 0 or not lines:
                raise RuntimeError(f"memory probe {case.key}/{which} failed:\n{done.stderr}")
            results[(case.key, which)] = json.loads(lines[-1])
    return results


# --- sequence-length sweep, where the time goes -----------------------------------------------


def fitted_exponent(lengths, times) -> float:
    """Slope of log(time) against log(length), least squares: time grows like length^slope."""
    xs, ys = [math.log(n) for n in lengths], [math.log(t) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)


def attention_core(model, n: int):
    """The quadratic part alone: scores, softmax and weighted sum for every head of one layer."""
    heads, head_size = model.config.num_heads, model.config.head_size
    generator = torch.Generator().manual_seed(SEED)
    q, k, v = torch.randn(3, 1, heads, n, head_size, generator=generator)
    return lambda: torch.matmul(cl.attention_weights(q, k), v)


def sweep(folder: Path, lengths, args) -> list[dict]:
    """Batch 1 at each length: the engine and the reference interleaved, the attention core."""
    model = cl.load_pretrained(folder)
    ours = cl.InferenceBert.from_model(model)
    theirs = reference_model(folder, "sdpa")
    rows = []
    for n in lengths:
        case = Case("sweep", "", (1, n), "sdpa")
        inputs = make_inputs(case.shape, ours.config.vocab_size)
        run_ours, run_theirs = runner(ours, case, inputs, "ours"), runner(theirs, case, inputs,
                                                                           "theirs")
        core = attention_core(model, n)
        with torch.inference_mode():
            start = time.perf_counter()
            run_ours(), run_theirs(), core()
            repeats = repeats_for((time.perf_counter() - start) * 3, args)  # a third of a case
            ours_ms, theirs_ms, ratio = interleaved(run_ours, run_theirs, repeats)
            core_ms = statistics.median(timed(core) for _ in range(repeats))
        rows.append(dict(n=n, ours_ms=ours_ms, theirs_ms=theirs_ms, ratio=ratio,
                         core_ms=core_ms * model.config.num_layers))
    return rows


def ms(value: float) -> str:
    """Milliseconds with about three significant digits."""
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def where_time_goes(folder: Path, lengths) -> dict[int, dict[str, float]]:
    """Share (%) of our forward pass per kind of operation at each length, from torch.profiler."""
    model = cl.load_pretrained(folder)
    return {n: time_shares(model, make_inputs((1, n), model.config.vocab_size)[0])
            for n in lengths}


# --- explorer, notebooks, machine ------------------------------------------------------------


def explorer_redraw(args) -> str:
    """The colleague's measure_redraw, if benchmarks/explorer_redraw.py is there."""
    sys.path.insert(0, str(HERE))
    try:
        from explorer_redraw import measure_redraw
    except ImportError as error:
        return f"not available ({error})"
    if not args.smoke:
        result = measure_redraw(n_tokens=64, repeats=20)
    else:  # a tiny model instead of BERT-base: that it runs
        torch.manual_seed(SEED)
        tiny = cl.BertModel(cl.BertConfig.tiny()).eval()
        result = measure_redraw(n_tokens=16, repeats=2, new_text_repeats=1,
                                base_model=(tiny, cl.load_tokenizer("minilm")),
                                base_name="tiny model")
    try:
        from explorer_redraw import report
        return report(result)
    except ImportError:
        return json.dumps(result, indent=1)


def notebook_suite(args) -> str:
    if not args.notebooks:
        return "not measured: pass --notebooks (runs every notebook, a few minutes)"
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q",
               "-p", "no:cacheprovider", "notebooks"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return f"{seconds:.0f} s for `pytest --nbval-lax notebooks` ({last})"


# The CPU's matrix features, as /proc/cpuinfo names them: what makes int8 and bf16 fast or not.
MATRIX_FEATURES = {"AVX2": ("avx2",), "AVX-512": ("avx512f",),
                   "VNNI (int8 dot products)": ("avx512_vnni", "avx_vnni"),
                   "AMX (int8 and bf16 tiles)": ("amx_tile",),
                   "bf16 units": tuple(sorted(BF16_UNITS))}


def matrix_features(flags: set[str]) -> str:
    """One line: each matrix feature, yes (with the flags found) or no."""
    found = {name: [flag for flag in names if flag in flags]
             for name, names in MATRIX_FEATURES.items()}
    return "; ".join(f"{name} " + (f"yes ({', '.join(hits)})" if hits else "no")
                     for name, hits in found.items())


def machine(args) -> list[str]:
    model_name = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    flags = cpu_flags()
    features = matrix_features(flags) if flags else "unknown (no /proc/cpuinfo)"
    if not flags & BF16_UNITS:
        features += " (without bf16 units, bf16 matrix multiplies are emulated: slower than fp32)"
    import transformers

    return [
        f"- date: {datetime.date.today().isoformat()}; CPU: {model_name}, {os.cpu_count()} "
        f"logical cores; threads used by both models: {args.threads}",
        f"- torch {torch.__version__} (kernels: {torch.backends.cpu.get_cpu_capability()}), "
        f"transformers {transformers.__version__}, Python {platform.python_version()}",
        f"- matrix features: {features}",
    ]


# --- report ----------------------------------------------------------------------------------


def verdict(row: dict, smoke: bool, has_bf16_units: bool) -> str:
    case = row["case"]
    if case.target is None:
        return "-"
    target = f"<= {case.target:.2f}"
    if smoke:
        return f"{target} (smoke: not judged)"
    if case.bf16 and not has_bf16_units:
        return f"{target} {case.target_note}: n/a here"
    return f"{target}: {'met' if row['ratio'] <= case.target else 'NOT met'}"


def memory_cell(memory: dict, key: str) -> str:
    if (key, "ours") not in memory:
        return "-"
    ours, theirs = memory[(key, "ours")], memory[(key, "theirs")]
    return (f"{ours['peak_mb']:.0f} / {theirs['peak_mb']:.0f} "
            f"({ours['peak_mb'] - ours['before_mb']:+.0f} / "
            f"{theirs['peak_mb'] - theirs['before_mb']:+.0f})")


def cases_report(rows, memory, args) -> list[str]:
    """The heading, the machine and the table of cases, as Markdown lines."""
    has_units = bool(cpu_flags() & BF16_UNITS)
    title = "tiny 2-layer model (smoke run: sizes tiny, timings not meaningful)" if args.smoke \
        else "BERT-base (12 layers, 768 wide), random weights written by transformers"
    lines = [f"## Speed: ours vs transformers.BertModel, {title}", "", *machine(args), "",
             "| case | ours ms | reference | ref ms | ours / ref (median) | target | agreement "
             "| peak MB ours / ref (+ during the forward pass) |",
             "|---|---:|---|---:|---:|---|---|---|"]
    for row in rows:
        case = row["case"]
        reference = ("eager" if case.reference == "eager" else "SDPA") + \
            (" bf16 autocast" if case.reference_autocast else "")
        lines.append(
            f"| {case.label} | {ms(row['ours_ms'])} | {reference} | {ms(row['theirs_ms'])} "
            f"| {row['ratio']:.2f} ({row['repeats']} pairs) "
            f"| {verdict(row, args.smoke, has_units)} | {row['agreement']} "
            f"| {memory_cell(memory, case.key)} |")
    if memory and not all(m["exact"] for m in memory.values()):
        lines.append("\nPeak memory: the kernel's peak could not be reset; figures include "
                     "loading.")
    return lines


def sweep_report(sweep_rows, breakdown) -> list[str]:
    """The sequence-length table with fitted exponents, and the profiler's breakdown."""
    lines = ["", "### Time against sequence length (batch 1)", "",
              "| tokens | engine ms | reference ms | engine / ref | attention core alone, all "
              "layers, ms |", "|---:|---:|---:|---:|---:|"]
    for r in sweep_rows:
        lines.append(f"| {r['n']} | {ms(r['ours_ms'])} | {ms(r['theirs_ms'])} | "
                     f"{r['ratio']:.2f} | {ms(r['core_ms'])} |")
    lines += ["", "Fitted growth exponent p (time ~ tokens^p, least squares on log-log):"]
    for low in sorted({sweep_rows[0]["n"], sweep_rows[len(sweep_rows) // 2]["n"]}):
        part = [r for r in sweep_rows if r["n"] >= low]
        lengths = [r["n"] for r in part]
        exponents = [f"{name} {fitted_exponent(lengths, [r[key] for r in part]):.2f}"
                     for name, key in (("ours", "ours_ms"), ("reference", "theirs_ms"),
                                       ("attention core", "core_ms"))]
        lines.append(f"- {lengths[0]}..{lengths[-1]} tokens: " + ", ".join(exponents))
    lines += ["",
              "### Where the time goes (ours, batch 1, share of CPU time, torch.profiler)", "",
              "| operations | " + " | ".join(f"{n} tokens" for n in breakdown) + " |",
              "|---|" + "---:|" * len(breakdown)]
    for group in [*OPERATION_GROUPS, OTHER]:
        lines.append(f"| {group} | "
                     + " | ".join(f"{shares[group]:.0f} %" for shares in breakdown.values())
                     + " |")
    return lines


def write_checkpoint(folder: Path, smoke: bool) -> None:
    """A random BERT (BERT-base, or tiny for --smoke), seeded, saved by transformers."""
    import transformers

    torch.manual_seed(SEED)
    config = transformers.BertConfig(**(TINY if smoke else {}))
    transformers.BertModel(config, add_pooling_layer=False).save_pretrained(folder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: that it runs")
    parser.add_argument("--notebooks", action="store_true", help="also time the notebook suite")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads for both models (default: all cores)")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds of timed runs per case (sets the number of pairs)")
    parser.add_argument("--min-repeats", type=int, default=7, help="fewest pairs per case")
    parser.add_argument("--repeats", type=int, default=None, help="pairs per case, fixed")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip the table of engines (ONNX Runtime, CTranslate2, torch int8)")
    parser.add_argument("--peer-rounds", type=int, default=9,
                        help="interleaved rounds per shape in the table of engines")
    parser.add_argument("--only", help="comma-separated case keys (model_uniform, model_long, "
                        "uniform, long, maps, padded, padded_dense, prepacked_small, prepacked, "
                        "bf16_vs_fp32, bf16_vs_autocast); skips sweep and extras")
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    parser.add_argument("--memory-probe", nargs=2, metavar=("CASE", "WHICH"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        import transformers  # noqa: F401
    except ImportError:
        print("benchmarks/run.py needs transformers (the reference): "
              "pip install -r requirements-dev.txt")
        return 2
    if args.memory_probe:
        print(json.dumps(memory_probe(args.folder, *args.memory_probe, args.smoke)))
        return 0
    if args.smoke:
        args.repeats, args.min_repeats = args.repeats or 2, 1

    with tempfile.TemporaryDirectory(prefix="bench-bert-") as tmp:
        folder = Path(tmp)
        print(f"writing a random {'tiny' if args.smoke else 'BERT-base'} checkpoint ...",
              flush=True)
        write_checkpoint(folder, args.smoke)
        cases = build_cases(args.smoke)
        if args.only:
            cases = [c for c in cases if c.key in args.only.split(",")]
        rows = time_cases(cases, folder, args)
        if args.only:
            print("\n" + "\n".join(cases_report(rows, {}, args)))
            return 0
        memory = {} if args.no_memory else measure_memory(cases, folder, args)
        print("  sequence-length sweep ...", flush=True)
        sweep_rows = sweep(folder, SWEEP_SMOKE if args.smoke else SWEEP_BASE, args)
        breakdown = where_time_goes(folder, (16, 64) if args.smoke else (128, 512))
        peers_text = "not measured (--no-peers)"
        if not args.no_peers:
            print("  engines side by side (benchmarks/peers.py) ...", flush=True)
            sys.path.insert(0, str(HERE))
            import peers

            peers_text = peers.run(folder, args.threads, 2 if args.smoke else args.peer_rounds,
                                   args.smoke, 3 if args.smoke else 15)
    text = "\n".join(cases_report(rows, memory, args) + sweep_report(sweep_rows, breakdown))
    text += "\n\n" + peers_text
    text += "\n\n### Attention explorer redraw\n\n```\n" + explorer_redraw(args) + "\n```\n"
    text += "\n### Notebook suite\n\n" + notebook_suite(args) + "\n"
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
