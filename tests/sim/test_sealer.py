"""The Douyin emulator's receiver encryption: reversible, deterministic, keyed, and the
same with the results it keeps as without them (bounded by the adapters' ``remember``)."""

import pytest

from sim.emulators.douyin import Sealer


def test_sealing_is_reversible_deterministic_and_keyed() -> None:
    texts = ["", "13812345678", "张三", "浙江省杭州市西湖区文三路90号3幢501室" * 3]
    sealer, fresh, other = Sealer("k"), Sealer("k"), Sealer("other")
    ciphers = [sealer.seal(t) for t in texts]
    assert [sealer.open(c) for c in ciphers] == texts
    assert [sealer.seal(t) for t in texts] == ciphers  # from what it kept
    assert [fresh.seal(t) for t in texts] == ciphers  # a new sealer, nothing kept
    assert [fresh.open(c) for c in ciphers] == texts
    assert all(other.seal(t) != c for t, c in zip(texts[1:], ciphers[1:], strict=True))
    assert all(c.startswith("#") and c.endswith("#") and t not in c
               for t, c in zip(texts[1:], ciphers[1:], strict=True))


def test_a_tampered_or_foreign_cipher_is_refused_even_after_its_twin_was_opened() -> None:
    sealer = Sealer("k")
    cipher = sealer.seal("13812345678")
    assert sealer.open(cipher) == "13812345678"
    tampered = cipher[:5] + ("A" if cipher[5] != "A" else "B") + cipher[6:]
    with pytest.raises(ValueError):
        sealer.open(tampered)
    with pytest.raises(ValueError):
        Sealer("other").open(cipher)
    with pytest.raises(ValueError, match="not a cipher"):
        sealer.open("13812345678")
