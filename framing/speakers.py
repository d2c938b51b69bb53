"""Is a speaker of either side *named* in a passage? A multilingual list of the crisis's voices.

Used by error analysis (``scripts/error_analysis.py``) to tell passages whose
speaker is named in the passage itself from those that refer back ("She
added ...", a bare quote). A heuristic: word-initial stems of surnames and
institutions in Latin and Cyrillic spellings of the corpus languages.
"""

from __future__ import annotations

import re

SPEAKER_STEMS: dict[str, tuple[str, ...]] = {
    "russian": (
        "putin", "poutine", "путин", "путін", "lavrov", "lawrow", "лавров", "peskov", "pieskow", "пескова", "песков",
        "ryabkov", "riabkov", "rjabkow", "рябков", "grushko", "gruschko", "grouchko", "gruszko", "грушко",
        "ushakov", "uschakow", "ouchakov", "uszakow", "ушаков", "zakharova", "sacharowa", "zajárova", "zacharowa",
        "захаров", "shoigu", "schoigu", "choïgou", "szojgu", "шойгу", "nebenz", "небенз", "antonov", "антонов",
        "kremlin", "kreml", "cremlin", "кремл", "kozak", "козак", "pushilin", "puschilin", "пушилин", "пушилін",
        "pasechnik", "пасечник", "lukashenk", "lukaschenk", "łukaszenk", "лукашенк", "medvedev", "medwedew",
        "медведев", "volodin", "володин",
    ),
    "western": (
        "biden", "байден", "blinken", "блинкен", "блінкен", "sullivan", "салливан", "салліван", "psaki", "псаки",
        "псакі", "sherman", "шерман", "donfried", "донфрид", "kirby", "кирби",
        "stoltenberg", "столтенберг", "borrell", "боррель", "leyen", "ляйен", "scholz", "шольц", "baerbock",
        "бербок", "macron", "макрон", "le drian", "ле дриан", "johnson", "джонсон", "truss", "трасс", "wallace",
        "уоллес", "draghi", "драги", "di maio", "ди майо", "duda", "дуда", "morawiecki", "моравецк", "rutte",
        "рютте", "zelensk", "zelenskyy", "selensk", "zełensk", "zelenski", "зеленск", "зеленськ", "kuleba",
        "kułeba", "kouleba", "кулеба", "reznikov", "resnikow", "reźnikow", "резников", "резніков", "danilov",
        "данилов", "данілов", "yermak", "jermak", "ермак", "єрмак", "white house", "weißen haus", "weiße haus",
        "maison blanche", "casa blanca", "casa bianca", "casa branca", "biały dom", "białego domu", "witte huis",
        "белый дом", "білий дім", "pentagon", "пентагон", "state department", "außenministerium", "nato-generalsekretär",
    ),
}
_PATTERNS = {side: re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, stems)) + r")", re.IGNORECASE)
             for side, stems in SPEAKER_STEMS.items()}


def named_sides(text: str) -> set[str]:
    """The sides (``russian``, ``western``) with at least one speaker named in ``text``."""
    return {side for side, pat in _PATTERNS.items() if pat.search(text)}


def names_speaker(text: str) -> bool:
    """True when a speaker of either side is named in ``text``."""
    return bool(named_sides(text))
