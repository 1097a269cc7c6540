"""course_kit: the tools for learning and teaching with course_lib's BERT.

The exercise checkers (``course_kit.checks``), the attention explorer (``course_kit.explorer``),
``%%my_bert`` and the capstone (``my_bert``, ``capstone``), progress, the pre-flight doctor
(``python -m course_kit.doctor``), profiling and figure helpers. It imports course_lib; course_lib
never imports it. Importing it has no side effects: the ``%%my_bert`` magic is loaded the standard
IPython way, ``%load_ext course_kit``.
"""

from .progress import progress

# The explorer needs ipywidgets and anywidget: loaded on first use.
_EXPLORER_NAMES = ("AttentionExplorer", "AttentionMapsWidget", "head_view_png",
                   "render_attention_map")


def __getattr__(name: str):
    if name in _EXPLORER_NAMES:
        from . import explorer

        return getattr(explorer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(shell) -> None:
    """``%load_ext course_kit``: register the ``%%my_bert`` cell magic."""
    from .my_bert import load_ipython_extension as load_my_bert

    load_my_bert(shell)


__all__ = ["progress", *_EXPLORER_NAMES, "load_ipython_extension"]
