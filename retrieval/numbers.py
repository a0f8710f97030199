"""Numbers in news prose, parsed to a value with its kind, scale and unit, so a claim's figures can be compared.

Why parse instead of matching digits: models restate numbers ("76%" as "76 per cent", "$1.13bn" as "$1.13 billion",
"2,000" as "two thousand") and they get them wrong in ways a digit match cannot see: "58 million" from "58%",
"five million" for "eight million", "tenfold" for "fourfold", "the eleventh man" for "the twelfth". Each number
becomes a `Quantity`: a value (scale applied: "£1.2bn" is 1.2e9), a kind (count, ordinal, ratio, multiple), and
the currency or time unit attached to it. Two quantities match when kind, value and units agree; a claim's
quantity with no currency matches one with a currency (a model may drop the "£"), but not the other way round.

Deliberately not numbers: "one" and "a" on their own ("one of the biggest", "no one"), which are far more often
words than figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

_UNITS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
    "fortieth": 40, "fiftieth": 50, "hundredth": 100,
}  # fmt: skip
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
    "b": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12,
}  # fmt: skip
_BIG = ("hundred", "thousand", "million", "billion", "trillion")
# Words after "a third" that leave it a share ("a third of", "a third more", "by a third in 2004"); any other word
# makes it an ordinal ("a third win").
_NOT_COUNTED_AFTER = frozenset(
    """of more less fewer higher lower larger smaller bigger greater up down off on in to than and or per the a an
    since from last this that at by for over under between with as""".split()
)
_FRACTIONS = {"half": 0.5, "halves": 0.5, "third": 1 / 3, "thirds": 1 / 3, "quarter": 0.25, "quarters": 0.25}
_FRACTIONS.update({f"{w}s": 1 / v for w, v in _ORDINALS.items() if v >= 5})  # "two fifths", "three tenths"
_FRACTIONS.update({w: 1 / v for w, v in _ORDINALS.items() if v >= 5})
_MULTIPLES = {
    "double": 2, "doubled": 2, "doubles": 2, "doubling": 2, "twice": 2, "triple": 3, "tripled": 3, "triples": 3,
    "tripling": 3, "treble": 3, "trebled": 3, "quadruple": 4, "quadrupled": 4, "halved": 0.5, "halving": 0.5,
}  # fmt: skip
_TIME_UNITS = {
    "second": "s", "seconds": "s", "minute": "min", "minutes": "min", "hour": "h", "hours": "h", "day": "d",
    "days": "d", "week": "w", "weeks": "w", "month": "mo", "months": "mo", "year": "y", "years": "y",
    "decade": "dec", "decades": "dec",
}  # fmt: skip
# Measure words after a number (or joined to it: "a 10-mile drive"): a claim's unit must be the source's unit.
_MEASURES = frozenset(
    """mile miles km kilometre kilometres kilometer kilometers metre metres meter meters yard yards foot feet inch
    inches kg kilogram kilograms tonne tonnes ton tons pound-weight litre litres gallon gallons acre acres hectare
    hectares point points seat seats vote votes goal goals run runs wicket wickets set sets game games mm cm
    kb mb gb tb kilobyte megabyte gigabyte terabyte""".split()
)
_FIRST = frozenset({"opening", "debut", "maiden", "inaugural"})  # "the opening match" is the first match
_CURRENCY_SYMBOLS = {"$": "$", "£": "£", "€": "€", "¥": "¥"}
_CURRENCY_WORDS = {
    "dollar": "$", "dollars": "$", "usd": "$", "pound": "£", "pounds": "£", "sterling": "£", "gbp": "£",
    "euro": "€", "euros": "€", "eur": "€", "yen": "¥",
}  # fmt: skip
# Nationalities before a currency word: "Australian dollars", "Hong Kong dollars" (the last word is enough).
_NATIONAL = frozenset("us american australian canadian kong zealand singapore taiwan egyptian irish".split())
_OF_A_POINT = re.compile(r"\s+of\s+a\s+(?:percentage\s+)?point\b", re.I)
# A sum per unit of time: "$12 a month", "£140 per week" (after the amount and any scale or currency word).
_RATE = re.compile(r"(?:\s+(?:dollars?|pounds?|euros?|yen))?\s+(?:a|an|per|each)\s+(day|week|month|year|hour)\b", re.I)
_PERCENT_WORDS = ("per cent", "percent", "percentage points", "percentage point", "pc")

_TOKEN = re.compile(
    r"(?P<cur>[$£€¥])?\s?(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!(?!mph|kph|kmh)[a-z]{3})"
    r"(?P<suffix>st|nd|rd|th|s)?"
    r"(?P<scale>\s?(?:bn|mn|trn|tn|m|k|b)\b)?(?P<pct>\s?%)?"
    r"|(?P<word>[a-z]+(?:-[a-z]+)*)",
    re.I,
)


@dataclass(frozen=True)
class Quantity:
    """A parsed number: `kind` is count, ordinal, ratio (percentages and fractions) or multiple."""

    value: float
    kind: str
    currency: str | None = None
    time_unit: str | None = None  # "d", "w", "mo" ..., or a measure word: "mile", "date" (of "a six-date tour")
    text: str = ""
    start: int = 0
    end: int = 0

    def matches(self, other: Quantity) -> bool:
        """`self` (from a claim) is stated by `other` (from a source): same kind and value, no conflicting unit."""
        kinds = {self.kind, other.kind}
        if (len(kinds) > 1 and kinds != {"count", "ordinal"}) or not _close(self.value, other.value):
            return False  # "four wins in a row" is "her fourth consecutive win"; a share is never a count
        if self.currency is not None and self.currency != other.currency:
            return False
        return self.time_unit is None or other.time_unit is None or self.time_unit == other.time_unit

    def same_as(self, other: Quantity) -> bool:
        """`matches`, or the same amount in another unit of its family ("seven days" is "a week", "40cm" is
        "400 mm", "12 months" is "a year") or the same decade written short ("the 1970s", "the 70s")."""
        if self.matches(other):
            return True
        if self.kind != "count" or other.kind != "count" or self.currency != other.currency:
            return False
        mine, theirs = _IN_BASE_UNITS.get(self.time_unit or ""), _IN_BASE_UNITS.get(other.time_unit or "")
        if mine and theirs and mine[0] == theirs[0]:
            return _close(self.value * mine[1], other.value * theirs[1])
        return _decade(self) is not None and _decade(self) == _decade(other)


# Units of one family convert exactly; across families (days and months) they never match.
_IN_BASE_UNITS = {
    "s": ("time", 1.0), "min": ("time", 60.0), "h": ("time", 3600.0), "d": ("time", 86400.0),
    "w": ("time", 604800.0), "mo": ("calendar", 1.0), "y": ("calendar", 12.0),
    "mm": ("length", 0.001), "cm": ("length", 0.01), "metre": ("length", 1.0), "meter": ("length", 1.0),
    "km": ("length", 1000.0), "kilometre": ("length", 1000.0), "kilometer": ("length", 1000.0),
    "kb": ("data", 1e3), "kilobyte": ("data", 1e3), "mb": ("data", 1e6), "megabyte": ("data", 1e6),
    "gb": ("data", 1e9), "gigabyte": ("data", 1e9), "tb": ("data", 1e12), "terabyte": ("data", 1e12),
}  # fmt: skip
_DECADE = re.compile(r"(?:19|20)?'?(\d0)s$")


def _decade(q: Quantity) -> int | None:
    """The decade a "1970s" / "70s" / "'70s" names (two digits are read as the 1900s, "00s"/"10s" as the 2000s)."""
    m = _DECADE.fullmatch(q.text.strip().lower())
    if not m:
        return None
    full = q.text.strip().lstrip("'")
    if len(full) >= 5:
        return int(full[:4])
    short = int(m.group(1))
    return (2000 if short < 20 else 1900) + short


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _word_number(words: list[str]) -> float | None:
    """The value of number words already split: ["two", "hundred", "and", "fifty"] -> 250."""
    total, current, seen = 0.0, 0.0, False
    for n, word in enumerate(words):
        if word in _UNITS or (word == "one" and (n > 0 or len(words) > 1)):  # "twenty-one", "one hundred"
            current += _UNITS.get(word, 1)
            seen = True
        elif word in ("hundred",):
            current = (current or 1) * 100
            seen = True
        elif word in ("thousand", "million", "billion", "trillion"):
            total += (current or 1) * _SCALES[word]
            current = 0.0
            seen = True
        elif word == "and" and seen:
            continue
        else:
            return None
    return total + current if seen else None


_NUMBER_WORD = "|".join(sorted([*_UNITS, "one", "hundred", "thousand"], key=len, reverse=True))
_NUM = rf"\d+(?:\.\d+)?|(?:{_NUMBER_WORD})(?:-(?:{_NUMBER_WORD}))?"
_AND_A = re.compile(rf"\b({_NUM})\s+and\s+a\s+(half|quarter)\b", re.I)
_N_IN_M = re.compile(rf"\b({_NUM})\s+(?:out\s+of|in)\s+(?:every\s+)?({_NUM})\b", re.I)
# Spans of time and pairs in words: "a quarter of a century" is 25 years, "a pair of breaks" two breaks.
_IDIOMS = {
    "a quarter of a century": "25 years",
    "quarter of a century": "25 years",
    "half a century": "50 years",
    "a century": "100 years",
    "a decade": "10 years",
    "a pair of": "2",
}
_IDIOM = re.compile(r"\b(?:" + "|".join(sorted(_IDIOMS, key=len, reverse=True)) + r")\b", re.I)


def _value(word: str) -> float | None:
    word = word.lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    return 1.0 if word in ("one", "a") else _word_number(word.split("-"))


def _pad(match: re.Match[str], replacement: str) -> str:
    """Same length as the match, so every offset after it still points at the same character."""
    return replacement.ljust(len(match.group(0)))


def _normalise(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Spelled-out mixed numbers and rates as digits, keeping every offset: "one and a quarter" -> "1.25",
    "nine out of 10" / "four in five" -> "90%" / "80%". Also returns the rewritten spans (for quoting them)."""
    spans: list[tuple[int, int]] = []

    def mixed(m: re.Match[str]) -> str:
        whole = _value(m.group(1))
        part = 0.5 if m.group(2).lower() == "half" else 0.25
        if whole is None:
            return m.group(0)
        spans.append(m.span())
        return _pad(m, f"{whole + part:g}")

    def rate(m: re.Match[str]) -> str:
        a, b = _value(m.group(1)), _value(m.group(2))
        if a is None or b is None or not 0 < a < b <= 1000 or m.group(2).lower() in ("a", "one"):
            return m.group(0)
        spans.append(m.span())
        return _pad(m, f"{100 * a / b:.10g}%")  # "one in three" is "a third": keep the digits

    def idiom(m: re.Match[str]) -> str:
        replacement = _IDIOMS[m.group(0).lower()]
        if len(replacement) > len(m.group(0)):
            return m.group(0)
        spans.append(m.span())
        return _pad(m, replacement)

    return _N_IN_M.sub(rate, _AND_A.sub(mixed, _IDIOM.sub(idiom, text))), spans


