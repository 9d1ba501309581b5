"""The command line's settings: declared once as dataclass fields, layered from YAML files.

Settings come from three dataclasses: `RunSettings` below (what to train on,
where outputs go, the device), the detectors' own (EALGANConfig,
SemiSupervisedConfig, EGBADConfig in models/), and nothing else.  Every
field is a flag of train_eval.py, converted by its declared type, and a key
of configs/default.yaml (a test holds the file's values equal to the
dataclass defaults), so adding a setting is one field and one YAML line.

Layering: configs/default.yaml, then --preset NAME (configs/presets/NAME.yaml),
then (EAL-GAN) configs/DATASET.yaml or (other detectors)
configs/models/MODEL.yaml, or --config FILE instead, then the flags typed.
"""
import argparse
import dataclasses
import os
from typing import Optional

import yaml

from dataloader import dataset_name
from models import DETECTORS, EALGAN
from models.core.detector import check_seed
from models.core.scaling import DEFAULT_SCALING, SCALINGS
from models.core.settings import AUTO, IntOrAuto, base_type, doc, setting
from models.utils import runtime
from models.utils.cli import str2bool
from models.utils.compile_cache import DEFAULT_DIR as DEFAULT_CACHE_DIR

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "configs", "default.yaml")
PRESETS = os.path.join(HERE, "configs", "presets")


def run_setting(default, text, outside_graph=False, choices=None):
    """A RunSettings field; outside_graph: it never reaches a compiled graph (so it is left
    out of the compile-cache key); choices: the values a text setting takes."""
    return setting(default, text, choices=choices, outside_graph=outside_graph)


@dataclasses.dataclass
class RunSettings:
    """What a run of train_eval.py trains on, where its outputs go and how it runs."""

    model: str = run_setting(EALGAN.name, f"Detector: {', '.join(DETECTORS)}.")
    config: Optional[str] = run_setting(
        None, "YAML file of settings (default: configs/DATASET.yaml for EAL-GAN, "
        "configs/models/MODEL.yaml for the others).", outside_graph=True)
    preset: Optional[str] = run_setting(
        None, "EAL-GAN settings layered under the dataset's YAML (configs/presets/).",
        outside_graph=True)
    data_name: str = run_setting("glass", "Dataset name (data_path/NAME.mat or .csv) or a file.")
    data_path: str = run_setting("./data/", "Folder of the data files.", outside_graph=True)
    label_column: Optional[str] = run_setting(
        None, "CSV only: the label column (default: label/labels/y/class/outlier/anomaly).")
    scaling: str = run_setting(
        DEFAULT_SCALING, "How the feature columns are scaled, fitted on the training part: "
        "standard (z-score), robust (median and IQR) or quantile (rank-Gauss); "
        "models/core/scaling.py.", choices=SCALINGS)
    device_target: str = run_setting("CPU", "CPU, GPU or Ascend.")
    device_id: int = run_setting(0, "Device number.")
    threads: int = run_setting(runtime.DEFAULT_CPU_THREADS, "CPU kernel threads.")
    distributed: bool = run_setting(False, "A data-parallel worker of "
                                    "scripts/run_distributed_train.sh (msrun).")
    resume: bool = run_setting(False, "Evaluate weights_dir/DATASET instead of training.")
    resume_epoch: int = run_setting(-1, "With resume: the epoch expected in the weights "
                                    "(-1: the saved one).", outside_graph=True)
    overwrite: bool = run_setting(False, "Replace weights or a results row made from other "
                                  "data of the same name.", outside_graph=True)
    print: bool = run_setting(True, "One line per epoch.", outside_graph=True)
    plots: bool = run_setting(True, "PNG figures under results_dir/plots.", outside_graph=True)
    compile_cache: bool = run_setting(True, "Reuse the compiled graphs of an identical "
                                      "earlier run.", outside_graph=True)
    compile_cache_dir: str = run_setting(DEFAULT_CACHE_DIR, "The compile cache's folder.",
                                         outside_graph=True)
    weights_dir: str = run_setting("./weights/", "Where models are saved.", outside_graph=True)
    results_dir: str = run_setting("./results/", "Where results tables and figures go.",
                                   outside_graph=True)


def _config_classes():
    """RunSettings and every detector's settings class, each once."""
    return [RunSettings] + list(dict.fromkeys(cls.config_class for cls in DETECTORS.values()))


def setting_fields():
    """{name: field} of every setting; a name two detectors share has one type."""
    fields = {}
    for config_class in _config_classes():
        for field in dataclasses.fields(config_class):
            fields.setdefault(field.name, field)
    return fields


def yaml_defaults():
    """The values configs/default.yaml must hold: RunSettings' defaults, then EAL-GAN's,
    then the other detectors' settings that EAL-GAN does not have."""
    values = {}
    for config_class in [RunSettings, EALGAN.config_class] + _config_classes()[1:]:
        for field in dataclasses.fields(config_class):
            values.setdefault(field.name, field.default)
    return values


OUTSIDE_GRAPH = tuple(name for name, field in setting_fields().items()
                      if field.metadata.get("outside_graph"))


class ConfigError(ValueError):
    """A setting is unknown or has an unusable value."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ConfigError(message)


def _convert(value, cast, expected):
    """cast(value); booleans and what cast cannot read are refused, naming what was expected."""
    if isinstance(value, bool):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
    try:
        return cast(value)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}") from None


def whole_number(value):
    """An int from a flag or a YAML value; YAML's 3.0 is accepted, 2.5 and True are not."""
    if isinstance(value, float) and not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}")
    return _convert(value, int, "an integer")


