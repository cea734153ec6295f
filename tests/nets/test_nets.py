"""Every registered net: shape, finite output, every parameter gets a gradient, parameter parsing, errors."""

from __future__ import annotations

import math

import pytest
import torch

from geoenc.errors import ParameterError, UnknownNameError, UsageError
from geoenc.nets import get_net, list_nets, net_names

NETS = net_names()


def test_registered_names_are_pinned():
    assert NETS == ["ffn", "fcnet", "siren", "linear", "geoclip_mlp"]
    assert [n["name"] for n in list_nets()] == NETS


@pytest.mark.parametrize("name", NETS)
def test_shape_finite_and_out_dim(name):
    torch.manual_seed(0)
    net = get_net(name, 7)
    y = net(torch.randn(5, 7))
    assert y.shape == (5, net.out_dim)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", NETS)
def test_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    net = get_net(name, 4)
    net.train()
    net(torch.randn(16, 4)).pow(2).sum().backward()
    for pname, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", NETS)
def test_row_alone_equals_row_in_batch_in_eval(name):
    torch.manual_seed(0)
    net = get_net(name, 3).eval()
    x = torch.randn(6, 3)
    torch.testing.assert_close(net(x[2:3]), net(x)[2:3], rtol=1e-5, atol=1e-6)


def test_string_params_are_parsed_by_annotation():
    net = get_net("ffn", 3, hidden="64", layers="2", dropout="0.1", output_activation="true", activation="gelu")
    assert net.params == {
        "hidden": 64,
        "layers": 2,
        "out": 256,
        "activation": "gelu",
        "dropout": 0.1,
        "layer_norm": True,
        "output_activation": True,
    }
    assert get_net("FFN", 3).name == "ffn"  # case-insensitive


def test_ffn_structure_follows_torchspatial():
    net = get_net("ffn", 3, hidden=8, layers=2, out=5, dropout=0.0)
    blocks = list(net.hidden)
    assert not blocks[0].residual and blocks[1].residual  # residual only where shapes match
    assert isinstance(blocks[0].act, torch.nn.LeakyReLU) and blocks[0].act.negative_slope == 0.2
    assert isinstance(net.output, torch.nn.Linear)  # no activation on the output unless asked
    quirk = get_net("ffn", 3, hidden=8, out=5, output_activation=True, dropout=0.0).eval()
    assert (quirk(torch.randn(100, 3)) >= -0.2 * 100).all()
    assert quirk.output.act.negative_slope == 0.2


def test_fcnet_is_residual_mlp_of_width_256():
    net = get_net("fcnet", 4)
    assert net.out_dim == 256 and len(net.blocks) == 4
    assert net.blocks[0].body[2].p == 0.5


def test_siren_init_bounds_and_sine():
    net = get_net("siren", 9, hidden=32, layers=2, out=8)
    first, second, last = net.layers[0], net.layers[1], net.layers[2]
    assert first.w0 == 30.0 and second.w0 == 1.0 and not last.activation
    assert first.linear.weight.abs().max() <= 1 / 9
    assert second.linear.weight.abs().max() <= math.sqrt(6 / 32) / 1.0
    x = torch.randn(3, 9)
    torch.testing.assert_close(first(x), torch.sin(30.0 * first.linear(x)))


def test_linear_is_one_layer():
    net = get_net("linear", 5, out=3, bias=False)
    assert net.out_dim == 3 and net.linear.bias is None


@pytest.mark.parametrize(
    "call, err, text",
    [
        (lambda: get_net("mlp", 3), UnknownNameError, "unknown net 'mlp'"),
        (lambda: get_net("ffn", 3, hiddn=3), ParameterError, "did you mean 'hidden'"),
        (lambda: get_net("ffn", 3, hidden="many"), ParameterError, "not a valid int"),
        (lambda: get_net("ffn", 3, hidden=0), ParameterError, "hidden=0"),
        (lambda: get_net("ffn", 3, dropout=1.5), ParameterError, "dropout"),
        (lambda: get_net("ffn", 3, activation="swish"), ParameterError, "leakyrelu"),
        (lambda: get_net("siren", 3, layers="2.5"), ParameterError, "not a valid int"),
        (lambda: get_net("linear", 0), ParameterError, "positive"),
    ],
)
def test_bad_nets_and_params_are_usage_errors(call, err, text):
    with pytest.raises(err, match=text) as info:
        call()
    assert isinstance(info.value, UsageError) and "\n" not in str(info.value)
