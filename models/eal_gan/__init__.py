"""EAL-GAN (Chen et al., TPAMI 2023): one conditional generator, an actively trained
ensemble of discriminators, ensemble focal loss, top-k snapshot selection."""
from .estimator import EALGAN, EALGANConfig

__all__ = ["EALGAN", "EALGANConfig"]
