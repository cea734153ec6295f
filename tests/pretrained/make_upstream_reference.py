"""Write data/upstream_reference.npz: SatCLIP's, CSP's and SINR's own code run on the test checkpoints.

The released SatCLIP/CSP/SINR weights cannot be downloaded here, so the importers are checked on checkpoints
in the upstream layouts (``upstream_format.py``), and this script computes what the UPSTREAM code makes of
those same checkpoints. It needs checkouts of the three repositories (outside this repository; nothing of
them is copied in) and, for SatCLIP, its generated spherical-harmonics file and ``einops``:

    git clone https://github.com/microsoft/satclip /tmp/upstream/satclip
    # SatCLIP does not ship satclip/positional_encoding/spherical_harmonics_ylm.py: generate it with its own
    # generator (L = 41 is enough for L ≤ 40; the script prints L = 101 by default, which takes long)
    sed 's/^L = 101$/L = 41/' .../spherical_harmonics_generate_ylms.py > /tmp/gen41.py
    python /tmp/gen41.py > .../satclip/positional_encoding/spherical_harmonics_ylm.py
    pip install --target /tmp/upstream/pylib einops
    python tests/pretrained/make_upstream_reference.py --satclip /tmp/upstream/satclip \
        --csp /tmp/upstream/csp --sinr /tmp/upstream/sinr --pylib /tmp/upstream/pylib

What runs: SatCLIP ``load_lightweight.get_satclip_loc_encoder`` (its loader: SphericalHarmonics "analytic"
+ SirenNet in float64); CSP ``GridCellSpatialRelationEncoder`` + ``MultiLayerFeedForwardNN`` inside
``models.LocationEncoder`` / ``LocationImageEncoder`` (built as ``utils.get_spa_encoder`` builds them, its
state dict loaded strictly), forward with ``return_feats=True``; SINR ``models.get_model`` (strict load) on
``utils.CoordEncoder('sin_cos').encode``, forward with ``return_feats=True``. Also stored: SatCLIP's
generated harmonics at L = 40 on the first 40 points (to check geoenc's ``sh convention=satclip`` at the
released degree).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.pretrained import upstream_format as U  # noqa: E402

#: points (the 12 special ones first) at which SatCLIP's degree-40 harmonics are stored
N_SH40 = 40


def tensors_digest(obj) -> str:
    """SHA-256 over a checkpoint's state-dict tensors (names and bytes), to pin the test checkpoints."""
    h = hashlib.sha256()
    for key, value in sorted(obj["state_dict"].items()):
        h.update(key.encode())
        h.update(value.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def _fresh_import(root: Path, names: list[str]):
    """Import modules from an upstream checkout folder (put first on sys.path, stale copies dropped)."""
    for n in list(sys.modules):
        if n.split(".")[0] in names:
            del sys.modules[n]
    sys.path.insert(0, str(root))
    try:
        return [importlib.import_module(n) for n in names]
    finally:
        sys.path.remove(str(root))


def satclip_reference(repo: Path, pts: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    (load_lightweight,) = _fresh_import(repo / "satclip", ["load_lightweight"])
    ckpt = U.satclip_checkpoint(**U.SATCLIP_SMALL)
    path = U.write(ckpt, tmp / "satclip.ckpt")
    enc = load_lightweight.get_satclip_loc_encoder(str(path), "cpu")
    with torch.no_grad():
        emb = enc(torch.as_tensor(pts, dtype=torch.float64)).numpy()
    ckpt40 = U.satclip_checkpoint(**{**U.SATCLIP_SMALL, "legendre_polys": 40})
    enc40 = load_lightweight.get_satclip_loc_encoder(str(U.write(ckpt40, tmp / "satclip40.ckpt")), "cpu")
    with torch.no_grad():
        emb40 = enc40(torch.as_tensor(pts, dtype=torch.float64)).numpy()
    (pe,) = _fresh_import(repo / "satclip", ["positional_encoding"])
    sh40 = pe.SphericalHarmonics(legendre_polys=40, harmonics_calculation="analytic")
    with torch.no_grad():
        harmonics = sh40(torch.as_tensor(pts[:N_SH40], dtype=torch.float64)).numpy()
    return {
        "satclip": emb,
        "satclip_digest": np.array(tensors_digest(ckpt)),
        "satclip40": emb40,
        "satclip40_digest": np.array(tensors_digest(ckpt40)),
        "satclip_sh40": harmonics,
    }


def csp_reference(repo: Path, pts: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    sre, module, models = _fresh_import(repo / "main", ["SpatialRelationEncoder", "module", "models"])
    ckpt = U.csp_checkpoint(**U.CSP_SMALL)
    params = ckpt["params"]  # CSP's trainer reads its files with a full unpickle; the dict in memory is the same
    ffn = module.MultiLayerFeedForwardNN(
        input_dim=4 * params["frequency_num"],
        output_dim=params["num_filts"],
        num_hidden_layers=params["num_hidden_layer"],
        dropout_rate=params["dropout"],
        hidden_dim=params["hidden_dim"],
        activation=params["spa_f_act"],
        use_layernormalize=params["use_layn"],
        skip_connection=params["skip_connection"],
        context_str="GridCellSpatialRelationEncoder",
    )
    spa_enc = sre.GridCellSpatialRelationEncoder(
        params["num_filts"],
        coord_dim=2,
        frequency_num=params["frequency_num"],
        max_radius=params["max_radius"],
        min_radius=params["min_radius"],
        freq_init=params["freq_init"],
        ffn=ffn,
        device="cpu",
    )
    loc_enc = models.LocationEncoder(
        spa_enc=spa_enc, num_inputs=2, num_classes=params["num_classes"], num_filts=params["num_filts"], num_users=1
    )
    model = models.LocationImageEncoder(
        loc_enc=loc_enc, train_loss="full_loss", unsuper_loss="contsoftmax", cnn_feat_dim=2048, spa_enc_type="gridcell"
    )
    model.load_state_dict(ckpt["state_dict"], strict=True)
    model.eval()
    with torch.no_grad():
        emb = model.loc_enc(torch.as_tensor(pts, dtype=torch.float32), return_feats=True).numpy()
    return {"csp": emb, "csp_digest": np.array(tensors_digest(ckpt))}


def sinr_reference(repo: Path, pts: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    models, utils = _fresh_import(repo, ["models", "utils"])
    ckpt = U.sinr_checkpoint(**U.SINR_SMALL)
    path = U.write(ckpt, tmp / "sinr.pt")
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    model = models.get_model(loaded["params"])
    model.load_state_dict(loaded["state_dict"], strict=True)
    model.eval()
    feats = utils.CoordEncoder("sin_cos").encode(torch.as_tensor(pts, dtype=torch.float32).clone())
    with torch.no_grad():
        emb = model(feats, return_feats=True).numpy()
    return {"sinr": emb, "sinr_digest": np.array(tensors_digest(ckpt))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--satclip", type=Path, required=True, help="checkout of microsoft/satclip")
    ap.add_argument("--csp", type=Path, required=True, help="checkout of gengchenmai/csp")
    ap.add_argument("--sinr", type=Path, required=True, help="checkout of elijahcole/sinr")
    ap.add_argument("--pylib", type=Path, help="folder with einops (pip install --target)")
    args = ap.parse_args()
    if args.pylib:
        sys.path.append(str(args.pylib))
    torch.set_num_threads(1)
    pts = U.reference_points()
    out: dict[str, np.ndarray] = {"lonlat": pts}
    with tempfile.TemporaryDirectory() as tmp:
        out.update(satclip_reference(args.satclip, pts, Path(tmp)))
        out.update(csp_reference(args.csp, pts, Path(tmp)))
        out.update(sinr_reference(args.sinr, pts, Path(tmp)))
    dest = HERE / "data" / "upstream_reference.npz"
    np.savez_compressed(dest, **out)
    print(f"wrote {dest} ({dest.stat().st_size} bytes): " + ", ".join(f"{k} {v.shape}" for k, v in out.items()))


if __name__ == "__main__":
    main()
