"""EAL-GAN and its building blocks in MindSpore."""
from . import runtime  # noqa: F401  (sets MindSpore's log level before it loads)
from .eal_gan import EALGAN, EALGANConfig

__all__ = ["EALGAN", "EALGANConfig", "runtime"]
