"""The registry: lookups, errors that list names, and lock-free reads under churn."""

from __future__ import annotations

import threading
import time

import pytest

import influxkit
from influxkit import registry


class _Fake:
    """A stand-in value: the registry stores objects, it does not call them."""

    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture(autouse=True)
def _clean_registry():
    before = set(registry.names())
    yield
    for name in set(registry.names()) - before:
        registry.delete(name)


def test_get_put_delete_names():
    a = _Fake("a")
    assert registry.get("reg-a") is None
    assert registry.put("reg-a", a) is None
    assert registry.get("reg-a") is a
    assert registry.fetch("reg-a") is a
    assert "reg-a" in registry.names()
    assert registry.delete("reg-a") is a
    assert registry.get("reg-a") is None
    assert registry.delete("reg-a") is None  # no error if absent


def test_fetch_unknown_lists_registered_names():
    registry.put("reg-one", _Fake("one"))
    registry.put("reg-two", _Fake("two"))
    with pytest.raises(influxkit.ConnectionNotFound) as info:
        registry.fetch("reg-three")
    err = info.value
    assert isinstance(err, KeyError)
    assert isinstance(err, influxkit.InfluxError)
    assert "'reg-three'" in str(err)
    assert "'reg-one'" in str(err) and "'reg-two'" in str(err)


def test_put_new_refuses_a_taken_name():
    first, second = _Fake("1"), _Fake("2")
    assert registry.put_new("reg-x", first)
    assert not registry.put_new("reg-x", second)
    assert registry.get("reg-x") is first


def test_snapshot_does_not_change_under_later_writes():
    registry.put("reg-s", _Fake("s"))
    snap = registry.snapshot()
    registry.delete("reg-s")
    assert "reg-s" in snap
    with pytest.raises(TypeError):
        snap["reg-new"] = _Fake("n")  # read-only


def test_concurrent_readers_never_fail_or_see_half_built_state():
    """Readers never fail, never miss a stable name, never see a torn mapping.

    Writers keep adding and removing ``churn-*`` names while the ``stable-*`` names are
    never removed: a reader must always find every stable name, and every entry of any
    snapshot must map a name to the object registered under that name.
    """
    stable = {f"stable-{i}": _Fake(f"stable-{i}") for i in range(10)}
    for name, obj in stable.items():
        registry.put(name, obj)

    stop = threading.Event()
    failures: list[str] = []
    reads = [0]

    def reader() -> None:
        n = 0
        while not stop.is_set():
            for name, obj in stable.items():
                got = registry.get(name)
                if got is not obj:
                    failures.append(f"{name}: got {got!r}")
            snap = registry.snapshot()
            for name, value in snap.items():
                if value.name != name:  # every object is registered under its own name
                    failures.append(f"{name} maps to {value.name}")
            n += 1
        reads[0] += n

    def writer(k: int) -> None:
        i = 0
        while not stop.is_set():
            name = f"churn-{k}-{i % 50}"
            registry.put(name, _Fake(name))
            registry.delete(f"churn-{k}-{(i + 25) % 50}")
            i += 1

    threads = [threading.Thread(target=reader) for _ in range(4)]
    threads += [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert reads[0] > 100  # the readers really ran
