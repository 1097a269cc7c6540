"""Notebook 07b: the learner's own functions (their ``my_bert``) run inside a real ``cl.BertModel``.

``pick_pieces`` takes each piece from the learner's package when it is there, passes its
notebook's checker and gives the model's numbers inside a small ``cl.BertModel``, else
course_lib's, and says which in one line per piece. ``use_pieces(model, pieces)`` puts the picked
functions into a ``cl.BertModel``: its modules then call them (a LayerNorm its ``layer_norm``, the
attention its ``split_heads`` / ``attention_weights`` / ``merge_heads``, the feed-forward its
``gelu``; a piece that is a whole module's forward pass becomes that module's ``forward``).
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import signal
import sys
import threading
import types
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

import course_lib
from course_lib import weights as course_weights
from course_lib.attention import MultiHeadSelfAttention, attention_weights, merge_heads, split_heads
from course_lib.config import BertConfig
from course_lib.embeddings import BertEmbeddings, LayerNorm, layer_norm
from course_lib.layers import EncoderLayer, FeedForward, gelu
from course_lib.model import BertModel
from course_lib.pretrained import read_pretrained
from course_lib.weights import checkpoint_name_to_ours, load_checkpoint_into

PACKAGE = "my_bert"
PIECE_SECONDS = 25.0  # importing, checking and trying one piece: a slow one is said within 30 s
TRIAL_SECONDS = 10.0  # one run of a small model with one learner piece in it
TRIAL_TOLERANCE = 1e-4  # float32, other order of operations: about 1e-6; NaN always fails


def library_build_model_input(piece_ids, max_length, cls_id, sep_id, pad_id):
    """[CLS] + the first pieces that fit + [SEP], padded to max_length; mask 1 on real tokens."""
    ids = [cls_id, *piece_ids[: max_length - 2], sep_id]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


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
# Pieces that are a module's whole forward pass: how the learner's function calls its module.
MODULE_PIECES = {"bert_embeddings": "emb(...)", "multi_head_attention": "attention(x, ...)",
                 "feed_forward": "ff(x)", "encoder_layer": "layer(x, mask)"}
MODEL_PIECES = ("layer_norm", "bert_embeddings", "attention_weights", "split_heads",
                "merge_heads", "multi_head_attention", "gelu", "feed_forward", "encoder_layer")


def import_my_bert(folder: str | Path) -> types.ModuleType | None:
    """The package ``folder/my_bert`` freshly imported (a copy imported before is dropped);
    None when there is none, or when its ``__init__.py`` fails (it says why: the pieces then
    come from course_lib)."""
    from .checks.calling import describe_error, timeout_message

    package = Path(folder) / PACKAGE
    if not (package / "__init__.py").is_file():
        return None
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, package / "__init__.py", submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    outcome = run_limited(spec.loader.exec_module, module, folder=package)
    importlib.invalidate_caches()
    if outcome.timed_out or outcome.error is not None:
        del sys.modules[PACKAGE]
        why = (timeout_message("importing it", PIECE_SECONDS) if outcome.timed_out
               else describe_error(outcome.error))
        print(f"{PACKAGE}/__init__.py does not import ({why}): every piece comes from "
              "course_lib until it does")
        return None
    return module


def _no_exit(run: Callable, *args):
    """``run(*args)``, a learner's ``exit()`` / ``sys.exit()`` turned into an error like any."""
    try:
        return run(*args)
    except SystemExit as stop:
        raise RuntimeError(f"it calls exit() / sys.exit({stop.code!r})") from None


class PieceTimeout(BaseException):
    """Raised in the learner's code past the time limit, again at each of its next lines."""


def run_limited(fn, *args, folder: Path, seconds: float | None = None):
    """``fn(*args)`` (an Outcome, as the checkers' run_learner gives) within ``seconds`` of the
    whole run, which the learner's code in ``folder`` cannot swallow: past the deadline every
    further line it runs raises PieceTimeout again, so a bare ``except:`` only delays it a line."""
    from .checks.calling import Outcome, run_learner

    seconds = PIECE_SECONDS if seconds is None else seconds
    try:
        with _hard_limit(seconds, str(Path(folder).resolve())):
            return run_learner(_no_exit, fn, *args, seconds=0)  # no limit of its own
    except PieceTimeout:
        return Outcome(timed_out=True, seconds=seconds)