def _in_name(text: str, match: re.Match[str]) -> bool:
    """A number word capitalised inside a sentence is part of a name: "the Six Nations", "a Five spokesman" (the
    channel), "the Famous Five". One that opens a sentence or a quote is a number ("Eighteen-year-old Mirza")."""
    if not text[match.start() : match.start() + 1].isupper():
        return False
    before = text[: match.start()].rstrip(" \"'“‘(")
    return bool(before) and before[-1] not in ".!?:;\n"


_ZONES = frozenset({"gmt", "bst", "utc", "cet", "est", "edt", "pst", "et", "pt", "local"})


def _clock(value: float, next_word: str, written: str) -> float | None:
    """A time of day on the 24-hour clock ("7pm" and "1900 GMT" are 1900), or None when the number is none."""
    if next_word in ("am", "pm") and value == int(value) and 1 <= value <= 12:
        return (value % 12 + (12 if next_word == "pm" else 0)) * 100
    if next_word in _ZONES and re.fullmatch(r"[0-2]\d[0-5]\d", written.strip()) and value < 2400:
        return value
    return None


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[Quantity, ...]:
    original = text
    text, rewritten = _normalise(text)
    tokens = [(m, (m.group("word") or "").lower()) for m in _TOKEN.finditer(text)]
    found: list[Quantity] = []
    i = 0

    def word_at(j: int) -> str:
        return tokens[j][1] if 0 <= j < len(tokens) else ""

    def follow(j: int, start: int, end: int, value: float, kind: str, currency: str | None) -> int:
        """Attach scale words, percent words, currency words and a time unit after a number ending at token j."""
        k = j + 1
        if kind == "count" and word_at(k) in ("million", "billion", "trillion", "thousand", "hundred"):
            value *= _SCALES[word_at(k)]
            end = tokens[k][0].end()
            k += 1
        rest = text[end : end + 60].lower()
        for phrase in _PERCENT_WORDS:
            if re.match(rf"\s+{phrase}\b", rest):
                kind, value = "ratio", value / 100
                end += re.match(rf"\s+{phrase}\b", rest).end()  # type: ignore[union-attr]
                k += len(phrase.split())
                break
        point = _OF_A_POINT.match(text, end)
        if point and kind == "count":
            kind, value = "ratio", value / 100  # "0.27 of a percentage point" is 0.27 percentage points
            end = point.end()
            k += len(point.group(0).split())
        time_unit = None
        unit_word = word_at(k)
        joined = text[end : end + 1] == "-"  # "10-mile", "six-date": the unit is glued to the number
        if joined and unit_word:
            unit_word = unit_word.split("-")[0]
        if unit_word in _NATIONAL and word_at(k + 1) in _CURRENCY_WORDS and currency is None:
            k += 1  # "4.17 Australian dollars" is A$4.17 (read as dollars)
            unit_word = word_at(k)
        if unit_word in _CURRENCY_WORDS and currency is None:
            currency = _CURRENCY_WORDS[unit_word]
            end = tokens[k][0].end()  # "12 million dollars" reads as one figure in messages
        elif unit_word in _TIME_UNITS and kind == "count":
            time_unit = _TIME_UNITS[unit_word]
            if time_unit == "dec":  # "four decades" is "40 years"
                value, time_unit = value * 10, "y"
        elif kind == "count" and (unit_word.rstrip("s") in _MEASURES or unit_word in _MEASURES or joined):
            time_unit = unit_word.rstrip("s") if unit_word not in ("yards",) else "yard"
        elif word_at(k) == "of" and word_at(k + 1) in _CURRENCY_WORDS:
            currency = _CURRENCY_WORDS[word_at(k + 1)]
        rate = _RATE.match(text, end)
        if rate and currency is not None and time_unit is None:
            time_unit = f"per-{_TIME_UNITS[rate.group(1).lower()]}"  # "$12 a month" is no "$12 a week"
        if kind == "count" and currency is None and time_unit is None:
            clock = _clock(value, word_at(k), text[start:end])
            if clock is not None:  # "7pm" and "1900 GMT" are one time of day
                value, kind = clock, "clock"
                if word_at(k) in ("am", "pm"):
                    end = tokens[k][0].end()
                    k += 1
        found.append(Quantity(value, kind, currency, time_unit, text[start:end], start, end))
        return k

    while i < len(tokens):
        match, word = tokens[i]
        if match.group("num"):
            value = float(match.group("num").replace(",", ""))
            suffix = (match.group("suffix") or "").lower()
            currency = _CURRENCY_SYMBOLS.get(match.group("cur") or "")
            if (
                currency is None
                and i > 0
                and text[max(0, match.start() - 4) : match.start()].strip().upper()
                in (
                    "US$",
                    "USD",
                )
            ):
                currency = "$"
            if suffix in ("st", "nd", "rd", "th"):
                found.append(Quantity(value, "ordinal", None, None, match.group(0), match.start(), match.end()))
                i += 1
                continue
            if match.group("pct"):
                found.append(Quantity(value / 100, "ratio", currency, None, match.group(0), match.start(), match.end()))
                i += 1
                continue
            scale = (match.group("scale") or "").strip().lower()
            if scale:
                value *= _SCALES[scale]
            if word_at(i + 1) in ("fold",) or text[match.end() : match.end() + 5].lower().startswith("-fold"):
                found.append(Quantity(value, "multiple", None, None, match.group(0), match.start(), match.end()))
                i += 2 if word_at(i + 1) == "fold" else 1
                continue
            i = follow(i, match.start(), match.end(), value, "count", currency)
            continue
        if not word or _in_name(original, match):
            i += 1
            continue
        parts = word.split("-")
        if word in _FIRST:
            found.append(Quantity(1, "ordinal", None, None, match.group(0), match.start(), match.end()))
            i += 1
            continue
        if len(parts) > 1 and parts[0] in _ORDINALS and parts[1] not in _FRACTIONS:  # "eighth-seeded"
            found.append(
                Quantity(_ORDINALS[parts[0]], "ordinal", None, None, match.group(0), match.start(), match.end())
            )
            i += 1
            continue
        if len(parts) > 1 and parts[-1] in _CURRENCY_WORDS and all(w in _SCALES or w in _UNITS for w in parts[:-1]):
            # "a billion-dollar dent", "a ten-million-pound deal": a sum of money written as an adjective.
            value_ = _word_number(parts[:-1]) if parts[0] in _UNITS else None
            if value_ is None and len(parts) == 2:
                value_ = _SCALES.get(parts[0])
            if value_ is not None:
                currency_ = _CURRENCY_WORDS[parts[-1]]
                found.append(Quantity(value_, "count", currency_, None, match.group(0), match.start(), match.end()))
                i += 1
                continue
        if (
            len(parts) > 1
            and parts[0] in _UNITS
            and parts[-1] not in _ORDINALS
            and parts[-1] not in _FRACTIONS
            and _word_number(parts) is None
        ):
            unit = parts[1] if parts[1] not in ("year", "month", "week", "day") else parts[1][0]
            unit = _TIME_UNITS.get(parts[1], unit)  # "six-date tour", "four-year ban", "three-day celebration"
            found.append(Quantity(_UNITS[parts[0]], "count", None, unit, match.group(0), match.start(), match.end()))
            i += 1
            continue
        # Multipliers: "tenfold", "four-fold", "doubled", "twice".
        if parts[-1].endswith("fold") and len(parts[-1]) > 4 or (len(parts) > 1 and parts[-1] == "fold"):
            head = parts[:-1] if parts[-1] == "fold" else [*parts[:-1], parts[-1][:-4]]
            value_ = _word_number(head)
            if value_ is not None:
                found.append(Quantity(value_, "multiple", None, None, match.group(0), match.start(), match.end()))
            i += 1
            continue
        if word in _MULTIPLES:
            found.append(Quantity(_MULTIPLES[word], "multiple", None, None, match.group(0), match.start(), match.end()))
            i += 1
            continue
        if word in ("times",) and found and found[-1].kind == "count" and found[-1].end == match.start() - 1:
            # "three times as many": a multiple, not a count
            last = found.pop()
            found.append(Quantity(last.value, "multiple", None, None, text[last.start : match.end()], last.start))
            i += 1
            continue
        # Fractions: "a third", "one-third", "two thirds", "half", "three quarters".
        if parts[-1] in _FRACTIONS and (len(parts) == 1 or _word_number(parts[:-1]) is not None or parts[0] == "one"):
            numerator = 1.0 if len(parts) == 1 or parts[0] == "one" else float(_word_number(parts[:-1]) or 1)
            before = word_at(i - 1)
            is_fraction = parts[-1] in ("half", "halves", "quarter", "quarters") or before in ("a", "one")
            is_fraction = is_fraction or len(parts) > 1 or (before in _UNITS and parts[-1].endswith("s"))
            if before in _UNITS and len(parts) == 1:
                numerator = float(_UNITS[before])
                if found and found[-1].end == tokens[i - 1][0].end():
                    found.pop()
            after = word_at(i + 1)
            if (
                before == "a"
                and len(parts) == 1
                and parts[0] in _ORDINALS
                and after.isalpha()
                and after not in _NOT_COUNTED_AFTER
            ):
                # "a third win", "a fifth title": an ordinal; "a third of", "by a third in 2004" are shares.
                found.append(
                    Quantity(_ORDINALS[parts[0]], "ordinal", None, None, match.group(0), match.start(), match.end())
                )
                i += 1
                continue
            if is_fraction and not (parts[-1] in ("half",) and before in _ORDINALS):
                if parts[-1] in ("half", "halves") and (before == "the" or (before == "a" and word_at(i - 2) == "and")):
                    i += 1  # "the second half" is a part, "a year and a half" a duration: neither is a share
                    continue
                if parts[-1] == "half" and word_at(i + 1) in ("a", "an") and word_at(i + 2) in _TIME_UNITS:
                    unit_ = _TIME_UNITS[word_at(i + 2)]  # "half a year" is six months
                    value_, unit_ = (5.0, "y") if unit_ == "dec" else (0.5, unit_)
                    end_ = tokens[i + 2][0].end()
                    found.append(
                        Quantity(value_, "count", None, unit_, text[match.start() : end_], match.start(), end_)
                    )
                    i += 3
                    continue
                if parts[-1] == "half" and word_at(i + 1) == "a" and word_at(i + 2) in _SCALES:
                    scale_ = _SCALES[word_at(i + 2)]  # "half a million dollars"
                    i = follow(i + 2, match.start(), tokens[i + 2][0].end(), 0.5 * scale_, "count", None)
                    continue
                value_ = numerator * _FRACTIONS[parts[-1]]
                found.append(Quantity(value_, "ratio", None, None, match.group(0), match.start(), match.end()))
                i += 1
                continue
        if len(parts) == 1 and word in _ORDINALS:
            found.append(Quantity(_ORDINALS[word], "ordinal", None, None, match.group(0), match.start(), match.end()))
            i += 1
            continue
        if len(parts) == 2 and parts[0] in _UNITS and parts[1] in _ORDINALS:  # "twenty-first"
            value_ = _UNITS[parts[0]] + _ORDINALS[parts[1]]
            found.append(Quantity(value_, "ordinal", None, None, match.group(0), match.start(), match.end()))
            i += 1
            continue
        # Cardinals in words: "five", "twenty-five", "two hundred and fifty", "a million", "one billion".
        run: list[str] = []
        j = i
        while (
            j < len(tokens)
            and tokens[j][1]
            and (j == i or not _in_name(original, tokens[j][0]))
            and (
                all(p in _UNITS or p in _BIG or (p == "one" and "-" in tokens[j][1]) for p in tokens[j][1].split("-"))
                or (tokens[j][1] == "and" and run)
            )
        ):
            run.extend(tokens[j][1].split("-"))
            j += 1
        while run and run[-1] == "and":
            run.pop()
            j -= 1
        if run:
            if word_at(i - 1) in ("a", "one") and run[0] in ("hundred", "thousand", "million", "billion", "trillion"):
                start = tokens[i - 1][0].start()
            else:
                start = match.start()
            value_ = _word_number(run)
            if value_ is not None:
                i = follow(j - 1, start, tokens[j - 1][0].end(), value_, "count", None)
                continue
        i += 1

    def as_written(q: Quantity) -> Quantity:
        span = next(((a, b) for a, b in rewritten if a < q.end <= b), None)
        start, end = span if span is not None else (q.start, q.end)
        return replace(q, text=original[start:end].strip() or q.text, start=min(start, q.start), end=max(end, q.end))

    return tuple(as_written(q) for q in found)


