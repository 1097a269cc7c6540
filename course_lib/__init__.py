"""course_lib: BERT built from scratch in plain PyTorch, one module per idea."""

from .attention import (
    MultiHeadSelfAttention,
    attention_weights,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)
from .block import BertEncoderBlock
from .config import BertConfig, count_bert_parameters
from .embeddings import BertEmbeddings
from .files import course_file
from .heads import BertForMaskedLM, BertForPreTraining, MaskedLMOutput, masked_lm_loss
from .inference import InferenceBert
from .layers import EncoderLayer, FeedForward, gelu, gelu_formula
from .masking import bidirectional_mask, causal_mask, mask_tokens
from .model import BertEncoder, BertModel, BertOutput, BertPooler
from .names import checkpoint_name_to_ours
from .pooling import global_average_pooling, global_max_pooling
from .pretrained import load_pretrained, load_tokenizer, minilm_folder
from .task_heads import (
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    TaskOutput,
)
from .tokenizer import Encoding, WordPieceTokenizer
from .weights import LoadReport, load_checkpoint_into, read_checkpoint
from .wordpiece_trainer import train_wordpiece

__version__ = "0.1.0"

# Names that moved to course_kit (the tools around the model), kept for one release as aliases
# that warn, so that notebooks written before the split keep running.
_MOVED_TO_KIT = {
    "AttentionExplorer": "course_kit.explorer", "head_view_png": "course_kit.explorer",
    "render_attention_map": "course_kit.explorer", "progress": "course_kit.progress"}


def __getattr__(name: str):
    if name in _MOVED_TO_KIT:
        import importlib
        import warnings

        module = _MOVED_TO_KIT[name]
        warnings.warn(f"cl.{name} moved to course_kit: use `import course_kit as kit` and "
                      f"kit.{name} (cl.{name} goes in the next release)",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "BertConfig", "BertEmbeddings", "BertForMaskedLM", "BertForPreTraining", "MaskedLMOutput",
    "BertForQuestionAnswering", "BertForSequenceClassification", "BertForTokenClassification",
    "TaskOutput",
    "bidirectional_mask", "causal_mask", "mask_tokens", "masked_lm_loss", "train_wordpiece",
    "BertEncoder", "BertEncoderBlock", "BertModel", "BertOutput", "BertPooler", "Encoding",
    "EncoderLayer", "FeedForward", "InferenceBert", "LoadReport", "MultiHeadSelfAttention",
    "WordPieceTokenizer", "attention_weights", "checkpoint_name_to_ours", "count_bert_parameters",
    "course_file", "gelu", "gelu_formula", "global_average_pooling", "global_max_pooling",
    "load_checkpoint_into", "load_pretrained", "load_tokenizer", "merge_heads", "minilm_folder",
    "read_checkpoint", "scaled_dot_product_attention", "split_heads"]
