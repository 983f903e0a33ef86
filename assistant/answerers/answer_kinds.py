"""What kind of answer a window holds: a date, a number, a reason, an instruction, a name, a
default stated, something switched off. Read by `window_features` for its features of each
window, from the window's words and its defined terms alone (no corpus's own words).
"""

from __future__ import annotations

import re

from assistant.evidence import Window
from assistant.fences import INLINE_CODE
from assistant.interpret import MONTHS, WEEKDAYS, Ask
from assistant.text import content_terms
from assistant.types import Passage

_MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                        "nov", "dec")  # fmt: skip
_DATE = re.compile(
    r"\b(1[5-9]\d\d|20\d\d)s?\b|\b(" + "|".join(MONTHS + _MONTH_ABBREVIATIONS) + r")\b"
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"
    r"|\b(yesterday|today|since|decade|century|week|month|year|version|release)s?\b"
    r"|\b(noon|midnight|morning|afternoon|evening|night|daily|hourly|o'clock|"
    + "|".join(WEEKDAYS)
    + r"|weekend|weekday)s?\b|\b\d{1,2}(:\d\d)?\s*[ap]\.?m\b"
    # A time on the 24-hour clock: "opens at 07:30", "until 18:00", "14h30".
    r"|\b(?:[01]?\d|2[0-3])(?::|h)[0-5]\d\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundreds?|thousands?|millions?|billions?|dozens?|percent|half|double|twice|once|"
    r"unlimited|infinite|no limit|zero|none)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(because|since|so that|in order to|due to|owing to|reason|therefore|thus|hence|"
    r"otherwise|to avoid|to prevent|to ensure|as a result|which means|would|could|risk|unless|"
    r"only (?:if|when|for|with|after|before|once))\b",
    re.IGNORECASE,
)
_IMPERATIVE_OR_CODE = re.compile(
    r"^\s*([A-Z][a-z]+\s)|[`$=/_(]|\b(use|run|set|add|call|specify|enable|disable|install|"
    r"configure|type|pass|create|edit|change|give|put|write|select|choose)\b",
    re.IGNORECASE,
)
# A window that says what holds when nothing is set.
_STATES_DEFAULT = re.compile(
    r"\bdefault|\bif (?:omitted|unset|not (?:given|specified|set))\b|\bunspecified\b",
    re.IGNORECASE,
)
# A signature, as a reference manual's defined term: "shutil.rmtree(path, ignore_errors=False,
# onerror=None)", "class pprint.PrettyPrinter(indent=1, width=80)". Its arguments, and a
# keyword given a value among them: the value it takes when not given.
_SIGNATURE = re.compile(r"^\s*(?:class\s+|def\s+)?[A-Za-z_][\w.]*\(([^()]*)\)")
_KEYWORD_VALUE = re.compile(r"(?:^|[,\s*])([A-Za-z_]\w*)\s*(?::[^,=]*)?=\s*(?!=)\S")
# Words of a default ask that name no argument ("the default value of ...").
_GENERIC_ARGUMENT = frozenset(content_terms("default value setting option parameter argument"))


def _gives_default(passage: Passage, window: Window, asked: set[str]) -> bool:
    """Whether a window holds a defined term that is a signature giving an argument the ask
    names a value ("width=80" for "the default width"). Only a defined term: an example's call
    ("logging.basicConfig(level=logging.DEBUG)", "read.table('x.txt', header = TRUE)") sets a
    value rather than stating the default, and stands in code, not as a term."""
    named = asked - _GENERIC_ARGUMENT
    for heading in passage.headings:
        if heading.kind != "term" or not window.start <= heading.offset < window.end:
            continue
        signature = _SIGNATURE.match(heading.title)
        if signature is None:
            continue
        for name in _KEYWORD_VALUE.findall(signature.group(1)):
            terms = set(content_terms(name))
            if terms and terms <= named:
                return True
    return False


# A window that says something is off, left out or prevented (the answer to a "stop" ask).
_SAYS_STOP = re.compile(
    r"\b(?:off|disabl\w*|false|skip\w*|prevent\w*|exclud\w*|not|never|no|suppress\w*|"
    r"ignor\w*|remov\w*|drop\w*|without)\b",
    re.IGNORECASE,
)
# A window that tells the reader what to do: inline code, or a verb of setting something.
_INSTRUCTS = re.compile(
    INLINE_CODE.pattern + r"|\b(?:set|use|pass|add|run|enable|disable)\b", re.IGNORECASE
)
_NAME_TOKEN = re.compile(r"[^\W_][\w.’'-]*")
_CODE_TOKEN = re.compile(r"\w[_.]\w|\w\(|^-")


def has_type(text: str, ask: Ask) -> bool:
    """Whether a window holds the kind of answer the ask wants (True when it wants none)."""
    kind = ask.answer_type
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "reason":
        return bool(_REASON.search(text))
    if kind == "procedure":
        return bool(_IMPERATIVE_OR_CODE.search(text))
    if kind in ("person", "name"):
        asked = {_bare(word) for word in _NAME_TOKEN.findall(ask.text)}
        originals = _NAME_TOKEN.findall(text)
        # Written as code ("the `force-include` option"): a name, hyphenated or not.
        coded = {t for span in INLINE_CODE.findall(text) for t in _NAME_TOKEN.findall(span)}
        return any(
            (
                original[0].isupper()
                or (kind == "name" and (_CODE_TOKEN.search(original) or original in coded))
            )
            and _bare(original) not in asked
            for original in originals[1:]
        )
    return True


def _bare(token: str) -> str:
    """Lower-cased, without possessive 's and trailing punctuation."""
    return re.sub(r"['’]s?$", "", token.lower().rstrip(".-")).rstrip(".-")


def states_default(passage: Passage, window: Window, asked: set[str]) -> bool:
    """Whether a window says what holds when nothing is set: in words ("The default is ...",
    "if omitted"), or by a signature giving an asked-about argument its value."""
    return bool(_STATES_DEFAULT.search(window.text)) or _gives_default(passage, window, asked)


def says_stop(text: str) -> bool:
    """Whether a window says something is off, left out or prevented."""
    return bool(_SAYS_STOP.search(text))


def instructs(text: str) -> bool:
    """Whether a window tells the reader what to do (inline code, a verb of setting)."""
    return bool(_INSTRUCTS.search(text))