def quantities(text: str) -> list[Quantity]:
    """Every number of `text` with its kind, value and units, in order of appearance."""
    return list(_parse(text))


_ONE_UNIT = re.compile(r"\b(?:an?|one)\s+(second|minute|hour|day|week|fortnight|month|year|decade)\b", re.I)


_OUT_OF = re.compile(r"\b([\w,.]+) out of (?:every |each )?([\w,.]+)\b", re.I)


def source_quantities(text: str) -> list[Quantity]:
    """`quantities`, plus the single units a source states without a figure ("a week later", "a year"), which a
    claim may restate as "seven days later" or "12 months". Only sources get these: a claim's "a year ago" is not
    a figure that must be found."""
    found = quantities(text)
    for m in _OUT_OF.finditer(text):  # "two out of 16" is a share, and states two and 16 as well
        for group in (1, 2):
            value = _value(m.group(group))
            if value is not None:
                found.append(Quantity(value, "count", None, None, m.group(group), m.start(group), m.end(group)))
    for m in _ONE_UNIT.finditer(text):
        word = m.group(1).lower()
        value, unit = (14.0, "d") if word == "fortnight" else (1.0, _TIME_UNITS[word])
        if unit == "dec":
            value, unit = 10.0, "y"
        found.append(Quantity(value, "count", None, unit, m.group(0), m.start(), m.end()))
    return found


