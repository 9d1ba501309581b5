"""EAL-GAN, the GAN / autoencoder detectors it is compared with, and their building blocks."""
from . import runtime  # noqa: F401  (sets MindSpore's log level before it loads)
from .anogan import AnoGAN
from .autoencoder import AutoEncoder
from .eal_gan import EALGAN, EALGANConfig
from .egbad import EGBAD
from .ganomaly import GANomaly
from .vae import VAE

# command-line name -> detector class
DETECTORS = {cls.name: cls for cls in (EALGAN, GANomaly, EGBAD, AnoGAN, AutoEncoder, VAE)}

__all__ = ["DETECTORS", "EALGAN", "EALGANConfig", "GANomaly", "EGBAD", "AnoGAN", "AutoEncoder",
           "VAE", "runtime"]
