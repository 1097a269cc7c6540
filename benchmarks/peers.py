"""Our engine beside the engines a user who needs speed would pick, on the same random BERT.

    python benchmarks/peers.py             # BERT-base, the four shapes, every engine
    python benchmarks/peers.py --smoke     # tiny model, our engines and torch only: seconds

Rows: engines (ours fp32 / prepacked / int8 / bf16, `transformers` SDPA, torch dynamic int8, ONNX
Runtime with its BERT graph optimizer in fp32 and after its dynamic int8 quantizer,
CTranslate2 fp32 and int8). Columns: 1 x 128, 8 x 128, 1 x 512 tokens, and 16 texts of
8..128 tokens padded into one batch. Each engine runs in a process of its own (as in use: one
engine's thread pools cannot slow another's). Each shape runs in interleaved rounds: every engine
once per round, in a rotated order; each time is divided by the `transformers` SDPA time of the same
round, and the table shows the median of those ratios, so a load spike that hits a round hits
its reference too. The machine's load average is printed with each column. A peer whose
package is missing shows "not installed" (`pip install -r benchmarks/requirements.txt`).

Also measured: each engine's agreement with the fp32 reference (max difference for fp32,
smallest cosine per token for int8), the single-matmul rate of each kernel at BERT's shapes,
and the share of the machine's best measured matmul rate each engine reaches.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

import course_lib as cl
from course_lib.pretrained import load_config

SEED = 0
REFERENCE = "transformers SDPA"


@dataclass
class Shape:
    """One column: a uniform (batch, seq) batch, or texts of given lengths padded together."""

    label: str
    batch: int
    seq: int
    lengths: tuple[int, ...] | None = None  # padded batch: each text's real length


def shapes(smoke: bool) -> list[Shape]:
    if smoke:
        return [Shape("1 x 16", 1, 16), Shape("2 x 16", 2, 16), Shape("1 x 64", 1, 64),
                Shape("4 texts 4..16 padded", 4, 16, (4, 8, 12, 16))]
    return [Shape("1 x 128", 1, 128), Shape("8 x 128", 8, 128), Shape("1 x 512", 1, 512),
            Shape("16 texts 8..128 padded", 16, 128, tuple(range(8, 129, 8)))]


def inputs_for(shape: Shape, vocab_size: int):
    """(ids, mask, segments) as int64 tensors, seeded; padding holds ID 0 after each text."""
    generator = torch.Generator().manual_seed(SEED)
    ids = torch.randint(1000, vocab_size, (shape.batch, shape.seq), generator=generator)
    mask = torch.ones_like(ids)
    for row, length in enumerate(shape.lengths or ()):
        mask[row, length:] = 0
    return ids * mask, mask, torch.zeros_like(ids)


# --- the engines -----------------------------------------------------------------------------
# Each builder gets (checkpoint folder, threads, work folder) and returns a function
# (ids, mask, segments) -> hidden states (batch, seq, hidden) as a float32 tensor.


def ours(**options):
    def build(folder: Path, threads: int, work: Path):
        engine = cl.InferenceBert.from_model(cl.load_pretrained(folder), **options)
        return lambda ids, mask, seg: engine(ids, mask, seg).last_hidden_state
    return build


def transformers_model(folder: Path):
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers.BertModel.from_pretrained(str(folder), attn_implementation="sdpa",
                                                  add_pooling_layer=False).eval()


def reference(folder: Path, threads: int, work: Path):
    model = transformers_model(folder)
    return lambda ids, mask, seg: model(input_ids=ids, attention_mask=mask,
                                        token_type_ids=seg).last_hidden_state


def torch_dynamic_int8(folder: Path, threads: int, work: Path):
    """torch's own dynamic int8 quantization of every nn.Linear of the transformers model."""
    from torch.ao.quantization import quantize_dynamic

    # torch.ao.quantization is deprecated in favour of torchao (not installed here); it still
    # works, and this benchmark measures it as the peer a torch user would reach for. Its
    # deprecation warnings say nothing about this measurement, so they are hidden here only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = quantize_dynamic(transformers_model(folder), {torch.nn.Linear}, torch.qint8)
    return lambda ids, mask, seg: model(input_ids=ids, attention_mask=mask,
                                        token_type_ids=seg).last_hidden_state


