import re
import xml.etree.ElementTree as ET
from unittest import mock

import pytest
import qrcode
from hypothesis import given, strategies as st

from marketplace.core.web import qr
from marketplace.vouchers import codes

pytestmark = pytest.mark.unit

BITS = 65
values = st.integers(min_value=0, max_value=2**BITS - 1)


def code_for(value: int) -> str:
    """The code for the drawn `value`: what `new_code` makes when its check symbol is a digit
    or a letter, and otherwise a code as they were issued before (still accepted)."""
    if value % 37 >= 32:
        return codes._encode(value) + codes.CHECK_ALPHABET[value % 37]
    with mock.patch.object(codes.secrets, "randbits", return_value=value) as randbits:
        code = codes.new_code()
    randbits.assert_called_once_with(BITS)
    return code


def single_errors(code: str):
    """Every one-character substitution and every swap of two adjacent different characters."""
    for position, original in enumerate(code):
        for symbol in codes.CHECK_ALPHABET:
            if symbol != original:
                yield code[:position] + symbol + code[position + 1 :]
    for position in range(len(code) - 1):
        first, second = code[position], code[position + 1]
        if first != second:
            yield code[:position] + second + first + code[position + 2 :]


def decode(data: str) -> int:
    return int(data.translate(str.maketrans(codes.ALPHABET, "0123456789abcdefghijklmnopqrstuv")), 32)


@given(values)
def test_round_trip_through_display_and_normalise(value):
    code = code_for(value)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{13}[0-9A-HJKMNP-TV-Z*~$=U]", code)
    assert decode(code[:13]) == value
    assert codes.normalise(codes.display(code)) == code
    assert codes.is_valid(code)


@given(values)
def test_every_single_error_is_detected(value):
    code = code_for(value)
    assert not any(codes.is_valid(typo) for typo in single_errors(code))


def test_every_single_error_is_detected_for_a_real_random_code():
    code = codes.new_code()
    typos = list(single_errors(code))
    assert len(typos) >= 14 * 36  # the substitutions alone
    rejected = [typo for typo in typos if not codes.is_valid(typo)]
    assert rejected == typos


def test_codes_carry_65_random_bits():
    drawn = [codes.new_code() for _ in range(200)]
    assert all(len(code) == 14 and codes.is_valid(code) for code in drawn)
    assert all(re.fullmatch("[0-9A-HJKMNP-TV-Z]{14}", code) for code in drawn)  # no symbols, no U
    assert len(set(drawn)) == len(drawn)
    numbers = [decode(code[:13]) for code in drawn]
    assert all(0 <= number < 2**BITS for number in numbers)
    # With 65 bits the top one is set half the time; 200 misses would mean it is never drawn.
    assert any(number >= 2 ** (BITS - 1) for number in numbers)


@pytest.mark.parametrize(
    ("value", "check"),
    [(0, "0"), (10, "A"), (31, "Z"), (32, "*"), (33, "~"), (34, "$"), (35, "="), (36, "U"), (37, "0")],
)
def test_check_symbol_is_the_value_mod_37(value, check):
    code = code_for(value)
    assert code[-1] == check
    assert codes.normalise(code) == code
    assert codes.is_valid(code)


@given(values)
def test_new_codes_have_no_symbols_and_redraw_until_they_do(value):
    """A draw whose check symbol would be one of *~$=U is drawn again."""
    symbol_draw = value - value % 37 + 32 if value - value % 37 + 32 < 2**BITS else 32
    second = value if value % 37 < 32 else 0
    with mock.patch.object(codes.secrets, "randbits", side_effect=[symbol_draw, second]) as randbits:
        code = codes.new_code()
    assert code == codes._encode(second) + codes.ALPHABET[second % 37]
    assert randbits.call_count == 2
    assert re.fullmatch("[0-9A-HJKMNP-TV-Z]{14}", code)


@pytest.mark.parametrize("check", ["*", "~", "$", "=", "U"])
def test_codes_issued_before_with_a_symbol_still_work(check):
    value = next(v for v in range(37, 400) if codes.CHECK_ALPHABET[v % 37] == check)
    old = codes._encode(value) + check
    assert codes.is_valid(old) and codes.normalise(codes.display(old).lower()) == old


def test_display_groups_by_four():
    code = code_for(2**BITS - 1)
    assert code == "ZZZZZZZZZZZZZ" + codes.CHECK_ALPHABET[(2**BITS - 1) % 37]
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}-\S{2}", codes.display(code))
    assert codes.display(code).replace("-", "") == code
    assert codes.display(codes.display(code).lower()) == codes.display(code)


def test_normalise_accepts_what_a_cashier_types():
    code = code_for(0x1F0F_1234_5678_9ABC)
    grouped = codes.display(code)
    assert codes.normalise(grouped.lower()) == code
    assert codes.normalise(f"  {grouped.replace('-', ' ')}\t") == code
    # Full-width characters from a Chinese input method.
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in grouped)
    assert codes.normalise(full_width) == code


def test_normalise_reads_confusable_letters_as_digits():
    code = code_for(0)  # thirteen zeros, check "0"
    assert codes.normalise("OOOo-oooo-OoOO-oO") == code
    one = code_for(int("1" * 13, 32))
    typed = one.replace("1", "I", 4).replace("1", "l", 4).replace("1", "L")
    assert codes.normalise(typed) == one


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "14 characters"),
        ("ABCD-EFGH-JKMN-P", "14 characters"),
        ("ABCD-EFGH-JKMN-PQR", "14 characters"),
        ("UBCD-EFGH-JKMN-PQ", "Character 1 .* 'U'"),
        ("ABCD-EFGH-JKM*-PQ", "Character 12 .* '\\*'"),
        ("ABCD-EFGH-JKMN-P#", "last character .* '#'"),
        ("ABCD_FGH-JKMN-PQ", "Character 5 .* '_'"),
    ],
)
def test_normalise_explains_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        codes.normalise(text)


@pytest.mark.parametrize("text", ["", "not a code", "ABCD-EFGH-JKMN-P#", "U" * 14, "ＡＢＣ"])
def test_is_valid_says_no_instead_of_raising(text):
    assert codes.is_valid(text) is False


def test_qr_svg_is_inline_markup_of_the_payload():
    payload = codes.new_code()
    markup = qr.qr_svg(payload)
    assert markup.startswith("<svg") and "<?xml" not in markup

    svg = ET.fromstring(markup)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    (path,) = svg
    # Each dark module is drawn as one 2x2 square at its (column, row) with the border included.
    drawn = {(int(x) // 2, int(y) // 2) for x, y in re.findall(r"M(\d+),(\d+)H", path.get("d"))}

    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    expected.add_data(payload)
    matrix = expected.get_matrix()
    assert drawn == {(col, row) for row, line in enumerate(matrix) for col, dark in enumerate(line) if dark}
    assert svg.get("viewBox") == f"0 0 {2 * len(matrix)} {2 * len(matrix)}"
    assert svg.get("width") == f"{2 * len(matrix)}mm"  # 2 mm a module