def stated(claim_quantity: Quantity, source: str | list[Quantity]) -> bool:
    """True when the source states the claim's quantity (same kind, value and compatible units)."""
    pool = source_quantities(source) if isinstance(source, str) else source
    return any(claim_quantity.same_as(q) for q in pool)


def unstated(claim: str, source: str) -> list[Quantity]:
    """The claim's quantities that the source does not state (empty: every number is supported)."""
    pool = source_quantities(source)
    return [q for q in quantities(claim) if not stated(q, pool)]


CONTEXT_WORDS = 3


def _context(claim: str, quantity: Quantity, others: list[Quantity]) -> dict[str, float]:
    """Content stems near a quantity in the claim, weighted 1/distance (three words either side, other numbers
    skipped): what the number is about. In "sold to Lenovo in a $1.75bn (£900m) deal" the figure is about "deal"
    and "Lenovo" alike."""
    from retrieval.words import tokens

    def inside_number(t: Any) -> bool:
        return any(q.start <= t.start < q.end or (t.start == q.end + 1 and claim[q.end] == "-") for q in others)

    words = [t for t in tokens(claim) if t.content and not inside_number(t)]
    before = [t for t in words if t.end <= quantity.start][-CONTEXT_WORDS:]
    after = [t for t in words if t.start >= quantity.end][:CONTEXT_WORDS]
    weights: dict[str, float] = {}
    for distance, t in [*enumerate(reversed(before), 1), *enumerate(after, 1)]:
        weights[t.stem] = max(weights.get(t.stem, 0.0), 1 / distance)
    return weights


