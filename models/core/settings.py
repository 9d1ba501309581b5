"""Settings declared once: dataclass fields that carry their own type and description.

Every detector's settings are one dataclass whose fields are made with
`setting(default, doc)`.  From it follow the estimator's keyword arguments
(`keyword_init` in detector.py), the type checks below, the numpydoc
"Parameters" section of the estimator's docstring, and the command line's
flags and their converters (config.py beside train_eval.py).
"""
import dataclasses
import numbers
import textwrap
import typing

# Annotation of a setting that is a positive whole number or the word "auto".
IntOrAuto = typing.Union[int, str]
AUTO = "auto"


def setting(default, doc, choices=None, **metadata):
    """A dataclass field with its description (and, for a text setting, its choices);
    further keywords are kept in its metadata."""
    return dataclasses.field(default=default,
                             metadata={"doc": doc, "choices": choices, **metadata})


def doc(field):
    return field.metadata.get("doc", "")


def base_type(field):
    """(type, optional?) of a field: int, float, bool, str or IntOrAuto; Optional[T]: T, True."""
    annotation = field.type
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Union and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def type_name(field):
    kind, optional = base_type(field)
    name = {int: "int", float: "float", bool: "bool", str: "str",
            IntOrAuto: 'int or "auto"'}.get(kind, str(kind))
    return f"{name} or None" if optional else name


def _is_whole(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def checked_value(field, value):
    """value as the field's type (3.0 -> 3 for an int), or ValueError naming the setting."""
    kind, optional = base_type(field)
    if value is None and optional:
        return None
    name = field.name
    if kind is bool:
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        raise ValueError(f"{name} must be True or False, got {value!r}")
    if kind is int:
        if _is_whole(value):
            return int(value)
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if kind is IntOrAuto:
        if isinstance(value, str) and value.strip().lower() == AUTO:
            return AUTO
        if _is_whole(value):
            return int(value)
        raise ValueError(f"{name} must be a positive integer or auto, got {value!r}")
    if kind is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{name} must be a number, got {value!r}")
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {value!r}")
        choices = field.metadata.get("choices")
        if choices and value not in choices:
            raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
        return value
    return value


def check_types(config):
    """Every field of `config` converted to its declared type, in place; returns config."""
    for field in dataclasses.fields(config):
        setattr(config, field.name, checked_value(field, getattr(config, field.name)))
    return config


def defaults(config_class):
    return {field.name: field.default for field in dataclasses.fields(config_class)}


def _default_text(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def parameters_doc(fields):
    """The numpydoc "Parameters" section of dataclass fields."""
    lines = ["Parameters", "----------"]
    for field in fields:
        lines.append(f"{field.name} : {type_name(field)}, default={_default_text(field.default)}")
        choices = field.metadata.get("choices")
        text = doc(field) + (f" One of {', '.join(choices)}." if choices else "")
        lines += _indented(text)
    return "\n".join(lines)


def _indented(text):
    return textwrap.wrap(text, width=76, initial_indent="    ", subsequent_indent="    ")


def attributes_doc(attributes):
    """The numpydoc "Attributes" section of {name: (type, description)}."""
    lines = ["Attributes", "----------"]
    for name, (kind, text) in attributes.items():
        lines += [f"{name} : {kind}", *_indented(text)]
    return "\n".join(lines)


def numpydoc(summary, fields, attributes, extra=""):
    """A class docstring: summary, Parameters from dataclass fields, Attributes, extra text."""
    return "\n\n".join(part for part in (summary.strip(), parameters_doc(fields),
                                         attributes_doc(attributes), extra.strip()) if part)
