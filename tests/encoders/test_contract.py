"""The contract every registered encoder keeps; generated from the registry, so a new encoder is tested
by adding it."""

from __future__ import annotations

import inspect
import io
import json

import pytest
import torch

from geoenc.encoders import encoder_names, get_encoder, get_encoder_class, list_encoders
from geoenc.errors import ParameterError
from tests.encoders.helpers import EDGE_POINTS, EXTREME_PARAMS, LEARNABLE, PERIODIC, make, sample_points

NAMES = encoder_names()

EXPECTED_NAMES = [
    "tile",
    "wrap",
    "wrap_ffn",
    "rbf",
    "rff",
    "grid",
    "theory",
    "xyz",
    "nerf",
    "sphereC",
    "sphereC+",
    "sphereM",
    "sphereM+",
    "dfs",
    "sh",
    "geoclip",
]


def test_registered_names_are_pinned_in_order():
    assert NAMES == EXPECTED_NAMES


def test_default_nets_and_flags():
    info = {i.name: i for i in list_encoders()}
    assert {n: i.default_net for n, i in info.items()} == {
        n: ("fcnet" if n == "wrap" else "siren" if n == "sh" else "ffn") for n in EXPECTED_NAMES
    }
    assert {n for n, i in info.items() if i.needs_fit} == {"rbf"}
    assert {n for n in EXPECTED_NAMES if get_encoder_class(n).learnable} == LEARNABLE


@pytest.mark.parametrize("name", NAMES)
def test_lookup_is_case_insensitive(name):
    assert type(get_encoder(name.upper())) is type(get_encoder(name))


@pytest.mark.parametrize("name", NAMES)
def test_every_class_documents_itself(name):
    cls = get_encoder_class(name)
    assert cls.dim_formula and cls.summary and (cls.__doc__ or "").strip()
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    for p in params:
        assert p.kind is p.KEYWORD_ONLY, f"{name}.{p.name} must be keyword-only"
        assert p.default is not p.empty, f"{name}.{p.name} needs a default"
        assert p.annotation is not p.empty, f"{name}.{p.name} needs a type"
        assert cls.param_docs.get(p.name), f"{name}.{p.name} needs a line in param_docs"


