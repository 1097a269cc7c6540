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
from .heads import BertForMaskedLM, BertForPreTraining, MaskedLMOutput, masked_lm_loss
from .inference import InferenceBert
from .layers import EncoderLayer, FeedForward, gelu, gelu_formula
from .masking import bidirectional_mask, causal_mask, mask_tokens
from .model import BertEncoder, BertModel, BertOutput, BertPooler
from .my_bert import register_in_ipython
from .pooling import global_average_pooling, global_max_pooling
from .pretrained import load_pretrained, load_tokenizer, minilm_folder
from .progress import progress
from .tokenizer import Encoding, WordPieceTokenizer
from .weights import LoadReport, checkpoint_name_to_ours, load_checkpoint_into, read_checkpoint
from .wordpiece_trainer import train_wordpiece

__version__ = "0.1.0"

# In IPython (JupyterLab), `import course_lib` also registers the %%my_bert cell magic,
# which saves an exercise cell into the learner's own package my_bert/ (course_lib/my_bert.py).
register_in_ipython()

# The explorer (Pillow pictures, ipywidgets) is loaded on first use, so `import course_lib`
# stays light and never needs ipywidgets.
_EXPLORER_NAMES = ("AttentionExplorer", "head_view_png", "render_attention_map")


def __getattr__(name: str):
    if name in _EXPLORER_NAMES:
        from . import explorer

        return getattr(explorer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AttentionExplorer",
    "BertConfig",
    "BertEmbeddings",
    "BertForMaskedLM",
    "BertForPreTraining",
    "MaskedLMOutput",
    "bidirectional_mask",
    "causal_mask",
    "mask_tokens",
    "progress",
    "masked_lm_loss",
    "train_wordpiece",
    "BertEncoder",
    "BertEncoderBlock",
    "BertModel",
    "BertOutput",
    "BertPooler",
    "Encoding",
    "EncoderLayer",
    "FeedForward",
    "InferenceBert",
    "LoadReport",
    "MultiHeadSelfAttention",
    "WordPieceTokenizer",
    "attention_weights",
    "checkpoint_name_to_ours",
    "count_bert_parameters",
    "gelu",
    "gelu_formula",
    "head_view_png",
    "global_average_pooling",
    "global_max_pooling",
    "load_checkpoint_into",
    "load_pretrained",
    "load_tokenizer",
    "merge_heads",
    "minilm_folder",
    "read_checkpoint",
    "render_attention_map",
    "scaled_dot_product_attention",
    "split_heads",
]
