"""What the board says: Vietnamese numbers in words (by region), ticket numbers read whole or
digit by digit, the call phrase in Vietnamese and in English."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

Region = Literal["north", "central", "south"]
Reading = Literal["whole", "digits"]
REGIONS: tuple[str, ...] = get_args(Region)
READINGS: tuple[str, ...] = get_args(Reading)
# The words that differ by region in a number read aloud: an empty tens place after the
# hundreds ("một trăm linh năm" in the North, "một trăm lẻ năm" in the Centre and the
# South) and the thousand ("nghìn" in the North, "ngàn" elsewhere). espeak-ng's own reading
# of digits says "linh" in every region, "ngàn không trăm" for 1000 and "hai mươi bốn" for
# 24, so the board gives it words, never digits.
ZERO_TENS = {"north": "linh", "central": "lẻ", "south": "lẻ"}
THOUSAND = {"north": "nghìn", "central": "ngàn", "south": "ngàn"}

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Vietnamese names of the letters, so the voice says "hát" for H and not a guess.
LETTERS = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e",
    "Ê": "ê", "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ",
    "M": "em mờ", "N": "en nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép",
    "X": "ích xì", "Y": "i dài", "Z": "dét",
}
GROUPS = ("", "nghìn", "triệu", "tỷ")  # the thousand is the region's (THOUSAND)
DIGITS_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TICKET_RE = re.compile(r"^([A-ZĐ]{0,3})(\d{1,6})$")


def nfc(text: str) -> str:
    """Vietnamese text in composed form: decomposed marks stack and overlap on screen."""
    return unicodedata.normalize("NFC", text)


def _tens_units(n: int) -> list[str]:
    """0..99 as it is said after something else (no leading 'không')."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return [DIGITS[units]] if units else []
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens > 1 else "một")  # hai mươi mốt, but mười một
    elif units == 4:
        words.append("tư" if tens > 1 else "bốn")   # hai mươi tư, but mười bốn
    elif units == 5:
        words.append("lăm")                          # mười lăm, hai mươi lăm
    elif units:
        words.append(DIGITS[units])
    return words


def _hundreds(n: int, leading: bool, region: str) -> list[str]:
    """0..999 as one group of three; a group after a bigger one says its zero hundreds."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or not leading:
        words += [DIGITS[hundreds], "trăm"]
    if rest and rest < 10 and words:
        words += [ZERO_TENS[region], DIGITS[rest]]   # một trăm linh/lẻ năm, not "lăm"
    else:
        words += _tens_units(rest)
    return words


def read_number(n: int, region: str = "north") -> str:
    """A whole number in Vietnamese words, as an office of `region` reads it aloud."""
    if region not in ZERO_TENS:
        raise ValueError(f"unknown region {region!r}: one of {', '.join(REGIONS)}")
    if n < 0:
        return "âm " + read_number(-n, region)
    if n == 0:
        return "không"
    if n >= 1000 ** len(GROUPS):
        raise ValueError(f"{n} is too large to read")
    groups: list[int] = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    top = len(groups) - 1
    for i in range(top, -1, -1):
        if groups[i] == 0:
            continue
        words += _hundreds(groups[i], leading=(i == top), region=region)
        if GROUPS[i]:
            words.append(THOUSAND[region] if i == 1 else GROUPS[i])
    return " ".join(words)


def spell_ticket(number: str) -> str:
    """A ticket number the way the office reads it: the letter, then each digit on its own.

    "A012" -> "a, không một hai". Anything that is not letters-then-digits is spelled out
    one character at a time, so an odd number is still said and never dropped.
    """
    number = nfc(number.strip().upper())
    if m := TICKET_RE.match(number):
        letters = " ".join(LETTERS.get(c, c) for c in m.group(1))
        digits = " ".join(DIGITS[int(d)] for d in m.group(2))
        return f"{letters}, {digits}" if letters else digits
    spoken = [LETTERS.get(c) or (DIGITS[int(c)] if c.isdigit() else "") for c in number]
    return " ".join(w for w in spoken if w)


def read_ticket(number: str, reading: str = "digits", region: str = "north") -> str:
    """A ticket number as the voice says it: digit by digit ("a, không một hai") or as a
    whole number ("a, mười hai"; the leading zeros are not said). A number that is not
    letters-then-digits is spelled one character at a time either way."""
    if reading == "digits":
        return spell_ticket(number)
    if reading != "whole":
        raise ValueError(f"unknown reading {reading!r}: one of {', '.join(READINGS)}")
    number = nfc(number.strip().upper())
    if not (m := TICKET_RE.match(number)):
        return spell_ticket(number)
    letters = " ".join(LETTERS.get(c, c) for c in m.group(1))
    whole = read_number(int(m.group(2)), region)
    return f"{letters}, {whole}" if letters else whole


def counter_words(counter: str, counter_name: str, region: str = "north") -> str:
    """'quầy số ba' for a numbered counter; otherwise its name with the numbers in words."""
    if counter.isdigit():
        return f"quầy số {read_number(int(counter), region)}"
    name = nfc(counter_name or counter)
    return re.sub(r"\d+", lambda m: read_number(int(m.group()), region), name)


def call_text(ticket: str, counter_name: str) -> str:
    """The call as people read it on the screen and in the log."""
    return nfc(f"Mời khách hàng số {ticket} đến {counter_name}")


def call_phrase(ticket: str, counter: str, counter_name: str, reading: str = "digits",
                region: str = "north") -> str:
    """The call as the voice says it: 'Mời khách hàng số a, không một hai, đến quầy số ba'."""
    where = counter_words(counter, counter_name, region)
    return nfc(f"Mời khách hàng số {read_ticket(ticket, reading, region)}, đến {where}")


def call_phrase_en(ticket: str, counter: str, reading: str = "digits") -> str:
    """The call in English for espeak-ng's `en`: 'Number A, zero one two, counter 3'.

    The comma after the letter makes espeak-ng say the letter's name ("ay"), not the
    article "a"; it reads a whole number ("12": "twelve") itself. A counter without a
    number is named by its id, since its Vietnamese name would be mangled in English."""
    number = nfc(ticket.strip().upper())
    m = TICKET_RE.match(number)
    if m is None or not m.group(1).isascii():
        spoken = " ".join(c for c in number if c.isascii() and c.isalnum())
    elif reading == "whole":
        spoken = f"{' '.join(m.group(1))}, {int(m.group(2))}".lstrip(", ")
    else:
        spoken = f"{' '.join(m.group(1))}, {' '.join(DIGITS_EN[int(d)] for d in m.group(2))}"
        spoken = spoken.lstrip(", ")
    where = str(int(counter)) if counter.isdigit() else " ".join(re.split(r"[-_]+", counter))
    return f"Number {spoken}, counter {where}"