_COMPOUND = re.compile(r"[\w.,]+(?:-[a-z]+)+", re.I)


def _glued(claim: str, q: Quantity) -> str | None:
    """The hyphenated compound a number is part of ("31-year-old", "six-week"), lower case, or None."""
    if claim[q.end : q.end + 1] != "-":
        return None
    start = q.start + len(claim[q.start : q.end]) - len(claim[q.start : q.end].lstrip())
    match = _COMPOUND.match(claim, start)
    return match.group(0).lower() if match else None


_SCORE = re.compile(r"\d+-\d+(?:\s+\d+-\d+)*(?:\s+\(\d+-\d+\))?")
_AGE = re.compile(r"(?:,\s*|\baged\s+)$", re.I)


def _tail(compound: str) -> str:
    return compound.split("-", 1)[1] if "-" in compound else compound


def _same_mark(claim: str, q: Quantity, sentence: str, pool: list[Quantity]) -> bool:
    """True when the sentence writes the number the way the claim marks it: the same hyphenated compound ("the
    31-year-old"; "eighteen-year-old" for "18-year-old"), the same score ("6-4 6-2"), or an age ("Mirza, 18," or
    "aged 18" for "the 18-year-old")."""
    matching = [p for p in pool if q.matches(p)]
    if not matching:
        return False
    glued = _glued(claim, q) or (q.text.strip().lower() if "-" in q.text else None)
    written = (_glued(sentence, p) or (p.text.strip().lower() if "-" in p.text else None) for p in matching)
    if glued and any(_tail(g) == _tail(glued) for g in written if g):
        return True
    scores = [m.group(0) for m in _SCORE.finditer(claim) if m.start() <= q.end and q.start < m.end()]
    if any(score in sentence for score in scores):
        return True
    if _AGE.search(claim[: q.start]) and claim[q.end : q.end + 1] in (",", ".", ")", " ", ""):
        return any(_glued(sentence, p) in (f"{p.text.strip()}-year-old",) for p in matching)
    return False


