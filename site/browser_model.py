"""The shipped models written for the browser: what site/static/bert.js loads.

A folder per model with ``manifest.json`` (the configuration, the tokenizer's casing, each
parameter's name, shape and byte offset), ``vocab.txt`` and ``weights.bin`` (every parameter of
course_lib's model, by our names, float32 or float16, little-endian). The site builds MiniLM in
float16 (about 45 MB, fetched only when a visitor asks for it); the tests also write float32 to
compare the browser's numbers with course_lib's.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch

DTYPES = {"float32": torch.float32, "float16": torch.float16}


def export(model, tokenizer, folder: Path, dtype: str = "float16") -> Path:
    """Write ``model`` (a course_lib BertModel) and its tokenizer's vocabulary into ``folder``."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    folder.mkdir(parents=True, exist_ok=True)
    tensors, offset = {}, 0
    with (folder / "weights.bin").open("wb") as out:
        for name, tensor in model.state_dict().items():
            data = tensor.detach().to(DTYPES[dtype]).contiguous().numpy().astype("<" + (
                "f4" if dtype == "float32" else "f2")).tobytes()
            tensors[name] = {"shape": list(tensor.shape), "offset": offset}
            padding = -len(data) % 4  # every tensor starts on a 4-byte boundary
            out.write(data + b"\0" * padding)
            offset += len(data) + padding
    config = {key: value for key, value in asdict(model.config).items()
              if isinstance(value, (int, float, str))}
    manifest = {"config": config, "lowercase": tokenizer.lowercase, "dtype": dtype,
                "weights": "weights.bin", "bytes": offset, "tensors": tensors}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "vocab.txt").write_text("\n".join(tokenizer.ids_to_tokens) + "\n", encoding="utf-8")
    return folder


def main(argv: list[str]) -> int:
    import course_lib as cl

    folder = Path(argv[0]) if argv else Path("build/browser-model/minilm")
    dtype = argv[1] if len(argv) > 1 else "float16"
    export(cl.load_pretrained("minilm"), cl.load_tokenizer("minilm"), folder, dtype)
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