def _onnx_export(folder: Path, work: Path) -> Path:
    """The transformers model exported once to ONNX (eager attention: the pattern ONNX
    Runtime's BERT optimizer fuses), with dynamic batch and sequence axes."""
    path = work / "bert.onnx"
    if path.exists():
        return path
    import transformers

    model = transformers.BertModel.from_pretrained(str(folder), attn_implementation="eager",
                                                   add_pooling_layer=False).eval()

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, ids, mask, seg):
            return self.model(input_ids=ids, attention_mask=mask,
                              token_type_ids=seg).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = inputs_for(Shape("", 2, 16), model.config.vocab_size)
    # The TorchScript exporter is deprecated in torch >= 2.9 but is the one that needs no extra
    # package (the new one needs onnxscript); its warnings and log lines are not ours to show.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapped(), example, str(path), input_names=names,
                          output_names=["hidden"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "hidden"]})
    return path


def quiet_threads(options) -> None:
    """ONNX Runtime's worker threads spin for a while after each run, waiting for more work; in
    interleaved rounds they would take the cores from the engine that runs next. Off."""
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")


def _onnx_session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    quiet_threads(options)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(ids, mask, seg):
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                "token_type_ids": seg.numpy()}
        return torch.from_numpy(session.run(None, feed)[0])
    return run


def _onnx_optimized(folder: Path, work: Path) -> Path:
    """ONNX Runtime's transformer optimizer (fused attention, embedding + LayerNorm,
    bias + GELU, residual + LayerNorm: "SkipLayerNormalization")."""
    path = work / "bert_optimized.onnx"
    if not path.exists():
        from onnxruntime.transformers import optimizer

        config = load_config(folder)
        with contextlib.redirect_stdout(io.StringIO()):
            optimized = optimizer.optimize_model(str(_onnx_export(folder, work)), "bert",
                                                 num_heads=config.num_heads,
                                                 hidden_size=config.hidden_size)
        optimized.save_model_to_file(str(path))
    return path


def onnx_fp32(folder: Path, threads: int, work: Path):
    return _onnx_session(_onnx_optimized(folder, work), threads)


