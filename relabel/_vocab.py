"""Closed vocabularies: one enum base that parses with an error listing the choices.

Ground floor. Every closed set of names relabel reads from a user (metrics, categories,
augmentations, sides of a pair, recommendation actions, inference settings) is a
:class:`Vocabulary`; the CLI's ``click.Choice`` lists come from :meth:`Vocabulary.choices`, so
the API and the command line always accept the same words::

    class Metric(Vocabulary, noun="metric", error=ComparisonError):
        MULTILABEL = "multilabel"
        ORIGINAL = "original"

    Metric.from_str("original")   # Metric.ORIGINAL
    Metric.from_str("top1")       # ComparisonError: unknown metric 'top1'; expected one of ['multilabel', 'original']
    Metric.choices()              # ['multilabel', 'original']
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar, TypeVar

from relabel.errors import InputError

__all__ = ["Vocabulary"]

V = TypeVar("V", bound="Vocabulary")


class Vocabulary(str, Enum):
    """A closed vocabulary: members are strings (``Metric.ORIGINAL == "original"``).

    A subclass names what its words are (``noun``, used in messages) and the error class a bad
    word raises (``error``; default :class:`~relabel.errors.InputError`).

    >>> class Colour(Vocabulary, noun="colour"):
    ...     RED = "red"
    ...     BLUE = "blue"
    >>> Colour.from_str("blue") is Colour.BLUE, Colour.choices()
    (True, ['red', 'blue'])
    >>> Colour.from_str("green")
    Traceback (most recent call last):
    ...
    relabel.errors.InputError: unknown colour 'green'; expected one of ['red', 'blue']
    """

    _noun: ClassVar[str]
    _error: ClassVar[type[Exception]]

    def __init_subclass__(cls, *, noun: str = "value", error: type[Exception] = InputError, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._noun = noun
        cls._error = error

    @classmethod
    def from_str(cls: type[V], value: str | V) -> V:
        """The member named ``value`` (a member passes through); an unknown word lists the choices."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise cls._error(f"unknown {cls._noun} {value!r}; expected one of {cls.choices()}") from None

    @classmethod
    def choices(cls) -> list[str]:
        """Every word, in declaration order (for messages and ``click.Choice``)."""
        return [member.value for member in cls]
