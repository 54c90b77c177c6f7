"""XML downloads: ``<rows>`` of ``<row>`` elements, one child element per served field.

    <?xml version="1.0" encoding="UTF-8"?>
    <rows xmlns="urn:opendata:rows" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <row><stop_id>S001</stop_id><lines>12</lines><note xsi:nil="true"/></row>

Field names are the dictionary's (letters, digits and ``_``: valid XML names). Values are
written as the core's CSV writes them for programs: ISO dates, plain decimals, ``true`` /
``false``; characters XML 1.0 cannot hold (most control characters) become U+FFFD.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from opendata.formats import Column, Exporter
from opendata.formats.json_export import chunked

MEDIA_TYPE = "application/xml"
NAMESPACE = "urn:opendata:rows"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (date, datetime)):
        text = value.isoformat()
    else:
        text = str(value)
    return escape(_NOT_XML.sub("\ufffd", text))


def _element_name(name: str) -> bool:
    return bool(_NAME.match(name)) and not name.lower().startswith("xml")


def supports(columns: Sequence[Column]) -> bool:
    return all(_element_name(c.name) for c in columns)


def export_xml(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    bad = [c.name for c in columns if not _element_name(c.name)]
    if bad:
        raise ValueError(f"field names {', '.join(bad)} are not usable as XML element names")
    return _rows([c.name for c in columns], rows)


def _rows(names: list[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    opening = [f"<{n}>" for n in names]
    closing = [f"</{n}>" for n in names]
    empty = [f'<{n} xsi:nil="true"/>' for n in names]

    def line(row: Sequence[Any]) -> str:
        cells = [empty[i] if v is None else opening[i] + _text(v) + closing[i] for i, v in enumerate(row)]
        return "<row>" + "".join(cells) + "</row>\n"

    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rows xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n')
    return chunked(map(line, rows), first=head, last="</rows>\n")


XML = Exporter("xml", MEDIA_TYPE, "xml", export_xml, supports=supports, reproducible=True, label_zh="XML", label_en="XML",
               file_type=("XML", "XML"))
