"""Chinese identifier numbers with valid check characters, for the demo data.

* Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters::

      9 1 440101 MA59XXXXX 7
      | | |      |         +-- check character over the first 17 (GB 32100)
      | | |      +------------ 9-character organisation code (GB 11714), own check digit
      | | +------------------- 6-digit administrative region code (GB/T 2260)
      | +--------------------- organisation category (1 = enterprise, 3 = cooperative…)
      +----------------------- registration authority (9 = market regulation, 5 = civil affairs…)

* Resident identity numbers (公民身份号码, GB 11643-1999): 6-digit region, 8-digit birth
  date, 3-digit sequence (odd for men, even for women) and a check character (0-9 or X).

Everything here is pure and deterministic; the random choices live in the generator.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

# --- GB 32100-2015 unified social credit code --------------------------------------------

CREDIT_CODE_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a credit code may use (no I, O, S, V, Z)."""
CREDIT_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUE: Final = {c: i for i, c in enumerate(CREDIT_CODE_CHARSET)}

# Registration authority (first character): 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政,
# 6 旅游, 7 宗教, 8 工会, 9 工商 (market regulation), A 中央军委改革和编制办公室, N 农业, Y 其他.
CREDIT_CODE_AUTHORITIES: Final = "123456789ANY"

# --- GB 11714-1997 organisation code -------------------------------------------------------

ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = re.compile(r"[0-9A-Z]{8}")


def _org_value(char: str) -> int:
    """0-9 for digits, 10 (A) to 35 (Z) for letters."""
    return int(char) if char.isdigit() else ord(char) - 55


def org_code_check_char(body: str) -> str:
    """The GB 11714 check character (0-9 or X) for an 8-character organisation code body."""
    if not _ORG_BODY.fullmatch(body):
        raise ValueError(f"an organisation code body is 8 digits or capital letters, got {body!r}")
    remainder = 11 - sum(_org_value(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def is_valid_org_code(code: str) -> bool:
    """True for a 9-character organisation code whose last character checks."""
    return (
        isinstance(code, str)
        and len(code) == 9
        and _ORG_BODY.fullmatch(code[:8]) is not None
        and org_code_check_char(code[:8]) == code[8]
    )


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    if len(first17) != 17:
        raise ValueError(f"need the first 17 characters of a credit code, got {len(first17)}")
    try:
        total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} cannot occur in a credit code") from None
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def make_credit_code(authority: str, category: str, region: str, org_body: str) -> str:
    """Assemble a credit code from its parts, computing both check characters.

    ``org_body`` is the 8-character organisation code without its check digit.
    """
    if len(authority) != 1 or len(category) != 1:
        raise ValueError("authority and category are one character each")
    if not re.fullmatch(r"[0-9]{6}", region):
        raise ValueError(f"a region code is 6 digits, got {region!r}")
    org = org_body + org_code_check_char(org_body)
    first17 = authority + category + region + org
    return first17 + credit_code_check_char(first17)


def is_valid_credit_code(code: object, *, strict: bool = False) -> bool:
    """True if ``code`` is a well-formed unified social credit code.

    Checks the length, the character set, the registration authority and category digit,
    the 6-digit region and the GB 32100 check character. With ``strict=True`` also the
    GB 11714 check digit of the embedded organisation code (all generated codes pass it;
    a few real-world codes issued outside GB 11714 do not, hence not the default).
    """
    if not isinstance(code, str) or len(code) != 18:
        return False
    if any(c not in _CREDIT_VALUE for c in code):
        return False
    if code[0] not in CREDIT_CODE_AUTHORITIES or code[1] not in "123456789":
        return False
    if not code[2:8].isdigit():
        return False
    if credit_code_check_char(code[:17]) != code[17]:
        return False
    return not strict or is_valid_org_code(code[8:17])


# --- GB 11643-1999 citizen identity number ---------------------------------------------------

RESIDENT_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK: Final = "10X98765432"  # indexed by (weighted sum mod 11)
_RESIDENT_ID = re.compile(r"[1-9][0-9]{16}[0-9X]")


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for the first 17 digits of an ID number."""
    if not re.fullmatch(r"[0-9]{17}", first17):
        raise ValueError(f"need the first 17 digits of an ID number, got {first17!r}")
    return _RESIDENT_CHECK[sum(int(c) * w for c, w in zip(first17, RESIDENT_ID_WEIGHTS)) % 11]


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    """An 18-character ID number; ``sequence`` 0-999, odd for men and even for women."""
    if not re.fullmatch(r"[1-9][0-9]{5}", region):
        raise ValueError(f"a region code is 6 digits, got {region!r}")
    if not 0 <= sequence <= 999:
        raise ValueError("the sequence number is 0-999")
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def is_valid_resident_id(number: object) -> bool:
    """True for an 18-character ID number with a real birth date and a valid check character."""
    if not isinstance(number, str) or not _RESIDENT_ID.fullmatch(number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return resident_id_check_char(number[:17]) == number[17]


def resident_id_sex(number: str) -> str:
    """"男" or "女" from the sequence digit of an ID number."""
    return "男" if int(number[16]) % 2 else "女"


def resident_id_birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# --- Guangzhou ---------------------------------------------------------------------------------

GUANGZHOU_REGION_CODE: Final = "440100"
GUANGZHOU_CITY_DISTRICTS_CODE: Final = "440101"  # 市辖区: used by city-level registrations

DISTRICTS: Final = {
    "440103": "荔湾区",
    "440104": "越秀区",
    "440105": "海珠区",
    "440106": "天河区",
    "440111": "白云区",
    "440112": "黄埔区",
    "440113": "番禺区",
    "440114": "花都区",
    "440115": "南沙区",
    "440117": "从化区",
    "440118": "增城区",
}
"""GB/T 2260 region codes of Guangzhou's eleven districts."""

DISTRICT_CODES: Final = {name: code for code, name in DISTRICTS.items()}

DISTRICTS_EN: Final = {
    "荔湾区": "Liwan District",
    "越秀区": "Yuexiu District",
    "海珠区": "Haizhu District",
    "天河区": "Tianhe District",
    "白云区": "Baiyun District",
    "黄埔区": "Huangpu District",
    "番禺区": "Panyu District",
    "花都区": "Huadu District",
    "南沙区": "Nansha District",
    "从化区": "Conghua District",
    "增城区": "Zengcheng District",
}
