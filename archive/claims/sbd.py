"""pysbd's English sentence splitter with its abbreviation pass made linear, same output.

pysbd 0.3.4 (``AbbreviationReplacer.search_for_abbreviations_in_string``) runs one ``re.sub`` over the
whole text for every *occurrence* of every abbreviation it knows ("no", "a", "st"... match the start of any
word that begins with them), so its cost grows with the square of the text. Each of those substitutions
only turns a ``.`` after that abbreviation into ``∯``, and depends on nothing but the abbreviation as written
(its case included); a second run of the same one finds nothing left to change (a change of ``.`` into
``∯`` never creates a match for any of them). So we run each distinct one once, where pysbd would have run
it first, and skip the repeats: the text that comes out is the same, in linear time. Each of them also
wants the abbreviation as written, then a ``.``, literally (for an abbreviation of letters only, its pattern
is that literal text): where the text has none, it is not run at all (most words an abbreviation starts,
"no" in "not", have none).

Finding where an abbreviation starts a word (pysbd: a case-insensitive ``re.findall`` per abbreviation) is
done with ``str.find`` on the lower-cased text where that is exactly equivalent: a plain ASCII abbreviation,
and no character in the text that matches an ASCII letter case-insensitively without lower-casing to it
(İ ı ſ K). pysbd's "next word starts with a capital" lookup never matches (its pattern wants a literal
``{abbr} ``), so it is skipped when the text has no ``{``.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

with warnings.catch_warnings():
    # pysbd 0.3.4 has regex literals with invalid escapes; only compiling them without a .pyc warns.
    warnings.filterwarnings("ignore", category=DeprecationWarning, message="invalid escape sequence")
    warnings.filterwarnings("ignore", category=SyntaxWarning, message="invalid escape sequence")
    from pysbd.lang.english import English
    from pysbd.lists_item_replacer import ListItemReplacer
    from pysbd.processor import Processor
    from pysbd.utils import Text


_PLAIN = re.compile(r"[a-z]+")
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f", "\u212a")  # match i, i, s, k under re.IGNORECASE


def word_starts(text: str, lowered: str, abbr: str) -> list[str] | None:
    """``re.findall(r"(?:^|\\s|\\r|\\n)" + abbr, text, re.I)`` for a plain abbreviation, or None.

    >>> word_starts("No. 5 and no. 6, not nor", "no. 5 and no. 6, not nor", "no")
    ['No', ' no', ' no', ' no']
    """
    if not _PLAIN.fullmatch(abbr) or len(lowered) != len(text) or any(c in text for c in _CASE_TRAPS):
        return None
    found: list[str] = []
    pos = lowered.find(abbr)
    while pos >= 0:
        if pos == 0:
            found.append(text[:len(abbr)])
        elif text[pos - 1].isspace():
            found.append(text[pos - 1:pos + len(abbr)])
        pos = lowered.find(abbr, pos + 1)
    return found


class _Replacer(English.AbbreviationReplacer):  # type: ignore[misc]
    def search_for_abbreviations_in_string(self, text: str) -> str:
        """pysbd's loop (same order, same decisions), skipping substitutions already made."""
        lowered = text.lower()
        abbreviation = self.lang.Abbreviation
        done: set[str] = set()
        for abbr in abbreviation.ABBREVIATIONS:
            stripped = abbr.strip()
            if stripped not in lowered:
                continue
            matches = word_starts(text, lowered, stripped)
            if matches is None:
                matches = re.findall(rf"(?:^|\s|\r|\n){stripped}", text, flags=re.IGNORECASE)
            if not matches:
                continue
            char_array: list[str] = []
            if "{" in text:
                next_word_start = r"(?<={" + str(re.escape(stripped)) + "} ).{1}"
                char_array = re.findall(next_word_start, text)
            for index, match in enumerate(matches):
                written = match.strip()
                char = char_array[index] if index < len(char_array) else ""
                if str(char).isupper() and written.lower() not in abbreviation.PREPOSITIVE_ABBREVIATIONS:
                    continue  # pysbd leaves this occurrence alone
                if written in done:
                    continue  # the same substitution already ran: it would change nothing
                done.add(written)
                if written.isalpha() and written + "." not in text:
                    continue  # each substitution wants the abbreviation, as written, then a "."
                text = self.scan_for_replacements(text, match, index, char_array)
        return text


#: Implied by every alternative of pysbd's ``NUMBERED_LIST_REGEX_1``: one or two digits, a ".", then a space
#: or a ")". Where the text has none, that regex finds no numbered list, so it need not be run (its dozen
#: look-behind alternatives are a fifth of pysbd's time on a long paragraph).
_NUMBERED_ITEM = re.compile(r"\d\.[\s)]")


class _Lists(ListItemReplacer):  # type: ignore[misc]
    def scan_lists(self, regex1: str, regex2: str, replacement: str, strip: bool = False) -> None:
        if regex1 is self.NUMBERED_LIST_REGEX_1 and not _NUMBERED_ITEM.search(self.text):
            return  # no match: pysbd's loop over the matches would do nothing
        super().scan_lists(regex1, regex2, replacement, strip)


class LinearProcessor(Processor):  # type: ignore[misc]
    """``pysbd.processor.Processor`` for English with :class:`_Replacer` and :class:`_Lists`."""

    text: str

    def abbreviations_replacer(self) -> Any:
        return _Replacer(self.text, self.lang)

    def process(self) -> Any:
        """pysbd 0.3.4's ``Processor.process``, with :class:`_Lists`."""
        if not self.text:
            return self.text
        self.text = self.text.replace("\n", "\r")
        self.text = _Lists(self.text).add_line_break()
        self.replace_abbreviations()
        self.replace_numbers()
        self.replace_continuous_punctuation()
        self.replace_periods_before_numeric_references()
        self.text = Text(self.text).apply(
            self.lang.Abbreviation.WithMultiplePeriodsAndEmailRule, self.lang.GeoLocationRule, self.lang.FileFormatRule)
        return self.split_into_segments()


def split(text: str) -> list[str]:
    """pysbd's sentences of ``text`` (``char_span=False``), as ``Processor(text, English).process()``.

    >>> split("Dr. Smith came. He left no. 5 at 3 p.m. today.")
    ['Dr. Smith came.', 'He left no. 5 at 3 p.m. today.']
    """
    result: list[str] = LinearProcessor(text, English, char_span=False).process()
    return result
