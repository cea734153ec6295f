"""Turn a pretrained model's released weights into an ordinary geoenc model directory.

The directory is head-less (task ``embedding``), like one from ``geoenc pretrain``: safetensors + JSON,
usable by everything that takes ``--model DIR`` or ``--init DIR``. Its ``config.json`` carries a
``source`` section naming the source model, the file the weights came from and that file's SHA-256.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoenc.pretrained.registry import PretrainedInfo, get_pretrained

#: ``config.json`` → ``kind`` of an imported encoder (the same kind ``geoenc pretrain`` writes)
KIND = "pretrained_encoder"
#: the ``config.json`` section naming where imported weights came from (:meth:`ModelSpec.section`)
SECTION = "source"


@dataclass
class ImportResult:
    """What :func:`import_pretrained` wrote and where the weights came from."""

    path: Path
    info: PretrainedInfo
    source: Path
    source_sha256: str
    embedding_dim: int
    known_release: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def import_pretrained(
    name: str, out_dir: str | os.PathLike[str], *, source: str | os.PathLike[str] | None = None, overwrite: bool = False
) -> ImportResult:
    """Convert the released weights of pretrained model ``name`` into a model directory at ``out_dir``.

    Args:
        name: a name from :func:`geoenc.pretrained.list_pretrained` (``geoclip``, ``satclip``, ``csp``, ``sinr``).
        out_dir: the model directory to write (atomically: a failed import leaves nothing behind).
        source: the downloaded weights file (``geoclip``: optional, found in the installed package).
        overwrite: replace an existing ``out_dir``.

    Raises:
        UnknownNameError: ``name`` is not known.
        InputError: the weights file is missing.
        ModelError: the file is corrupt, refused by safe loading, or of another model.
        OutputError: ``out_dir`` exists (without ``overwrite``) or cannot be written.
    """
    from geoenc.io.atomic import check_output_dir
    from geoenc.models.checkpoint import sha256_file, write_model_dir
    from geoenc.models.location import LocationModel
    from geoenc.models.spec import Component, ModelSpec

    info = get_pretrained(name)
    module = importlib.import_module(f"geoenc.pretrained.{info.module}")
    path = Path(module.locate(source))
    check_output_dir(out_dir, overwrite, inputs=[path])  # fail before the (slow) conversion
    location, details = module.convert(path)
    digest = sha256_file(path)
    known = getattr(module, "KNOWN_SHA256", {}).get(digest)
    position, net = location.position, location.net
    spec = ModelSpec(
        encoder=Component(position.name, position.params),
        net=Component(net.name, net.params),
        task="embedding",
        n_outputs=0,
        embedding_dim=location.embedding_dim,
        kind=KIND,
        extra={
            SECTION: {
                "model": info.name,
                "title": info.title,
                "weights_file": str(path.resolve()),
                "weights_file_sha256": digest,
                "known_release": known,
                "input_convention": info.input_convention,
                "licence": info.licence,
                "citation": info.citation,
                "details": details,
            }
        },
    )
    out = write_model_dir(out_dir, LocationModel(location, "embedding", 0), spec, overwrite=overwrite, inputs=[path])
    return ImportResult(
        path=out,
        info=info,
        source=path,
        source_sha256=digest,
        embedding_dim=location.embedding_dim,
        known_release=known,
        details=details,
    )


def pretrained_source(model_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``source`` section of a model directory's config (None when it was not imported)."""
    from geoenc.models.checkpoint import read_spec

    return read_spec(model_dir).section(SECTION) or None
