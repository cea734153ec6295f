"""Defaults that several parts of geoenc share, in one place (no heavy imports: the CLI reads them at start-up)."""

#: the position encoder used when none is named by `encode`, `pretrain` and the encoding functions
DEFAULT_METHOD = "sphereM"

# What `geoenc train` (and `geoenc.train`, `TrainConfig()`) does when no tuning flag is given. Chosen on the
# validation splits of three tasks — global classification (country of a GeoNames place), global regression
# (pvlib's Linke-turbidity climatology) and regional classification (elapid's Ariolimax presence/background) —
# with the evidence and the test-split table in docs/models.md ("Defaults of geoenc train");
# `benchmarks/quality_defaults.py` re-runs it. The encoder's own defaults (sh: degree 20) and its default net
# (siren: 2 × 512 sine layers) complete the model.

#: the position encoder `geoenc train` uses when none is named (and no --init folder gives one)
TRAIN_METHOD = "sh"
#: epochs of a training run (all of them: without validation data the last epoch's weights are kept)
TRAIN_EPOCHS = 60
#: points per batch
TRAIN_BATCH_SIZE = 256
#: AdamW learning rate (SIREN diverges at 2e-3 and above; docs/models.md)
TRAIN_LR = 1e-3
#: AdamW weight decay
TRAIN_WEIGHT_DECAY = 1e-4
#: learning-rate schedule: cosine decay to zero over the epochs
TRAIN_LR_SCHEDULE = "cosine"