@contextmanager
def _hard_limit(seconds: float, folder: str):
    """SIGALRM after ``seconds`` and every 0.1 s after, each raising PieceTimeout in the learner's
    code (the code under ``folder``) when it is running, and a trace that raises again at its
    next line, so a bare ``except:`` cannot keep it (a trace function that raises is switched off
    by Python: each alarm switches it on again). Main thread, Unix: elsewhere the checkers'
    own per-call limits are all there is."""
    main = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not main:
        yield
        return
    traced = []

    def theirs(frame) -> bool:
        return frame.f_code.co_filename.startswith(folder)

    def tracer(frame, event, _arg):
        if event == "line" and theirs(frame):
            raise PieceTimeout
        return tracer if theirs(frame) else None

    def expired(_signum, frame):
        running = []
        while frame is not None:  # the learner's frames running now
            if theirs(frame):
                running.append(frame)
            frame = frame.f_back
        if running:
            for frame in running:
                frame.f_trace = tracer
            traced.extend(running)
            sys.settrace(tracer)
            raise PieceTimeout

    outer_handler = signal.signal(signal.SIGALRM, expired)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.settrace(None)
        for frame in traced:
            frame.f_trace = None
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_delay:  # an outer timer (pytest-timeout, say): put back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - seconds, 0.01), outer_interval)


def saved_pieces(folder: str | Path) -> list[str]:
    """The pieces (names in PIECE_NAMES) saved in ``folder/my_bert``, in the course's order."""
    from .my_bert import read_saved  # the file format %%my_bert writes

    package = Path(folder) / PACKAGE
    saved = {name for path in package.glob("*.py") for block in read_saved(path)[1]
             for name in block.names}
    return [name for name in PIECE_NAMES if name in saved]


def _library_version(name: str, tokenizer) -> Callable | None:
    """course_lib's function for a piece; None for a module piece (the module's own forward)."""
    if name == "wordpiece":
        return lambda word, vocab: tokenizer.wordpiece(word)
    return {
        "build_model_input": library_build_model_input,
        "layer_norm": layer_norm,
        "attention_weights": attention_weights,
        "split_heads": split_heads,
        "merge_heads": merge_heads,
        "gelu": gelu,
        "to_our_name": checkpoint_name_to_ours,
        "load_weights": load_checkpoint_into,
    }.get(name)


def _learner_version(package, piece: Piece) -> tuple[Callable | None, str]:
    """(the learner's function, or None and why not)."""
    from .checks.calling import describe_error

    where = f"{PACKAGE}/{piece.module}.py"
    if package is None:
        return None, f"no {PACKAGE}/ folder"
    outcome = run_limited(_picked, package, piece, folder=Path(package.__file__).parent)
    if outcome.timed_out:
        return None, (f"{where} or your {piece.name} did not finish within "
                      f"{PIECE_SECONDS:g} seconds (imported, checked and tried in a small model): "
                      "is there a loop that never ends?")
    error = outcome.error
    if isinstance(error, ModuleNotFoundError) and error.name == f"{PACKAGE}.{piece.module}":
        return None, f"no {where} yet (notebook {piece.notebook})"
    if isinstance(error, _Unpicked):
        return None, str(error)
    if error is not None:
        return None, f"{where} does not import: {describe_error(error)}"
    return outcome.result, where


class _Unpicked(Exception):
    """Why a learner's piece is not used (said in its line)."""


