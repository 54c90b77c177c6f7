"""Check characters of credit codes (GB 32100), organisation codes (GB 11714) and ID numbers (GB 11643)."""

from __future__ import annotations

from datetime import date

import pytest

from opendata.demo.identifiers import (
    CREDIT_CODE_CHARSET,
    DISTRICTS,
    credit_code_check_char,
    is_valid_credit_code,
    is_valid_org_code,
    is_valid_resident_id,
    make_credit_code,
    make_resident_id,
    org_code_check_char,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_sex,
)

# Worked by hand from the algorithms:
#
# Organisation code body "MA59XD3P" (GB 11714, letters A=10 … Z=35, weights 3 7 9 10 5 8 4 2):
#   M=22*3=66, A=10*7=70, 5*9=45, 9*10=90, X=33*5=165, D=13*8=104, 3*4=12, P=25*2=50 -> 602
#   602 mod 11 = 8, 11 - 8 = 3 -> organisation code MA59XD3P3
#
# Credit code "91440106MA59XD3P3" + check (GB 32100, charset values, weights 1 3 9 27 19 26 16
# 17 20 29 25 13 8 24 10 30 28):
#   9*1=9, 1*3=3, 4*9=36, 4*27=108, 0*19=0, 1*26=26, 0*16=0, 6*17=102, M=21*20=420,
#   A=10*29=290, 5*25=125, 9*13=117, X=29*8=232, D=13*24=312, 3*10=30, P=23*30=690,
#   3*28=84 -> 2584; 2584 mod 31 = 11; 31 - 11 = 20 -> charset[20] = "L"
HAND_MADE_CREDIT_CODE = "91440106MA59XD3P3L"
# Published codes of two Guangdong companies (old-style numeric organisation codes).
PUBLISHED_CREDIT_CODES = ("914403001922038216", "91440300708461136T")

# GB 11643-1999's own example: 11010519491231002X (Beijing Chaoyang, born 1949-12-31, seq 002).
# And one worked by hand: 440106 19900307 123 (Tianhe, male):
#   weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over 4 4 0 1 0 6 1 9 9 0 0 3 0 7 1 2 3
#   28+36+0+5+0+24+2+9+54+0+0+27+0+35+8+8+6 = 242; 242 mod 11 = 0 -> "1"
STANDARD_ID = "11010519491231002X"
HAND_MADE_ID = "440106199003071231"


def test_hand_made_codes_check():
    assert org_code_check_char("MA59XD3P") == "3"
    assert credit_code_check_char(HAND_MADE_CREDIT_CODE[:17]) == "L"
    assert make_credit_code("9", "1", "440106", "MA59XD3P") == HAND_MADE_CREDIT_CODE
    assert is_valid_credit_code(HAND_MADE_CREDIT_CODE, strict=True)
    assert is_valid_org_code(HAND_MADE_CREDIT_CODE[8:17])


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_published_codes_check(code):
    assert is_valid_credit_code(code, strict=True)


def test_every_single_character_change_is_detected():
    for code in (HAND_MADE_CREDIT_CODE, *PUBLISHED_CREDIT_CODES):
        for position in range(18):
            for char in CREDIT_CODE_CHARSET:
                if char == code[position]:
                    continue
                changed = code[:position] + char + code[position + 1:]
                assert not is_valid_credit_code(changed), changed


def test_org_code_check_detects_a_changed_digit():
    code = "192203821"
    assert is_valid_org_code(code)
    for position in range(8):
        for digit in "0123456789":
            if digit != code[position]:
                assert not is_valid_org_code(code[:position] + digit + code[position + 1:])


@pytest.mark.parametrize("bad", [
    None, 914403001922038216, "", "91440300192203821", "9144030019220382166",
    "91440300708461136t", "91440300I922038216", "91440300O922038216",
    "Z14403001922038216", "90440300192203821" + credit_code_check_char("90440300192203821"),
    "9144AB00192203821" + credit_code_check_char("9144AB00192203821"),
])
def test_malformed_credit_codes_are_rejected(bad):
    assert not is_valid_credit_code(bad)


def test_strict_mode_checks_the_embedded_org_code():
    first17 = "91440106MA59XD3P4"  # organisation code check digit should be 3
    code = first17 + credit_code_check_char(first17)
    assert is_valid_credit_code(code)
    assert not is_valid_credit_code(code, strict=True)


def test_resident_id_examples():
    assert resident_id_check_char(STANDARD_ID[:17]) == "X"
    assert is_valid_resident_id(STANDARD_ID)
    assert make_resident_id("440106", date(1990, 3, 7), 123) == HAND_MADE_ID
    assert is_valid_resident_id(HAND_MADE_ID)
    assert resident_id_sex(HAND_MADE_ID) == "男"
    assert resident_id_sex(STANDARD_ID) == "女"
    assert resident_id_birth_date(HAND_MADE_ID) == date(1990, 3, 7)


def test_every_single_digit_change_of_an_id_is_detected():
    for number in (STANDARD_ID, HAND_MADE_ID):
        for position in range(18):
            for char in "0123456789X":
                if char == number[position]:
                    continue
                changed = number[:position] + char + number[position + 1:]
                assert not is_valid_resident_id(changed), changed


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize("bad", [
    None, 440106199003071231, "", HAND_MADE_ID[:17], HAND_MADE_ID + "1",
    _with_check("44010619900230123"),   # 30 February
    _with_check("44010619901307123"),   # month 13
    _with_check("04010619900307123"),   # region codes do not start with 0
    "11010519491231002x",               # the check character is a capital X
])
def test_malformed_ids_are_rejected(bad):
    assert not is_valid_resident_id(bad)


def test_make_functions_reject_bad_parts():
    with pytest.raises(ValueError):
        make_credit_code("9", "1", "4401", "MA59XD3P")
    with pytest.raises(ValueError):
        org_code_check_char("ma59xd3p")
    with pytest.raises(ValueError):
        credit_code_check_char("91440106MA59XD3PI")
    with pytest.raises(ValueError):
        make_resident_id("440106", date(1990, 3, 7), 1000)


def test_guangzhou_districts():
    assert DISTRICTS == {
        "440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区",
        "440111": "白云区", "440112": "黄埔区", "440113": "番禺区", "440114": "花都区",
        "440115": "南沙区", "440117": "从化区", "440118": "增城区",
    }