# Qualifiers before a claim's figure that make a rounded or bounded figure true: "more than half" from "57%",
# "almost 50%" from "49.7%", "about 5,000" from "4,870". (A claim's qualifier, read against the source's figure.)
_AT_LEAST = re.compile(r"\b(?:more than|at least|upwards of|in excess of)\s*$", re.I)
_AT_MOST = re.compile(r"\b(?:less than|fewer than|at most)\s*$", re.I)
_NEARLY = re.compile(r"\b(?:almost|nearly|just under|close to)\s*$", re.I)
_ABOUT = re.compile(r"\b(?:about|around|roughly|approximately|an estimated)\s*$", re.I)
_ANY_QUALIFIER = re.compile(
    r"\b(?:more than|over|above|at least|upwards of|in excess of|less than|fewer than|under|below|at most|up to|"
    r"almost|nearly|just under|just over|close to|about|around|roughly|approximately|some|an estimated)\s*$",
    re.I,
)
ROUNDING = 0.05  # "about X" and "almost X" hold for a source figure within 5% of X ("about 3,000" is not 2,700)


def bounded(claim: str, q: Quantity, pool: list[Quantity], source: str) -> bool:
    """The claim qualifies its figure ("more than half") and an exact source figure of the same kind and unit makes
    the qualified statement true (57%). A source figure with a qualifier of its own ("more than 10 times") only
    supports the same figure, and multiples and years are never bounded."""
    if q.kind == "multiple" or (
        q.kind == "count" and q.currency is None and float(q.value).is_integer() and 1800 <= q.value <= 2100
    ):
        return False  # "more than twenty times" from "more than ten times"; "over 2003" is a time
    before = claim[max(0, q.start - 20) : q.start]
    tests = (
        (_AT_LEAST, lambda x: x >= q.value),
        (_AT_MOST, lambda x: x <= q.value),
        (_NEARLY, lambda x: (1 - ROUNDING) * q.value <= x <= q.value),
        (_ABOUT, lambda x: abs(x - q.value) <= ROUNDING * abs(q.value)),
    )
    for pattern, holds in tests:
        if not pattern.search(before):
            continue
        # A source figure with the same bound supports a word fraction: "more than half" for "more than 57%", not
        # "more than 600" for "more than 900".
        same_bound = pattern if pattern in (_AT_LEAST, _AT_MOST) and not re.search(r"\d", q.text) else None
        return any(
            other.kind == q.kind
            and other.currency == q.currency
            and other.time_unit == q.time_unit  # "more than five decades" is not bounded by "1945"
            and _unqualified_or(same_bound, source[max(0, other.start - 20) : other.start])
            and holds(other.value)
            for other in pool
        )
    return False


