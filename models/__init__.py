"""EAL-GAN and the detectors it is compared with.

    models/core/     the detector interface, its settings and the stacked Adam both sides use
    models/eal_gan/  the method: networks, losses, active sampling, trainer, selection
    models/family/   GANomaly, EGBAD, AnoGAN, AutoEncoder, VAE on a shared base
    models/utils/    run plumbing: device and seeds, metrics, checkpoints, results, figures
    models/registry.py, models/persistence.py: the detectors by name; save / load a
                     fitted detector or scaler pipeline

Lower layers never import higher ones: utils <- core <- eal_gan, family <- models.
Installed with `pip install -e .`, this package is importable as `ealgan`.
"""
import os

# MindSpore reads its log level once, when it is first imported, and every
# import of this package comes before that.  Keep its errors, drop the
# plugin and graph-analysis warnings, unless the user set GLOG_v.
os.environ.setdefault("GLOG_v", "3")

from .core.scaling import ColumnScaler  # noqa: E402
from .eal_gan import EALGAN, EALGANConfig  # noqa: E402
from .family import EGBAD, VAE, AnoGAN, AutoEncoder, GANomaly  # noqa: E402
from .persistence import load_model, save_model  # noqa: E402
from .registry import DETECTORS  # noqa: E402
from .utils.runtime import configure  # noqa: E402

__all__ = ["ColumnScaler", "DETECTORS", "EALGAN", "EALGANConfig", "GANomaly", "EGBAD", "AnoGAN",
           "AutoEncoder", "VAE", "configure", "load_model", "save_model"]
