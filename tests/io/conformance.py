"""Checks that an output is what cloud tools accept: a valid COG, and GeoParquet 1.1 a bbox filter can read.

- :func:`assert_cog`: ``rio_cogeo.cogeo.cog_validate`` finds no error and no warning.
- :func:`assert_geoparquet`: the ``geo`` metadata (footer and Arrow schema alike) validates against the
  vendored GeoParquet 1.1.0 JSON schema (its PROJJSON reference resolved to PROJ's own copy, no network),
  the bbox covering column agrees with the points, and ``geopandas.read_parquet(bbox=…)`` returns exactly
  the points inside a box.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

SCHEMA = Path(__file__).resolve().parents[2] / "geoenc" / "io" / "schemas" / "geoparquet-1.1.0.schema.json"


@cache
def geoparquet_validator():
    import jsonschema
    import pyproj
    import referencing

    schema = json.loads(SCHEMA.read_text())
    projjson = json.loads((Path(pyproj.datadir.get_data_dir()) / "projjson.schema.json").read_text())
    ref = schema["properties"]["columns"]["patternProperties"][".+"]["properties"]["crs"]["oneOf"][0]["$ref"]
    assert projjson["$id"] == ref, f"PROJ ships PROJJSON schema {projjson['$id']}, GeoParquet 1.1 wants {ref}"
    registry = referencing.Registry().with_resource(ref, referencing.Resource.from_contents(projjson))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry)


def geo_problems(geo: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in geoparquet_validator().iter_errors(geo)]


def assert_cog(path: str | Path) -> None:
    from rio_cogeo.cogeo import cog_validate

    valid, errors, warnings = cog_validate(str(path), quiet=True)
    assert valid and not errors and not warnings, (path, errors, warnings)


def assert_geoparquet(path: str | Path, box_fraction: float = 0.5) -> None:
    import geopandas as gpd
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    footer = json.loads(pf.metadata.metadata[b"geo"])
    assert json.loads(pf.schema_arrow.metadata[b"geo"]) == footer, "footer and Arrow schema disagree on 'geo'"
    assert geo_problems(footer) == [], geo_problems(footer)
    col = footer["columns"][footer["primary_column"]]
    covering = col["covering"]["bbox"]
    assert {k: v[1] for k, v in covering.items()} == {k: k for k in ("xmin", "ymin", "xmax", "ymax")}
    bbox_col = covering["xmin"][0]
    table = pq.read_table(path, columns=["lon", "lat", bbox_col])
    lon, lat = table.column("lon").to_numpy(), table.column("lat").to_numpy()
    box = table.column(bbox_col).combine_chunks()
    for name, want in (("xmin", lon), ("xmax", lon), ("ymin", lat), ("ymax", lat)):
        np.testing.assert_array_equal(box.field(name).to_numpy(), want)
    assert col["bbox"] == [lon.min(), lat.min(), lon.max(), lat.max()]
    # every row group carries min/max statistics on the covering, which is what readers skip by
    leaf = {pf.metadata.schema.column(i).path: i for i in range(pf.metadata.num_columns)}
    for rg in range(pf.metadata.num_row_groups):
        stats = pf.metadata.row_group(rg).column(leaf[f"{bbox_col}.xmin"]).statistics
        assert stats is not None and stats.has_min_max
    # a filtered read returns exactly the points inside a box (here: the lower-left part of the extent)
    x0, y0, x1, y1 = col["bbox"]
    query = (x0, y0, x0 + (x1 - x0) * box_fraction, y0 + (y1 - y0) * box_fraction)
    got = gpd.read_parquet(path, bbox=query, columns=["lon", "lat", "geometry"])
    inside = (lon >= query[0]) & (lon <= query[2]) & (lat >= query[1]) & (lat <= query[3])
    assert len(got) == int(inside.sum())
    np.testing.assert_array_equal(np.sort(got["lon"].to_numpy()), np.sort(lon[inside]))
