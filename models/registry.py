"""Every detector of this repository, by its command-line name."""
from .eal_gan import EALGAN
from .family import EGBAD, VAE, AnoGAN, AutoEncoder, GANomaly

DETECTORS = {cls.name: cls for cls in (EALGAN, GANomaly, EGBAD, AnoGAN, AutoEncoder, VAE)}
