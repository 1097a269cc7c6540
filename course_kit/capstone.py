"""Notebook 07b: a whole BERT assembled from the learner's own functions (their ``my_bert``).

``pick_pieces`` takes each piece from the learner's package when it is there and passes its
notebook's checker, else from course_lib, and says which in one line per piece. ``MyBert`` has
the same parameter names as ``cl.BertModel`` (so any loader and name map for it fit), but its
forward pass calls only the picked pieces. Inference only: no dropout.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.attention import attention_weights, merge_heads, split_heads
from course_lib.config import BertConfig
from course_lib.embeddings import BertEmbeddings
from course_lib.layers import gelu
from course_lib.model import BertOutput
from course_lib.pretrained import read_pretrained
from course_lib.validation import check_inputs
from course_lib.weights import checkpoint_name_to_ours, load_checkpoint_into

PACKAGE = "my_bert"


# ----- the library's version of each piece, with the learner's signatures --------------------


def library_build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id):
    """[CLS] + the first pieces that fit + [SEP], padded to max_length; mask 1 on real tokens."""
    ids = [cls_id, *piece_ids[: max_length - 2], sep_id]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


def library_layer_norm(x, weight, bias, eps):
    return F.layer_norm(x, x.shape[-1:], weight, bias, eps)  # what nn.LayerNorm computes


def library_bert_embeddings(input_ids, token_type_ids, emb):
    return BertEmbeddings.forward(emb, input_ids, token_type_ids)  # (batch, seq, hidden)


def library_multi_head_attention(x, attention, keep, pieces=None):
    """cl.MultiHeadSelfAttention's maths; split and merge are the picked ones (maybe yours)."""
    split = pieces.split_heads if pieces is not None else split_heads
    merge = pieces.merge_heads if pieces is not None else merge_heads
    heads = attention.num_heads
    q, k, v = (split(part(x), heads) for part in (attention.query, attention.key,
                                                    attention.value))  # (batch, heads, seq, d)
    weights = attention_weights(q, k, keep[:, None, None, :])  # (batch, heads, seq, seq)
    return attention.output(merge(weights @ v))  # (batch, seq, hidden)


def library_feed_forward(x, ff, pieces=None):
    activation = pieces.gelu if pieces is not None else gelu
    return ff.output(activation(ff.intermediate(x)))  # (batch, seq, hidden)


def library_encoder_layer(x, layer, mask):
    """Post-LN, as BERT: LayerNorm(x + attention), then LayerNorm(. + feed-forward)."""
    x = layer.attention_norm(x + layer.attention(x, mask)[0])  # (batch, seq, hidden)
    return layer.output_norm(x + layer.feed_forward(x))  # (batch, seq, hidden)


def library_load_weights(model, checkpoint) -> None:
    load_checkpoint_into(model, checkpoint)


# ----- which piece comes from where ----------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One function of the learner's my_bert, its notebook, its checker and the library's."""

    name: str  # the function's name in my_bert/<module>.py
    module: str
    notebook: str
    checker: str  # "module:function" in course_kit.checks
    what: str


PIECES = (
    Piece("wordpiece", "tokens", "01", "tokens:check_wordpiece", "WordPiece"),
    Piece("build_model_input", "tokens", "01", "tokens:check_build_model_input",
          "[CLS] ... [SEP] and padding"),
    Piece("layer_norm", "embeddings", "02", "embeddings:check_layer_norm", "LayerNorm"),
    Piece("bert_embeddings", "embeddings", "02", "embeddings:check_embeddings",
          "the embedding layer"),
    Piece("attention_weights", "attention", "03", "attention:check_attention_weights",
          "attention weights (the maps)"),
    Piece("split_heads", "multi_head", "04", "attention:check_split_heads", "split heads"),
    Piece("merge_heads", "multi_head", "04", "attention:check_merge_heads", "merge heads"),
    Piece("multi_head_attention", "multi_head", "04", "attention:check_multi_head_attention",
          "multi-head attention"),
    Piece("gelu", "layers", "05", "layers:check_gelu", "GELU"),
    Piece("feed_forward", "layers", "05", "layers:check_feed_forward", "the feed-forward network"),
    Piece("encoder_layer", "layers", "05", "layers:check_encoder_layer", "the encoder layer"),
    Piece("to_our_name", "pretrained", "07", "pretrained:check_name_map", "the name map"),
    Piece("load_weights", "pretrained", "07", "pretrained:check_load_weights", "the loader"),
)
PIECE_NAMES = tuple(piece.name for piece in PIECES)


