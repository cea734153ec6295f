"""The pretrained-model registry: pinned names, complete facts, honest flags."""

from __future__ import annotations

import pytest

from geoenc.errors import UnknownNameError
from geoenc.pretrained import get_pretrained, list_pretrained, pretrained_names


def test_names_are_pinned():
    assert pretrained_names() == ["geoclip", "satclip", "csp", "sinr"]


@pytest.mark.parametrize("name", pretrained_names())
def test_every_entry_is_complete(name):
    info = get_pretrained(name).as_dict()
    for key in ("title", "trained_on", "weights", "files", "input_convention", "architecture", "licence", "citation"):
        assert isinstance(info[key], str) and len(info[key]) > 10, key
    assert info["embedding_dim"] in (256, 512)
    assert "module" not in info


def test_only_geoclip_claims_a_check_on_released_weights():
    checked = [i.name for i in list_pretrained() if i.checked_with_released_weights]
    assert checked == ["geoclip"]
    assert "lat, lon" in get_pretrained("geoclip").input_convention


def test_unknown_name_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'satclip'"):
        get_pretrained("satclp")
    assert get_pretrained(" GeoCLIP ").name == "geoclip"


def test_listing_does_not_import_an_importer():
    import subprocess
    import sys

    code = (
        "import sys, geoenc.pretrained as p; p.list_pretrained(); "
        "print(sorted(m for m in sys.modules if m.startswith('geoenc.pretrained.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['geoenc.pretrained.importer', 'geoenc.pretrained.registry']"
