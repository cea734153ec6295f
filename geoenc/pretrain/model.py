"""The dual encoder of contrastive spatial pre-training: location encoder ↔ feature projection."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoenc.models.location import LocationEncoder
from geoenc.pretrain.objectives import CONTRASTIVE, clip_init_logit_scale


class FeatureProjection(nn.Module):
    """The other modality's side: a two-layer MLP, standardised features ``(N, F)`` → ``(N, out_dim)``."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.hidden = int(in_dim), int(out_dim), int(hidden)
        self.layers = nn.Sequential(
            nn.Linear(self.in_dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, self.out_dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.layers(x)
        return out


class DualEncoder(nn.Module):
    """``location`` (position encoder + net, what gets saved and fine-tuned) and the objective's extras.

    - contrastive objectives: ``projection`` maps features into the location embedding space;
    - ``mse``: ``head`` maps the location embedding to the features' width (no projection);
    - ``clip``: ``logit_scale`` is a learnable log inverse temperature.
    """

    def __init__(
        self,
        location: LocationEncoder,
        feature_dim: int,
        objective: str,
        *,
        projection_hidden: int = 256,
        clip_temperature: float = 0.07,
    ) -> None:
        super().__init__()
        self.location = location
        self.objective = objective
        d = location.embedding_dim
        self.projection = FeatureProjection(feature_dim, d, projection_hidden) if objective in CONTRASTIVE else None
        self.head = nn.Linear(d, feature_dim) if objective == "mse" else None
        self.logit_scale = (
            nn.Parameter(torch.tensor(clip_init_logit_scale(clip_temperature))) if objective == "clip" else None
        )

    def forward(self, x: Tensor, encoded: bool = False) -> Tensor:
        """Location embeddings of lon/lat degrees, or of precomputed position encodings (``encoded``)."""
        out: Tensor = self.location.net(x) if encoded else self.location(x)
        return out

    def extras_state(self) -> dict[str, Tensor]:
        """Everything except the location encoder (saved beside the model, for inspection or reuse)."""
        return {
            k: v.detach().cpu().contiguous().clone()
            for k, v in self.state_dict().items()
            if not k.startswith("location.")
        }