def real_number(value):
    return _convert(value, float, "a number")


def int_or_auto(value):
    if str(value).strip().lower() == AUTO:
        return AUTO
    return _convert(value, int, "an integer or auto")


def optional_str(value):
    return None if value is None or str(value).lower() in ("", "none", "null") else str(value)


def seed_value(value):
    seed = whole_number(value)
    try:
        check_seed(seed)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**32 - 1], got {value!r}") \
            from None
    return seed


def text(value):
    if isinstance(value, (dict, list)) or value is None:
        raise argparse.ArgumentTypeError(f"expected a single value, got {value!r}")
    return str(value)


# The converter of each declared type; `seed` is the one setting with its own range.
CONVERTERS = {int: whole_number, float: real_number, bool: str2bool, str: text,
              IntOrAuto: int_or_auto}


def converter(field):
    if field.name == "seed":
        return seed_value
    kind, optional = base_type(field)
    return optional_str if optional and kind is str else CONVERTERS[kind]


def build_parser():
    """A flag per setting, from the dataclasses.  Every flag defaults to None so that only
    what the user typed overrides the YAML."""
    parser = _Parser(description="Train a detector on one dataset and evaluate it, or "
                     "evaluate saved weights.")
    for name, field in setting_fields().items():
        convert = converter(field)
        extra = dict(nargs="?", const=True) if convert is str2bool else {}
        parser.add_argument(f"--{name}", type=convert, help=doc(field).replace("%", "%%"),
                            **extra)
    return parser


def check_values(settings, parser, source):
    """settings with every value passed through its flag's converter: one set of checks
    for the command line and the YAML files."""
    convert = {action.dest: action.type for action in parser._actions if action.type}
    checked = {}
    for name, value in settings.items():
        try:
            checked[name] = convert[name](value) if name in convert else value
        except argparse.ArgumentTypeError as err:
            raise ConfigError(f"{source}: {name}: {err}") from None
    return checked


def read_yaml(path):
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} not found")
    try:
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not a YAML text file ({err})".replace("\n", " ")) from err
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold key: value settings")
    return values


def presets():
    return sorted(name[:-len(".yaml")] for name in os.listdir(PRESETS) if name.endswith(".yaml"))


def layer(settings, path, known, parser):
    """settings updated by the YAML file at path, whose keys must all be known."""
    values = read_yaml(path)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    settings.update(check_values(values, parser, path))


def settings_file(cli, settings):
    """The YAML layered over the defaults: --config, else the dataset's (EAL-GAN) or model's.

    One rule however the data is named: the dataset's name is its file name without
    the extension (as for the weights folder), so `--data_name data/glass.mat` and
    `--data_name glass` both take configs/glass.yaml."""
    if cli.get("config"):
        return cli["config"]
    model = cli.get("model", settings["model"])
    if model == EALGAN.name:
        return os.path.join(HERE, "configs",
                            f"{dataset_name(cli.get('data_name', settings['data_name']))}.yaml")
    return os.path.join(HERE, "configs", "models", f"{model}.yaml")


def configured_scaling(data_name, model=EALGAN.name, config=None):
    """The scaling train_eval.py gives this dataset and model (its YAML's, else the
    default), or what `config` (a YAML file used as --config) sets."""
    argv = ["--data_name", data_name, "--model", model]
    return resolve_settings(argv + (["--config", config] if config else [])).scaling


def resolve_settings(argv=None):
    """Defaults < --preset < dataset or model YAML (or --config) < command line, as a Namespace."""
    parser = build_parser()
    cli = {k: v for k, v in vars(parser.parse_args(argv)).items() if v is not None}
    settings = check_values(read_yaml(DEFAULT_CONFIG), parser, DEFAULT_CONFIG)
    known = set(setting_fields())
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"{DEFAULT_CONFIG}: unknown setting(s) {', '.join(unknown)}")
    check_model(cli.get("model", settings["model"]))
    if cli.get("preset"):
        if cli["preset"] not in presets():
            raise ConfigError(f"unknown preset {cli['preset']!r}; choose one of "
                              f"{', '.join(presets())}")
        layer(settings, os.path.join(PRESETS, f"{cli['preset']}.yaml"), known, parser)
    override = settings_file(cli, settings)
    if cli.get("config") or os.path.isfile(override):
        layer(settings, override, known, parser)
    settings.update(cli)
    check_model(settings["model"])
    check_choices(settings)
    return argparse.Namespace(**settings)


def check_choices(settings):
    """Refuse a run setting outside its declared choices (the detectors' own settings are
    checked by their estimators)."""
    for field in dataclasses.fields(RunSettings):
        choices = field.metadata.get("choices")
        if choices and settings[field.name] not in choices:
            raise ConfigError(f"unknown {field.name} {settings[field.name]!r}; choose one of "
                              f"{', '.join(choices)}")


def check_model(model):
    if model not in DETECTORS:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(DETECTORS)}")


def model_config(args):
    """The detector's settings of a resolved Namespace, checked as the estimator checks them."""
    config_class = DETECTORS[args.model].config_class
    fields = {f.name for f in dataclasses.fields(config_class)}
    try:
        return DETECTORS[args.model](**{k: v for k, v in vars(args).items()
                                        if k in fields}).config
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err)) from err
