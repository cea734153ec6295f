"""choose_outcome and latitude bands."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from geoenc.errors import InputError, UsageError
from geoenc.metrics.outcome import choose_outcome
from geoenc.metrics.report import latitude_bands


def test_defaults_prefer_hit_at_1():
    t = pa.table({"hit@1": [1, 0, 1, 1], "abs_error": [0.1, 5, 0.2, 0.3]})
    o = choose_outcome(t)
    assert o.kind == "binary" and o.bad.tolist() == [False, True, False, False] and o.gi_value.tolist() == [0, 1, 0, 0]
    e = choose_outcome(t.drop_columns(["hit@1"]), threshold=1.0)
    assert e.kind == "error" and e.bad.tolist() == [False, True, False, False] and e.gi_value[1] == 5


@pytest.mark.parametrize(
    "table,kwargs,exc,msg",
    [
        (pa.table({"x": [1, 2]}), {}, InputError, "no performance column"),
        (pa.table({"abs_error": [1.0, 2.0]}), {}, UsageError, "--threshold"),
        (pa.table({"hit@1": [1, 1]}), {}, InputError, "every point is good"),
        (pa.table({"abs_error": [1.0, 2.0]}), {"threshold": 5}, InputError, "every point is good"),
        (pa.table({"e": [1.0, 2.5]}), {"value": "e"}, UsageError, "not 0/1"),
        (pa.table({"e": ["a", "b"]}), {"value": "e"}, InputError, "not numeric"),
        (pa.table({"e": [1.0, None]}), {"error": "e", "threshold": 1}, InputError, "missing values"),
    ],
)
def test_refusals(table, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        choose_outcome(table, **kwargs)


def test_latitude_bands():
    lat = np.array([-90.0, -75, 0, 5, 89.9, 90])
    o = choose_outcome(pa.table({"hit@1": [1, 0, 1, 0, 1, 1]}))
    rows = latitude_bands(lat, o)
    assert next(r["band"] for r in rows) == "-90..-70" and len(rows) == 9
    assert [r["n"] for r in rows] == [2, 0, 0, 0, 2, 0, 0, 0, 2]
    assert rows[0]["accuracy"] == 0.5 and rows[4]["bad_rate"] == 0.5 and rows[1]["accuracy"] is None
