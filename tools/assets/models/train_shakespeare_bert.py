"""Train notebook 09b's small BERT on Shakespeare's plays, twice: masked LM alone, and masked LM
with sentence-order prediction. Write the first as the shipped "shakespeare-bert" and the training
log of both (losses, validation, the blanks, order accuracy) beside it.

Run from the repository root:  python tools/assets/models/train_shakespeare_bert.py [--steps 3000]
It rewrites course_lib/assets/models/shakespeare-bert/ (config.json, model.safetensors, vocab.txt,
training_log.json) and prints the SHA-256 of the files; copy them into SHAKESPEARE_BERT_SHA256 in
course_lib/pretrained.py, which checks them at every load. The two runs train in two processes,
one thread each (about 40 minutes on a busy 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from course_kit import shakespeare as sh  # noqa: E402
from course_lib import BertForMaskedLM, BertForPreTraining  # noqa: E402
from course_lib import pretraining as pt  # noqa: E402
from course_lib.pretrained import sha256_of  # noqa: E402

OUT = ROOT / "course_lib" / "assets" / "models" / "shakespeare-bert"
RECIPE = dict(batch_size=32, learning_rate=1e-3, warmup=250, max_length=sh.MAX_LENGTH)
VALIDATION_PASSAGES, VALIDATION_PAIRS = 1000, 500  # a fixed sample of the held-out plays


def cpu_name() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def data(seed: int = 0):
    """Training passages and pairs, a fixed sample of validation passages and pairs, tokenizer."""
    training, validation = sh.split_plays(sh.load_speeches())
    texts, pairs = sh.passages(training), sh.sentence_pairs(training)
    held_texts, held_pairs = sh.held_out_sample(validation, VALIDATION_PASSAGES, VALIDATION_PAIRS,
                                                seed)
    return texts, pairs, held_texts, held_pairs, sh.shakespeare_tokenizer(texts)


def train(kind: str, steps: int, every: int, seed: int, folder: str) -> dict:
    """One run ("mlm" or "mlm+sop"), saved to ``folder``; returns its log."""
    texts, pairs, held_texts, held_pairs, tok = data(seed)
    torch.manual_seed(seed)
    config = sh.small_config(tok.vocab_size)
    if kind == "mlm":
        model, train_on = BertForMaskedLM(config), texts
        evaluate = sh.evaluation(tok, held_texts)
    else:
        model, train_on = BertForPreTraining(config), pairs
        evaluate = sh.evaluation(tok, held_texts, held_pairs)
    measure = evaluate

    def evaluate(model) -> dict:  # noqa: F811  (the same, with a line of progress)
        result = measure(model)
        print(f"{kind}: validation loss {result['validation_loss']}", flush=True)
        return result

    recipe = {**RECIPE, "warmup": min(RECIPE["warmup"], steps)}
    run = pt.train_masked_lm(model, tok, train_on, steps=steps, seed=seed, evaluate=evaluate,
                             every=every, progress=False, **recipe)
    model.save_pretrained(folder, tokenizer=tok)
    return {"kind": kind, "steps": steps, "seed": seed, **recipe,
            "parameters": model.num_parameters(), "seconds": round(run.seconds, 1),
            "training_texts": len(train_on), "losses": [round(x, 4) for x in run.losses],
            "order_losses": [round(x, 4) for x in run.order_losses],
            "evaluations": run.evaluations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, multiprocessing.Pool(2) as pool:
        jobs = [pool.apply_async(train, (kind, args.steps, args.every, args.seed, f"{tmp}/{kind}"))
                for kind in ("mlm", "mlm+sop")]
        logs = [job.get() for job in jobs]
        OUT.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "model.safetensors", "vocab.txt"):
            (OUT / name).write_bytes((Path(tmp) / "mlm" / name).read_bytes())
    log = {"validation_plays": list(sh.VALIDATION_PLAYS), "validation_passages":
           VALIDATION_PASSAGES, "validation_pairs": VALIDATION_PAIRS,
           "machine": f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}",
           "runs": logs}
    (OUT / "training_log.json").write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    for run in logs:
        last = run["evaluations"][-1]
        print(run["kind"], run["seconds"], "s; validation loss", last["validation_loss"],
              "order accuracy", last.get("order_accuracy"))
    for name in ("config.json", "model.safetensors", "vocab.txt"):
        print(f'    "{name}": "{sha256_of(OUT / name)}",')


if __name__ == "__main__":
    main()
