"""Bad parameters end in a one-line ParameterError that says what is allowed."""

from __future__ import annotations

import pytest

from geoenc.encoders import encoder_names, get_encoder, list_encoders, resolve_params
from geoenc.errors import ParameterError, UnknownNameError

#: an out-of-range value for every parameter name any encoder has; a new parameter must be added here
OUT_OF_RANGE = {
    "frequency_num": [0, -3, 100_000_000],
    "min_radius": [0.0, -1.0, float("nan"), 1e-10],
    "max_radius": [0.0, -5.0],
    "num_anchors": [0],
    "kernel_size": [0.0, -1.0],
    "extent": [(10.0, -10.0, -90.0, 90.0), (0.0, 1.0, 2.0), (-180.0, 180.0, 5.0, 5.0)],
    "cell_size": [0.0, 200.0, 0.001],
    "dim": [0],
    "degree": [0, 1000],
    "convention": ["condon-shortley", ""],
    "seed": [-1],
    "sigmas": [(), (0.0, 1.0), (-1.0,)],
}

CASES = [(info.name, p.name) for info in list_encoders() for p in info.params]


def test_every_parameter_has_bad_values():
    assert {p for _, p in CASES} <= set(OUT_OF_RANGE)


@pytest.mark.parametrize("name,param", CASES)
def test_out_of_range_values(name, param):
    for bad in OUT_OF_RANGE[param]:
        with pytest.raises(ParameterError) as err:
            get_encoder(name, **{param: bad})
        msg = str(err.value)
        assert "\n" not in msg and param in msg


@pytest.mark.parametrize("name,param", CASES)
def test_wrong_type_strings(name, param):
    if param == "convention":
        pytest.skip("a string is the right type")
    with pytest.raises(ParameterError, match="not a valid"):
        get_encoder(name, **{param: "twelve"})


@pytest.mark.parametrize(
    "name,param", [c for c in CASES if c[1] in ("frequency_num", "num_anchors", "degree", "seed", "dim")]
)
def test_integer_parameters_refuse_fractions_and_bools(name, param):
    for bad in (2.5, "2.5", True):
        with pytest.raises(ParameterError):
            get_encoder(name, **{param: bad})


@pytest.mark.parametrize("name", encoder_names())
def test_unknown_key_lists_the_allowed_ones(name):
    with pytest.raises(ParameterError) as err:
        get_encoder(name, frequency_nmu=3)
    allowed = [p.name for i in list_encoders() if i.name == name for p in i.params]
    msg = str(err.value)
    assert "frequency_nmu" in msg and all(a in msg for a in allowed)
    if "frequency_num" in allowed:
        assert "did you mean 'frequency_num'" in msg


def test_min_radius_must_stay_below_max_radius():
    for name in ("grid", "theory", "sphereC", "sphereM", "dfs"):
        with pytest.raises(ParameterError, match="min_radius"):
            get_encoder(name, min_radius=2.0, max_radius=1.0)


def test_strings_are_parsed_by_annotation():
    enc = get_encoder("sphereM", frequency_num="16", min_radius="1e-3", max_radius="1")
    assert enc.params == {"frequency_num": 16, "min_radius": 0.001, "max_radius": 1.0}
    assert enc.embedding_dim == 80
    assert get_encoder("rff", extent="-10,10,-5,5").params["extent"] == (-10.0, 10.0, -5.0, 5.0)
    assert get_encoder("geoclip", sigmas="1,8").embedding_dim == 2 * 256 * 2
    assert resolve_params("sh", {"degree": "12.0"}) == {"degree": 12}


def test_unknown_method_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'sphereM'"):
        get_encoder("spherm")


@pytest.mark.parametrize(
    "name,params,dim",
    [
        ("tile", {"dim": 7}, 7),
        ("wrap", {}, 4),
        ("wrap_ffn", {}, 4),
        ("rbf", {"num_anchors": 9}, 9),
        ("rff", {"frequency_num": 5}, 5),
        ("grid", {"frequency_num": 3}, 12),
        ("theory", {"frequency_num": 3}, 18),
        ("xyz", {}, 3),
        ("nerf", {"frequency_num": 4}, 24),
        ("sphereC", {"frequency_num": 3}, 9),
        ("sphereC+", {"frequency_num": 3}, 18),
        ("sphereM", {"frequency_num": 3}, 15),
        ("sphereM+", {"frequency_num": 3}, 24),
        ("dfs", {"frequency_num": 3}, 48),
        ("sh", {"degree": 7}, 49),
        ("geoclip", {"frequency_num": 4, "sigmas": (1.0, 2.0, 3.0)}, 24),
    ],
)
def test_dimension_formulas(name, params, dim):
    assert get_encoder(name, **params).embedding_dim == dim


def test_rbf_kernel_below_its_floor_is_refused():
    # below 1e-6° float64 coordinates no longer resolve the kernel to float32 precision
    with pytest.raises(ParameterError, match="kernel_size"):
        get_encoder("rbf", kernel_size=1e-7)
    assert get_encoder("rbf", kernel_size=1e-6).kernel_size == 1e-6


@pytest.mark.parametrize("name,smallest", [("grid", 1e-7), ("theory", 1e-7), ("sphereM", 1e-9), ("dfs", 1e-9)])
def test_smallest_radius_is_allowed(name, smallest):
    assert get_encoder(name, min_radius=smallest).params["min_radius"] == smallest
    with pytest.raises(ParameterError, match="min_radius"):
        get_encoder(name, min_radius=smallest / 2)
