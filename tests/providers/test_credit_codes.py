"""GB 32100 unified social credit codes and the GB 11714 organisation code inside them."""

import pytest

from marketplace.core.errors import Invalid
from providers.credit_codes import (
    credit_code_check_char,
    is_valid_credit_code,
    organisation_code_check_char,
)
from providers.services import normalise_credit_code

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("code", ["91350100M000100Y43", "914403001922038216"])
def test_published_codes_are_valid(code):
    assert credit_code_check_char(code[:17]) == code[17]
    assert is_valid_credit_code(code)
    assert normalise_credit_code(f" {code.lower()} ") == code


@pytest.mark.parametrize("code", ["91350100M000100Y44", "914403001922038217", "91350100M000100Y4I"])
def test_a_wrong_check_character_is_refused_naming_the_field(code):
    assert not is_valid_credit_code(code)
    with pytest.raises(Invalid) as error:
        normalise_credit_code(code)
    assert error.value.field == "credit_code"
    assert error.value.code == "invalid_credit_code"


def test_a_code_of_the_wrong_length_names_the_field():
    with pytest.raises(Invalid) as error:
        normalise_credit_code("91350100M000100Y4")
    assert error.value.field == "credit_code"


def test_organisation_code_check_character():
    assert organisation_code_check_char("M000100Y") == "4"
