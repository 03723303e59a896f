"""What a worker needs, in their words: each layer definition's `needs` (word -> service, or '' for
the whole layer) and `need_buttons` (the home page's big buttons). A new need is a data change."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from layers.layerdefs import DEFS_DIR, read_definitions


@dataclass(frozen=True)
class Need:
    """A need word and what answers it: a layer and, where it fits, one service of that layer."""

    word: str
    layer: str
    service: str = ""


@dataclass(frozen=True)
class NeedButton:
    """A home-page button: the need it asks for, its icon (an emoji) and its words."""

    need: str
    icon: str
    label: dict[str, str]
    layer: str


class NeedVocabulary:
    """Need words of every layer, found in what a worker typed (longest word first)."""

    def __init__(self, needs: list[Need], buttons: list[NeedButton]) -> None:
        self.needs = {need.word: need for need in needs}
        self.buttons = buttons
        self._longest_first = sorted(self.needs, key=len, reverse=True)

    def get(self, word: str) -> Need | None:
        """The need for exactly this word, or None."""
        return self.needs.get(word)

    def split(self, text: str) -> tuple[Need | None, str]:
        """(the first need word found in `text`, the text without it): '玉环上户口' -> (上户口, '玉环')."""
        for word in self._longest_first:
            at = text.find(word)
            if at >= 0:
                return self.needs[word], (text[:at] + " " + text[at + len(word):]).strip()
        return None, text


def read_vocabulary(directory: Path = DEFS_DIR) -> NeedVocabulary:
    """The needs and buttons of every layer definition in `directory` (layers in display order)."""
    needs: list[Need] = []
    buttons: list[NeedButton] = []
    for path, raw in read_definitions(directory):
        services = raw.get("services", {})
        for word, service in (raw.get("needs") or {}).items():
            if service and service not in services:
                raise ValueError(f"{path.name}: need {word!r} names unknown service {service!r}")
            needs.append(Need(word, raw["id"], service))
        for button in raw.get("need_buttons") or ():
            buttons.append(NeedButton(button["need"], button["icon"], dict(button["label"]), raw["id"]))
    vocabulary = NeedVocabulary(needs, buttons)
    for button in buttons:
        if vocabulary.get(button.need) is None:
            raise ValueError(f"need button {button.need!r} is not a need word")
    return vocabulary


@lru_cache(maxsize=1)
def default_vocabulary() -> NeedVocabulary:
    """The built-in layers' needs, read once."""
    return read_vocabulary()
