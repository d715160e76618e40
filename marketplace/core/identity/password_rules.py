"""What makes a password acceptable, for every audience, in the foundation.

Members (at activation and after), a provider's staff and the federation's operators
choose passwords under rules of different strength, built on one list of common passwords.
Each owner of an account calls its rule before hashing (identity.passwords).
"""

from marketplace.core.errors import Invalid

MIN_PASSWORD = 8
MAX_MEMBER_PASSWORD = 128
MIN_OPERATOR_PASSWORD = 10

# The most common passwords of leaked Chinese and international lists, and their kin.
COMMON_PASSWORDS = frozenset(
    {
        "12345678",
        "123456789",
        "1234567890",
        "87654321",
        "11111111",
        "88888888",
        "66666666",
        "00000000",
        "12341234",
        "11223344",
        "123123123",
        "password",
        "password1",
        "passw0rd",
        "iloveyou",
        "qwertyui",
        "qwerty123",
        "1qaz2wsx",
        "abc12345",
        "abcd1234",
        "a1234567",
        "aa123456",
        "zxcvbnm1",
        "woaini1314",
        "5201314520",
        "admin123",
        "admin1234",
        "welcome1",
        "letmein1",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "superman",
        "trustno1",
        "qwertyuiop",
        "asdfghjkl",
        "1q2w3e4r",
        "q1w2e3r4",
        "123qweasd",
        "provider123",
        "changeme",
    }
)
# Words that common passwords are built on: "password123" is as weak as "password".
COMMON_STEMS = frozenset(
    {
        "password",
        "passw0rd",
        "admin",
        "qwerty",
        "welcome",
        "letmein",
        "iloveyou",
        "woaini",
        "abc",
        "abcd",
        "gonghui",
        "union",
        "test",
        "changeme",
    }
)


def _too_easy(field: str) -> Invalid:
    return Invalid("This password is too easy to guess; choose another.", code="weak_password", field=field)


def check_member_password(password: str, phone: str, id_number: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_MEMBER_PASSWORD:
        raise Invalid(
            "Choose a password of %(min)s to %(max)s characters.",
            params={"min": MIN_PASSWORD, "max": MAX_MEMBER_PASSWORD},
            code="weak_password",
            field="password",
        )
    lowered = password.lower()
    if (
        lowered in COMMON_PASSWORDS
        or lowered in (phone, id_number.lower())
        or (lowered.isdigit() and (lowered in phone or lowered in id_number))
    ):
        raise _too_easy("password")


def check_staff_password(password: str, username: str, field: str = "password") -> None:
    """A provider user's password, at sign-up, when added by the owner, and when changed."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            "A password has at least %(min)s characters.",
            code="weak_password",
            field=field,
            params={"min": MIN_PASSWORD},
        )
    if password.lower() in COMMON_PASSWORDS or password.lower() == username.lower():
        raise _too_easy(field)


def check_operator_password(password: str, username: str) -> None:
    if len(password) < MIN_OPERATOR_PASSWORD:
        raise Invalid("An operator's password has at least 10 characters.", field="password")
    lowered = password.lower()
    stem = lowered.rstrip("0123456789!@#.")
    if (
        lowered in COMMON_PASSWORDS
        or stem in COMMON_PASSWORDS
        or stem in COMMON_STEMS
        or not stem
        or username.lower() in lowered
    ):
        raise _too_easy("password")