def import_my_bert(folder: str | Path) -> types.ModuleType | None:
    """The package ``folder/my_bert`` freshly imported (a copy imported before is dropped)."""
    package = Path(folder) / PACKAGE
    if not (package / "__init__.py").is_file():
        return None
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, package / "__init__.py", submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    importlib.invalidate_caches()
    return module


def saved_pieces(folder: str | Path) -> list[str]:
    """The pieces (names in PIECE_NAMES) saved in ``folder/my_bert``, in the course's order."""
    from .my_bert import read_saved  # the file format %%my_bert writes

    package = Path(folder) / PACKAGE
    saved = {name for path in package.glob("*.py") for block in read_saved(path)[1]
             for name in block.names}
    return [name for name in PIECE_NAMES if name in saved]


def _library_version(name: str, tokenizer) -> Callable:
    if name == "wordpiece":
        return lambda word, vocab: tokenizer.wordpiece(word)
    return {
        "build_model_input": library_build_model_input,
        "layer_norm": library_layer_norm,
        "bert_embeddings": library_bert_embeddings,
        "attention_weights": attention_weights,
        "split_heads": split_heads,
        "merge_heads": merge_heads,
        "gelu": gelu,
        "encoder_layer": library_encoder_layer,
        "to_our_name": checkpoint_name_to_ours,
        "load_weights": library_load_weights,
    }[name]


def _learner_version(package, piece: Piece) -> tuple[Callable | None, str]:
    """(the learner's function, or None and why not)."""
    where = f"{PACKAGE}/{piece.module}.py"
    if package is None:
        return None, f"no {PACKAGE}/ folder"
    try:
        module = importlib.import_module(f"{PACKAGE}.{piece.module}")
    except ModuleNotFoundError as error:
        if error.name == f"{PACKAGE}.{piece.module}":
            return None, f"no {where} yet (notebook {piece.notebook})"
        return None, f"{where} does not import: {type(error).__name__}: {error}"
    except Exception as error:  # any error in the learner's file: say it, go on
        return None, f"{where} does not import: {type(error).__name__}: {error}"
    function = getattr(module, piece.name, None)
    if not callable(function):
        return None, f"{where} has no {piece.name} (notebook {piece.notebook})"
    checks, _, checker_name = piece.checker.partition(":")
    checker = getattr(importlib.import_module(f"course_kit.checks.{checks}"), checker_name)
    report = checker(function)
    if not report.passed:
        return None, f"your {piece.name} from {where} does not pass {checker_name}: " + (
            _first_reason(report, where))
    if piece.name in MODULE_PIECES:
        trouble = _trial_in_my_bert(piece.name, function)
        if trouble:
            return None, f"your {piece.name} does not run inside MyBert: {trouble}"
    return function, f"{where}"


def _first_reason(report, where: str) -> str:
    """The checker's first [fix] point, said for the saved file (which may lack a name the
    notebook has, so that a piece that passed in its notebook fails here)."""
    reason = report.failed_points[0] if report.failed_points else "nothing was checked"
    reason = reason if len(reason) <= 240 else reason[:237] + "..."
    if "raised NameError" in reason:
        reason += (f"; in its notebook that name exists, but {where} does not have it: compute "
                   "it from the inputs (or, for a constant, define it in a %%my_bert cell)")
    return reason


