"""The pretrained location encoders geoenc can import: where their weights come from and what they are.

Each entry names the module (``geoenc.pretrained.<module>``) whose ``locate(source)`` finds the weights file
and whose ``convert(path)`` turns it into a geoenc :class:`~geoenc.models.LocationEncoder`. Importing this
module imports neither torch nor an importer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from geoenc.errors import UnknownNameError, did_you_mean


@dataclass(frozen=True)
class PretrainedInfo:
    """One pretrained location encoder (facts from its paper, code and release pages)."""

    name: str
    title: str
    #: what the published model was trained on
    trained_on: str
    #: where the weights are published and how to get them
    weights: str
    #: the file(s) the importer reads
    files: str
    #: the input the original code expects; geoenc always takes (lon, lat) degrees and converts at the edge
    input_convention: str
    embedding_dim: int
    #: the geoenc encoder + net the weights become
    architecture: str
    licence: str
    citation: str
    #: True when the importer was checked against the real released weights, not only against test files
    checked_with_released_weights: bool
    #: what the import was checked against, in words
    checked_against: str
    #: the geoenc module holding ``locate`` and ``convert``
    module: str
    #: short forms for the table of ``geoenc pretrained``
    weights_short: str = ""
    licence_short: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("module", "weights_short", "licence_short"):
            d.pop(key)
        return d


_ENTRIES = (
    PretrainedInfo(
        name="geoclip",
        title="GeoCLIP location encoder",
        trained_on="MP-16: about 4.7 million geotagged Flickr photos, aligned with CLIP ViT-L/14 image features "
        "(contrastive image–GPS training with a GPS gallery queue)",
        weights="shipped inside the `geoclip` wheel on PyPI (pip install --no-deps geoclip==1.3.0) and in the "
        "VicenteVivan/geo-clip repository; found in the installed package, or give --from PATH",
        files="geoclip/model/weights/location_encoder_weights.pth (a plain state dict, 37.8 MB)",
        input_convention="(lat, lon) degrees, lat first",
        embedding_dim=512,
        architecture="encoder geoclip (Equal Earth + random Fourier features, σ = 2⁰, 2⁴, 2⁸, the released B "
        "matrices) + net geoclip_mlp (one 3-layer ReLU MLP of width 1024 per scale, outputs summed)",
        licence="MIT (the geoclip package and repository)",
        citation="Vivanco Cepeda, V., Nayak, G. K., Shah, M. (2023). GeoCLIP: Clip-Inspired Alignment between "
        "Locations and Images for Effective Worldwide Geo-localization. NeurIPS 2023.",
        checked_with_released_weights=True,
        checked_against="the geoclip 1.3.0 package's own LocationEncoder on 10,000 points (poles and ±180° "
        "included): max abs difference below 1e-4",
        module="geoclip",
        weights_short="in the geoclip wheel (pip install --no-deps geoclip==1.3.0)",
        licence_short="MIT",
    ),
    PretrainedInfo(
        name="satclip",
        title="SatCLIP location encoder (spherical harmonics L = 10 or 40 + SIREN)",
        trained_on="S2-100K: 100,000 cloud-free Sentinel-2 scenes sampled about uniformly over land "
        "(contrastive image–location training, CLIP loss)",
        weights="Hugging Face microsoft/SatCLIP-{ResNet18,ResNet50,ViT16}-{L10,L40}, files "
        "satclip-<vision>-l<L>.ckpt; download one and pass it with --from",
        files="a PyTorch Lightning .ckpt (state_dict + hyper_parameters)",
        input_convention="(lon, lat) degrees",
        embedding_dim=256,
        architecture="encoder sh (degree L, convention satclip: no Condon–Shortley phase, π on m = 0) + net siren "
        "(2 sine layers of width 256, w0 = 30 then 1, linear output)",
        licence="MIT (microsoft/satclip code and model cards)",
        citation="Klemmer, K., Rolf, E., Robinson, C., Mackey, L., Rußwurm, M. (2025). SatCLIP: Global, "
        "General-Purpose Location Embeddings with Satellite Imagery. AAAI 2025.",
        checked_with_released_weights=False,
        checked_against="checkpoints written by the tests in SatCLIP's Lightning layout, and SatCLIP's own "
        "LocationEncoder (its generated spherical harmonics + SirenNet) run on them outside the repository",
        module="satclip",
        weights_short="Hugging Face microsoft/SatCLIP-*-L10|L40 (--from)",
        licence_short="MIT",
    ),
    PretrainedInfo(
        name="csp",
        title="CSP location encoder (Space2Vec-grid + feed-forward net)",
        trained_on="self-supervised contrastive pre-training (CSP-MC-BLD) on the unlabelled training images of "
        "iNat2018 (InceptionV3 features) or fMoW (satellite images); fine-tuned variants on 5 % of the labels",
        weights="the CSP project page (gengchenmai.github.io/csp-website), model_dir/model_inat_2018/ and "
        "model_dir/model_fmow/ (model_*_gridcell_*.pth.tar); download one and pass it with --from",
        files="a .pth.tar dict: state_dict, optimizer, epoch, params (the training arguments)",
        input_convention="(lon, lat) degrees",
        embedding_dim=256,
        architecture="encoder grid (Space2Vec-grid, S = frequency_num, radii min_radius…max_radius degrees) + net "
        "ffn (hidden layers with LayerNorm, activation and dropout also on the output layer, as in CSP)",
        licence="not stated: the gengchenmai/csp repository has no licence file",
        citation="Mai, G., Lao, N., He, Y., Song, J., Ermon, S. (2023). CSP: Self-Supervised Contrastive Spatial "
        "Pre-Training for Geospatial-Visual Representations. ICML 2023.",
        checked_with_released_weights=False,
        checked_against="checkpoints written by the tests in CSP's layout, and CSP's own "
        "GridCellSpatialRelationEncoder + MultiLayerFeedForwardNN run on them outside the repository",
        module="csp",
        weights_short="CSP project page, model_*_gridcell_*.pth.tar (--from)",
        licence_short="none stated",
    ),
    PretrainedInfo(
        name="sinr",
        title="SINR location encoder (wrap + residual FCNet)",
        trained_on="presence-only iNaturalist observations of about 47,000 species (Cole et al. 2023); "
        "the sin_cos models (hard cap 10, 100 or 1000 observations per species)",
        weights="CaltechDATA record dk5g7-rhq64, pretrained_models.zip (see elijahcole/sinr web_app/README.md); "
        "unzip and pass one model_*.pt with --from",
        files="a .pt dict: state_dict + params (the training settings)",
        input_convention="(lon, lat) degrees, scaled to lon/180, lat/90",
        embedding_dim=256,
        architecture="encoder wrap + net fcnet (Linear + ReLU, then 4 residual blocks of width 256); the "
        "species head is not imported",
        licence="MIT (elijahcole/sinr code); see the CaltechDATA record for the weights' terms",
        citation="Cole, E., Van Horn, G., Lange, C., Shepard, A., Leary, P., Perona, P., Loarie, S., "
        "Mac Aodha, O. (2023). Spatial Implicit Neural Representations for Global-Scale Species Mapping. ICML 2023.",
        checked_with_released_weights=False,
        checked_against="checkpoints written by the tests in SINR's layout, and SINR's own ResidualFCNet + "
        "encode_loc run on them outside the repository",
        module="sinr",
        weights_short="CaltechDATA dk5g7-rhq64, model_*.pt (--from)",
        licence_short="MIT (code)",
    ),
)

_BY_NAME = {e.name: e for e in _ENTRIES}


def pretrained_names() -> list[str]:
    return [e.name for e in _ENTRIES]


def list_pretrained() -> list[PretrainedInfo]:
    """Every known pretrained location encoder, in a fixed order."""
    return list(_ENTRIES)


def get_pretrained(name: str) -> PretrainedInfo:
    key = str(name).strip().lower()
    if key not in _BY_NAME:
        names = pretrained_names()
        raise UnknownNameError(
            f"unknown pretrained model {name!r}{did_you_mean(str(name), names)}; known: {', '.join(names)}"
        )
    return _BY_NAME[key]