def _unqualified_or(bound: re.Pattern[str] | None, before: str) -> bool:
    """The source figure after `before` is exact, or carries `bound` itself."""
    if bound is not None and bound.search(before):
        return True
    return not _ANY_QUALIFIER.search(before)


def number_problem(claim: str, sentences: list[str]) -> str | None:
    """Why the claim's numbers are not supported by `sentences` (one, or two used together), or None.

    With two sentences, each number must be stated by the sentence that supports its part of the claim: the one
    whose words best match the claim's words around that number, or the one that holds the same hyphenated
    compound ("the 31-year-old"). A unit alone is no evidence of which sentence a number comes from ("the next
    eight years" is not "their best levels in eight years"). "80% of over 65s own a mobile" is not supported by
    "53% of over 65s own a mobile. 80% of teenagers text daily." although both figures are in the passage.
    """
    from retrieval.words import tokens

    pools = [source_quantities(s) for s in sentences]
    claimed = quantities(claim)
    if len(sentences) == 1:
        for q in claimed:
            if not stated(q, pools[0]) and not bounded(claim, q, pools[0], sentences[0]):
                return f"{q.text.strip()!r} is not in the supporting sentence"
        return None
    stems = [{t.stem for t in tokens(s) if t.content} for s in sentences]
    for q in claimed:
        context = _context(claim, q, claimed)
        scores = [sum(w for stem, w in context.items() if stem in st) for st in stems]
        owners = [i for i, sc in enumerate(scores) if sc >= max(scores) - 1e-9]
        if any(stated(q, pools[i]) or bounded(claim, q, pools[i], sentences[i]) for i in owners):
            continue
        if any(_same_mark(claim, q, s, pool) for s, pool in zip(sentences, pools, strict=True)):
            continue  # "the 31-year-old", "6-4 6-2": the way it is written says which sentence it comes from
        where = "either sentence" if not any(stated(q, p) for p in pools) else "the sentence about it"
        return f"{q.text.strip()!r} is not in {where}"
    return None
