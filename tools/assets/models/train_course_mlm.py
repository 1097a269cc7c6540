"""Train the course's small masked-LM BERT ("course-mlm") and write it in the Hugging Face layout.

Run from the repository root:  python tools/assets/models/train_course_mlm.py [--steps 2500]
It rewrites course_lib/assets/models/course-mlm/ (config.json, model.safetensors, vocab.txt,
training_log.json) and prints the SHA-256 of the files; copy those into COURSE_MLM_SHA256 in
course_lib/pretrained.py, which checks them at every load. It is the model notebook 09 trains,
trained longer: the same corpus, vocabulary, sizes and recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from course_kit import probes as kp  # noqa: E402
from course_lib import BertForMaskedLM  # noqa: E402
from course_lib import pretraining as pt  # noqa: E402
from course_lib.pretrained import sha256_of  # noqa: E402

OUT = ROOT / "course_lib" / "assets" / "models" / "course-mlm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts = kp.load_corpus()
    tok = kp.course_tokenizer(texts)
    torch.manual_seed(args.seed)
    model = BertForMaskedLM(kp.small_config(tok.vocab_size))
    run = pt.train_masked_lm(model, tok, texts, steps=args.steps, batch_size=args.batch_size,
                             learning_rate=5e-3, warmup=100, seed=args.seed)
    accuracy = kp.probe_accuracy(model, tok)
    model.save_pretrained(OUT, tokenizer=tok)
    log = {
        "steps": args.steps, "batch_size": args.batch_size, "seed": args.seed,
        "seconds": round(run.seconds, 1), "final_loss": round(sum(run.losses[-100:]) / 100, 3),
        "probe_accuracy": {f"{t} ({side} clue)": round(a, 3) for (t, side), a in accuracy.items()},
        "parameters": model.num_parameters(),
    }
    (OUT / "training_log.json").write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(log, indent=2))
    for name in ("model.safetensors", "vocab.txt"):
        print(f'    "{name}": "{sha256_of(OUT / name)}",')


if __name__ == "__main__":
    main()