def _picked(package, piece: Piece) -> Callable:
    """The learner's function for ``piece`` when it passes its checker and runs inside the
    model; else _Unpicked with the reason (import errors propagate as they are)."""
    where = f"{PACKAGE}/{piece.module}.py"
    module = importlib.import_module(f"{PACKAGE}.{piece.module}")
    function = getattr(module, piece.name, None)
    if not callable(function):
        raise _Unpicked(f"{where} has no {piece.name} (notebook {piece.notebook})")
    if str(getattr(function, "__module__", "") or "").startswith("course_lib"):
        raise _Unpicked(f"the {piece.name} in {where} is course_lib's own "
                        f"({function.__module__}.{function.__name__}), not yours")
    checks, _, checker_name = piece.checker.partition(":")
    checker = getattr(importlib.import_module(f"course_kit.checks.{checks}"), checker_name)
    report = checker(function)
    if not report.passed:
        raise _Unpicked(f"your {piece.name} from {where} does not pass {checker_name}: "
                        + _first_reason(report, where))
    if piece.name in MODEL_PIECES:
        trouble = _trial_in_model(piece.name, function)
        if trouble:
            raise _Unpicked(f"your {piece.name} does not run inside cl.BertModel: {trouble}")
    return function


def _first_reason(report, where: str) -> str:
    """The checker's first [fix] point, said for the saved file (which may lack a name the
    notebook has, so that a piece that passed in its notebook fails here)."""
    reason = report.failed_points[0] if report.failed_points else "nothing was checked"
    reason = reason if len(reason) <= 240 else reason[:237] + "..."
    if "raised NameError" in reason:
        reason += (f"; in its notebook that name exists, but {where} does not have it: compute "
                   "it from the inputs (or, for a constant, define it in a %%my_bert cell)")
    return reason


class PieceCallsItsModule(RuntimeError):
    """A picked function called the module that runs it (``ff(x)`` inside ``feed_forward``):
    it would call itself for ever."""


def _trial_in_model(name: str, function: Callable) -> str | None:
    """Run a small seeded cl.BertModel with this one piece in it (every other course_lib's), on
    padded input, at the dtype and shapes the model uses: None when it gives the model's own
    numbers, else what went wrong (an error, a time-out, NaN, other numbers)."""
    from .checks.calling import describe_error, run_learner, timeout_message
    from .checks.fixtures import SMALL, seeded

    with seeded(12):
        reference = BertModel(SMALL).eval()
        ids = torch.randint(5, SMALL.vocab_size, (2, 6))  # (batch, seq)
    keep = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])  # (batch, seq): padding in the second
    pieces = library_pieces(None)
    setattr(pieces, name, function)
    model = use_pieces(copy.deepcopy(reference), pieces)
    with torch.no_grad():
        expected = reference(ids, keep, output_attentions=True)
        outcome = run_learner(model, ids, keep, output_attentions=True, seconds=TRIAL_SECONDS)
    if outcome.timed_out:
        return timeout_message(f"cl.BertModel with your {name}", outcome.seconds)
    if isinstance(outcome.error, PieceCallsItsModule):
        return str(outcome.error)
    if outcome.error is not None:
        return describe_error(outcome.error)
    real = keep.bool()
    got = outcome.result
    if not isinstance(got.last_hidden_state, torch.Tensor) or (
            got.last_hidden_state.shape != expected.last_hidden_state.shape):
        return "the model's output does not have the shape (batch, seq, hidden) with it"
    gap = (got.last_hidden_state - expected.last_hidden_state)[real].abs().max().item()
    if gap != gap:  # NaN: no comparison with it is true, so it is asked for by name
        return "some numbers of the model's output became NaN with it"
    if not gap < TRIAL_TOLERANCE:
        return (f"the model's output differs from course_lib's by {gap:.3g} with it; it must "
                "be the same maths at every shape the model uses, e.g. (batch, heads, seq, "
                "head_size) for the attention")
    return None


def library_pieces(tokenizer) -> types.SimpleNamespace:
    """Every piece course_lib's (a module piece None: the module's own forward pass)."""
    return types.SimpleNamespace(**{name: _library_version(name, tokenizer)
                                    for name in PIECE_NAMES})


