"""One vocabulary base: every closed set of words parses the same way and gives the CLI its choices."""

from __future__ import annotations

import click
import pytest

import relabel
from relabel._vocab import Vocabulary
from relabel.errors import ComparisonError, InputError, OverridesError


def test_every_closed_vocabulary_uses_the_base():
    from relabel.inference.models import Interpolation
    from relabel.inference.options import Decode, OnError, Precision
    from relabel.recommendation import Action

    for vocabulary in (relabel.Metric, relabel.Category, relabel.Confidence, relabel.LossDriver, relabel.Augmentation,
                       relabel.Side,
                       Action, Precision, Decode, OnError, Interpolation):
        assert issubclass(vocabulary, Vocabulary), vocabulary
        assert "from_str" not in vocabulary.__dict__, f"{vocabulary.__name__} writes its own from_str"
        assert vocabulary.choices() == [m.value for m in vocabulary]


@pytest.mark.parametrize(("vocabulary", "word", "error", "message"), [
    (relabel.Metric, "top1", ComparisonError, "unknown metric 'top1'; expected one of ['multilabel', 'original']"),
    (relabel.Category, "fine grained", InputError,
     "unknown category 'fine grained'; expected one of "
     "['ambiguous', 'co-occurring', 'fine-grained', 'unrelated', 'insufficient evidence']"),
    (relabel.LossDriver, "x", InputError,
     "unknown loss driver 'x'; expected one of ['gained false positives', 'lost true positives', 'both']"),
    (relabel.Side, "left", OverridesError, "unknown side 'left'; expected one of ['lost', 'absorbing', 'both']"),
])
def test_from_str_names_the_word_and_the_choices(vocabulary, word, error, message):
    with pytest.raises(error) as info:
        vocabulary.from_str(word)
    assert str(info.value) == message
    first = vocabulary.choices()[0]
    assert vocabulary.from_str(first) is vocabulary(first)
    assert vocabulary.from_str(vocabulary(first)) is vocabulary(first)


def _choices(command: click.Command, option: str) -> list[str]:
    for param in command.params:
        if option in getattr(param, "opts", ()):
            assert isinstance(param.type, click.Choice), option
            return list(param.type.choices)
    raise AssertionError(f"no option {option}")


def test_the_cli_offers_exactly_the_vocabularies_words():
    from relabel.cli.evaluate import evaluate
    from relabel.cli.predict import predict
    from relabel.inference.options import Decode, Interpolation, OnError, Precision

    assert _choices(evaluate, "--metric") == relabel.Metric.choices()
    assert _choices(evaluate, "--target") == relabel.Side.choices()
    assert _choices(predict, "--precision") == Precision.choices()
    assert _choices(predict, "--decode") == Decode.choices()
    assert _choices(predict, "--on-error") == OnError.choices()
    assert _choices(predict, "--interpolation") == Interpolation.choices()
