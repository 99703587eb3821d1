"""A printable case sheet: the registry web form's sections and elements, in its order.

For labs that type cases into the NRDR web form: one page per case, values filled in where
known, blank lines where the form still needs something, the allowed values beside each choice.
"""

from __future__ import annotations

from html import escape
from typing import Any

from printharvest.cases.model import Case
from printharvest.dictionary.elements import Dictionary, Element
from printharvest.registry.values import Duration, element_values

CSS = """
body { font: 11pt/1.35 system-ui, sans-serif; margin: 1.5em; color: #000; }
h1 { font-size: 15pt; margin: 0 0 .2em; } h2 { font-size: 12pt; margin: 1em 0 .3em;
  border-bottom: 1px solid #444; } h3 { font-size: 11pt; margin: .6em 0 .2em; }
table { border-collapse: collapse; width: 100%; } td { padding: .15em .4em;
  vertical-align: top; border-bottom: 1px dotted #bbb; } td.label { width: 45%; }
td.value { font-weight: 600; } .blank { display: inline-block; min-width: 14em;
  border-bottom: 1px solid #000; } .hint { color: #555; font-size: 9pt; font-weight: 400; }
.req::after { content: " *"; } .case { page-break-after: always; break-after: page; }
.note { font-size: 9pt; color: #444; }
@media print { body { margin: 0; } .noprint { display: none; } @page { margin: 15mm; } }
"""


def _shown(value: Any) -> str:
    if isinstance(value, Duration):
        return "unknown" if value.unknown else f"{value.hours} h {value.minutes:02d} min"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _row(element: Element, value: Any) -> str:
    label = f'<td class="label{" req" if element.required else ""}">{escape(element.label)}</td>'
    if value is not None:
        cell = escape(_shown(value))
    else:
        cell = '<span class="blank">&nbsp;</span>'
        if element.values:
            cell += f' <span class="hint">({escape(" / ".join(element.values))})</span>'
        elif element.type == "duration":
            cell += ' <span class="hint">(hours + minutes, or unknown)</span>'
    return f'<tr>{label}<td class="value">{cell}</td></tr>'


def case_section(case: Case, dictionary: Dictionary) -> str:
    """One case's page."""
    values = element_values(case, dictionary)
    out = [f'<section class="case"><h1>Registry case {escape(case.registry_id)}</h1>',
           f'<p class="note">{escape(dictionary.dictionary.name)}, dictionary '
           f'{escape(dictionary.dictionary.version)}. * required.</p>']
    for section in dictionary.sections:
        out.append(f"<h2>{escape(section.label)}</h2><table>")
        for element in dictionary.elements:
            if element.section == section.id and element.group is None:
                out.append(_row(element, values.get(element.id)))
        out.append("</table>")
        for group in dictionary.groups:
            if group.section != section.id:
                continue
            members = [e for e in dictionary.elements if e.group == group.id]
            present = max((int(n.split(".")[1]) for n in values
                           if n.startswith(group.id + ".") and n.split(".")[1].isdigit()),
                          default=0)
            for number in range(1, max(present, group.min, 1) + 1):
                out.append(f"<h3>{escape(group.label)} {number}</h3><table>")
                out.extend(_row(e, values.get(f"{group.id}.{number}.{e.short_id}"))
                           for e in members)
                out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def sheet_html(cases: list[Case], dictionary: Dictionary) -> str:
    """A complete HTML document with one printable page per case."""
    body = "\n".join(case_section(c, dictionary) for c in cases)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Registry case sheet</title>"
            f"<style>{CSS}</style></head><body>\n"
            '<p class="noprint">Print this page (one case per page) to type the cases into '
            "the registry's web form.</p>\n"
            f"{body}\n</body></html>\n")
