"""Defaults that several parts of geoenc share, in one place (no heavy imports: the CLI reads them at start-up)."""

#: the position encoder used when none is named (encode, train, pretrain, the Python API)
DEFAULT_METHOD = "sphereM"
