"""Checkpoints in the layouts SatCLIP, CSP and SINR write, with seeded random weights (no released weights here).

Each writer builds the dict the upstream training code passes to ``torch.save`` — key names, shapes, dtypes and
the hyper-parameter layout as read from the upstream source (microsoft/satclip ``main.py``/``model.py``/
``location_encoder.py``; gengchenmai/csp ``trainer.py``/``models.py``/``SpatialRelationEncoder.py``/
``module.py``; elijahcole/sinr ``train.py``/``models.py``/``setup.py``) — with small widths so the files
stay tiny. The weights come from a seeded generator, so the same call always writes the same tensors; the
upstream reference values in ``data/upstream_reference.npz`` were computed by the upstream code on exactly
these checkpoints (``make_upstream_reference.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _uniform(gen: torch.Generator, shape: tuple[int, ...], bound: float, dtype=torch.float32) -> torch.Tensor:
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1).mul(bound).to(dtype)


def _linear(gen: torch.Generator, d_out: int, d_in: int, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    bound = 1 / math.sqrt(d_in)  # nn.Linear's default range
    return _uniform(gen, (d_out, d_in), bound, dtype), _uniform(gen, (d_out,), bound, dtype)


# -- SatCLIP ---------------------------------------------------------------------------------------------
SATCLIP_SMALL = {"legendre_polys": 10, "capacity": 32, "num_hidden_layers": 2, "embed_dim": 16}


def satclip_checkpoint(
    *, legendre_polys: int = 10, capacity: int = 32, num_hidden_layers: int = 2, embed_dim: int = 16, seed: int = 0
) -> dict[str, Any]:
    """A Lightning checkpoint of SatCLIPLightningModule (float64 SIREN location net, SIREN initialisation)."""
    gen = torch.Generator().manual_seed(seed)
    nnet: dict[str, torch.Tensor] = {}
    d = legendre_polys**2
    for k in range(num_hidden_layers):
        bound = 1 / d if k == 0 else math.sqrt(6 / d)  # SatCLIP's Siren.init_: w0 = 1 after the first layer
        nnet[f"layers.{k}.weight"] = _uniform(gen, (capacity, d), bound, torch.float64)
        nnet[f"layers.{k}.bias"] = _uniform(gen, (capacity,), bound, torch.float64)
        d = capacity
    bound = math.sqrt(6 / capacity)
    nnet["last_layer.weight"] = _uniform(gen, (embed_dim, capacity), bound, torch.float64)
    nnet["last_layer.bias"] = _uniform(gen, (embed_dim,), bound, torch.float64)
    state: dict[str, torch.Tensor] = {"model.logit_scale": torch.tensor(math.log(1 / 0.07))}
    state["model.visual.conv1.weight"] = _uniform(gen, (8, 13, 3, 3), 0.1)  # the image encoder: ignored on import
    for key, value in nnet.items():  # SatCLIP keeps the net as both model.nnet and model.location.nnet
        state[f"model.nnet.{key}"] = value
    for key, value in nnet.items():
        state[f"model.location.nnet.{key}"] = value
    hyper = {
        "embed_dim": embed_dim,
        "image_resolution": 256,
        "vision_layers": "moco_resnet18",
        "vision_width": 768,
        "vision_patch_size": 32,
        "in_channels": 13,
        "le_type": "sphericalharmonics",
        "pe_type": "siren",
        "frequency_num": 16,
        "max_radius": 260,
        "min_radius": 1,
        "legendre_polys": legendre_polys,
        "harmonics_calculation": "analytic",
        "sh_embedding_dims": 32,
        "learning_rate": 0.0001,
        "weight_decay": 0.01,
        "num_hidden_layers": num_hidden_layers,
        "capacity": capacity,
        # keys of the released checkpoints that satclip's load.py pops before building the module
        "eval_downstream": True,
        "air_temp_data_path": "/data/air_temp.csv",
        "election_data_path": "/data/election.csv",
    }
    return {
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "2.0.0",
        "state_dict": state,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {
            "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
                "monitor": "val_loss",
                "best_model_score": torch.tensor(3.25),
                "best_model_path": "satclip_logs/satclip/checkpoints/epoch=3-val_loss=3.25.ckpt",
                "current_score": torch.tensor(3.25),
                "dirpath": "satclip_logs/satclip/checkpoints",
            }
        },
        "optimizer_states": [
            {"state": {}, "param_groups": [{"lr": 0.0001, "weight_decay": 0.0, "betas": (0.9, 0.999), "params": [0]}]}
        ],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": hyper,
    }


# -- CSP -------------------------------------------------------------------------------------------------
CSP_SMALL = {"frequency_num": 8, "hidden_dim": 24, "num_filts": 16, "num_hidden_layer": 1}


def csp_checkpoint(
    *,
    frequency_num: int = 8,
    min_radius: float = 0.1,
    max_radius: float = 360.0,
    num_hidden_layer: int = 1,
    hidden_dim: int = 24,
    num_filts: int = 16,
    spa_f_act: str = "leakyrelu",
    use_layn: bool = True,
    num_classes: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """CSP's trainer.save_model dict of a LocationImageEncoder (unsuper_loss contsoftmax) with a gridcell encoder."""
    gen = torch.Generator().manual_seed(seed)
    ffn: dict[str, torch.Tensor] = {}
    d = 4 * frequency_num
    for i in range(num_hidden_layer + 1):
        last = i == num_hidden_layer
        width = num_filts if last else hidden_dim
        w, b = _linear(gen, width, d)
        ffn[f"layers.{i}.linear.weight"], ffn[f"layers.{i}.linear.bias"] = w, b
        if use_layn and not last:
            ffn[f"layers.{i}.layernorm.weight"] = 1 + _uniform(gen, (width,), 0.2)
            ffn[f"layers.{i}.layernorm.bias"] = _uniform(gen, (width,), 0.2)
        d = width
    class_emb = _uniform(gen, (num_classes, num_filts), 0.2)
    user_emb = _uniform(gen, (1, num_filts), 0.2)
    img_dec_w, img_dec_b = _linear(gen, num_filts, 2048)
    state: dict[str, torch.Tensor] = {}
    for key, value in ffn.items():
        state[f"loc_enc.spa_enc.ffn.{key}"] = value
    state["loc_enc.class_emb.weight"] = class_emb
    state["loc_enc.user_emb.weight"] = user_emb
    for key, value in ffn.items():  # LocationImageEncoder keeps loc_enc.spa_enc again as spa_enc
        state[f"spa_enc.ffn.{key}"] = value
    state["class_emb.weight"] = class_emb
    state["user_emb.weight"] = user_emb
    state["img_dec.weight"], state["img_dec.bias"] = img_dec_w, img_dec_b
    params = {
        "dataset": "inat_2018",
        "meta_type": "ebird_meta",
        "device": "cuda:0",
        "model_dir": "../model_dir/models_inat_2018/",
        "spa_enc_type": "gridcell",
        "frequency_num": frequency_num,
        "max_radius": max_radius,
        "min_radius": min_radius,
        "num_hidden_layer": num_hidden_layer,
        "hidden_dim": hidden_dim,
        "num_rbf_anchor_pts": 200,
        "rbf_kernal_size": 1.0,
        "loc_encode": "encode_cos_sin",
        "num_filts": num_filts,
        "freq_init": "geometric",
        "spa_f_act": spa_f_act,
        "map_range": [-180.0, 180.0, -90.0, 90.0],
        "use_layn": use_layn,
        "skip_connection": True,
        "spa_enc_use_postmat": True,
        "use_date_feats": False,
        "train_loss": "full_loss",
        "unsuper_loss": "contsoftmax",
        "dropout": 0.5,
        "lr": 0.001,
        "batch_size": 1024,
        "num_classes": num_classes,
        # a numpy integer, as research code often leaves in such dicts (exercises the numpy-scalar allow-list)
        "num_users": np.int64(1),
        "cnn_feat_dim": 2048,
    }
    optimizer = {"state": {}, "param_groups": [{"lr": 0.001, "weight_decay": 0.0, "params": list(range(len(ffn)))}]}
    return {"epoch": 31, "state_dict": state, "optimizer": optimizer, "params": params}