MODULE_PIECES = ("multi_head_attention", "feed_forward", "encoder_layer")


class PieceCallsItsModule(RuntimeError):
    """A picked function called the MyBert module that runs it (``ff(x)`` inside
    ``feed_forward``): it would call itself for ever."""


def _trial_in_my_bert(name: str, function: Callable) -> str | None:
    """Run one module piece inside MyBert's own module (every other piece course_lib's), on a
    small seeded input: None when it runs, else what went wrong. Checkers call it with
    course_lib's modules; here the module calls the function back, which the checker cannot see."""
    from .checks.calling import describe_error, run_learner, timeout_message
    from .checks.fixtures import SMALL, randn, seeded

    pieces = types.SimpleNamespace(**{other: _library_version(other, None)
                                      for other in PIECE_NAMES if other not in (
                                          "wordpiece", "multi_head_attention", "feed_forward")})
    pieces.multi_head_attention = (
        lambda x, attention, keep: library_multi_head_attention(x, attention, keep, pieces))
    pieces.feed_forward = lambda x, ff: library_feed_forward(x, ff, pieces)
    setattr(pieces, name, function)
    with seeded(12):
        layer = MyEncoderLayer(SMALL, pieces).eval()
    x = randn(13, 1, 3, SMALL.hidden_size)  # (batch, seq, hidden)
    mask = torch.ones(1, 1, 1, 3, dtype=torch.bool)  # (batch, 1, 1, seq)
    with torch.no_grad():
        outcome = run_learner(layer, x, mask)
    if outcome.timed_out:
        return timeout_message(f"MyBert's layer with your {name}", outcome.seconds)
    if isinstance(outcome.error, PieceCallsItsModule):
        return str(outcome.error)
    if outcome.error is not None:
        return describe_error(outcome.error)
    return None


def pick_pieces(package, tokenizer, label: str = "yours") -> tuple[types.SimpleNamespace,
                                                                  list[str]]:
    """Each piece: the learner's when it is there and passes its checker, else course_lib's.

    Returns the pieces (a namespace of functions, one per name in PIECE_NAMES, and ``mine``:
    name -> whether it came from the package) and one line per piece saying where it came from,
    starting with ``label`` (e.g. "solutions" when the package is the course's worked one).
    """
    pieces, lines, mine = types.SimpleNamespace(), [], {}
    for piece in PIECES:
        function, where = _learner_version(package, piece)
        mine[piece.name] = function is not None
        if function is None:
            function = _library_version(piece.name, tokenizer) if piece.name not in (
                "multi_head_attention", "feed_forward") else None
            lines.append(f"{'course_lib':11} {piece.what:28} ({where})")
        else:
            lines.append(f"{label:11} {piece.what:28} ({where}: {piece.name})")
        setattr(pieces, piece.name, function)
    # The library's multi-head attention and feed-forward use the picked split/merge and GELU.
    if not mine["multi_head_attention"]:
        pieces.multi_head_attention = (
            lambda x, attention, keep: library_multi_head_attention(x, attention, keep, pieces))
    if not mine["feed_forward"]:
        pieces.feed_forward = lambda x, ff: library_feed_forward(x, ff, pieces)
    if mine["load_weights"]:
        pieces.load_weights = WatchedLoader(pieces.load_weights)
    pieces.mine = mine
    return pieces, lines


