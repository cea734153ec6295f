"""geoenc: location encoders, location models and geo-bias scores for geographic points.

The Python API (docs/python.md) takes what a notebook holds — a geopandas GeoDataFrame or GeoSeries in any CRS,
a pandas DataFrame with lon/lat columns, an ``(N, 2)`` array of lon/lat degrees::

    import geoenc
    gdf = geoenc.encode(gdf, "sphereM")                  # the frame with an `embedding` column; arrays → (N, D)
    model = geoenc.train(train_gdf, label="country", epochs=10, val_fraction=0.1)
    preds = model.predict(test_gdf)                      # the frame with pred_1…, prob_1… (class names), hit@1 …
    model.evaluate(test_gdf)                             # {"top1": …, "top3": …, "mrr": …}
    bias = geoenc.geobias(preds)                         # bias.report (GeoDataFrame), bias.unmarked_ssi …
    model.save("model/"); model = geoenc.load_model("model/")
    geoenc.list_encoders(); geoenc.get_encoder("sh", degree=10)   # the encoders as torch modules

``import geoenc`` imports neither torch nor pyarrow: the API loads on first use.
"""

from __future__ import annotations

from typing import Any

from geoenc._version import __version__

__all__ = [
    "GeobiasReport",
    "Model",
    "__version__",
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


def __getattr__(name: str) -> Any:
    if name in __all__:
        from geoenc import api

        return getattr(api, name)
    raise AttributeError(f"module 'geoenc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
