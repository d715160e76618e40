import re

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, strategies as st

from marketplace.core import pii

pytestmark = pytest.mark.unit


@given(st.text(min_size=1, max_size=40))
def test_encryption_round_trips(value):
    assert pii.decrypt(pii.encrypt(value)) == value


def test_ciphertexts_differ_and_hide_the_value():
    first, second = pii.encrypt("13800138000"), pii.encrypt("13800138000")
    assert first != second
    assert b"13800138000" not in first


def test_a_tampered_ciphertext_is_rejected():
    blob = bytearray(pii.encrypt("13800138000"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        pii.decrypt(bytes(blob))


def test_lookup_hash_is_stable_and_keyed():
    assert pii.lookup_hash("13800138000") == pii.lookup_hash("13800138000")
    assert pii.lookup_hash("13800138000") != pii.lookup_hash("13800138001")
    import hashlib

    assert pii.lookup_hash("13800138000") != hashlib.sha256(b"13800138000").digest()


@pytest.mark.parametrize("name, masked", [("王小芳", "王*芳"), ("王芳", "王*"), ("欧阳娜娜", "欧**娜"), ("李", "*")])
def test_names_are_masked(name, masked):
    assert pii.mask_name(name) == masked


def test_phone_and_id_are_masked():
    assert pii.mask_phone("13812341234") == "138****1234"
    assert re.fullmatch(r"1101\*{10}123X", pii.mask_id_number("11010519900101123X"))
