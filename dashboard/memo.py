"""What a page computes the same way on every render, remembered for the life of the process.

A page names the same few dozen routes (the sidebar, the header's forms, each row's actions) and translates the
same labels; Django's reverse and gettext cost tens and several microseconds each, together about a tenth of a
small page. Routes are remembered per script prefix, texts per language.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

T = TypeVar("T")


def fixed_reverse(name: str, *args: str) -> str:
    return _reverse(get_script_prefix(), name, args)


@lru_cache(maxsize=1024)
def _reverse(prefix: str, name: str, args: tuple[str, ...]) -> str:
    return reverse(name, args=list(args) or None)


@receiver(setting_changed)
def _forget(setting: str, **kwargs: object) -> None:
    if setting == "ROOT_URLCONF":
        _reverse.cache_clear()


def per_language(build: Callable[[], T]) -> Callable[[], T]:
    """`build()` (translated texts, no arguments) once per active language; callers must not change the result."""
    built: dict[str | None, T] = {}

    @wraps(build)
    def get() -> T:
        language = get_language()
        if language not in built:
            built[language] = build()
        return built[language]

    return get
