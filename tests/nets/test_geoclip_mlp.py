"""geoclip_mlp: one MLP per input block, outputs summed (GeoCLIP's location net)."""

from __future__ import annotations

import pytest
import torch

from geoenc.errors import ParameterError
from geoenc.nets import get_net


def test_branches_see_their_own_block_and_sum():
    torch.manual_seed(0)
    net = get_net("geoclip_mlp", 12, branches=3, hidden=8, layers=2, out=5).eval()
    x = torch.randn(7, 12)
    by_hand = sum(net.branches[k](x[:, 4 * k : 4 * (k + 1)]) for k in range(3))
    torch.testing.assert_close(net(x), by_hand)
    branch = net.branches[0]
    assert [type(m).__name__ for m in branch] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert branch[0].in_features == 4 and branch[-1].out_features == 5


def test_geoclip_sizes():
    net = get_net("geoclip_mlp", 1536, branches=3)
    assert net.out_dim == 512
    assert net.params == {"branches": 3, "hidden": 1024, "layers": 3, "out": 512}
    assert sum(p.numel() for p in net.parameters()) == 3 * (512 * 1024 + 2 * 1024 * 1024 + 1024 * 512 + 3 * 1024 + 512)


def test_branches_must_divide_the_input():
    with pytest.raises(ParameterError, match="branches=3 must divide the input dimension 10"):
        get_net("geoclip_mlp", 10, branches=3)
