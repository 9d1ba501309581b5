"""What EAL-GAN and the comparison family share: the detector interface and the optimiser."""
