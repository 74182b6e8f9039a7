"""An amount in words, as a primary document states its total (сумма прописью).

Russian accounting writes the roubles in words and the kopecks in figures, each with the
form of its noun that the number asks for: "Одна тысяча семьсот пятьдесят рублей 00
копеек", "Двадцать один рубль 01 копейка", "Два рубля 02 копейки". The English act says
the same in English: "One thousand seven hundred fifty roubles 00 kopecks".

The number words come from num2words, whose Russian cardinals get the genders right
(одна тысяча, две тысячи, один миллион) for a masculine noun like рубль. Its own currency
mode does not fit a document: it spells the kopecks out ("ноль копеек"), puts a comma
between roubles and kopecks, and reads an integer as kopecks. So the phrase is built here:
the cardinal of the whole roubles from num2words, the noun forms and the kopecks by the
plural rule below.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fsm_core.errors import InvalidInput
from fsm_core.values import KOPECK

__all__ = ["amount_in_words", "plural_ru"]

# currency: (Russian forms of the unit for 1, 2, 5; of the hundredth), (English)
_UNITS: dict[str, tuple[tuple[tuple[str, str, str], tuple[str, str, str]], tuple[str, ...]]] = {
    "RUB": (
        (("рубль", "рубля", "рублей"), ("копейка", "копейки", "копеек")),
        ("rouble", "roubles", "kopeck", "kopecks"),
    ),
}


def plural_ru(n: int, forms: tuple[str, str, str]) -> str:
    """The form of a Russian noun after the number ``n``: forms for 1, 2 and 5
    (рубль / рубля / рублей): 1, 21, 101 take the first; 2–4, 22–24 the second; 0, 5–20,
    11–14, 25–30 the third."""
    n = abs(n)
    if n % 100 in range(11, 15):
        return forms[2]
    if n % 10 == 1:
        return forms[0]
    if n % 10 in (2, 3, 4):
        return forms[1]
    return forms[2]


def _cardinal(n: int, lang: str) -> str:
    from num2words import num2words

    words = str(num2words(n, lang=lang))
    if lang == "en":
        # "one thousand, seven hundred and fifty" → "one thousand seven hundred fifty"
        words = " ".join(w for w in words.replace(",", " ").split() if w != "and")
    return words


def amount_in_words(amount: Decimal, *, lang: str = "ru", currency: str = "RUB") -> str:
    """``amount`` (rounded half-up to the kopeck) in words, capitalised: the whole units
    in words and the hundredths in two figures. A currency other than roubles keeps its
    code: "Сто двадцать USD 50"."""
    if lang not in ("ru", "en"):
        raise InvalidInput(f"unknown language {lang!r} for an amount in words", field="lang")
    cents_total = int(amount.quantize(KOPECK, rounding=ROUND_HALF_UP) * 100)
    sign = "минус " if cents_total < 0 and lang == "ru" else ("minus " if cents_total < 0 else "")
    whole, cents = divmod(abs(cents_total), 100)
    words = sign + _cardinal(whole, lang)
    units = _UNITS.get(currency.upper())
    if units is None:
        text = f"{words} {currency.upper()} {cents:02d}"
    elif lang == "ru":
        (main, minor), _ = units
        text = f"{words} {plural_ru(whole, main)} {cents:02d} {plural_ru(cents, minor)}"
    else:
        _, (one, many, minor_one, minor_many) = units
        text = (
            f"{words} {one if whole == 1 else many} {cents:02d} "
            f"{minor_one if cents == 1 else minor_many}"
        )
    return text[:1].upper() + text[1:]
