from __future__ import annotations

from cdc_sync.verify.diff import Diff, canonical, compare_range, digest


def test_hash_ignores_key_order_and_integral_float_spelling() -> None:
    assert digest({"a": 1, "b": [1.0, {"c": 2}]}) == digest({"b": [1, {"c": 2.0}], "a": 1.0})
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_hash_sees_type_and_value_changes() -> None:
    assert digest({"a": 1}) != digest({"a": "1"})
    assert digest({"a": 1.5}) != digest({"a": 1})
    assert digest({"a": None}) != digest({})


def test_compare_range_reports_missing_and_differing() -> None:
    diff = Diff()
    expected = {"1": {"id": "1", "t": "x"}, "2": {"id": "2", "t": "y"}, "3": {"id": "3"}}
    actual = {"1": {"id": "1", "t": "x"}, "2": {"id": "2", "t": "changed"}}
    compare_range(expected, actual, diff)
    assert diff.missing == ["3"] and diff.differing == ["2"] and not diff.in_sync
    assert diff.summary()["missing"] == {"count": 1, "examples": ["3"]}


def test_empty_diff_is_in_sync() -> None:
    assert Diff().in_sync