# -- SINR ------------------------------------------------------------------------------------------------
SINR_SMALL = {"num_filts": 16, "depth": 4}


def sinr_checkpoint(*, num_filts: int = 16, depth: int = 4, num_classes: int = 7, seed: int = 0) -> dict[str, Any]:
    """SINR's train.py dict: ResidualFCNet state dict (species head included) + its params (sin_cos input)."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {"class_emb.weight": _uniform(gen, (num_classes, num_filts), 0.25)}
    state["feats.0.weight"], state["feats.0.bias"] = _linear(gen, num_filts, 4)
    for i in range(depth):
        for name in ("w1", "w2"):
            w, b = _linear(gen, num_filts, num_filts)
            state[f"feats.{i + 2}.{name}.weight"], state[f"feats.{i + 2}.{name}.bias"] = w, b
    params = {
        "device": "cuda",
        "save_base": "./experiments/",
        "experiment_name": "demo",
        "timestamp": False,
        "species_set": "all",
        "hard_cap_seed": 9472,
        "hard_cap_num_per_class": 1000,
        "aux_species_seed": 8099,
        "num_aux_species": 0,
        "obs_file": "geo_prior_train.csv",
        "taxa_file": "geo_prior_train_meta.json",
        "model": "ResidualFCNet",
        "num_filts": num_filts,
        "input_enc": "sin_cos",
        "depth": depth,
        "loss": "an_full",
        "pos_weight": 2048,
        "batch_size": 2048,
        "lr": 0.0005,
        "lr_decay": 0.98,
        "num_epochs": 10,
        "log_frequency": 512,
        "save_path": "./experiments/demo",
        "input_dim": 4,
        "num_classes": num_classes,
        "class_to_taxa": list(range(100, 100 + num_classes)),
    }
    return {"state_dict": state, "params": params}


def write(obj: dict[str, Any], path: Path) -> Path:
    torch.save(obj, path)
    return path


def reference_points() -> np.ndarray:
    """(300, 2) lon/lat degrees: poles, λ = ±180°, and 288 seeded uniform points on the sphere."""
    special = [(0.0, 90.0), (123.0, 90.0), (0.0, -90.0), (-45.0, -90.0), (180.0, 0.0), (-180.0, 0.0)]
    special += [(180.0, 33.0), (-180.0, -33.0), (179.999, 10.0), (-179.999, 10.0), (0.0, 0.0), (12.5, 41.9)]
    rng = np.random.default_rng(7)
    lon = rng.uniform(-180, 180, 288)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 288)))
    return np.concatenate([np.asarray(special), np.column_stack([lon, lat])])
