"""Vietnamese number reading and the call phrase: test vectors, irregular forms included."""

from __future__ import annotations

import unicodedata

import pytest

from display.speech import (
    call_phrase,
    call_phrase_en,
    call_text,
    counter_words,
    read_number,
    read_ticket,
    spell_ticket,
)

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


# Ticket A001 ... A999 read whole, per region: the Centre and the South say "lẻ" for an
# empty tens place and "ngàn" for a thousand, the North "linh" and "nghìn".
WHOLE = {
    1: "một", 5: "năm", 10: "mười", 11: "mười một", 15: "mười lăm", 21: "hai mươi mốt",
    24: "hai mươi tư", 25: "hai mươi lăm", 110: "một trăm mười",
    999: "chín trăm chín mươi chín",
}
ZERO_TENS = {"north": "linh", "central": "lẻ", "south": "lẻ"}
DIGIT_TEXTS = {1: "không không một", 5: "không không năm", 10: "không một không",
               11: "không một một", 15: "không một năm", 21: "không hai một",
               24: "không hai bốn", 25: "không hai năm", 101: "một không một",
               105: "một không năm", 110: "một một không", 999: "chín chín chín"}
CASES = [(region, n) for region in ("north", "central", "south") for n in DIGIT_TEXTS]


@pytest.mark.parametrize(("region", "n"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_a_ticket_read_whole_and_by_digits_in_each_region(region: str, n: int) -> None:
    ticket = f"A{n:03d}"
    whole = WHOLE.get(n) or f"một trăm {ZERO_TENS[region]} {'một' if n == 101 else 'năm'}"
    assert read_ticket(ticket, "whole", region) == f"a, {whole}"
    assert read_ticket(ticket, "digits", region) == f"a, {DIGIT_TEXTS[n]}"  # the same everywhere
    assert call_phrase(ticket, "3", "Quầy 3", "whole", region) == \
        f"Mời khách hàng số a, {whole}, đến quầy số ba"


def test_the_brief_examples() -> None:
    assert read_ticket("A012", "whole", "north") == "a, mười hai"
    assert read_ticket("A105", "whole", "north") == "a, một trăm linh năm"
    assert read_ticket("A105", "whole", "south") == "a, một trăm lẻ năm"
    assert read_ticket("A012", "digits") == "a, không một hai"


def test_thousands_by_region() -> None:
    assert read_number(1005, "north") == "một nghìn không trăm linh năm"
    assert read_number(1005, "south") == "một ngàn không trăm lẻ năm"
    assert read_number(21000, "central") == "hai mươi mốt ngàn"
    assert read_number(2_000_105, "south") == "hai triệu một trăm lẻ năm"
    assert counter_words("105", "Quầy 105", "south") == "quầy số một trăm lẻ năm"


def test_odd_numbers_are_still_said_whole() -> None:
    assert read_ticket("A000", "whole") == "a, không"
    assert read_ticket("42", "whole") == "bốn mươi hai"
    assert read_ticket("Q-7", "whole") == "quy bảy"  # spelled, as with digits


def test_an_unknown_region_or_reading_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region 'west'"):
        read_number(5, "west")
    with pytest.raises(ValueError, match="unknown reading 'words'"):
        read_ticket("A012", "words")


def test_the_english_phrase() -> None:
    assert call_phrase_en("A012", "3") == "Number A, zero one two, counter 3"
    assert call_phrase_en("A012", "3", "whole") == "Number A, 12, counter 3"
    assert call_phrase_en("H105", "12", "whole") == "Number H, 105, counter 12"
    assert call_phrase_en("AB7", "bhyt-2") == "Number A B, seven, counter bhyt 2"
    assert call_phrase_en("Q-7", "1") == "Number Q 7, counter 1"
    assert call_phrase_en("Đ01", "1") == "Number 0 1, counter 1"  # no English name for Đ
