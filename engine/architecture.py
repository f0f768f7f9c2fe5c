"""An architecture (the JSON a model file carries) checked layer by layer before anything is built.

{"kind": "float32" | "int8", "input_shape": [28, 28, 1] | [784], "layers": [layer configs],
 optionally "reject" (rejection.py), and for int8 files "inference" and "calibration"}. Each layer's own ``spec`` checks its
fields and input shape and says what it outputs and which arrays it needs; this module
only walks the list and bounds the totals, so a file cannot ask for a huge model, a
huge activation or a huge amount of work per image.
"""

from .errors import ModelFormatError
from .layers import LayerSpec, layer_class
from .rejection import DIGITS, RejectRule

KINDS = ("float32", "int8")
INPUT_SHAPES = ([28, 28, 1], [784])
MAX_LAYERS = 64
FIELDS = {"kind", "input_shape", "layers", "reject"}
INT8_FIELDS = {"inference", "calibration"}  # how an int8 file is read, and how its activations were calibrated
MAX_PARAMETERS = 20_000_000  # 80 MB of float32: far above any digit model
MAX_ACTIVATION_ELEMENTS = 1 << 18  # per image and layer output (1 MB of float32; the shipped CNN needs 25,088)
MAX_FLOPS_PER_IMAGE = 2_000_000_000
# Per image and layer, the largest array a forward pass builds: a convolution's patch matrix (the shipped
# CNN's largest is 225,792). The flops bound alone let a 5 kB file with a 49x49 kernel and one output
# channel ask for 2-3 GB of patches at load (helper-30's fuzzing).
MAX_WORKING_ELEMENTS = 1 << 21


def layer_specs(architecture) -> list[LayerSpec]:
    """Every layer's spec in order; ModelFormatError naming the layer and the field if anything is off."""
    if not isinstance(architecture, dict) or architecture.get("kind") not in KINDS:
        raise ModelFormatError(f"architecture.kind must be one of {list(KINDS)}")
    known = FIELDS | (INT8_FIELDS if architecture["kind"] == "int8" else set())
    unknown = sorted(str(k) for k in architecture if k not in known)
    if unknown:  # as layer configs refuse fields they do not know: nothing in a model file goes unread
        raise ModelFormatError(f"architecture has an unknown field {unknown[0]!r:.60}; it may hold {sorted(known)}")
    calibration = architecture.get("calibration", "")
    if not isinstance(calibration, str) or len(calibration) > 40:
        raise ModelFormatError(f"architecture.calibration must be the name of a method, got {calibration!r:.40}")
    layers = architecture.get("layers")
    if not isinstance(layers, list) or not 0 < len(layers) <= MAX_LAYERS:
        raise ModelFormatError(f"architecture.layers must be a list of 1 to {MAX_LAYERS} layers")
    shape = architecture.get("input_shape")
    if not isinstance(shape, list) or not any(_same_ints(shape, allowed) for allowed in INPUT_SHAPES):
        raise ModelFormatError(f"architecture.input_shape must be one of {list(INPUT_SHAPES)}, got {shape!r:.60}")
    shape = tuple(shape)
    specs, parameters, flops = [], 0, 0
    for i, config in enumerate(layers):
        name = config.get("type") if isinstance(config, dict) else None
        where = f"architecture.layers[{i}] ({name!r:.40})"
        try:
            spec = layer_class(config, architecture["kind"]).spec(config, shape)
        except ValueError as exc:
            raise ModelFormatError(f"{where}: {exc}") from None
        shape = spec.output_shape
        size = _product(shape)
        if not 0 < size <= MAX_ACTIVATION_ELEMENTS:
            raise ModelFormatError(
                f"{where} outputs {shape} per image; at most {MAX_ACTIVATION_ELEMENTS} numbers are allowed"
            )
        if spec.working > MAX_WORKING_ELEMENTS:
            raise ModelFormatError(
                f"{where} needs {spec.working} numbers of working memory per image; "
                f"at most {MAX_WORKING_ELEMENTS} are allowed"
            )
        parameters += sum(_product(s) for _, s in spec.arrays.values())
        flops += spec.flops
        if parameters > MAX_PARAMETERS:
            raise ModelFormatError(f"architecture declares over {MAX_PARAMETERS} parameters; refusing to load")
        if flops > MAX_FLOPS_PER_IMAGE:
            raise ModelFormatError(f"architecture needs over {MAX_FLOPS_PER_IMAGE} flops per image; refusing to load")
        specs.append(spec)
    if shape not in ((DIGITS,), (DIGITS + 1,)):
        raise ModelFormatError(f"architecture must end in 10 digit scores (or 11, with 'not a digit'), ends in {shape}")
    try:
        RejectRule.from_config(architecture.get("reject"))
    except ValueError as exc:
        raise ModelFormatError(f"architecture.reject: {exc}") from None
    return specs


def expected_arrays(architecture) -> dict[str, tuple[str, tuple]]:
    """Every array the architecture implies, "<layer index>.<name>" -> (dtype, shape); validates it."""
    return {
        f"{i}.{name}": array for i, spec in enumerate(layer_specs(architecture)) for name, array in spec.arrays.items()
    }


def _same_ints(values: list, expected: list) -> bool:
    """``values == expected`` with ints only: 28.0 and True are not 28 and 1."""
    return len(values) == len(expected) and all(type(v) is int and v == e for v, e in zip(values, expected))


def _product(shape) -> int:
    total = 1
    for d in shape:
        total *= int(d)
    return total
