"""Vietnamese number reading and the call phrase: test vectors, irregular forms included."""

from __future__ import annotations

import unicodedata

import pytest

from display.speech import call_phrase, call_text, counter_words, read_number, spell_ticket

# (number, how a Vietnamese office reads it). The irregular forms: "mốt" for 1 after
# "mươi" (not after "mười"), "tư" for 4 after "mươi", "lăm" for 5 after "mười"/"mươi",
# "linh" for an empty tens place after hundreds, "không trăm" inside a bigger number.
NUMBER_VECTORS = [
    (0, "không"),
    (1, "một"),
    (3, "ba"),
    (4, "bốn"),
    (5, "năm"),
    (7, "bảy"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (19, "mười chín"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (31, "ba mươi mốt"),
    (44, "bốn mươi tư"),
    (55, "năm mươi lăm"),
    (90, "chín mươi"),
    (99, "chín mươi chín"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (205, "hai trăm linh năm"),
    (999, "chín trăm chín mươi chín"),
    (1000, "một nghìn"),
    (1001, "một nghìn không trăm linh một"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1050, "một nghìn không trăm năm mươi"),
    (2015, "hai nghìn không trăm mười lăm"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (10000, "mười nghìn"),
    (21000, "hai mươi mốt nghìn"),
    (105000, "một trăm linh năm nghìn"),
    (1000001, "một triệu không trăm linh một"),
    (1234567, "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy"),
    (2000000000, "hai tỷ"),
]

TICKET_VECTORS = [
    ("A012", "a, không một hai"),
    ("A001", "a, không không một"),
    ("H007", "hát, không không bảy"),
    ("B105", "bê, một không năm"),   # digit by digit: no "linh", no "lăm"
    ("C021", "xê, không hai một"),   # and no "mốt"
    ("AB12", "a bê, một hai"),
    ("a012", "a, không một hai"),
    ("42", "bốn hai"),
    ("Q-7", "quy bảy"),               # not letters-then-digits: each character still said
]


@pytest.mark.parametrize(("n", "words"), NUMBER_VECTORS)
def test_read_number(n: int, words: str) -> None:
    assert read_number(n) == words


@pytest.mark.parametrize(("ticket", "words"), TICKET_VECTORS)
def test_spell_ticket(ticket: str, words: str) -> None:
    assert spell_ticket(ticket) == words


def test_counters_read_as_numbers() -> None:
    assert counter_words("3", "Quầy 3") == "quầy số ba"
    assert counter_words("15", "Quầy 15") == "quầy số mười lăm"
    assert counter_words("21", "Quầy 21") == "quầy số hai mươi mốt"
    assert counter_words("bhyt-2", "Quầy BHYT 2") == "Quầy BHYT hai"


def test_the_call_phrase() -> None:
    assert call_phrase("A012", "3", "Quầy 3") == \
        "Mời khách hàng số a, không một hai, đến quầy số ba"
    assert call_text("A012", "Quầy 3") == "Mời khách hàng số A012 đến Quầy 3"


def test_text_is_composed_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Quầy 3")
    assert call_text("A012", decomposed) == unicodedata.normalize("NFC", call_text("A012",
                                                                                   "Quầy 3"))
    assert unicodedata.is_normalized("NFC", call_phrase("A012", "x", decomposed))


def test_numbers_out_of_range() -> None:
    assert read_number(-5) == "âm năm"
    with pytest.raises(ValueError):
        read_number(10 ** 12)