def pick_pieces(package, tokenizer, label: str = "yours") -> tuple[types.SimpleNamespace,
                                                                  list[str]]:
    """Each piece: the learner's when it is there and passes its checker, else course_lib's.

    Returns the pieces (a namespace of functions, one per name in PIECE_NAMES, None for a module
    piece that course_lib's module runs itself, and ``mine``: name -> whether it came from the
    package) and one line per piece saying where it came from, starting with ``label`` (e.g.
    "solutions" when the package is the course's worked one).
    """
    pieces, lines, mine = library_pieces(tokenizer), [], {}
    for piece in PIECES:
        function, where = _learner_version(package, piece)
        mine[piece.name] = function is not None
        if function is None:
            lines.append(f"{'course_lib':11} {piece.what:28} ({where})")
        else:
            lines.append(f"{label:11} {piece.what:28} ({where}: {piece.name})")
            setattr(pieces, piece.name, function)
    pieces.load_weights = WatchedLoader(pieces.load_weights, mine["load_weights"])
    pieces.mine = mine
    return pieces, lines


# ----- the pieces inside the real model ------------------------------------------------------


def build_bert(config: BertConfig, pieces) -> BertModel:
    """A ``cl.BertModel(config)`` running the picked pieces (see ``use_pieces``)."""
    return use_pieces(BertModel(config), pieces)


def use_pieces(model: BertModel, pieces) -> BertModel:
    """Put the picked pieces into ``model``, in place: each of its modules calls its piece.

    The attention runs its hand-written path (the fused kernel would not call
    ``attention_weights``). A piece that is None leaves course_lib's code in its place.
    """
    model.set_fused_attention(False)
    for module in model.modules():
        if isinstance(module, LayerNorm):
            module.layer_norm = pieces.layer_norm
        elif isinstance(module, MultiHeadSelfAttention):
            module.split_heads = pieces.split_heads
            module.merge_heads = pieces.merge_heads
            module.attention_weights = pieces.attention_weights
            _give_forward(module, "multi_head_attention", pieces, _attention_forward)
        elif isinstance(module, FeedForward):
            if model.config.hidden_act == "gelu":
                module.activation = pieces.gelu
            _give_forward(module, "feed_forward", pieces,
                          lambda module, piece, x: piece(x, module))
        elif isinstance(module, EncoderLayer):
            _give_forward(module, "encoder_layer", pieces, _layer_forward)
        elif isinstance(module, BertEmbeddings):
            _give_forward(module, "bert_embeddings", pieces,
                          lambda module, piece, ids, segments=None: piece(
                              ids, torch.zeros_like(ids) if segments is None else segments,
                              module))
    model.pieces = pieces
    return model


def _give_forward(module, name: str, pieces, adapter: Callable) -> None:
    """``module.forward`` becomes the learner's piece (through ``adapter``, which turns the
    module's arguments into the piece's); a bound method, so a deep copy of the model runs its
    own modules."""
    module.__dict__.pop("forward", None)
    if getattr(pieces, name) is not None:
        module.__dict__["_piece"] = (name, getattr(pieces, name), adapter)
        module.forward = types.MethodType(_run_piece, module)


def _run_piece(module, *args, **kwargs):
    """Run the module's piece; calling the module again from inside the piece is said at once
    (a PieceCallsItsModule), not a RecursionError later."""
    name, piece, adapter = module.__dict__["_piece"]
    if module.__dict__.get("_running"):
        notebook = next(p.notebook for p in PIECES if p.name == name)
        raise PieceCallsItsModule(
            f"your {name} calls {MODULE_PIECES[name]}, the module it is given, and that module "
            f"runs your {name}: it would call itself for ever. Compute it from the module's "
            f"parts (notebook {notebook})")
    module.__dict__["_running"] = True
    try:
        return adapter(module, piece, *args, **kwargs)
    finally:
        module.__dict__["_running"] = False


def _full_mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The model's key mask (batch, 1, 1, seq), all True where it passes None (no padding)."""
    if mask is None:
        return torch.ones(x.shape[0], 1, 1, x.shape[1], dtype=torch.bool, device=x.device)
    if mask.shape[-2] != 1:
        raise ValueError("the learner's pieces take a padding mask (batch, seq), not a "
                         "(batch, seq, seq) one")
    return mask