class WatchedLoader:
    """The learner's ``load_weights``, noting whether it calls the learner's ``to_our_name``
    (looked up in the loader's own module, as its code does) so 07b can say which name map
    loaded the weights: notebook 07 also allows ``cl.checkpoint_name_to_ours``."""

    def __init__(self, load_weights: Callable):
        functools.update_wrapper(self, load_weights)
        self.load_weights = load_weights
        self.called_name_map: bool | None = None  # None: it has not run yet

    def __call__(self, model, checkpoint):
        names = getattr(self.load_weights, "__globals__", {})
        original = names.get("to_our_name")
        calls = []

        def counted(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        if callable(original):
            names["to_our_name"] = counted
        try:
            return self.load_weights(model, checkpoint)
        finally:
            if callable(original):
                names["to_our_name"] = original
            self.called_name_map = bool(calls)


def loading_lines(pieces, label: str = "yours") -> list[str]:
    """Two lines: which loader put the weights into MyBert, and which name map it used;
    ``label`` names the package as in ``pick_pieces``'s lines."""
    loader = pieces.load_weights
    if not isinstance(loader, WatchedLoader):
        return ["loader:   course_lib's (cl.load_checkpoint_into)",
                "name map: course_lib's (cl.checkpoint_name_to_ours, which course_lib's loader "
                "uses)"]
    where = f"{PACKAGE}/pretrained.py"
    lines = [f"loader:   {label} ({where}: load_weights)"]
    if loader.called_name_map is None:
        lines.append("name map: not known yet (the loader has not run)")
    elif loader.called_name_map:
        passed = "" if pieces.mine["to_our_name"] else " (it does not pass check_name_map yet)"
        lines.append(f"name map: {label} ({where}: to_our_name, which the loader calls){passed}")
    else:
        lines.append(f"name map: not the to_our_name of {where}: the loader did not call it "
                     "(it maps the names another way, e.g. with cl.checkpoint_name_to_ours)")
    return lines


def encode_with(pieces, tokenizer, text: str, max_length: int) -> tuple[list[int], list[int]]:
    """(input_ids, attention_mask) of one text: the library's basic split into words, then the
    picked WordPiece and model-input pieces."""
    vocab = tokenizer.vocab
    words = tokenizer.basic_tokenize(text)  # notebook 01 section 2: words and punctuation
    tokens = [piece for word in words for piece in pieces.wordpiece(word, vocab)]
    ids = [vocab[token] for token in tokens]
    return pieces.build_model_input(ids, max_length, vocab["[CLS]"], vocab["[SEP]"],
                                    vocab["[PAD]"])


# ----- the model -----------------------------------------------------------------------------


class _RunsPiece(nn.Module):
    """A MyBert module whose forward pass is one picked function; calling the module again from
    inside that function raises PieceCallsItsModule at once (not a RecursionError later)."""

    piece = ""  # the name of the picked function, in PIECE_NAMES
    given = ""  # how that function calls this module, as the learner would write it
    notebook = ""  # the notebook of that exercise

    def run_piece(self, *args):
        if self.__dict__.get("_running"):
            raise PieceCallsItsModule(
                f"your {self.piece} calls {self.given}, the module it is given, and that "
                f"module runs your {self.piece}: it would call itself for ever. Compute it "
                f"from the module's parts (notebook {self.notebook})")
        self.__dict__["_running"] = True
        try:
            return getattr(self.pieces, self.piece)(*args)
        finally:
            self.__dict__["_running"] = False


class MyLayerNorm(nn.Module):
    """nn.LayerNorm's parameters (weight, bias), the picked ``layer_norm`` function."""

    def __init__(self, config: BertConfig, pieces):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(config.hidden_size))
        self.bias = nn.Parameter(torch.zeros(config.hidden_size))
        self.eps = config.layer_norm_eps
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pieces.layer_norm(x, self.weight, self.bias, self.eps)