@pytest.mark.parametrize("name", NAMES)
def test_shape_matches_embedding_dim(name):
    enc = make(name)
    out = enc(sample_points(dtype=torch.float32))
    assert out.shape == (len(sample_points()), enc.embedding_dim)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_at_poles_and_antimeridian(name, dtype):
    out = make(name)(torch.tensor(EDGE_POINTS, dtype=dtype))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_antimeridian_continuity_where_periodic(name):
    lat = torch.tensor([-90.0, -60.0, -12.5, 0.0, 33.3, 89.0, 90.0], dtype=torch.float64)
    west = torch.stack((torch.full_like(lat, -180.0), lat), 1)
    east = torch.stack((torch.full_like(lat, 180.0), lat), 1)
    enc = make(name)
    a, b = enc(west), enc(east)
    if name in PERIODIC:
        torch.testing.assert_close(a, b, atol=1e-7, rtol=0)
    else:  # pinned so that a change of behaviour is a decision, not an accident
        assert not torch.allclose(a, b, atol=1e-7, rtol=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_follow_input(name, dtype):
    x = sample_points(dtype=dtype)
    out = make(name)(x)
    assert out.dtype == dtype and out.device == x.device


@pytest.mark.parametrize("name", NAMES)
def test_integer_input_gives_float32(name):
    out = make(name)(torch.tensor([[10, 20], [-180, 90]], dtype=torch.int64))
    assert out.dtype == torch.float32


@pytest.mark.parametrize("name", NAMES)
def test_float32_close_to_float64(name):
    enc = make(name)
    x = sample_points()[:-2]  # the last two edge points round to ±180°/±90° in float32 (another tile cell)
    a = enc(x)
    b = enc(x.float()).double()
    # float32 coordinates themselves are rounded (up to 1e-5°), which the highest frequencies (1/r_min = 1000 for
    # sphere*, 2^15·π for nerf) turn into ~1e-2; the features of the float32 coordinates are exact (tests below)
    torch.testing.assert_close(b, a, atol=2e-2, rtol=0)


def test_every_encoder_has_extreme_parameters():
    assert set(EXTREME_PARAMS) == set(NAMES)


def _extreme(name: str):
    """The encoder at its extreme parameters and float64 points where it is sensitive (rbf: near its anchors)."""
    enc = get_encoder(name, **EXTREME_PARAMS[name])
    x = sample_points(200, seed=11)
    if enc.needs_fit:
        enc.fit(x, seed=0)
        g = torch.Generator().manual_seed(2)
        # within a few σ = 1e-6° of the anchors, where the kernel changes fastest
        x = enc.anchors.repeat(2, 1) + torch.randn(2 * enc.num_anchors, 2, generator=g, dtype=torch.float64) * 2e-6
    return enc, x


@pytest.mark.parametrize("name", NAMES)
def test_float32_is_faithful_at_the_extremes(name):
    """float64 coordinates → float32 features within 1e-5 of the float64 formula, at the finest allowed scale."""
    enc, x = _extreme(name)
    with torch.no_grad():
        ref = enc(x)
        got = enc(x, dtype=torch.float32)
    assert got.dtype == torch.float32 and ref.dtype == torch.float64
    assert (got.double() - ref).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", NAMES)
def test_float32_input_is_faithful_at_the_extremes(name):
    """float32 coordinates (a training batch) → float32 features within 1e-5 of the float64 formula of them."""
    enc, x = _extreme(name)
    x32 = x.float()
    with torch.no_grad():
        assert (enc(x32).double() - enc(x32.double())).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", NAMES)
def test_sub_blocks_and_out_match_one_call(name, monkeypatch):
    import geoenc.encoders.base as base

    enc = make(name)
    x = sample_points(300, seed=4)
    with torch.no_grad():
        whole = enc(x, dtype=torch.float32)
        monkeypatch.setattr(base, "PREPARE_ROWS", 50)  # several preparation chunks of 34 rows, blocks of 17
        blocks = enc(x, dtype=torch.float32, block_rows=17)
        out = torch.full((x.shape[0], enc.embedding_dim), float("nan"))
        same = enc(x, out=out, block_rows=64)
    assert same is out
    torch.testing.assert_close(blocks, whole, atol=0, rtol=0)
    torch.testing.assert_close(out, whole, atol=0, rtol=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_outputs_are_the_float32_features_rounded(name, dtype):
    enc = make(name)
    x = sample_points(40)
    with torch.no_grad():
        half = enc(x, dtype=dtype)
        ref = enc(x, dtype=torch.float32)
    assert half.dtype == dtype
    torch.testing.assert_close(half, ref.to(dtype), atol=0, rtol=0)


def test_out_is_checked():
    enc = make("sphereM")
    x = sample_points(10)
    with pytest.raises(ParameterError, match="out must be"):
        enc(x, out=torch.empty(3, enc.embedding_dim))
    with pytest.raises(ParameterError, match="autograd"):
        enc(x.clone().requires_grad_(True), out=torch.empty(x.shape[0], enc.embedding_dim))
    with pytest.raises(ParameterError, match="dtype"):
        enc(x, dtype=torch.int32)


@pytest.mark.parametrize("name", NAMES)
def test_row_alone_equals_row_in_batch(name):
    enc = make(name)
    x = sample_points(40)
    batch = enc(x)
    for i in (0, 7, len(x) - 1, len(x) - 5):
        torch.testing.assert_close(enc(x[i : i + 1]), batch[i : i + 1], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_flow(name):
    enc = make(name)
    x = sample_points(32).requires_grad_(True)
    out = enc(x)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    (out * weights).sum().backward()
    if name in LEARNABLE:
        grads = [p.grad for p in enc.parameters()]
        assert grads and all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    else:
        assert x.grad is not None and torch.isfinite(x.grad).all()
        assert x.grad[:32].abs().sum() > 0


@pytest.mark.parametrize("name", [n for n in NAMES if n not in LEARNABLE])  # tile: piecewise constant
def test_gradients_finite_at_poles(name):
    x = torch.tensor(EDGE_POINTS, dtype=torch.float64, requires_grad=True)
    make(name)(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_no_grad_and_grad_paths_agree(name):
    enc = make(name)
    x = sample_points(20)
    with torch.no_grad():
        a = enc(x)
    b = enc(x.clone().requires_grad_(True))
    torch.testing.assert_close(a, b.detach(), atol=0, rtol=0)


def _seeded_params(name: str) -> dict:
    sig = inspect.signature(get_encoder_class(name).__init__).parameters
    return {"seed": 7} if "seed" in sig else {}


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_reproduces_outputs(name):
    x = sample_points(50)
    first = get_encoder(name, **_seeded_params(name))
    if first.needs_fit:
        first.fit(sample_points(500, seed=9), seed=3)
    expected = first(x)
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)
    buf.seek(0)
    second = get_encoder(name, **_seeded_params(name)) if not _seeded_params(name) else get_encoder(name)
    second.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(second(x), expected, atol=0, rtol=0)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if "seed" in inspect.signature(get_encoder_class(n).__init__).parameters]
)
def test_seed_changes_and_fixes_the_random_state(name):
    x = sample_points(30)
    a, b, c = make(name, seed=1), make(name, seed=1), make(name, seed=2)
    if a.needs_fit:  # rbf draws its anchors in fit(): the seed of fit decides
        pts = sample_points(500, seed=9)
        a.fit(pts, seed=1), b.fit(pts, seed=1), c.fit(pts, seed=2)
    torch.testing.assert_close(a(x), b(x), atol=0, rtol=0)
    assert not torch.allclose(a(x), c(x))


@pytest.mark.parametrize("name", NAMES)
def test_params_are_resolved_and_json_serialisable(name):
    enc = get_encoder(name)
    sig = inspect.signature(type(enc).__init__).parameters
    assert set(enc.params) == {k for k in sig if k != "self"}
    json.dumps(enc.params)
    # a saved config builds the same encoder back
    again = get_encoder(name, **json.loads(json.dumps(enc.params)))
    assert again.params == enc.params and again.embedding_dim == enc.embedding_dim


def test_global_rng_is_untouched():
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    for name in NAMES:
        make(name)
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_input_gives_cuda_output(name):
    x = sample_points(20)
    cpu = make(name)
    expected = cpu(x)
    out = cpu.to("cuda")(x.to("cuda"))
    assert out.device.type == "cuda" and out.dtype == x.dtype
    torch.testing.assert_close(out.cpu(), expected, atol=1e-9, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_autocast_does_not_lower_the_phases(name):
    enc = make(name)
    x = sample_points(50).float()
    with torch.no_grad():
        ref = enc(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = enc(x)
    torch.testing.assert_close(got, ref, atol=0, rtol=0)