def onnx_int8(folder: Path, threads: int, work: Path):
    """ONNX Runtime's dynamic quantizer on the optimized graph: int8 weights per channel,
    uint8 activations quantized at run time (MatMulInteger / DynamicQuantizeMatMul)."""
    import logging

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = work / "bert_int8.onnx"
    if not path.exists():
        logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing": not needed here
        quantize_dynamic(str(_onnx_optimized(folder, work)), str(path),
                         weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
    return _onnx_session(path, threads)


def _ct2_converted(folder: Path, work: Path, quantization: str) -> Path:
    """The checkpoint converted by CTranslate2's converter (it also wants a vocabulary and
    the config field `position_embedding_type`, which transformers 5 no longer writes)."""
    import json
    import shutil

    from ctranslate2.converters import TransformersConverter

    source = work / "ct2-source"
    if not source.exists():
        shutil.copytree(folder, source)
        tokenizer = cl.minilm_folder()  # BERT's uncased WordPiece vocabulary, 30522 entries
        for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json"):
            if (tokenizer / name).exists():
                shutil.copy(tokenizer / name, source / name)
        config = json.loads((source / "config.json").read_text())
        config.setdefault("position_embedding_type", "absolute")
        (source / "config.json").write_text(json.dumps(config))
    target = work / f"ct2-{quantization}"
    if not target.exists():
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TransformersConverter(str(source)).convert(str(target), quantization=quantization)
    return target


def ctranslate2_engine(quantization: str):
    def build(folder: Path, threads: int, work: Path):
        import ctranslate2
        import numpy as np

        encoder = ctranslate2.Encoder(str(_ct2_converted(folder, work, quantization)),
                                      device="cpu", compute_type=quantization,
                                      intra_threads=threads)

        def run(ids, mask, seg):
            lengths = mask.sum(1).tolist()  # CTranslate2 takes each text at its own length
            tokens = [row[:n] for row, n in zip(ids.tolist(), lengths, strict=True)]
            segments = [row[:n] for row, n in zip(seg.tolist(), lengths, strict=True)]
            out = encoder.forward_batch(tokens, token_type_ids=segments)
            return torch.from_numpy(np.array(out.last_hidden_state))
        return run
    return build


@dataclass
class Engine:
    name: str
    build: Callable
    needs: tuple[str, ...] = ()  # packages it imports
    int8: bool = False
    bf16: bool = False  # agreement as a cosine, like int8; its rate against the fp32 peak
    big_only: bool = False  # skipped in --smoke (conversions take tens of seconds)


ENGINES = [
    Engine(REFERENCE, reference, ("transformers",)),
    Engine("ours, fp32, prepack=False (torch addmm)", ours(prepack=False)),
    Engine("ours, fp32, prepack=True (oneDNN)", ours(prepack=True)),
    Engine("ours, int8", ours(precision="int8"), int8=True),
    Engine("ours, bf16", ours(precision="bf16"), bf16=True),
    Engine("torch dynamic int8 (nn.Linear)", torch_dynamic_int8, ("transformers",), int8=True),
    Engine("ONNX Runtime, optimized graph, fp32", onnx_fp32,
           ("onnxruntime", "onnx", "transformers"), big_only=True),
    Engine("ONNX Runtime, dynamic int8", onnx_int8, ("onnxruntime", "onnx", "transformers"),
           int8=True, big_only=True),
    Engine("CTranslate2 fp32", ctranslate2_engine("float32"), ("ctranslate2", "transformers"),
           big_only=True),
    Engine("CTranslate2 int8", ctranslate2_engine("int8"), ("ctranslate2", "transformers"),
           int8=True, big_only=True),
]


def missing_package(engine: Engine) -> str | None:
    import importlib.util

    return next((name for name in engine.needs if importlib.util.find_spec(name) is None), None)


# --- measuring -------------------------------------------------------------------------------


def load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return f"{os.getloadavg()[0]:.1f}"
    return "?"


def agreement(engine: Engine, out: torch.Tensor, expected: torch.Tensor, real) -> str:
    """fp32: largest difference on real tokens; int8, bf16: smallest cosine of a token's
    vector."""
    out = out.float()[..., : expected.shape[-2], :]
    if engine.int8 or engine.bf16:
        return f"cos {F.cosine_similarity(out[real], expected[real], dim=-1).min().item():.4f}"
    return f"{(out - expected)[real].abs().max().item():.1e}"


def serve(name: str, folder: Path, threads: int, work: Path, smoke: bool, pipe) -> None:
    """One engine's own process: build it, then answer the coordinator's requests ("out",
    shape index): the output; ("time", shape index): one timed run in seconds; None: stop."""
    torch.set_num_threads(threads)
    with contextlib.suppress(ImportError):  # converters load checkpoints through transformers
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    engine = next(e for e in ENGINES if e.name == name)
    try:
        run = engine.build(folder, threads, work)
    except Exception as error:  # a peer that fails to build is reported, not fatal
        pipe.send(f"failed: {type(error).__name__}: {error}"[:80])
        return
    pipe.send("ready")
    columns = shapes(smoke)
    vocab = load_config(folder).vocab_size
    with torch.inference_mode():
        while (request := pipe.recv()) is not None:
            kind, index = request
            ids, mask, seg = inputs_for(columns[index], vocab)
            start = time.perf_counter()
            out = run(ids, mask, seg)
            took = time.perf_counter() - start
            pipe.send(out.float() if kind == "out" else took)


# The pause before each timed run: long enough for the last engine's idle worker threads (which
# spin a while after each call) to go to sleep, so they cannot take the cores from the next one.
SETTLE_SECONDS = 0.02


def start_engines(folder: Path, threads: int, smoke: bool, work: Path) -> tuple[dict, dict]:
    """({engine: (its pipe, its process)} for the engines that built, {engine: why not} for the
    others). Each engine lives in a process of its own, as it would in use: thread pools and
    libraries of one (CTranslate2 ships its own OpenMP) then cannot slow another; measured in one
    process, one CTranslate2 call left our int8 engine twice as slow for as long as the process
    lived."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    started, notes = {}, {}
    for engine in ENGINES:
        package = missing_package(engine)
        if package:
            notes[engine.name] = f"not installed ({package})"
            continue
        if engine.big_only and smoke:
            notes[engine.name] = "skipped in --smoke"
            continue
        ours_end, theirs = spawn.Pipe()
        process = spawn.Process(target=serve, daemon=True,
                                args=(engine.name, folder, threads, work, smoke, theirs))
        process.start()
        answer = ours_end.recv()  # one at a time: builds do not compete for the cores
        if answer == "ready":
            started[engine.name] = ours_end, process
        else:
            notes[engine.name] = answer
            process.join()
    return started, notes


def measure(folder: Path, threads: int, rounds: int, smoke: bool) -> dict:
    """{"rows": {engine: {shape: ratio or note}}, "agreement": ..., "load": ..., "ms": ...}."""
    columns = shapes(smoke)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        engines, notes = start_engines(folder, threads, smoke, Path(tmp))
        built = {name: pipe for name, (pipe, _) in engines.items()}
        try:
            if REFERENCE not in built:
                raise SystemExit("transformers is needed as the reference: pip install "
                                 "-r requirements-dev.txt")
            names = list(built)
            vocab = load_config(folder).vocab_size
            ratios, times, agree = ({name: {} for name in names} for _ in range(3))
            loads = {}
            for index, shape in enumerate(columns):
                mask = inputs_for(shape, vocab)[1]
                outputs = {}
                for name in names:  # warm-up, and the agreement
                    built[name].send(("out", index))
                    outputs[name] = built[name].recv()
                for name in names:
                    engine = next(e for e in ENGINES if e.name == name)
                    agree[name][shape.label] = agreement(engine, outputs[name],
                                                         outputs[REFERENCE], mask.bool())
                per_round = {name: [] for name in names}
                raw = {name: [] for name in names}
                load_start = load_average()
                for r in range(rounds):
                    order = names[r % len(names):] + names[: r % len(names)]  # rotated
                    took = {}
                    for name in order:
                        time.sleep(SETTLE_SECONDS)
                        built[name].send(("time", index))
                        took[name] = built[name].recv()
                    for name in names:
                        per_round[name].append(took[name] / took[REFERENCE])
                        raw[name].append(took[name] * 1000)
                loads[shape.label] = f"{load_start} -> {load_average()}"
                for name in names:
                    ratios[name][shape.label] = statistics.median(per_round[name])
                    times[name][shape.label] = statistics.median(raw[name])
        finally:  # stop them all, and wait: an exiting process still takes the cores a while
            for pipe in built.values():
                pipe.send(None)
            for _, process in engines.values():
                process.join(timeout=60)
    return dict(columns=[s.label for s in columns], ratios=ratios, times=times, notes=notes,
                agreement=agree, loads=loads, rounds=rounds)


# --- single matrix multiplies ------------------------------------------------------------------


def matmul_shapes(smoke: bool) -> list[tuple[int, int, int]]:
    """(tokens, in, out) of BERT-base's dense layers at 128 and 1024 tokens."""
    if smoke:
        return [(16, 64, 256), (16, 256, 64)]
    return [(128, 768, 2304), (128, 768, 3072), (128, 3072, 768), (1024, 768, 3072),
            (1024, 3072, 768)]


def matmul_kernels() -> dict[str, Callable]:
    """Kernel name -> builder (x (tokens, in), weight (out, in), bias) -> no-argument call."""
    from course_lib.inference import QuantizedDense

    def torch_addmm(x, w, b):
        wt = w.t().contiguous().t()
        return lambda: torch.addmm(b, x, wt.t())

    def onednn_fp32(x, w, b):
        packed = torch.ops.mkldnn._reorder_linear_weight(w)
        return lambda: torch.ops.mkldnn._linear_pointwise(x, packed, b, "none", [], "")

    def onednn_int8(x, w, b):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        linear.weight.data, linear.bias.data = w, b
        dense = QuantizedDense.of(linear, onednn=True)
        return lambda: dense(x)

    kernels = {"torch addmm fp32 (MKL)": torch_addmm}
    if torch.backends.mkldnn.is_available():
        kernels["oneDNN fp32, prepacked"] = onednn_fp32
    from course_lib.inference import onednn_int8_works

    if onednn_int8_works(torch.device("cpu")):
        kernels["oneDNN int8 (ours, with quantizing x)"] = onednn_int8
    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401

        kernels["ONNX Runtime MatMul fp32 (MLAS)"] = onnx_matmul
    return kernels


def onnx_matmul(x, w, b):
    """One MatMul + Add node run by ONNX Runtime (MLAS kernels)."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["p"]), helper.make_node("Add", ["p", "b"],
                                                                         ["y"])],
        "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [x.shape[0], w.shape[0]])],
        [numpy_helper.from_array(w.t().contiguous().numpy(), "w"),
         numpy_helper.from_array(b.numpy(), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    quiet_threads(options)
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    feed = {"x": np.ascontiguousarray(x.numpy())}
    return lambda: session.run(None, feed)


def matmul_rates(smoke: bool, repeats: int) -> dict:
    """GFLOP/s (2 * tokens * in * out per call) of each kernel at each shape, interleaved."""
    generator = torch.Generator().manual_seed(SEED)
    kernels = matmul_kernels()
    rates = {name: {} for name in kernels}
    for tokens, k, n in matmul_shapes(smoke):
        x = torch.randn(tokens, k, generator=generator)
        w = torch.randn(n, k, generator=generator) * k ** -0.5
        b = torch.randn(n, generator=generator)
        calls = {name: build(x, w, b) for name, build in kernels.items()}
        took = {name: [] for name in calls}
        for call in calls.values():
            call()
        for _ in range(repeats):
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                took[name].append(time.perf_counter() - start)
        for name in calls:
            rates[name][(tokens, k, n)] = 2 * tokens * k * n / statistics.median(took[name]) / 1e9
    return rates


def model_flops(config, shape: Shape) -> float:
    """Multiply-adds x 2 of one forward pass over the real tokens: dense layers and the two
    attention products (scores, weighted sum) per text."""
    hidden, inner = config.hidden_size, config.intermediate_size
    lengths = shape.lengths or (shape.seq,) * shape.batch
    dense = sum(lengths) * 2 * (4 * hidden * hidden + 2 * hidden * inner)
    attention = sum(2 * 2 * n * n * hidden for n in lengths)
    return config.num_layers * (dense + attention)


# --- the report --------------------------------------------------------------------------------


def report(result: dict, rates: dict, config, smoke: bool) -> str:
    columns = result["columns"]
    lines = [f"### Engines side by side: time / `{REFERENCE}` time, median over "
             f"{result['rounds']} interleaved rounds (lower is faster)", "",
             "| engine | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for engine in ENGINES:
        if engine.name in result["notes"]:
            cells = [result["notes"][engine.name]] * len(columns)
        else:
            cells = [f"{result['ratios'][engine.name][c]:.2f}" for c in columns]
        lines.append(f"| {engine.name} | " + " | ".join(cells) + " |")
    reference_ms = [f"{result['times'][REFERENCE][c]:.1f}" for c in columns]
    lines.append(f"| *{REFERENCE}, ms (for scale)* | " + " | ".join(reference_ms) + " |")
    lines.append("| *load average (1 min) before -> after* | "
                 + " | ".join(result["loads"][c] for c in columns) + " |")
    lines += ["", "Agreement with the fp32 reference on real tokens (fp32: largest difference; "
              "int8 and bf16: smallest cosine of a token's vector):", "",
              "| engine | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, by_shape in result["agreement"].items():
        lines.append(f"| {name} | " + " | ".join(by_shape[c] for c in columns) + " |")

    lines += ["", "### Single matrix multiplies at BERT's shapes (GFLOP/s, median)", ""]
    if rates:
        shape_keys = list(next(iter(rates.values())))
        lines += ["| kernel | " + " | ".join(f"{t} x {k} x {n}" for t, k, n in shape_keys) + " |",
                  "|---|" + "---:|" * len(shape_keys)]
        for name, by_shape in rates.items():
            lines.append(f"| {name} | " + " | ".join(f"{by_shape[s]:.0f}" for s in shape_keys)
                         + " |")
    fp32_peak = max((v for name, r in rates.items() if "int8" not in name for v in r.values()),
                    default=0.0)
    int8_peak = max((v for name, r in rates.items() if "int8" in name for v in r.values()),
                    default=0.0)
    lines += ["", f"Share of the measured matmul peak each engine reaches (model FLOPs / time; "
              f"fp32 engines against the best fp32 rate above, {fp32_peak:.0f} GFLOP/s; int8 "
              f"engines against the best int8 rate, {int8_peak:.0f} GOP/s):", "",
              "| engine | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for engine in ENGINES:
        if engine.name in result["notes"]:
            continue
        peak = int8_peak if engine.int8 else fp32_peak
        cells = []
        for column, shape in zip(columns, shapes(smoke), strict=True):
            rate = model_flops(config, shape) / (result["times"][engine.name][column] / 1000) / 1e9
            cells.append(f"{100 * rate / peak:.0f} %" if peak else "-")
        lines.append(f"| {engine.name} | " + " | ".join(cells) + " |")
    lines += ["", "The ratios above compare engines within the same rounds; the rates and shares "
              "compare measurements taken minutes apart, so on a loaded machine they are rough "
              "(a share above 100 % means the machine was busier while the matmul rates were "
              "measured than while the engine ran)."]
    return "\n".join(lines)


def run(folder: Path, threads: int, rounds: int, smoke: bool, matmul_repeats: int) -> str:
    torch.set_num_threads(threads)
    result = measure(folder, threads, rounds, smoke)
    rates = matmul_rates(smoke, matmul_repeats)
    return report(result, rates, load_config(folder), smoke)


def main(argv=None) -> int:
    import argparse
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import write_checkpoint

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.smoke else 9)
    with tempfile.TemporaryDirectory(prefix="bench-bert-") as tmp:
        write_checkpoint(Path(tmp), args.smoke)
        print(run(Path(tmp), args.threads, rounds, args.smoke, 3 if args.smoke else 15))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