class MyAttention(_RunsPiece):
    """The four projections of a layer's attention; the picked ``multi_head_attention`` runs
    them. When asked (``keep_maps``) it also computes each head's map with the picked
    ``split_heads`` and ``attention_weights`` (one (seq, d) head at a time, as in notebook 03)."""

    piece, given, notebook = "multi_head_attention", "attention(x, ...)", "04"

    def __init__(self, config: BertConfig, pieces):
        super().__init__()
        self.num_heads = config.num_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.output = nn.Linear(config.hidden_size, config.hidden_size)
        self.pieces = pieces
        self.keep_maps = False
        self.maps: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                output_attentions: bool = False):
        """x: (batch, seq, hidden); mask: (batch, 1, 1, seq) bool. Returns (output, maps)."""
        batch, seq, _ = x.shape
        keep = (torch.ones(batch, seq, dtype=torch.bool, device=x.device) if mask is None
                else mask[:, 0, 0, :])  # (batch, seq)
        output = self.run_piece(x, self, keep)  # (batch, seq, hidden)
        self.maps = None
        if self.keep_maps or output_attentions:
            q = self.pieces.split_heads(self.query(x), self.num_heads)  # (batch, heads, seq, d)
            k = self.pieces.split_heads(self.key(x), self.num_heads)  # (batch, heads, seq, d)
            self.maps = torch.stack([
                torch.stack([self.pieces.attention_weights(q[b, h], k[b, h], keep[b])
                             for h in range(self.num_heads)])  # (heads, seq, seq)
                for b in range(batch)])  # (batch, heads, seq, seq)
        return output, self.maps


class MyFeedForward(_RunsPiece):
    """nn.Linear 'intermediate' and 'output'; the picked ``feed_forward`` runs them."""

    piece, given, notebook = "feed_forward", "ff(x)", "05"

    def __init__(self, config: BertConfig, pieces):
        super().__init__()
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_piece(x, self)  # (batch, seq, hidden)


class MyEncoderLayer(_RunsPiece):
    """One layer's modules under cl.EncoderLayer's names; the picked ``encoder_layer`` runs it."""

    piece, given, notebook = "encoder_layer", "layer(x, mask)", "05"

    def __init__(self, config: BertConfig, pieces):
        super().__init__()
        self.attention = MyAttention(config, pieces)
        self.attention_norm = MyLayerNorm(config, pieces)
        self.feed_forward = MyFeedForward(config, pieces)
        self.output_norm = MyLayerNorm(config, pieces)
        self.pieces = pieces

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.run_piece(x, self, mask)  # (batch, seq, hidden)


class MyBert(nn.Module):
    """BERT from the picked pieces: the embedding layer, then ``num_layers`` encoder layers.

    Called like ``cl.BertModel`` (same inputs, same ``BertOutput``), so the attention explorer
    and the course's comparisons take it as it is. Its parameters have cl.BertModel's names.
    """

    def __init__(self, config: BertConfig, pieces):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)  # the three tables (and an unused dropout)
        self.embeddings.layer_norm = MyLayerNorm(config, pieces)
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(MyEncoderLayer(config, pieces)
                                            for _ in range(config.num_layers))
        self.pieces = pieces

    def forward(self, input_ids, attention_mask=None, token_type_ids=None,
                output_attentions: bool = False, output_hidden_states: bool = False):
        inputs = check_inputs(input_ids, attention_mask, token_type_ids, config=self.config,
                              device=self.embeddings.word_embeddings.weight.device)
        ids, segments, keep = inputs.input_ids, inputs.token_type_ids, inputs.attention_mask
        if keep is None:
            keep = torch.ones_like(ids, dtype=torch.bool)
        if segments is None:
            segments = torch.zeros_like(ids)
        mask = keep.bool()[:, None, None, :]  # (batch, 1, 1, seq)
        x = self.pieces.bert_embeddings(ids, segments, self.embeddings)  # (batch, seq, hidden)
        states, maps = [x], []
        for layer in self.encoder.layers:
            layer.attention.keep_maps = output_attentions
            x = layer(x, mask)  # (batch, seq, hidden)
            states.append(x)
            maps.append(layer.attention.maps)
        return BertOutput(x, tuple(maps) if output_attentions else None,
                          tuple(states) if output_hidden_states else None)


def load_my_bert(pieces, source: str = "minilm") -> MyBert:
    """The library's answer to notebook 07b's exercise: a MyBert holding the shipped weights,
    loaded by the picked loader (and so the picked name map), in eval mode."""
    _, config, checkpoint = read_pretrained(source)
    model = MyBert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model.eval()
