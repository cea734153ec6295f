"""`geoenc methods`: the table and the JSON list of registered encoders."""

import json

from geoenc.encoders import encoder_names


def test_methods_json_lists_every_encoder(cli):
    res = cli("methods", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert [d["name"] for d in data] == encoder_names()
    sphere_m = next(d for d in data if d["name"] == "sphereM")
    assert {p["name"] for p in sphere_m["params"]} >= {"frequency_num", "min_radius", "max_radius"}
    assert sphere_m["dim"]


def test_methods_table(cli):
    res = cli("methods")
    assert res.exit_code == 0
    for name in ("xyz", "sphereM"):
        assert name in res.stdout


def test_threads_option_sets_torch_threads(cli):
    import torch

    before = torch.get_num_threads()
    try:
        assert cli("--threads", "1", "methods", "--json").exit_code == 0
        assert torch.get_num_threads() == 1
        res = cli("--threads", "0", "methods")
        assert res.exit_code == 2 and "--threads" in res.stderr
    finally:
        torch.set_num_threads(before)


def test_every_command_is_registered(cli):
    from geoenc.cli.main import COMMANDS

    res = cli("--help")
    assert res.exit_code == 0
    for name in COMMANDS:
        assert f" {name} " in res.stdout, name
    assert COMMANDS == [
        "encode",
        "methods",
        "train",
        "predict",
        "evaluate",
        "geobias",
        "map",
        "benchmark",
        "pretrain",
        "patches",
        "autoencode",
        "pretrained",
    ]
