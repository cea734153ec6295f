"""The Python API behind ``import geoenc``: what a notebook holds in, what it expects out.

Inputs everywhere: a geopandas ``GeoDataFrame`` or ``GeoSeries`` (any CRS; reprojected to lon/lat WGS84), a
pandas ``DataFrame`` with longitude/latitude columns, an ``(N, 2)`` array of lon/lat degrees, or
:class:`geoenc.io.Points` (see :func:`geoenc.io.frames.as_points`). Outputs: numpy arrays, or a copy of the
input frame with new columns.

- :func:`encode` — embeddings of a registered position encoder (``geoenc encode``)
- :func:`train` → :class:`Model` — a location model (``geoenc train``); :func:`load_model` reads one back
- :meth:`Model.predict`, :meth:`Model.evaluate`, :meth:`Model.embed` — ``geoenc predict``/``evaluate``/
  ``encode --model``
- :func:`geobias` → :class:`GeobiasReport` — geo-bias scores of predictions (``geoenc geobias``)
- :func:`list_pretrained`, :func:`import_pretrained` → :class:`Model` — released encoders of other projects
  (GeoCLIP, SatCLIP, CSP, SINR) as model folders (``geoenc pretrained``)

Each runs the same code as its command: :mod:`geoenc.workflows` and the cores under it (the training engine,
:class:`~geoenc.models.predict.Predictor`, :func:`~geoenc.metrics.report.compute_geobias`); the commands read
and write files, these functions take and return frames. Imported on first use, so ``import geoenc`` stays light.
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from geoenc.defaults import DEFAULT_METHOD
from geoenc.device import resolve_device, resolve_dtype
from geoenc.encoders import get_encoder, list_encoders
from geoenc.errors import OutputError, ParameterError, UsageError, did_you_mean
from geoenc.io.frames import as_points, check_layout, is_frame, to_frame
from geoenc.models import LoadedModel
from geoenc.models import load_model as _load_loaded
from geoenc.workflows.encode import encode_file, encode_lonlat

__all__ = [
    "GeobiasReport",
    "Model",
    "as_points",
    "encode",
    "encode_file",
    "geobias",
    "get_encoder",
    "import_pretrained",
    "list_encoders",
    "list_pretrained",
    "load_model",
    "train",
]


def _coords(lon: str | None, lat: str | None, crs: Any, centroid: bool, wrap_lon: bool) -> dict[str, Any]:
    return {"lon": lon, "lat": lat, "crs": crs, "centroid": centroid, "wrap_lon": wrap_lon}


# -- encode -----------------------------------------------------------------------------------------------
def encode(
    data: Any,
    method: str = DEFAULT_METHOD,
    *,
    column: str = "embedding",
    layout: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: Any = None,
    centroid: bool = False,
    wrap_lon: bool = False,
    device: str = "auto",
    dtype: str = "float32",
    batch_size: int = 65_536,
    seed: int = 0,
    **params: Any,
) -> Any:
    """Encode points with a registered position encoder (``geoenc methods`` lists them).

    Args:
        data: a GeoDataFrame or GeoSeries (any CRS), a DataFrame with longitude/latitude columns, an ``(N, 2)``
            array-like of lon/lat degrees, or :class:`~geoenc.io.Points`; or a ``dask_geopandas.GeoDataFrame``,
            encoded lazily (:func:`geoenc.workflows.frames.encode_frame`, docs/scale.md).
        method: the encoder's name, e.g. ``"sphereM"``, ``"sh"``, ``"rbf"``.
        column: with a frame in, the name of the embedding column (``layout="list"``) or the prefix of its
            columns (``layout="columns"``: ``emb_0…`` for ``embedding``, else ``<column>_0…``).
        layout: ``"list"`` (one column, a ``(D,)`` float32 array per row; the default) or ``"columns"`` (one
            column per dimension; the default for a dask frame, whose list columns pandas cannot read back).
        lon, lat: a DataFrame's coordinate column names when they are not ``lon``/``lat``/``longitude``/…
        crs: the CRS of coordinates that are not lon/lat degrees (arrays, DataFrame columns), or to override a
            GeoDataFrame's.
        centroid: use a representative point of non-point geometries instead of refusing them.
        wrap_lon: wrap longitudes outside [-180, 180] instead of refusing them.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: ``float32`` or ``float64`` computation.
        batch_size: points per batch (bounds memory).
        seed: seed of encoders fitted on the points (``rbf`` anchors) when their own ``seed`` parameter is unset.
        **params: the encoder's parameters, e.g. ``frequency_num=32`` (``geoenc methods NAME`` lists them).

    Returns:
        ``(N, D)`` float32 numpy array for arrays, GeoSeries and Points; for a DataFrame or GeoDataFrame a copy
        of it (same index, same class) with the embedding attached; for a dask frame a lazy one.

    Raises:
        geoenc.errors.UsageError: an unknown method, parameter, device or layout.
        geoenc.errors.InputError: unusable coordinates (see :func:`geoenc.io.frames.as_points`).

    Example:
        >>> geoenc.encode([[2.35, 48.86], [-74.0, 40.7]], "sphereM").shape
        (2, 160)
    """
    from geoenc.workflows.frames import encode_frame, is_dask_frame

    if is_dask_frame(data):
        if lon is not None or lat is not None or crs is not None or centroid or wrap_lon:
            raise UsageError(
                "a dask frame is read from its geometry and CRS: leave out lon, lat, crs, centroid and wrap_lon"
            )
        return encode_frame(
            data,
            method,
            column=column,
            layout=check_layout(layout or "columns"),
            device=device,
            dtype=dtype,
            batch_size=batch_size,
            seed=seed,
            **params,
        )
    layout = check_layout(layout or "list")
    enc = get_encoder(method, **params)  # names, parameters, device and layout are checked before the data
    resolve_device(device)
    resolve_dtype(dtype)
    points = as_points(data, **_coords(lon, lat, crs, centroid, wrap_lon))
    emb = encode_lonlat(points.lonlat(), enc, device=device, dtype=dtype, batch_size=batch_size, seed=seed)
    if not is_frame(data):
        return emb
    return to_frame(data, points, {column: emb}, layout=layout)


# -- models -----------------------------------------------------------------------------------------------
class Model:
    """A location model (position encoder + net + head), trained by :func:`train` or read by :func:`load_model`.

    Attributes:
        spec: the model's :class:`~geoenc.models.spec.ModelSpec` (what ``config.json`` holds).
        metrics: the training metrics (``train``/``val`` scores, epochs, seconds); ``{}`` when unknown.
        path: the folder it was read from or last saved to, else None.
        interrupted: True when training was stopped by Ctrl-C (or SIGTERM) between batches: the model holds
            the best validation epoch's weights, or without validation the weights where it stopped.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        result: Any = None,
        metrics: dict[str, Any] | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> None:
        self._loaded = loaded
        self._result = result  # the TrainResult of a model trained in this session (saves its checkpoint too)
        self.metrics: dict[str, Any] = dict(metrics if metrics is not None else getattr(result, "metrics", {}))
        self._history = history if history is not None else list(getattr(result, "history", []))
        self.path: Path | None = loaded.path
        self.interrupted = bool(getattr(result, "interrupted", False))

    # -- what it is ---------------------------------------------------------------------------------
    @property
    def spec(self) -> Any:
        """The :class:`~geoenc.models.spec.ModelSpec`: encoder, net, task, classes, label, sizes."""
        return self._loaded.spec

    @property
    def task(self) -> str:
        """``classification``, ``multilabel``, ``regression`` or ``embedding`` (a head-less location encoder)."""
        return self._loaded.task

    @property
    def classes(self) -> list[str] | None:
        """The class names in output order (None for regression)."""
        return self._loaded.classes

    @property
    def label(self) -> str | None:
        """The label column it was trained on (scored by :meth:`predict` when present)."""
        return self._loaded.label

    @property
    def embedding_dim(self) -> int:
        """D of :meth:`embed`."""
        return self._loaded.embedding_dim

    @property
    def history(self) -> Any:
        """The per-epoch log (loss, validation scores, learning rate, seconds) as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._history)

    @property
    def loaded(self) -> LoadedModel:
        """The torch-level model: ``.predict(lonlat)`` → a tensor of probabilities, ``.model`` the nn.Module."""
        return self._loaded

    def to(self, device: str) -> Model:
        """Move the model to ``device`` (``cpu``, ``cuda``, ``cuda:N``, ``auto``); returns itself."""
        self._loaded.to(resolve_device(device))
        return self

    def __repr__(self) -> str:
        spec = self.spec
        what = f"{spec.encoder.name} → {spec.net.name}, {spec.task}"
        if spec.label:
            what += f" of {spec.label!r}"
        if spec.classes:
            what += f" ({len(spec.classes)} classes)"
        if spec.n_train:
            what += f"; trained on {spec.n_train:,} points"
        scores = self.metrics.get("val") or {}
        shown = ", ".join(f"{k}={v:.3f}" for k, v in scores.items() if k in ("top1", "top3", "mrr", "r2", "rmse"))
        if shown:
            what += f"; validation {shown}"
        if self.interrupted:
            what += "; INTERRUPTED"
        if self.path is not None:
            what += f"; {self.path}"
        return f"Model({what})"

    # -- using it ---------------------------------------------------------------------------------------
    def predict(
        self,
        data: Any,
        top_k: int = 3,
        *,
        prior: str | None = None,
        label: str | None = None,
        batch_size: int = 65_536,
        lon: str | None = None,
        lat: str | None = None,
        crs: Any = None,
        centroid: bool = False,
        wrap_lon: bool = False,
    ) -> Any:
        """Predictions per point, as ``geoenc predict`` writes them.

        Args:
            data: points (see :func:`encode`); the label column, when present, is scored.
            top_k: classes (with probabilities) per point.
            prior: a column of another model's class probabilities (lists in :attr:`classes` order) to fuse with.
            label: the label column to score (default: the one the model was trained on).
            batch_size: points per batch (bounds memory: ``batch_size × classes`` probabilities at a time).
            lon, lat, crs, centroid, wrap_lon: how to read the coordinates (see :func:`encode`).

        Returns:
            A copy of a (Geo)DataFrame input, else a DataFrame with ``lon``/``lat``, with the columns
            ``pred_1…pred_k`` (class names) and ``prob_1…prob_k`` (classification), or ``prediction``
            (regression); with the label column present also ``hit@1``, ``hit@3``, ``reciprocal_rank``,
            ``true_class_prob`` (or ``error``, ``abs_error``): the input of :func:`geobias`.
        """
        from geoenc.models.predict import predict_points

        points = as_points(data, **_coords(lon, lat, crs, centroid, wrap_lon))
        preds = predict_points(self._loaded, points, top=top_k, prior=prior, label=label, batch_size=batch_size)
        return to_frame(data, points, preds.columns)

    def evaluate(
        self,
        data: Any,
        *,
        label: str | None = None,
        prior: str | None = None,
        batch_size: int = 65_536,
        lon: str | None = None,
        lat: str | None = None,
        crs: Any = None,
        centroid: bool = False,
        wrap_lon: bool = False,
    ) -> dict[str, Any]:
        """Scores on labelled points, as ``geoenc evaluate --json`` prints them.

        Args:
            data: labelled points (see :func:`encode`).
            label: the label column (default: the one the model was trained on).
            prior: with a prior column, scores of the model, the prior and their fusion.
            batch_size, lon, lat, crs, centroid, wrap_lon: see :meth:`predict`.

        Returns:
            ``{"top1", "top3", "mrr", "log_loss", "n"}`` (classification), ``{"r2", "mae", "rmse", "n"}``
            (regression), or with ``prior`` one such dict each under ``location``, ``prior`` and ``fused``.
        """
        from geoenc.models.predict import evaluate_points

        points = as_points(data, **_coords(lon, lat, crs, centroid, wrap_lon))
        return evaluate_points(self._loaded, points, prior=prior, label=label, batch_size=batch_size)

    def embed(
        self,
        data: Any,
        *,
        batch_size: int = 65_536,
        lon: str | None = None,
        lat: str | None = None,
        crs: Any = None,
        centroid: bool = False,
        wrap_lon: bool = False,
    ) -> np.ndarray:
        """The learned location embedding (the net's output before the head), as ``geoenc encode --model``.

        Args:
            data: points (see :func:`encode`).
            batch_size, lon, lat, crs, centroid, wrap_lon: see :meth:`predict`.

        Returns:
            ``(N, embedding_dim)`` float32 numpy array.
        """
        import torch

        from geoenc.workflows.encode import embed_array

        points = as_points(data, **_coords(lon, lat, crs, centroid, wrap_lon))
        loaded = self._loaded
        return embed_array(loaded.embed, points.lonlat(), loaded.device, torch.float32, batch_size, self.embedding_dim)

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the model folder (``model.safetensors`` + ``config.json`` + metrics and log), atomically.

        The folder is what ``geoenc train -o`` writes: ``geoenc predict``, ``evaluate``, ``map`` and
        :func:`load_model` read it.

        Args:
            path: the folder to write.
            overwrite: replace an existing folder that geoenc wrote.

        Returns:
            the folder's path.
        """
        if Path(path).exists() and not overwrite:
            raise OutputError(f"output {str(path)!r} already exists: pass overwrite=True to replace it")
        if self._result is not None:
            out = self._result.save(path, overwrite=overwrite)
        else:
            from geoenc.models import write_model_dir

            yaml_file = self.path / "config.yaml" if self.path is not None else None
            out = write_model_dir(
                path,
                self._loaded.model,
                self.spec,
                metrics=self.metrics,
                log_rows=self._history,
                resolved_yaml=yaml_file.read_text() if yaml_file is not None and yaml_file.is_file() else None,
                overwrite=overwrite,
            )
        self.path = self._loaded.path = Path(out)
        return self.path


def _read_history(path: Path) -> list[dict[str, Any]]:
    import csv

    log = path / "train_log.csv"
    if not log.is_file():
        return []
    with open(log, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(text: str) -> Any:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def load_model(path: str | os.PathLike[str], device: str = "cpu") -> Model:
    """Read a model folder written by :meth:`Model.save`, ``geoenc train``, ``pretrain`` or ``pretrained import``.

    Loading never runs code from the folder (safetensors weights, JSON config, checksum verified).

    Args:
        path: the model folder.
        device: ``cpu`` (default), ``cuda``, ``cuda:N`` or ``auto``.

    Returns:
        a :class:`Model`.
    """
    loaded = _load_loaded(path, resolve_device(device))
    metrics_file = Path(path) / "metrics.json"
    try:
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    except (OSError, ValueError):
        metrics = {}
    return Model(loaded, metrics=metrics if isinstance(metrics, dict) else {}, history=_read_history(Path(path)))


# -- pretrained encoders ----------------------------------------------------------------------------------
def list_pretrained() -> list[dict[str, Any]]:
    """The pretrained location encoders geoenc can import (what ``geoenc pretrained --json`` prints).

    Returns:
        one dict per model: ``name``, ``title``, ``trained_on``, ``weights`` (where to get them),
        ``input_convention``, ``embedding_dim``, ``licence``, ``citation``, ``checked_with_released_weights`` ….
    """
    from geoenc.pretrained import list_pretrained as _list

    return [info.as_dict() for info in _list()]


def import_pretrained(
    name: str,
    path: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    device: str = "cpu",
) -> Model:
    """Convert a pretrained model's released weights into a model folder and load it (``geoenc pretrained import``).

    The weights file is read with ``torch.load(weights_only=True)`` only; the folder is safetensors + JSON, its
    ``config.json`` names the source model and the weights file's SHA-256. Example::

        model = geoenc.import_pretrained("geoclip", "geoclip/")   # needs pip install --no-deps geoclip==1.3.0
        emb = model.embed(gdf)                                     # (N, 512) GeoCLIP embeddings

    Args:
        name: ``geoclip``, ``satclip``, ``csp`` or ``sinr`` (see :func:`list_pretrained`).
        path: the model folder to write.
        source: the downloaded weights file (``geoclip``: optional, found in the installed ``geoclip`` package).
        overwrite: replace an existing folder written by geoenc.
        device: where the returned model runs (``cpu``, ``cuda``, ``cuda:N`` or ``auto``).

    Returns:
        the imported head-less :class:`Model` (task ``embedding``): use :meth:`Model.embed`, or pass ``path`` to
        :func:`train` as ``init``.
    """
    from geoenc.pretrained import import_pretrained as _import

    res = _import(name, path, source=source, overwrite=overwrite)
    return load_model(res.path, device)


def train(
    data: Any,
    *,
    label: str,
    method: str | None = None,
    net: str | None = None,
    params: dict[str, Any] | None = None,
    net_params: dict[str, Any] | None = None,
    val: Any = None,
    init: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    progress: Any = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: Any = None,
    centroid: bool = False,
    wrap_lon: bool = False,
    **settings: Any,
) -> Model:
    """Train a location model on labelled points (what ``geoenc train`` runs).

    Args:
        data: training points with a label column (see :func:`encode` for the kinds of input).
        label: the label column: classes (text, categories, few integers), numbers (regression) or lists of
            classes (multi-label).
        method: the position encoder (default ``sh`` with its ``siren`` net, or the ``init`` folder's; the
            training defaults are :mod:`geoenc.defaults`' ``TRAIN_*``).
        net: the net after the encoder: ``ffn``, ``fcnet``, ``siren``, ``linear`` (default: the encoder's own).
        params: the encoder's parameters, e.g. ``{"frequency_num": 32}``.
        net_params: the net's parameters, e.g. ``{"hidden": 256}``.
        val: validation points (same columns); or pass ``val_fraction=0.1`` to hold out a stratified split.
        init: a ``geoenc pretrain``/``train`` folder whose location encoder starts this model.
        config: a YAML file of training settings (arguments given here win).
        progress: called with every :class:`geoenc.training.ProgressEvent` (batch and epoch ends).
        lon, lat, crs, centroid, wrap_lon: how to read the coordinates (see :func:`encode`).
        **settings: any other :class:`geoenc.training.TrainConfig` field: ``epochs``, ``batch_size``, ``lr``,
            ``weight_decay``, ``lr_schedule``, ``patience``, ``val_fraction``, ``seed``, ``task``, ``loss``,
            ``features``, ``device``, ``amp``, ``freeze_encoder``, ``train_fraction`` …

    Returns:
        the trained :class:`Model` (validation early stopping keeps the best epoch's weights).

    Raises:
        geoenc.errors.UsageError: an unknown setting, encoder, net or value out of range — before the data is
            read.
        geoenc.errors.InputError: unusable points or labels.
    """
    from geoenc.training import resolve_config
    from geoenc.training import train as train_model

    if val is not None and settings.get("val_fraction"):
        raise UsageError("give either val= (validation points) or val_fraction=, not both")
    flags = {"label": label, "method": method, "net": net, "method_params": params, "net_params": net_params}
    cfg = resolve_config(
        {**flags, **settings},
        config_file=None if config is None else os.fspath(config),
        init=None if init is None else os.fspath(init),  # any os.PathLike: str() of one is not its path
    )
    coords = _coords(lon, lat, crs, centroid, wrap_lon)
    points = as_points(data, **coords)
    val_points = as_points(val, **coords) if val is not None else None
    result = train_model(cfg, points, val_points, progress=progress)
    if result.interrupted:
        warnings.warn(
            f"training was interrupted after {len(result.history)} full epoch(s): the model holds the best "
            "validation epoch's weights, or without validation the weights where it stopped",
            stacklevel=2,
        )
    return Model(result.loaded, result=result)


# -- geo-bias ---------------------------------------------------------------------------------------------
class GeobiasReport:
    """Geo-bias scores of one set of predictions (what ``geoenc geobias`` reports for one file).

    Every key of :attr:`summary` is also an attribute: ``unmarked_ssi``, ``marked_ssi`` (mean SSI over
    low-performance points), ``moran_i``/``moran_z``/``moran_p``, ``n_points``, ``n_bad``, ``bad_rate``,
    ``hot_spots``, ``cold_spots``, ``gi_bins``, ``params``, ``ssi_mode``, ``unmarked_saturated``/``marked_saturated``
    (share of centres at the score's cap), and with ``relative=N`` the relative scores ``marked_ssi_rel`` …

    Attributes:
        report: a GeoDataFrame, the predictions' columns plus per-point ``bad``, ``ssi_unmarked``,
            ``ssi_marked``, ``ssi_neighbours``, ``gi_z``, ``gi_p``, ``gi_bin`` (and ``gi_q`` with ``fdr``).
        summary: the scores as a dict (the JSON ``geoenc geobias --json`` prints, NaN kept as NaN).
        result: the underlying :class:`geoenc.metrics.report.GeobiasResult` (arrays).
    """

    def __init__(self, report: Any, result: Any) -> None:
        self.report = report
        self.result = result
        self.summary: dict[str, Any] = result.summary()

    @property
    def latitude_bands(self) -> Any:
        """Points, low-performance rate and accuracy (or mean error) per 20° latitude band, as a DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.summary["latitude_bands"])

    def __getattr__(self, name: str) -> Any:
        summary = self.__dict__.get("summary", {})
        if name in summary:
            return summary[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}{did_you_mean(name, list(summary))}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("summary", {})))

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"GeobiasReport({s['n_points']:,} points, {s['n_bad']:,} low-performance by {s['outcome']}: "
            f"unmarked SSI {s['unmarked_ssi']:.3f}, marked SSI {s['marked_ssi']:.3f}, Moran's I {s['moran_i']:.3f}, "
            f"{s['hot_spots']:,} hot / {s['cold_spots']:,} cold spots)"
        )


def _geobias_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check option names against :func:`compute_geobias`'s keywords (new ones there are accepted here too)."""
    from geoenc.metrics.report import compute_geobias

    allowed = [
        n for n, p in inspect.signature(compute_geobias).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    for name in options:
        if name not in allowed:
            raise ParameterError(
                f"unknown geo-bias option {name!r}{did_you_mean(name, allowed)}; options: {', '.join(allowed)}"
            )
    return options


def geobias(
    preds: Any,
    *,
    value: str | None = None,
    error: str | None = None,
    threshold: float | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: Any = None,
    centroid: bool = False,
    wrap_lon: bool = False,
    **options: Any,
) -> GeobiasReport:
    """Geo-bias of per-point performance: SSI, Gi* hot spots, Moran's I and latitude bands (``geoenc geobias``).

    Args:
        preds: points with a performance column, e.g. :meth:`Model.predict` on labelled points (any input kind
            of :func:`encode`).
        value: a 0/1 column (1 = good); default ``hit@1`` when present.
        error: a continuous error column (default ``abs_error`` without ``hit@1``); needs ``threshold``.
        threshold: low performance = ``error`` above this (in the column's unit).
        lon, lat, crs, centroid, wrap_lon: how to read the coordinates (see :func:`encode`).
        **options: keywords of :func:`geoenc.metrics.report.compute_geobias`: ``radius_km`` (SSI
            neighbourhood, default 318.55 km = 0.05 rad), ``k`` (400), ``gi_k`` (8), ``band_km``, ``fdr``,
            ``moran_k``, ``centres`` (``low``/``all``), ``ssi_mode`` (``exact``/``pygbs``), ``unmarked_presence``
            (``low``/``all``), ``relative`` (permutations), ``seed``, ``n_jobs``, ``progress`` …

    Returns:
        a :class:`GeobiasReport`: ``.report`` (GeoDataFrame of the points and per-point scores), the scores
        as attributes (``.unmarked_ssi``, ``.marked_ssi``, ``.moran_i`` …) and ``.summary`` (dict).

    Raises:
        geoenc.errors.InputError: no performance column, a constant outcome, too few points.
        geoenc.errors.UsageError: an unknown option or a value out of range.
    """
    from geoenc.metrics.outcome import choose_outcome
    from geoenc.metrics.report import compute_geobias

    options = _geobias_options(options)
    points = as_points(preds, **_coords(lon, lat, crs, centroid, wrap_lon))
    outcome = choose_outcome(points.attrs, value=value, error=error, threshold=threshold)
    result = compute_geobias(points.lon, points.lat, outcome, **options)
    return GeobiasReport(to_frame(preds, points, result.columns(), geo=True), result)
