"""Extraction on the labelled sets of tests/data (labelled by hand from the text, not from
this code; tests/data/LABELS.md says how and what each set is for): the figures may not
fall below issue 9's targets.

The targets are codes and modifiers F1 >= 0.99, topics >= 0.9 and PHI exact on
every question. The analysis reaches more on the sets it was fitted to
(bench/bench_extraction.py prints the figures and, with --misses, every
disagreement); the topics floor there is set a little under it, so that no
change makes it much worse unnoticed. The unseen set, never fitted to, holds
the targets themselves.
"""

from __future__ import annotations

from functools import cache

import pytest

from tests.support.labelled import SETS, Report, load, score

TARGETS = {"codes": 0.99, "modifiers": 0.99, "topics": 0.9}
FLOORS = {
    "labelled": {**TARGETS, "topics": 0.96},
    "held-out": {**TARGETS, "topics": 0.96},
    "unseen": TARGETS,
}


@cache
def report(name: str) -> Report:
    return score(load(SETS[name]))


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_set_is_varied_enough_to_mean_something(name: str) -> None:
    items = load(SETS[name])
    assert len(items) >= (150 if name == "labelled" else 60)
    tags = {tag for item in items for tag in item["tags"]}
    for wanted in ("forward", "html", "table", "inline_reply", "lookalike", "phi", "near_phi"):
        assert wanted in tags, wanted
    topics = {t for item in items for t in item["expected"]["topics"]}
    assert len(topics) == 10  # every topic is asked somewhere
    assert len({item["expected"].get("purpose", "coding") for item in items}) == 4


@pytest.mark.parametrize(
    ("name", "field"), [(name, field) for name in sorted(SETS) for field in sorted(TARGETS)]
)
def test_f1_does_not_fall(name: str, field: str) -> None:
    tally = report(name).fields[field]
    assert tally.f1 >= FLOORS[name][field], "\n".join(tally.misses)


@pytest.mark.parametrize("name", sorted(SETS))
def test_phi_is_found_wherever_it_is_and_never_invented(name: str) -> None:
    got = report(name)
    assert got.fields["phi"].precision == 1.0  # nothing flagged that is not PHI
    assert got.phi_exact == 1.0, "\n".join(got.wrong_phi)


@pytest.mark.parametrize("name", sorted(SETS))
def test_what_is_a_coding_question(name: str) -> None:
    got = report(name)
    assert got.purpose_accuracy >= 0.98, "\n".join(got.wrong_purpose)
