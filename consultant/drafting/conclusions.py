"""The rules' conclusions put into words: each rule's partial, rendered once per conclusion.

The words are rendered here, not in the reply template, so that the same
sentences go into the reply, the reviewer's panel and ``consultant draft
--json``. A rule's partial (``templates/replies/rules/<rule>.txt.j2``) holds
the macros ``answer`` and ``why``, and ``confirm`` where the record decides.
"""

from __future__ import annotations

import re
from typing import Any

from consultant.codes.refs import release_name
from consultant.drafting.render import Renderer
from consultant.rules.library import Evaluation
from consultant.rules.model import Conclusion

_SPACES = re.compile(r"\s+")


def _one_line(text: object) -> str:
    return _SPACES.sub(" ", str(text)).strip()


def word(renderer: Renderer, evaluation: Evaluation) -> Evaluation:
    """Fill each conclusion's ``answer``, ``why`` and ``confirm`` from its rule's partial."""
    for conclusion in evaluation.conclusions:
        partial = renderer.env.get_template(f"replies/rules/{conclusion.rule}.txt.j2")
        module = partial.make_module()
        conclusion.answer = _one_line(module.answer(conclusion.params))
        conclusion.why = _one_line(module.why(conclusion.params))
        confirm = getattr(module, "confirm", None)
        conclusion.confirm = _one_line(confirm(conclusion.params)) if confirm else ""
    return evaluation


def cited(conclusion: Conclusion) -> str:
    """Where a conclusion comes from: its documents, then the releases of its facts."""
    parts = [c.text() for c in conclusion.citations]
    if conclusion.note is not None and conclusion.params.get("citation"):
        parts.append(conclusion.params["citation"])
    parts += [release_name(r) for r in conclusion.releases]
    return "; ".join(parts)


def for_reply(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The conclusions as the reply templates and the stored record take them."""
    return [c.as_dict() | {"cited": cited(c)} for c in evaluation.conclusions]
