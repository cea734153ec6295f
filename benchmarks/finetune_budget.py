"""A fixed-budget fine-tune shared by the few-shot benchmarks (fewshot_sdm.py, bluemarble_tutorial.py).

Not a command: each script imports it when run as ``python benchmarks/<script>.py`` (the script's folder
is on ``sys.path`` then). Random or pretrained initialisation, the same number of optimiser steps for every
arm of a comparison, no early stopping — so that the pretrained and random arms get exactly the same budget.
"""

from __future__ import annotations

import numpy as np


def finetune_scores(
    method: str,
    method_params: dict,
    net_params: dict,
    lonlat: np.ndarray,
    y: np.ndarray,
    test_ll: np.ndarray,
    n_classes: int,
    seed: int,
    init: str | None,
    freeze: bool,
    *,
    steps: int,
    lr: float,
    batch_size: int,
) -> np.ndarray:
    """Train ``method`` + ffn with cross-entropy for ``steps`` steps; return softmax scores on ``test_ll``."""
    import torch
    import torch.nn.functional as F

    from geoenc.models import build_model
    from geoenc.models.transfer import apply_pretrained

    torch.manual_seed(seed)
    model = build_model(method, method_params, "ffn", net_params, "classification", n_classes)
    if init is not None:
        apply_pretrained(model, init, freeze_encoder=freeze)
    pe = model.location.position
    with torch.no_grad():  # the position encoder has nothing to learn: encode once
        x = pe(torch.as_tensor(lonlat, dtype=torch.float32)).float()
        xt = pe(torch.as_tensor(test_ll, dtype=torch.float32)).float()
    yt = torch.as_tensor(y)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    bs = min(batch_size, len(y))
    model.train()
    step = 0
    while step < steps:
        perm = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y) - bs + 1, bs):
            idx = perm[i : i + bs]
            loss = F.cross_entropy(model.forward_encoded(x[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step >= steps:
                break
    model.eval()
    with torch.no_grad():
        return torch.softmax(model.forward_encoded(xt), dim=-1).numpy()
