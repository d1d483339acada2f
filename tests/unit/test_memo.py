"""engine.memo: the bounded caches of the hot path."""

from __future__ import annotations

import pytest

from engine.memo import ObjectMemo, content_key, remember


class _Owner:
    """An object the memo keys by identity (knowledge objects do not hash cheaply)."""


def test_object_memo_builds_once_per_owner_and_key() -> None:
    memo = ObjectMemo()
    built: list[str] = []

    def build(label: str) -> str:
        built.append(label)
        return label

    first, second = _Owner(), _Owner()
    assert memo.get(first, "k", lambda: build("a")) == "a"
    assert memo.get(first, "k", lambda: build("again")) == "a"
    assert memo.get(first, "other", lambda: build("b")) == "b"
    assert memo.get(second, "k", lambda: build("c")) == "c"
    assert built == ["a", "b", "c"]


def test_object_memo_is_cleared_when_full() -> None:
    memo = ObjectMemo(limit=2)
    owner = _Owner()
    built: list[int] = []
    for key in (1, 2, 3, 1):
        memo.get(owner, key, lambda key=key: built.append(key))
    assert built == [1, 2, 3, 1]  # 3 cleared the memo, so 1 was built again


def test_content_keys_tell_true_from_one_as_json_does() -> None:
    keys = {content_key({"v": v}) for v in (True, 1, 1.0)}
    assert len(keys) == 3
    assert content_key({"a": "x", "b": 1}) == content_key({"a": "x", "b": 1})
    with pytest.raises(TypeError):
        hash(content_key({"v": ["a list"]}))


def test_remember_builds_on_first_use_and_clears_when_full() -> None:
    cache: dict[str, int] = {}
    assert remember(cache, "a", lambda: 1, 2) == 1
    assert remember(cache, "a", lambda: 99, 2) == 1
    remember(cache, "b", lambda: 2, 2)
    assert remember(cache, "c", lambda: 3, 2) == 3
    assert cache == {"c": 3}
