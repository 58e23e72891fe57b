"""Every source is a reference (docs/ODD.md, section 10, *References*).

Sources are cited in pandoc's syntax: ``[@key]``, ``[@key, locator]``, several in one bracket
separated by ``; ``. Every citation in the schema's field descriptions ("unit; basis"), in the
package, the scenario files, the README and the ODD must name an entry of the ODD's reference
list; every entry must be cited somewhere; and no basis string may name a source outside a
citation. The schema is walked through pydantic's ``model_fields`` from :class:`Scenario` down,
so that fields keep being checked wherever their classes are defined.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
HEADING = "## 10. References"

KEY = r"[A-Za-z][A-Za-z0-9]*"
BRACKET = re.compile(r"\[(@[^\]]*)\]")  # a bracket whose text starts with @ is a citation
ITEM = re.compile(rf"@(?P<key>{KEY})(?:, (?P<locator>[^;@\]]+))?")
ENTRY = re.compile(rf"^- \*\*(?P<key>{KEY})\*\*: (?P<text>.*(?:\n  .*)*)", re.MULTILINE)

# Names of sources (and of their publishers) that must appear only as citations in a basis
SOURCE_NAMES = ("HC 112", "HC112", "NAO", "National Audit Office", "IFS", "Institute for Fiscal Studies",
                "PAC", "Public Accounts", "Anthony Collins", "survey", "Rogers", "Bass", "Sultan",
                "Granovetter", "Oliver", "Marwell", "Shipan", "Volden", "Walker", "Grimm", "Müller",
                "Dearden-Phillips", "stepping-out", "Guardian", "wired-gov", "WiredGov", "Taskforce",
                "Local Government Lawyer", "Public Finance", "Third Sector", "Common Capital",
                "fundraising.co.uk", "DCLG", "gov.uk", "Localism", "Indices of Deprivation")
NAMED = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in SOURCE_NAMES) + r")\b", re.IGNORECASE)


def references(text: str | None = None) -> dict[str, str]:
    """The ODD's reference list: key -> entry (its text, on one line)."""
    text = ODD.read_text(encoding="utf-8") if text is None else text
    _, found, section = text.partition(HEADING)
    assert found, f"docs/ODD.md has no section {HEADING!r}"
    section = section.split("\n## ", 1)[0]
    entries = [(m["key"], " ".join(m["text"].split())) for m in ENTRY.finditer(section)]
    keys = [k for k, _ in entries]
    assert len(keys) == len(set(keys)), f"keys listed twice: {sorted({k for k in keys if keys.count(k) > 1})}"
    return dict(entries)


def citations(text: str) -> list[tuple[str | None, str]]:
    """(key, bracket) for every item of every citation in ``text``; key None if malformed."""
    out = []
    for bracket in BRACKET.finditer(text):
        for item in bracket.group(1).split("; "):
            match = ITEM.fullmatch(item)
            out.append((match["key"] if match else None, bracket.group(0)))
    return out


def descriptions() -> dict[str, str]:
    """Every field of the schema, by dotted path, with its description ("unit; basis")."""
    out: dict[str, str] = {}

    def models(annotation) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for arg in typing.get_args(annotation) for m in models(arg)]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            out[f"{prefix}{name}"] = field.description or ""
            for sub in models(field.annotation):
                walk(sub, f"{prefix}{name}.")

    walk(Scenario, "")
    return out


def project_texts() -> dict[str, str]:
    """The files that may cite: the package, the scenario files, the README and the ODD (without
    its reference list, whose introduction shows the syntax)."""
    paths = [*sorted((ROOT / "sim").rglob("*.py")), *sorted((ROOT / "scenarios").rglob("*.toml")),
             ROOT / "README.md", ODD]
    texts = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in paths}
    texts["docs/ODD.md"] = texts["docs/ODD.md"].partition(HEADING)[0]
    return texts


def test_the_reference_list_is_well_formed():
    refs = references()
    assert len(refs) >= 10
    assert list(refs) == sorted(refs, key=str.lower), "keep the reference list in order of key"
    for key, text in refs.items():
        assert re.search(r"\b(?:1[89]|20)\d\d\b|\bn\.d\.", text), f"{key}: no year (or n.d.)"


def test_every_citation_in_the_schema_resolves_to_a_reference():
    refs = references()
    cited = {}
    for path, description in descriptions().items():
        for key, bracket in citations(description):
            assert key is not None, f"{path}: malformed citation {bracket} in {description!r}"
            assert key in refs, f"{path}: {bracket} cites {key!r}, not in docs/ODD.md section 10"
            cited[key] = path
    # the walk reached the nested sections and the instruments
    assert {"HC112", "NAO2018", "Rogers2003", "WiredGov2013", "LocalismAct2011"} <= set(cited), cited


def test_no_basis_names_a_source_outside_a_citation():
    for path, description in descriptions().items():
        bare = BRACKET.sub("", description)
        assert not NAMED.search(bare), (
            f"{path}: {NAMED.search(bare).group(0)!r} named outside a citation in {description!r}; "
            "cite it as [@key] (docs/ODD.md section 10)")


def test_every_citation_in_the_project_resolves_to_a_reference():
    refs = references()
    for name, text in project_texts().items():
        for key, bracket in citations(text):
            assert key is not None, f"{name}: malformed citation {bracket}"
            assert key in refs, f"{name}: {bracket} cites {key!r}, not in docs/ODD.md section 10"


def test_every_reference_is_cited():
    cited = {key for text in [*project_texts().values(), *descriptions().values()]
             for key, _ in citations(text)}
    orphans = sorted(set(references()) - cited)
    assert not orphans, f"listed in docs/ODD.md section 10 but cited nowhere: {orphans}"


def test_the_checks_catch_what_they_should():
    text = f"{HEADING}\n\n- **Bass1969**: Bass, F. M. (1969). A new product\n  growth.\n- **HC112**: HC 112.\n"
    assert references(text) == {"Bass1969": "Bass, F. M. (1969). A new product growth.", "HC112": "HC 112."}
    assert citations("x [@Bass1969, p. 215; @HC112] y [@ HC112] [see]") == [
        ("Bass1969", "[@Bass1969, p. 215; @HC112]"), ("HC112", "[@Bass1969, p. 215; @HC112]"),
        (None, "[@ HC112]")]
    assert NAMED.search(BRACKET.sub("", "innovation (Bass 1969)"))
    assert not NAMED.search(BRACKET.sub("", "innovation [@Bass1969]; capacity, spaces"))
