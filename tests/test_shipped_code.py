"""keras_deser.shipped_code on its own: which Lambda configs carry a listed place's own code.

A plain-Python probe stands in for a release's module (this test module,
listed as a place of a probe flavour's row); the real releases are
covered by ``tests/test_safety_shipped_lambda.py``.
"""

import base64
import codecs
import marshal

import pytest

from keras_deser import safe_policy, shipped_code


def _block(x):
    """Holds two lambdas, one nested in another function, as a release's function would."""
    def inner(y):
        return (lambda a, b: a - b)(y, 1)

    return (lambda inputs, scale: inputs[0] + inputs[1] * scale)(x, 2), inner


def _other(x):
    return (lambda a: a * 3)(x)


_FLAVOUR = "probe-flavour"


@pytest.fixture(autouse=True)
def probe_row(monkeypatch):
    row = safe_policy.ReleasePolicy(shipped_lambdas=(f"{__name__}:_block",))
    monkeypatch.setitem(safe_policy.RELEASES, _FLAVOUR, row)
    shipped_code._CACHE.pop(_FLAVOUR, None)
    yield
    shipped_code._CACHE.pop(_FLAVOUR, None)


def _code(function, index=0):
    consts = [c for c in function.__code__.co_consts if hasattr(c, "co_code")]
    return consts[index]


def _config(code, **changes):
    inner = {"name": "lambda_1", "trainable": True, "dtype": "float32",
             "function": [codecs.encode(marshal.dumps(code), "base64").decode("ascii"), None, None],
             "function_type": "lambda", "module": __name__, "output_shape": [35, 35, 320],
             "output_shape_type": "raw", "output_shape_module": None, "arguments": {"scale": 0.17}}
    inner.update(changes)
    return inner


def _lambda_of_block():
    return next(c for c in _block.__code__.co_consts if hasattr(c, "co_code") and c.co_name == "<lambda>")


def test_every_lambda_of_a_listed_function_is_collected_at_any_depth():
    table = shipped_code.shipped(_FLAVOUR)
    assert {code.co_varnames[:2] for code, _ in table.codes} == {("inputs", "scale"), ("a", "b")}
    assert table.places == (f"{__name__}._block",)


def test_the_listed_code_with_plain_data_is_harmless():
    assert shipped_code.lambda_verdict(_config(_lambda_of_block()), _FLAVOUR) == shipped_code.HARMLESS
    bare = _config(_lambda_of_block())
    bare["function"] = bare["function"][0]
    assert shipped_code.lambda_verdict(bare, _FLAVOUR) == shipped_code.HARMLESS


@pytest.mark.parametrize("changes, verdict", [
    ({"module": "os"}, shipped_code.OTHER),
    ({"arguments": {"scale": {"class_name": "Dense", "config": {}}}}, shipped_code.OTHER),
    ({"mask": None}, shipped_code.OTHER),
    ({"dtype": {"class_name": "Policy", "config": {"name": "float32"}}}, shipped_code.OTHER),
    ({"output_shape_type": "function", "output_shape": "os.system"}, shipped_code.OTHER),
    ({"output_shape": [[1, 2], [3, "x"]]}, shipped_code.OTHER),
    ({"function_type": "function"}, shipped_code.OTHER),
])
def test_anything_else_in_the_config_is_not_harmless(changes, verdict):
    assert shipped_code.lambda_verdict(_config(_lambda_of_block(), **changes), _FLAVOUR) == verdict


def test_a_closure_or_defaults_are_not_harmless():
    for function in ([None, [1], None], [None, None, [1]]):
        config = _config(_lambda_of_block())
        config["function"] = [config["function"][0]] + function[1:]
        assert shipped_code.lambda_verdict(config, _FLAVOUR) == shipped_code.OTHER


def test_other_code_naming_the_listed_module_is_not_shipped():
    assert shipped_code.lambda_verdict(_config(_code(_other)), _FLAVOUR) == shipped_code.NOT_SHIPPED
    assert shipped_code.lambda_verdict(_config(_other.__code__), _FLAVOUR) == shipped_code.NOT_SHIPPED
    config = _config(_lambda_of_block())
    raw = bytearray(base64.b64decode(config["function"][0]))
    raw[-3] ^= 1
    config["function"][0] = base64.b64encode(bytes(raw)).decode("ascii")
    assert shipped_code.lambda_verdict(config, _FLAVOUR) == shipped_code.NOT_SHIPPED


def test_a_flavour_without_places_excuses_nothing():
    assert shipped_code.lambda_verdict(_config(_lambda_of_block()), "no-such-flavour") == shipped_code.OTHER


def test_function_bytes_decodes_as_func_load_does():
    raw = marshal.dumps(_lambda_of_block())
    text = codecs.encode(raw, "base64").decode("ascii")
    assert shipped_code.function_bytes(text) == raw
    assert shipped_code.function_bytes([text, None, None]) == raw
    assert shipped_code.function_bytes("\u00e9" + text) == ("\u00e9" + text).encode("raw_unicode_escape")
    for value in (raw, [text, None], [text, (), None], 12, None, {"a": text}):
        assert shipped_code.function_bytes(value) is None
