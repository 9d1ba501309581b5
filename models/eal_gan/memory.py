"""The memory a configuration needs, estimated before anything is built.

A wide table grows every weight matrix quadratically (hidden width 2d), and
training holds several copies of the ensemble: the weights, their gradients,
Adam's two moments, and, for top-k selection, k snapshots plus the merged
k x E-member ensemble.  With d = 2000 and the defaults that is about 26 GB,
which the kernel would answer by killing the process minutes into the run.
`check_fits` refuses such a configuration up front, with the settings that
shrink it.
"""
import os

from ..core.detector import ModelTooLarge

BYTES = 4                  # float32
TRAINING_COPIES = 5        # weights, gradients, two Adam moments, compiled-graph buffers
ACTIVATION_COPIES = 8      # forward + backward activations per hidden layer, both steps
BASE_BYTES = 800 * 2 ** 20  # MindSpore, NumPy and the data, measured on small tables
N_CLASSES = 2


def parameter_counts(config, n_features):
    """(generator, discriminator ensemble) parameter counts of networks.py's layouts."""
    d, hidden = n_features, 2 * n_features
    embed = config.dim_z // 2
    generator = (N_CLASSES * embed + (config.dim_z + embed + 1) * hidden
                 + config.gen_layer * (hidden + 1) * hidden + (hidden + 1) * d)
    member = ((d + 1) * hidden + config.dis_layer * (hidden + 1) * hidden
              + 2 * (hidden + 1) + N_CLASSES * hidden)
    return generator, config.ensemble_num * member


def estimated_bytes(config, n_features, batch_size):
    generator, ensemble = parameter_counts(config, n_features)
    # every bag's k kept epochs, then the merged bags x k x E-member ensemble
    kept = config.select_top_k * config.bags
    snapshots = 2 * kept if kept > 1 else 0
    layers = config.dis_layer + config.gen_layer + 2
    activations = batch_size * 2 * n_features * (config.ensemble_num + 1) * layers
    return BASE_BYTES + BYTES * ((generator + ensemble) * TRAINING_COPIES
                                 + ensemble * snapshots + activations * ACTIVATION_COPIES)


def available_bytes():
    """MemAvailable from /proc/meminfo, or None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(config, n_features, batch_size, available=None):
    """Raise ModelTooLarge when the estimate exceeds the available memory."""
    available = available_bytes() if available is None else available
    needed = estimated_bytes(config, n_features, batch_size)
    if available is not None and needed > available:
        raise ModelTooLarge(
            f"{n_features} features with ensemble_num {config.ensemble_num}, select_top_k "
            f"{config.select_top_k}, bags {config.bags}, dis_layer {config.dis_layer} and "
            f"gen_layer {config.gen_layer} need about {needed / 2 ** 30:.1f} GB, but "
            f"{available / 2 ** 30:.1f} GB are available; lower select_top_k (1 keeps a "
            "single epoch), bags, ensemble_num or the layer counts, or reduce the features")
