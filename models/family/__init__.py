"""The detectors EAL-GAN is compared with, trained on normal rows on the same protocol."""
from .anogan import AnoGAN
from .autoencoder import AutoEncoder
from .egbad import EGBAD
from .ganomaly import GANomaly
from .vae import VAE

__all__ = ["AnoGAN", "AutoEncoder", "EGBAD", "GANomaly", "VAE"]
