"""Settings are declared once: dataclass fields give the flags, the YAML defaults and the
checks; the import graph has no cycles and no upward imports."""
import ast
import dataclasses
import glob
import os

import pytest
import yaml

import config
from conftest import ROOT
from models.core.settings import setting


def test_default_yaml_holds_exactly_the_dataclass_defaults():
    with open(config.DEFAULT_CONFIG, encoding="utf-8") as handle:
        written = yaml.safe_load(handle)
    wanted = config.yaml_defaults()
    assert sorted(written) == sorted(wanted)
    different = {k: (written[k], wanted[k]) for k in wanted if written[k] != wanted[k]}
    assert different == {}


def test_every_setting_is_a_flag_with_its_type():
    parser = config.build_parser()
    flags = {action.dest: action for action in parser._actions if action.dest != "help"}
    assert set(flags) == set(config.setting_fields())
    args = config.resolve_settings(["--ensemble_num", "3", "--batch_size", "auto",
                                    "--SN_used", "--lr_g", "1e-3", "--label_column", "none"])
    assert (args.ensemble_num, args.batch_size, args.SN_used, args.lr_g, args.label_column) \
        == (3, "auto", True, 0.001, None)
    for bad in (["--ensemble_num", "2.5"], ["--SN_used", "maybe"], ["--seed", "-1"],
                ["--lr_g", "fast"], ["--batch_size", "big"]):
        with pytest.raises(config.ConfigError):
            config.resolve_settings(bad)


def test_a_new_setting_is_one_field(monkeypatch, tmp_path):
    @dataclasses.dataclass
    class Extra:
        new_knob: int = setting(3, "A setting added for this test.")
        tag: str = setting("x", "Another one.", outside_graph=True)

    monkeypatch.setattr(config, "_config_classes",
                        lambda original=config._config_classes: original() + [Extra])
    parser = config.build_parser()
    assert parser.parse_args(["--new_knob", "4"]).new_knob == 4
    with pytest.raises(config.ConfigError):
        parser.parse_args(["--new_knob", "four"])
    assert config.yaml_defaults()["new_knob"] == 3
    assert "--new_knob" in parser.format_help() and "A setting added" in parser.format_help()


def test_settings_outside_the_graph_are_declared_on_their_fields():
    assert set(config.OUTSIDE_GRAPH) == {"config", "preset", "data_path", "weights_dir",
                                         "results_dir", "print", "plots", "resume_epoch",
                                         "compile_cache", "compile_cache_dir", "overwrite"}


def imports_of(path):
    """Absolute module names a Python file imports (relative ones resolved)."""
    package = os.path.relpath(os.path.dirname(path), ROOT).replace(os.sep, ".")
    names = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module)
    return names


def test_no_script_imports_the_command_line_script():
    for path in glob.glob(os.path.join(ROOT, "scripts", "*.py")):
        assert "train_eval" not in imports_of(path), path
    assert "train_eval" not in imports_of(os.path.join(ROOT, "config.py"))


# Which layers of models/ a layer may import (docs/design.md, section 8).
ALLOWED = {"models.utils": {"models.utils"},
           "models.core": {"models.utils", "models.core"},
           "models.eal_gan": {"models.utils", "models.core", "models.eal_gan"},
           "models.family": {"models.utils", "models.core", "models.family"}}


def test_models_import_only_lower_layers():
    for layer, allowed in ALLOWED.items():
        folder = os.path.join(ROOT, *layer.split("."))
        for path in glob.glob(os.path.join(folder, "*.py")):
            inside = {name for name in imports_of(path)
                      if name == "models" or name.startswith("models.")}
            upward = {name for name in inside
                      if not any(name == a or name.startswith(a + ".") for a in allowed)}
            assert upward == set(), f"{os.path.relpath(path, ROOT)} imports {sorted(upward)}"
        for path in glob.glob(os.path.join(ROOT, "models", "**", "*.py"), recursive=True):
            top = {n.split(".")[0] for n in imports_of(path)}
            assert not top & {"dataloader", "preprocess", "config", "train_eval"}, path


def test_a_dataset_given_as_a_file_takes_its_config_like_its_name():
    by_name = vars(config.resolve_settings(["--data_name", "glass"]))
    for given in ("data/glass.mat", os.path.join(ROOT, "data", "glass.mat"), "./glass.csv"):
        by_file = vars(config.resolve_settings(["--data_name", given]))
        assert {k: v for k, v in by_file.items() if k != "data_name"} == \
            {k: v for k, v in by_name.items() if k != "data_name"}
    assert by_name["lr_g"] != config.yaml_defaults()["lr_g"]   # glass.yaml is not the default
