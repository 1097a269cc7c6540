"""What the explorer shows, as one small value: the view, the layer, head and token, the options.

The explorer's controls (its own and the browser viewer's) together hold one ``ExplorerState``;
the static picture and the viewer's data are computed from the maps and the state alone.
Layers, heads and tokens are indices counted from 0 here (as in ``out.attentions[layer]``);
everything shown to a reader counts from 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .maps import AttentionMaps
from .views import PAIR_FILTERS

VIEWS = {"heatmap": "heatmap", "lines": "lines", "token": "token focus", "qk": "query/key"}
SCALES = {"shared": "shared 0..1", "per-map": "per-map contrast"}


@dataclass(frozen=True)
class ExplorerState:
    """One setting of the explorer. ``scale``: "shared" (one 0..1 colour scale for every map,
    so uniform attention looks uniform) or "per-map" (each map's largest value darkest)."""

    view: str = "heatmap"
    layer: int = 0
    head: int = 0
    token: int = 0
    pair_filter: str = "all"
    hide_special: bool = False
    rollout: bool = False
    scale: str = "shared"

    def __post_init__(self) -> None:
        _one_of("view", self.view, VIEWS)
        _one_of("pair_filter", self.pair_filter, PAIR_FILTERS)
        _one_of("scale", self.scale, SCALES)
        for name in ("layer", "head", "token"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an integer index, got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must be at least 0 (counted from 0), got {value}")
            object.__setattr__(self, name, int(value))  # NumPy integers become plain ints
        for name in ("hide_special", "rollout"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def replace(self, **changes) -> ExplorerState:
        """A copy with ``changes`` (None values ignored), checked like a new state."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def vmax(self) -> float | None:
        """The top of the colour scale: 1.0 when shared, None (each map's maximum) per map."""
        return 1.0 if self.scale == "shared" else None

    def check_against(self, maps: AttentionMaps) -> None:
        """Refuse indices and options these maps do not have, naming the rule."""
        for name, count in (("layer", maps.num_layers), ("head", maps.num_heads),
                            ("token", maps.length)):
            value = getattr(self, name)
            if value >= count:
                raise ValueError(f"{name} must be between 0 and {count - 1} (counted from 0), "
                                 f"got {value}")
        if self.pair_filter != "all" and not maps.has_pair:
            raise ValueError(f"pair_filter {self.pair_filter!r} needs a sentence B (text_pair)")

    def fitted_to(self, maps: AttentionMaps) -> ExplorerState:
        """This state made valid for new maps: indices kept where they exist, else the last
        one; the pair filter back to "all" for a single sentence."""
        return self.replace(layer=min(self.layer, maps.num_layers - 1),
                            head=min(self.head, maps.num_heads - 1),
                            token=min(self.token, maps.length - 1),
                            pair_filter=self.pair_filter if maps.has_pair else "all")


def _one_of(name: str, value, allowed) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