def _attention_forward(module, piece, x, mask=None, output_attentions=False):
    """The learner's multi_head_attention(x, attention, keep); the maps, when asked for, from
    the module's hand-written path (with the picked split_heads and attention_weights)."""
    mask = _full_mask(x, mask)
    output = piece(x, module, mask[:, 0, 0, :])  # keep: (batch, seq)
    maps = MultiHeadSelfAttention.forward(module, x, mask, True)[1] if output_attentions else None
    return output, maps


def _layer_forward(module, piece, x, mask=None, output_attentions=False):
    """The learner's encoder_layer(x, layer, mask) -> x; the maps from ``layer.attention``."""
    mask = _full_mask(x, mask)
    maps = module.attention(x, mask, True)[1] if output_attentions else None
    return piece(x, module, mask), maps


# ----- loading the weights, and saying who did -----------------------------------------------


class WatchedLoader:
    """The picked ``load_weights``, noting what it did when it ran: which model it loaded,
    whether it called the learner's ``to_our_name`` (looked up in the loader's own module, as
    its code does) and whether course_lib's loader did the work (``cl.load_checkpoint_into``)."""

    def __init__(self, load_weights: Callable, mine: bool):
        functools.update_wrapper(self, load_weights)
        self.load_weights, self.mine = load_weights, mine
        self.last_loaded = None  # a weak reference to the model it loaded last
        self.called_name_map: bool | None = None  # None: it has not run yet
        self.called_library: bool | None = None

    def __call__(self, model, checkpoint):
        names = getattr(self.load_weights, "__globals__", {})
        watched = [(names, "to_our_name"), (course_lib, "load_checkpoint_into"),
                   (course_weights, "load_checkpoint_into")]
        calls: dict[str, int] = {}
        originals = []
        for place, name in watched:
            original = place.get(name) if isinstance(place, dict) else getattr(place, name)
            if callable(original):
                originals.append((place, name, original))
                _put(place, name, _counted(original, name, calls))
        try:
            result = self.load_weights(model, checkpoint)
            self.last_loaded = weakref.ref(model)
            return result
        finally:
            for place, name, original in originals:
                _put(place, name, original)
            self.called_name_map = bool(calls.get("to_our_name"))
            self.called_library = bool(calls.get("load_checkpoint_into"))


def _counted(function: Callable, name: str, calls: dict) -> Callable:
    @functools.wraps(function)
    def counting(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return function(*args, **kwargs)
    return counting


def _put(place, name: str, value) -> None:
    if isinstance(place, dict):
        place[name] = value
    else:
        setattr(place, name, value)


def loading_lines(pieces, label: str = "yours", model=None) -> list[str]:
    """Two lines: which function put the weights into ``model`` and which name map it used;
    ``label`` names the package as in ``pick_pieces``'s lines."""
    loader = pieces.load_weights
    where = f"{PACKAGE}/pretrained.py"
    library = ["loader:   course_lib's (cl.load_checkpoint_into)",
               "name map: course_lib's (cl.checkpoint_name_to_ours, which course_lib's loader "
               "uses)"]
    if loader.last_loaded is None and model is None:
        return ["loader:   not known yet (pieces.load_weights has not run)",
                "name map: not known yet (the loader has not run)"]
    if loader.last_loaded is None or (model is not None and loader.last_loaded() is not model):
        return ["loader:   not pieces.load_weights: it did not load this model (were its "
                "weights put in another way, e.g. by cl.load_checkpoint_into itself?)",
                "name map: not known (the picked loader did not load this model)"]
    if not loader.mine:
        return library
    if loader.called_library:
        return [f"loader:   course_lib's cl.load_checkpoint_into, called by your load_weights "
                f"({where})", library[1]]
    lines = [f"loader:   {label} ({where}: load_weights)"]
    if loader.called_name_map:
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


def load_my_bert(pieces, source: str = "minilm") -> BertModel:
    """The library's answer to notebook 07b's exercise: a cl.BertModel running the picked
    pieces, holding the shipped weights loaded by the picked loader, in eval mode."""
    _, config, checkpoint = read_pretrained(source)
    model = build_bert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model.eval()
