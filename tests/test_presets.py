"""Presets (configs/presets/): where they layer, and the authors' spectral-norm layout."""
import os

import numpy as np
import pytest

from conftest import ROOT
from models.eal_gan.networks import Generator
from config import ConfigError, resolve_settings



def test_presets_layer_between_the_defaults_and_the_dataset_yaml():
    official = resolve_settings(["--data_name", "own_table", "--preset", "official"])
    assert (official.max_epochs, official.batch_size, official.lr_d, official.active_rate,
            official.select_top_k) == (11, 256, 0.01, 0.05, 1)
    assert official.SN_used and not official.SN_generator_hidden
    port = resolve_settings(["--data_name", "own_table", "--preset", "port", "--lr_d", "0.003"])
    assert (port.max_epochs, port.batch_size, port.init_type, port.lr_d) == \
        (100, 128, "N02", 0.003)
    # configs/glass.yaml sets max_epochs: auto, which wins over the preset's 11
    assert resolve_settings(["--data_name", "glass", "--preset", "official"]).max_epochs == "auto"
    as_config = resolve_settings(["--data_name", "glass", "--config",
                                  os.path.join(ROOT, "configs", "presets", "official.yaml")])
    assert as_config.max_epochs == 11
    with pytest.raises(ConfigError, match="unknown preset 'authors'; choose one of official"):
        resolve_settings(["--preset", "authors"])



@pytest.mark.parametrize("hidden,want", [(True, [True, True, True, True]),
                                         (False, [True, False, False, True])])
def test_generator_spectral_norm_on_its_middle_layers_is_optional(hidden, want):
    generator = Generator(np.random.default_rng(0), 4, 6, 2, "ortho", True, hidden)
    assert [layer.spectral_norm for layer in generator.dense_layers] == want
    # plain layers carry no power-iteration state
    assert [hasattr(layer, "u") for layer in generator.dense_layers] == want


def test_every_run_is_scaled_as_its_settings_say():
    """The comparison detectors and the authors' settings keep the z-scores their recorded
    rows were made with; EAL-GAN takes its dataset config's scaling, else the default."""
    import yaml
    from config import configured_scaling
    from models.core.scaling import DEFAULT_SCALING
    for model in ("ganomaly", "egbad", "anogan", "ae", "vae"):
        assert configured_scaling("cardio", model) == "standard"
    assert configured_scaling("arrhythmia", config=os.path.join(ROOT, "configs", "presets",
                                                                "official.yaml")) \
        == "standard"
    assert configured_scaling("a_table_without_config") == DEFAULT_SCALING == "quantile"
    for dataset in ("glass", "arrhythmia"):
        with open(os.path.join(ROOT, "configs", f"{dataset}.yaml"), encoding="utf-8") as handle:
            assert configured_scaling(dataset) == yaml.safe_load(handle)["scaling"]
