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
    assert list(COMMANDS) == [
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


def test_usage_errors_point_to_the_command_that_was_called(cli, csv_file):
    # a global option's value used to be taken for the command ("see 'geoenc 1 --help'")
    res = cli("--threads", "1", "encode", csv_file, "--bogus")
    assert res.exit_code == 2 and "see 'geoenc encode --help'" in res.stderr
    # a misspelt command is not a command to get help for
    res = cli("encdoe", csv_file)
    assert res.exit_code == 2 and "geoenc encdoe --help" not in res.stderr and "see 'geoenc --help'" in res.stderr


def test_flags_take_no_value_and_help_shows_none(cli, csv_file, tmp_path):
    res = cli("encode", csv_file, "-m", "xyz", "-o", tmp_path / "o.parquet", "--overwrite=true")
    assert res.exit_code == 2 and "does not take a value" in res.stderr
    from geoenc.cli.main import COMMANDS

    for command in [*COMMANDS, None]:
        text = cli(*([command] if command else []), "--help").stdout
        options = [line for line in text.splitlines() if line.startswith("│") and " --" in line]
        assert options and not [line for line in options if "<bool>" in line or "<str>" in line], command
    assert "-f" not in cli("encode", "--help").stdout.replace("--", "  ").split()  # no -f: GDAL's output driver
