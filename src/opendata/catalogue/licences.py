"""The licences a dataset may name, with the title and URL that CKAN, DCAT and schema.org
clients expect next to the bare code a manifest carries.

The three Guangzhou licences are this platform's own terms (their text is served at
``/api/v1/licence-terms/{code}``); the Creative Commons and Open Data Commons ones are the
usual public licences a publisher may choose instead. A code not listed here is still
accepted by a manifest: it is shown with its code as its title and no URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Licence:
    id: str
    title_zh: str
    title_en: str
    # None: the platform serves the text itself, at /api/v1/licence-terms/{id}.
    external_url: str | None
    # Open Definition conformance: may anyone reuse the data, for any purpose?
    open: bool
    summary_zh: str = ""
    summary_en: str = ""


LICENCES: Final = (
    Licence("gz-open-data-1.0", "广州市公共数据开放许可协议 1.0（无条件开放）",
            "Guangzhou Public Data Open Licence 1.0 (unconditional)", None, True,
            "任何人可免费获取、使用、传播和再加工数据，须注明数据来源；不得歪曲数据或用于违法用途。",
            "Anyone may access, use, share and adapt the data free of charge, with attribution "
            "to the source; the data must not be misrepresented or used unlawfully."),
    Licence("gz-conditional-data-1.0", "广州市公共数据有条件开放协议 1.0",
            "Guangzhou Conditional Public Data Agreement 1.0", None, False,
            "经申请获批的使用者按数据使用许可约定的用途、字段、期限和配额使用数据。",
            "Approved applicants use the data for the purpose, fields, period and quota "
            "named in their data-use licence."),
    Licence("gz-authorised-1.0", "广州市公共数据授权运营协议 1.0",
            "Guangzhou Authorised Data Operation Agreement 1.0", None, False,
            "授权运营单位按授权协议加工和提供数据产品与服务。",
            "Authorised operators process the data and offer products and services under "
            "their operation agreement."),
    Licence("gz-closed-data-1.0", "广州市公共数据不予开放声明 1.0",
            "Guangzhou Closed Public Data Notice 1.0", None, False,
            "数据不对外提供原始记录，仅可经许可用于隐私计算核验与评分。",
            "Rows are never released; the data may only be used, under licence, for "
            "privacy-preserving verification and scoring."),
    Licence("CC-BY-4.0", "知识共享署名 4.0 国际", "Creative Commons Attribution 4.0",
            "https://creativecommons.org/licenses/by/4.0/", True),
    Licence("CC0-1.0", "知识共享 CC0 1.0 公共领域贡献", "Creative Commons Zero 1.0",
            "https://creativecommons.org/publicdomain/zero/1.0/", True),
    Licence("ODbL-1.0", "开放数据库许可 1.0", "Open Data Commons Open Database License 1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/", True),
)

LICENCE_BY_ID: Final = {licence.id: licence for licence in LICENCES}


def licence_for(code: str) -> Licence:
    """The registered licence, or a stand-in that repeats the code (never None)."""
    return LICENCE_BY_ID.get(code) or Licence(code, code, code, None, False)


def licence_url(licence: Licence, base_url: str) -> str:
    return licence.external_url or f"{base_url.rstrip('/')}/api/v1/licence-terms/{licence.id}"
