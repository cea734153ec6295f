"""Location encoder (position encoder + net) and location model (+ optional feature MLP + head)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from geoenc.errors import ParameterError
from geoenc.models.spec import TASKS  # ``embedding``: a head-less model (only ``embed`` is meaningful)

if TYPE_CHECKING:
    from geoenc.encoders import PositionEncoder
    from geoenc.nets import Net


class LocationEncoder(nn.Module):
    """``NN(PE(x))``: a position encoder followed by a net; ``(N, 2)`` lon/lat degrees → ``(N, embedding_dim)``."""

    def __init__(self, position: PositionEncoder, net: Net) -> None:
        super().__init__()
        self.position = position
        self.net = net

    @property
    def embedding_dim(self) -> int:
        return int(self.net.out_dim)

    def forward(self, lonlat: Tensor) -> Tensor:
        """The net on the position encoding, computed in the net's dtype (from float64 input: exact phases)."""
        first = next(self.net.parameters(), None)
        out: Tensor = self.net(self.position(lonlat, dtype=first.dtype if first is not None else torch.float32))
        return out


class FeatureMLP(nn.Module):
    """Two-layer MLP for extra per-point features (image embeddings, covariates): F → hidden → hidden."""

    def __init__(self, in_dim: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = hidden
        self.layers = nn.Sequential(
            nn.LayerNorm(in_dim),
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.layers(x)
        return out


class LocationModel(nn.Module):
    """Location encoder + optional feature MLP → linear head.

    ``forward`` returns raw outputs: class logits ``(N, C)`` for classification / multi-label, or one
    standardised value ``(N,)`` for regression. With features, the location embedding and the feature
    MLP's output are concatenated before the head (LocBench-style fusion inside the model).
    """

    def __init__(
        self,
        location: LocationEncoder,
        task: str,
        n_outputs: int,
        *,
        feature_dim: int | None = None,
        feature_hidden: int = 256,
    ) -> None:
        super().__init__()
        if task not in TASKS:
            raise ParameterError(f"task {task!r} is not valid: choose one of {', '.join(TASKS)}")
        self.task = task
        self.location = location
        self.feature_dim = feature_dim
        self.features = FeatureMLP(feature_dim, feature_hidden) if feature_dim else None
        head_in = location.embedding_dim + (self.features.out_dim if self.features is not None else 0)
        if task == "embedding":
            self.n_outputs = 0
            self.head = None
        else:
            self.n_outputs = 1 if task == "regression" else int(n_outputs)
            if self.n_outputs < 1:
                raise ParameterError(f"a {task} model needs at least one output, got {n_outputs}")
            self.head = nn.Linear(head_in, self.n_outputs)

    @property
    def embedding_dim(self) -> int:
        return self.location.embedding_dim

    def head_forward(self, embedding: Tensor, features: Tensor | None = None) -> Tensor:
        """The head on a precomputed location embedding (and features when the model has a feature MLP)."""
        if self.features is not None:
            if features is None:
                raise ParameterError("this model was trained with --features: pass the feature column")
            embedding = torch.cat((embedding, self.features(features)), dim=-1)
        if self.head is None:
            return embedding
        out: Tensor = self.head(embedding)
        return out.squeeze(-1) if self.task == "regression" else out

    def forward_encoded(self, encoded: Tensor, features: Tensor | None = None) -> Tensor:
        """Forward from precomputed position-encoder features (what the training loop caches)."""
        return self.head_forward(self.location.net(encoded), features)

    def forward(self, lonlat: Tensor, features: Tensor | None = None, *, encoded: bool = False) -> Tensor:
        """Raw outputs from lon/lat degrees, or from position-encoder features when ``encoded=True``."""
        if encoded:
            return self.forward_encoded(lonlat, features)
        return self.head_forward(self.location(lonlat), features)

    def scores(self, raw: Tensor, loss: str) -> Tensor:
        """Raw outputs → probabilities: softmax for ``ce``, sigmoid for ``an_full``/``bce``; values unchanged."""
        if self.task in ("regression", "embedding"):
            return raw
        return torch.softmax(raw, dim=-1) if loss == "ce" else torch.sigmoid(raw)


def build_location_encoder(
    method: str,
    method_params: dict[str, Any] | None,
    net: str | None,
    net_params: dict[str, Any] | None,
    *,
    fit_on: Any = None,
    seed: int = 0,
) -> LocationEncoder:
    """Position encoder (fitted on the ``(N, 2)`` lon/lat ``fit_on`` when it needs data) + its net.

    ``net=None`` → the encoder's default net. Weights are initialised from torch's global RNG: build inside
    :meth:`geoenc.training.engine.Engine.init_stream` for a seeded model that leaves the caller's RNG alone.
    """
    from geoenc.encoders import get_encoder
    from geoenc.nets import get_net

    position = get_encoder(method, **(method_params or {}))
    if position.needs_fit and fit_on is not None:
        position.fit(torch.as_tensor(fit_on, dtype=torch.float64), seed=seed)
    body = get_net(net or position.default_net, int(position.embedding_dim), **(net_params or {}))
    return LocationEncoder(position, body)


def build_model(
    method: str,
    method_params: dict[str, Any] | None,
    net: str | None,
    net_params: dict[str, Any] | None,
    task: str,
    n_outputs: int,
    *,
    feature_dim: int | None = None,
    feature_hidden: int = 256,
    position: PositionEncoder | None = None,
) -> LocationModel:
    """Build a :class:`LocationModel` from names and parameters (``net=None`` → the encoder's default net).

    ``position``: an already built (e.g. fitted) position encoder to use instead of building ``method``.
    """
    from geoenc.encoders import get_encoder
    from geoenc.nets import get_net

    if position is None:
        position = get_encoder(method, **(method_params or {}))
    net_name = net or position.default_net
    body = get_net(net_name, int(position.embedding_dim), **(net_params or {}))
    return LocationModel(
        LocationEncoder(position, body), task, n_outputs, feature_dim=feature_dim, feature_hidden=feature_hidden
    )
