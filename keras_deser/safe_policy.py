"""Safe mode's policy, as data: what is known harmless, per release.

Safe mode fails closed (docs/safe-mode.md): a name a config makes a loader
resolve is allowed only when it is the caller's own code (``custom_objects``,
the registry), or one of the loaded release's built-in objects known to be
harmless, or a class whose config this table can check.  Everything the
decision needs to know about Keras and TensorFlow lives here; the code that
reads it is :mod:`keras_deser.auditing`.  Nothing here imports anything.

The sets of op-layer symbols are the pure tensor computations the releases'
own op layers are made for: Keras 2.4-2.15 and tf_keras record a TF API call
on a symbolic tensor as ``TFOpLambda`` / ``SlicingOpLambda`` (``function`` =
the API name), ``ClassMethod`` (``cls_symbol`` + ``method_name``),
``InstanceMethod`` / ``InstanceProperty`` (``attr_name``) and, for raw ops,
``TensorFlowOpLayer`` (``node_def['op']``).  Names not listed are refused.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Pattern

__all__ = [
    "CODE_CLASSES", "LAMBDA_TYPE_VALUE", "OP_LAYERS", "OpLayer", "PURE_TF_API_NAMES", "PURE_TF_API_NAMESPACES",
    "PURE_RAW_OPS", "PURE_CLASS_METHODS", "PURE_INSTANCE_ATTRIBUTES", "PATH_ARGUMENTS", "RISKY_ARGUMENT",
    "HARMLESS_GROUPS", "CLASS_ONLY_GROUPS", "META_FUNCTIONS", "NEW_FORMAT_DATA_FORMS", "NEW_FORMAT_FUNCTION",
    "BELT_NAMES", "STDLIB_FALLBACK", "UPSTREAM_CODE_PACKAGES", "RISKY_ARGUMENT_EXEMPT",
    "HARMLESS_ARGUMENT_VALUES", "FOREIGN_DANGEROUS", "FUNCTION_ARGUMENT",
    "IMPURE_TF_API_PARTS", "ReleasePolicy", "RELEASES", "release_policy",
    "MAX_DEPTH", "MAX_NODES", "MAX_STRING", "SHIPPED_LAMBDA_CLASS", "SHIPPED_LAMBDA_KEYS", "MAX_SHIPPED_LAMBDA_STRING",
]

#: Class names whose configs carry Python bytecode, a pickle or a module to
#: call into: Keras 2 ``Lambda``, Keras 3 ``__lambda__`` and
#: ``TorchModuleWrapper``; also matched anywhere in a class's MRO.
CODE_CLASSES: frozenset[str] = frozenset(("Lambda", "__lambda__", "TorchModuleWrapper"))

#: A config key ending in ``_type`` (``function_type``, ``dropout_fn_type``,
#: ``residual_fn_type``, ...) with this value makes the release's loader
#: unmarshal the sibling field (``func_load``): refused on every release.
LAMBDA_TYPE_VALUE = "lambda"


class OpLayer(NamedTuple):
    """One op-layer class: which config keys name what it calls, and the allowlist."""

    #: The config keys that together name the symbol (joined with ``.``).
    keys: tuple[str, ...]
    #: Which allowlist: ``"tf_api"``, ``"class_method"``, ``"instance"``, ``"raw_op"``.
    allowlist: str


#: The op layers of every release (Keras 2.4-2.15, tf_keras; TF 2.0-2.5 keep
#: ``TensorFlowOpLayer`` only).  Keras 3 and TF 1.15's loaders have none of
#: ``TFOpLambda`` & co, and refuse them as unknown classes.
OP_LAYERS: dict[str, OpLayer] = {
    "TFOpLambda": OpLayer(("function",), "tf_api"),
    "SlicingOpLambda": OpLayer(("function",), "tf_api"),
    "ClassMethod": OpLayer(("cls_symbol", "method_name"), "class_method"),
    "InstanceMethod": OpLayer(("attr_name",), "instance"),
    "InstanceProperty": OpLayer(("attr_name",), "instance"),
    "TensorFlowOpLayer": OpLayer(("node_def",), "raw_op"),
}

#: TF API namespaces every public function of which is a pure tensor
#: computation (``math.add``, ``nn.relu``, ``__operators__.getitem``, ...).
PURE_TF_API_NAMESPACES: frozenset[str] = frozenset(
    ("math", "nn", "linalg", "bitwise", "signal", "__operators__", "ragged", "sparse", "strings", "dtypes")
)

#: Top-level TF API functions (and a few of other namespaces) that are pure
#: tensor computations.
PURE_TF_API_NAMES: frozenset[str] = frozenset(
    (
        "abs", "acos", "acosh", "add", "add_n", "argmax", "argmin", "argsort", "asin", "asinh", "atan", "atan2",
        "atanh", "batch_to_space", "bitcast", "boolean_mask", "broadcast_dynamic_shape", "broadcast_static_shape",
        "broadcast_to", "case", "cast", "ceil", "clip_by_global_norm", "clip_by_norm", "clip_by_value", "complex",
        "concat", "cond", "constant", "cos", "cosh", "cumsum", "cumprod", "divide", "dynamic_partition",
        "dynamic_stitch", "einsum", "equal", "exp", "expand_dims", "eye", "fill", "floor", "floordiv", "gather",
        "gather_nd", "greater", "greater_equal", "histogram_fixed_width", "identity", "identity_n", "imag",
        "less", "less_equal", "linspace", "log", "logical_and", "logical_not", "logical_or", "logical_xor",
        "matmul", "maximum", "meshgrid", "minimum", "multiply", "negative", "norm", "not_equal", "one_hot",
        "ones", "ones_like", "pad", "pow", "range", "rank", "real", "realdiv", "reduce_all", "reduce_any",
        "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_std",
        "reduce_sum", "reduce_variance", "repeat", "reshape", "reverse", "reverse_sequence", "roll", "round",
        "rsqrt", "scatter_nd", "searchsorted", "sequence_mask", "shape", "shape_n", "sigmoid", "sign", "sin",
        "sinh", "size", "slice", "sort", "space_to_batch", "space_to_batch_nd", "split", "sqrt", "square",
        "squeeze", "stack", "stop_gradient", "strided_slice", "subtract", "tan", "tanh", "tensor_scatter_nd_add",
        "tensor_scatter_nd_max", "tensor_scatter_nd_min", "tensor_scatter_nd_sub", "tensor_scatter_nd_update",
        "tensordot", "tile", "transpose", "truediv", "truncatediv", "truncatemod", "unique", "unique_with_counts",
        "unravel_index", "unstack", "where", "zeros", "zeros_like", "convert_to_tensor", "ensure_shape",
        "compat.v1.gather", "compat.v1.shape", "compat.v1.transpose", "compat.v1.squeeze", "compat.v1.pad",
        "compat.v1.where", "compat.v1.size", "compat.v1.reduce_sum", "compat.v1.reduce_mean",
        "compat.v1.reduce_max", "compat.v1.reduce_min", "compat.v1.nn.softmax", "compat.v1.nn.relu",
        "image.resize", "image.resize_with_pad", "image.resize_with_crop_or_pad", "image.crop_to_bounding_box",
        "image.pad_to_bounding_box", "image.central_crop", "image.flip_left_right", "image.flip_up_down",
        "image.rgb_to_grayscale", "image.grayscale_to_rgb", "image.rgb_to_hsv", "image.hsv_to_rgb",
        "image.rgb_to_yuv", "image.yuv_to_rgb", "image.adjust_brightness", "image.adjust_contrast",
        "image.per_image_standardization", "image.extract_patches", "image.convert_image_dtype",
        "random.uniform", "random.normal", "random.truncated_normal", "random.shuffle", "random.categorical",
        "keras.backend.int_shape",
    )
)

#: API namespaces under a pure namespace that are not pure after all.
IMPURE_TF_API_PARTS: frozenset[str] = frozenset(
    ("io", "gfile", "experimental", "debugging", "summary", "py_function", "numpy_function", "py_func",
     "eager_py_func", "load_library", "load_op_library", "load_file_system_library", "raw_ops", "saved_model",
     "print", "Print", "data", "lookup", "train", "config", "profiler", "autograph")
)

#: Raw op types (``NodeDef.op``) that are pure tensor computations.
PURE_RAW_OPS: frozenset[str] = frozenset(
    (
        "Abs", "Acos", "Acosh", "Add", "AddN", "AddV2", "All", "Any", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan",
        "Atan2", "Atanh", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "BatchToSpaceND", "BiasAdd", "Bitcast",
        "BroadcastArgs", "BroadcastTo", "Cast", "Ceil", "ClipByValue", "Complex", "ComplexAbs", "Concat",
        "ConcatV2", "Const", "Conv2D", "Cos", "Cosh", "Cumprod", "Cumsum", "DepthwiseConv2dNative", "Div",
        "DivNoNan", "Einsum", "Elu", "Equal", "Erf", "Exp", "ExpandDims", "Expm1", "Fill", "Floor", "FloorDiv",
        "FloorMod", "GatherNd", "GatherV2", "Greater", "GreaterEqual", "Identity", "IdentityN", "Imag",
        "LeakyRelu", "Less", "LessEqual", "LinSpace", "Log", "Log1p", "LogicalAnd", "LogicalNot", "LogicalOr",
        "LogSoftmax", "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum", "MirrorPad", "Mod", "Mul", "MulNoNan",
        "Neg", "NotEqual", "OneHot", "OnesLike", "Pack", "Pad", "PadV2", "Pow", "Prod", "Range", "Rank", "Real",
        "RealDiv", "Reciprocal", "Relu", "Relu6", "Reshape", "ResizeBilinear", "ResizeNearestNeighbor",
        "Reverse", "ReverseV2", "Round", "Rsqrt", "ScatterNd", "Select", "SelectV2", "Selu", "Shape", "ShapeN",
        "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax", "Softplus", "Softsign", "SpaceToBatchND",
        "Split", "SplitV", "Sqrt", "Square", "SquaredDifference", "Squeeze", "StopGradient", "StridedSlice",
        "Sub", "Sum", "Tan", "Tanh", "TensorScatterUpdate", "Tile", "TopKV2", "Transpose", "TruncateDiv",
        "TruncateMod", "Unpack", "Where", "ZerosLike",
    )
)

#: ``cls_symbol.method_name`` pairs a ``ClassMethod`` may call: the ragged
#: constructors Keras 2.4+ dispatches (``tf_op_layer.py``'s list).
PURE_CLASS_METHODS: frozenset[str] = frozenset(
    "RaggedTensor." + method
    for method in (
        "from_value_rowids", "from_row_splits", "from_row_lengths", "from_row_starts", "from_row_limits",
        "from_uniform_row_length", "from_nested_value_rowids", "from_nested_row_splits",
        "from_nested_row_lengths", "from_tensor", "from_sparse",
    )
)

#: ``attr_name``s an ``InstanceMethod`` / ``InstanceProperty`` may read: the
#: ragged and sparse tensor properties and methods Keras 2.4+ delegates.
PURE_INSTANCE_ATTRIBUTES: frozenset[str] = frozenset(
    (
        "values", "flat_values", "row_splits", "nested_row_splits", "value_rowids", "nested_value_rowids",
        "nrows", "row_starts", "row_limits", "row_lengths", "nested_row_lengths", "bounding_shape",
        "with_values", "with_flat_values", "with_row_splits_dtype", "merge_dims", "to_tensor", "to_sparse",
        "indices", "dense_shape",
    )
)

#: Layer arguments a release reads from disk when given a string, by class
#: name (found by reading each release's layer sources; see docs/safe-mode.md).
#: Matched against every class of the resolved class's MRO.
PATH_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "StringLookup": ("vocabulary",),
    "IntegerLookup": ("vocabulary",),
    "IndexLookup": ("vocabulary",),
    "TextVectorization": ("vocabulary",),
    "TFSMLayer": ("filepath",),
    # TF's feature columns (Keras 2 ``DenseFeatures`` / ``SequenceFeatures``),
    # resolved by TF's own deserializer, not keras_deser's.
    "VocabularyFileCategoricalColumn": ("vocabulary_file",),
}

#: Generic rule for the release's own classes this table does not list: a
#: string (or bytes) under a config key matching this pattern names code or a
#: path (``vocabulary_file`` of a feature column, ``call_fn`` of Keras 3's
#: ``JaxLayer``, ``module`` of ``FlaxLayer``, ...) and is refused.
RISKY_ARGUMENT: Pattern[str] = re.compile(
    r"(?:^|_)(?:fn|fns|func|function|functions|code|module|method|lambda|closure|callable|"
    r"path|paths|file|files|filename|filepath|dir|directory|url|uri|origin|vocabulary|vocab|"
    r"asset|assets|library|export|endpoint)(?:$|_)"
)

#: The code-like part of :data:`RISKY_ARGUMENT`: a string there that names
#: one of the release's harmless built-in functions (``MeanMetricWrapper``'s
#: ``fn`` ``'mean_absolute_error'``, which every compiled Keras 2 model with
#: ``metrics=['mae']`` saves) is that function, not code or a path.
FUNCTION_ARGUMENT: Pattern[str] = re.compile(r"(?:^|_)(?:fn|fns|func|function|functions)(?:$|_)")

#: Built-in groups whose public classes and functions are known harmless
#: (their constructors and factories compute; they do not run code from a
#: config nor touch files), less :data:`META_FUNCTIONS`.
HARMLESS_GROUPS: tuple[str, ...] = (
    "layers", "initializers", "regularizers", "constraints", "activations", "losses", "metrics", "optimizers",
)
#: Groups of which only the classes are harmless (``models.load_model``,
#: ``mixed_precision.set_global_policy`` are not).
CLASS_ONLY_GROUPS: tuple[str, ...] = ("models", "optimizers.schedules", "mixed_precision", "dtype_policies")

#: Public functions of the harmless groups that are not harmless computations:
#: they deserialize, load or fetch in turn.
META_FUNCTIONS: frozenset[str] = frozenset(
    ("get", "serialize", "deserialize", "deserialize_keras_object", "serialize_keras_object", "load_model",
     "save_model", "model_from_json", "model_from_yaml", "model_from_config", "clone_model", "get_file",
     "TFSMLayer", "experimental")
)

#: Keras 3-style (``serialization_lib``) ``class_name``s that carry plain
#: data (tensors, arrays, bytes, slices): allowed, their values still walked.
NEW_FORMAT_DATA_FORMS: frozenset[str] = frozenset(
    ("__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__", "__typespec__")
)
#: The Keras 3-style function form: ``{'class_name': 'function', 'config': NAME, 'module': M}``.
NEW_FORMAT_FUNCTION = "function"

#: Belt and braces: callables of these names are refused whatever resolves
#: them (the caller's own ``module_objects`` included).
BELT_NAMES: frozenset[str] = frozenset(
    (
        "get_file", "load_model", "load_weights", "model_from_json", "model_from_yaml", "model_from_config",
        "save_model", "save_weights", "enable_unsafe_deserialization", "func_load", "exec", "eval", "compile",
        "__import__", "import_module", "system", "popen", "Popen", "check_output", "check_call", "spawn",
        "execv", "execve", "loads", "getattr", "setattr", "delattr", "globals", "vars", "breakpoint", "rmtree",
        "remove", "unlink", "write_file", "read_file", "urlopen", "urlretrieve", "open", "input",
        "load_library", "load_op_library", "load_file_system_library", "deserialize_keras_object",
        "serialize_keras_object",
    )
)

#: Standard-library modules, where ``sys.stdlib_module_names`` (Python 3.10+)
#: is missing: nothing of these is ever built from a config in safe mode.
STDLIB_FALLBACK: frozenset[str] = frozenset(
    (
        "os", "posix", "nt", "subprocess", "sys", "builtins", "shutil", "importlib", "marshal", "pickle",
        "shelve", "socket", "urllib", "http", "ctypes", "runpy", "code", "codeop", "pty", "multiprocessing",
        "tempfile", "io", "_io", "pathlib", "glob", "signal", "webbrowser", "ftplib", "smtplib", "asyncio",
        "threading", "types", "inspect", "gc", "functools", "operator", "itertools", "posixpath", "ntpath",
        "genericpath", "zipfile", "tarfile", "sqlite3", "dbm", "pdb", "bdb", "trace", "timeit", "platform",
        "sysconfig", "site", "zipimport", "pkgutil", "linecache", "tokenize", "ast", "dis", "copyreg",
        "_thread", "select", "selectors", "ssl", "mmap", "fcntl", "resource", "cProfile", "profile", "logging",
        "email", "xml", "json", "csv", "configparser", "gzip", "bz2", "lzma", "zlib", "base64", "binascii",
        "codecs", "atexit", "weakref", "abc", "contextlib", "collections", "copy", "random", "time",
        "datetime", "string", "re", "textwrap", "struct", "array", "queue", "sched", "uuid", "hashlib",
        "hmac", "secrets", "getpass", "netrc", "mailbox", "imaplib", "poplib", "telnetlib", "xmlrpc",
        "socketserver", "wsgiref", "cgi", "cgitb", "concurrent", "unittest", "doctest", "venv", "ensurepip",
        "distutils", "imp", "_posixsubprocess", "posix", "_winapi", "msvcrt", "winreg",
    )
)

#: Top-level packages holding the releases' own code (TF 1.15 keeps its real
#: modules under ``tensorflow_core``).
UPSTREAM_CODE_PACKAGES: frozenset[str] = frozenset(("keras", "tf_keras", "tensorflow", "tensorflow_core"))

#: Config keys the generic rule leaves alone although they match
#: :data:`RISKY_ARGUMENT` (``vocabulary_dtype``, ``function_type``, ...).
RISKY_ARGUMENT_EXEMPT: Pattern[str] = re.compile(r"_(?:dtype|size|type|mode|name|names|shape)$|^name$")

#: Built-in arguments whose names match :data:`RISKY_ARGUMENT` but which take
#: one of a few documented words, none naming code or a path: ``{key:
#: values}``; any other string there is still refused.  (Keras 3's
#: ``StringLookup`` / ``IntegerLookup`` ``oov_method``.)
HARMLESS_ARGUMENT_VALUES: dict[str, frozenset[str]] = {
    "oov_method": frozenset(("floormod", "farmhash")),
}

#: Third-party packages whose objects are never built from a config in safe
#: mode (they run code or commands by design).
FOREIGN_DANGEROUS: frozenset[str] = frozenset(
    ("requests", "dill", "cloudpickle", "joblib", "numpy.lib.npyio", "IPython", "sh", "fabric", "paramiko")
)


class ReleasePolicy(NamedTuple):
    """What differs between releases for safe mode (one row per flavour where it does)."""

    #: Packages a config's ``module`` key may name without an import that
    #: runs new code, beyond the loaded Keras packages themselves.  tf_keras
    #: writes its own objects under ``keras.*`` module names and its loader
    #: reads them as ``tf_keras.*``: Keras 3 is never imported.
    module_aliases: tuple[str, ...] = ()
    #: The loaders look classes up in their module's globals, by the class's
    #: own name, also where the public module exports the class under another
    #: name only (TF 1.15 exports ``GlorotUniform`` only as ``glorot_uniform``
    #: yet loads ``'GlorotUniform'`` configs): the built-in table lists every
    #: public class under its own name too.
    class_own_names: bool = True
    #: Places (``module:function``) of the release's own code whose
    #: ``<lambda>`` code constants (at any depth) a ``Lambda`` config may
    #: carry in safe mode, as bytes identical to ``marshal.dumps`` of the
    #: installed code (:mod:`keras_deser.shipped_code`): the residual scaling
    #: of Keras 2's ``InceptionResNetV2`` (a ``CustomScaleLayer`` from Keras
    #: 2.12 on, which needs no entry).
    shipped_lambdas: tuple[str, ...] = ()


#: Rows by flavour name (:data:`keras_deser.flavours.FLAVOURS`); others get the default.
RELEASES: dict[str, ReleasePolicy] = {
    "tf_keras": ReleasePolicy(module_aliases=("keras",)),
    # TF 1.15's tf.keras.applications run keras_applications; TF 2.0-2.5 their own copy.
    "tf.python.keras": ReleasePolicy(shipped_lambdas=(
        "keras_applications.inception_resnet_v2:inception_resnet_block",
        "tensorflow.python.keras.applications.inception_resnet_v2:inception_resnet_block",
    )),
    "keras-2.6": ReleasePolicy(shipped_lambdas=("keras.applications.inception_resnet_v2:inception_resnet_block",)),
    # Keras 2.10 and 2.11 are not in the test matrix (read from their layout, unverified);
    # 2.12 has a CustomScaleLayer there and the place holds no lambda.
    "keras-2.10": ReleasePolicy(shipped_lambdas=("keras.applications.inception_resnet_v2:inception_resnet_block",)),
    "keras-2.11": ReleasePolicy(shipped_lambdas=("keras.applications.inception_resnet_v2:inception_resnet_block",)),
}

_DEFAULT = ReleasePolicy()


def release_policy(flavour_name: str) -> ReleasePolicy:
    """The row for ``flavour_name``, or the default row."""
    return RELEASES.get(flavour_name, _DEFAULT)


#: Limits on one config in safe mode (and in :func:`keras_deser.audit`):
#: containers nested deeper than this, more entries (dict items and list
#: elements, counted once each) than this, or a string or bytes value longer
#: than this (in characters) is refused with its key path.
MAX_DEPTH = 50_000
MAX_NODES = 20_000_000
MAX_STRING = 64 * 1024 * 1024

#: The built-in class (by its public name) whose config may carry the
#: release's own lambda code.
SHIPPED_LAMBDA_CLASS = "Lambda"
#: The keys of a Keras 2 ``Lambda`` config (``Lambda.get_config`` of Keras
#: 2.9, TF 1.15, 2.4, 2.6, without ``mask``) that may come with the
#: release's own lambda code: a config with any other key is refused.
SHIPPED_LAMBDA_KEYS: frozenset[str] = frozenset(
    ("name", "trainable", "dtype", "function", "function_type", "module", "output_shape", "output_shape_type",
     "output_shape_module", "arguments")
)
#: The longest layer name or string argument such a config may hold.
MAX_SHIPPED_LAMBDA_STRING = 4096
