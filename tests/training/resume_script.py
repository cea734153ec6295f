"""Run one small training job in its own process, optionally sending itself a real signal at a given batch.

``python -m tests.training.resume_script KIND OUT [--stop-at N] [--signal INT|TERM] [--resume]``
KIND: train, pretrain or autoencode. Prints ``interrupted`` or ``done``. Used by tests/training/test_engine.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind")
    ap.add_argument("out")
    ap.add_argument("--stop-at", type=int, default=0)
    ap.add_argument("--signal", default="INT")
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sig = signal.SIGINT if a.signal == "INT" else signal.SIGTERM
    seen = {"batches": 0}

    def progress(ev) -> None:
        if ev.kind == "batch":
            seen["batches"] += 1
            if seen["batches"] == a.stop_at:
                os.kill(os.getpid(), sig)  # a real signal, handled by the engine between batches

    resume = a.out if a.resume else None
    if a.kind == "train":
        from geoenc.training import train
        from tests.training.helpers import quadrants, small_config

        cfg = small_config(epochs=4, val_fraction=0.25, net_params={"hidden": 32, "out": 16, "dropout": 0.3})
        res = train(cfg, quadrants(), progress=progress, out_dir=a.out, resume=resume, overwrite=True)
        done = not res.interrupted
    elif a.kind == "pretrain":
        from geoenc.pretrain import pretrain
        from tests.pretrain.helpers import small_config, toy_data

        res = pretrain(
            small_config(epochs=4), toy_data(), progress=progress, out_dir=a.out, resume=resume, overwrite=True
        )
        done = not res.interrupted
    else:
        from geoenc.imagery.training import AutoencoderConfig, train_autoencoder
        from tests.imagery.rasters import toy_image, write_raster

        raster = Path(tempfile.gettempdir()) / "geoenc-resume-toy.tif"
        if not raster.exists():
            write_raster(raster, toy_image(64, 64))
        cfg = AutoencoderConfig(size=16, latent=8, width=4, samples=200, epochs=4, batch_size=32, seed=0)
        m = train_autoencoder(raster, a.out, cfg, device="cpu", progress=progress, resume=a.resume, overwrite=True)
        done = not m["interrupted"]
    print("done" if done else "interrupted")
    sys.exit(0)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
