"""What the shipped demo catalogue says about itself: the catalogue, its publishers, and
the shapes (and shared field helpers) of its dataset definitions.

Together with ``specs_open.py`` and ``specs_licensed.py`` (the datasets themselves,
assembled by ``dataset_specs.py``) this is the single source of
``catalogues/guangzhou-demo/catalogue.toml``: the manifest is rendered from these
definitions (see ``manifest.py``), and the row generators produce exactly the fields
listed here, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final


@dataclass(frozen=True)
class FieldDef:
    name: str
    title_zh: str
    title_en: str
    type: str
    unit: str = ""
    description: str = ""
    sensitivity: str = "L1"
    mask: str | None = None


@dataclass(frozen=True)
class ResourceDef:
    id: str
    title_zh: str
    title_en: str
    description_zh: str
    format: str
    path: str
    fields: tuple[FieldDef, ...]
    primary_key: str | None = None
    subject_key: str | None = None
    # Markers of a missing value in the file (docs/catalogue-format.md), and the files of
    # earlier releases, oldest first, replayed as versions on the first load.
    missing_values: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    # Quality rules (docs/quality.md): cross-field checks, and (field, dataset/resource, key) references.
    checks: tuple[str, ...] = ()
    references: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class DatasetDef:
    id: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    domain: str
    publisher: str
    open_level: str
    tags: tuple[str, ...]
    update_frequency: str
    version: str
    source_system: str
    update_mechanism: str
    usage_notes: str
    resource: ResourceDef
    industry_code: str | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    issued: date = date(2023, 6, 1)
    # None: the data is as current as its load (on time); a date long past makes it overdue.
    modified: date | None = None
    quality_standard: str = "GB/T 36344-2018"
    spatial_coverage: str = "广州市"
    contact: str | None = None

    @property
    def licence(self) -> str:
        return LICENCES[self.open_level]


F = FieldDef

CATALOGUE: Final = {
    "id": "guangzhou-demo",
    "title_zh": "广州市公共数据开放目录（演示）",
    "title_en": "Guangzhou Public Data Catalogue (demo)",
    "description_zh": (
        "面向广州市公共数据开放平台的演示目录，按数据领域分类、按开放属性分级，覆盖交通、医疗卫生、教育、"
        "生态环境、市场监管、城市建设、文化旅游、农业农村、财税金融、社会保障和信用服务等领域。"
        "所有数据均为程序按固定随机种子合成的演示数据：区、街镇、道路和国控监测站点名称取自真实地名，"
        "机构、企业、人员、编号和数值均为虚构，不代表真实情况。"
    ),
    "description_en": (
        "Demo catalogue for the Guangzhou public data open platform, classified by domain and graded "
        "by open level. All rows are synthetic, generated from a fixed seed: district, street, road "
        "and monitoring-station names are real places, every organisation, enterprise, person, "
        "identifier and measurement is fictitious."
    ),
}

PUBLISHERS: Final = (
    {"id": "gz-transport", "name_zh": "广州市交通运输局", "name_en": "Guangzhou Municipal Transport Bureau",
     "website": "https://jtj.gz.gov.cn/"},
    {"id": "gz-health", "name_zh": "广州市卫生健康委员会", "name_en": "Guangzhou Municipal Health Commission",
     "website": "https://wjw.gz.gov.cn/"},
    {"id": "gz-education", "name_zh": "广州市教育局", "name_en": "Guangzhou Municipal Education Bureau",
     "website": "https://jyj.gz.gov.cn/"},
    {"id": "gz-ecology", "name_zh": "广州市生态环境局",
     "name_en": "Guangzhou Municipal Ecology and Environment Bureau", "website": "https://sthjj.gz.gov.cn/"},
    {"id": "gz-market", "name_zh": "广州市市场监督管理局",
     "name_en": "Guangzhou Municipal Administration for Market Regulation", "website": "https://scjgj.gz.gov.cn/"},
    {"id": "gz-housing", "name_zh": "广州市住房和城乡建设局",
     "name_en": "Guangzhou Municipal Housing and Urban-Rural Development Bureau",
     "website": "https://zfcj.gz.gov.cn/"},
    {"id": "gz-culture", "name_zh": "广州市文化广电旅游局",
     "name_en": "Guangzhou Municipal Bureau of Culture, Radio, Television and Tourism",
     "website": "https://wglj.gz.gov.cn/"},
    {"id": "gz-agriculture", "name_zh": "广州市农业农村局",
     "name_en": "Guangzhou Municipal Agriculture and Rural Affairs Bureau", "website": "https://nyncj.gz.gov.cn/"},
    {"id": "gz-tax", "name_zh": "国家税务总局广州市税务局",
     "name_en": "Guangzhou Municipal Tax Service, State Taxation Administration"},
    {"id": "gz-hrss", "name_zh": "广州市人力资源和社会保障局",
     "name_en": "Guangzhou Municipal Human Resources and Social Security Bureau",
     "website": "https://rsj.gz.gov.cn/"},
)
for _publisher in PUBLISHERS:
    _publisher["contact"] = "广州市政务服务便民热线 12345"

LICENCES: Final = {
    "unconditional": "gz-open-data-1.0",
    "conditional": "gz-conditional-data-1.0",
    "closed": "gz-closed-data-1.0",
}

SYNTHETIC_NOTE: Final = "（演示数据：由程序合成，机构、人员与数值均为虚构。）"

# --- shared field definitions ---------------------------------------------------------------

def _district() -> FieldDef:
    return F("district", "所属区", "District", "string", description="广州市行政区名称，如 天河区")


def _address() -> FieldDef:
    return F("address", "地址", "Address", "string")


def _lon() -> FieldDef:
    return F("longitude", "经度", "Longitude", "number", "度", "WGS-84 经度（合成坐标，仅供演示）")


def _lat() -> FieldDef:
    return F("latitude", "纬度", "Latitude", "number", "度", "WGS-84 纬度（合成坐标，仅供演示）")


def _phone() -> FieldDef:
    return F("phone", "联系电话", "Telephone", "string")


def _credit_code(name: str = "credit_code", zh: str = "统一社会信用代码",
                 en: str = "Unified social credit code", sensitivity: str = "L1") -> FieldDef:
    return F(name, zh, en, "string", description="18 位统一社会信用代码（GB 32100-2015），含有效校验码",
             sensitivity=sensitivity)


def _enterprise_name(sensitivity: str = "L1") -> FieldDef:
    return F("enterprise_name", "企业名称", "Enterprise name", "string", sensitivity=sensitivity)


# --- the datasets -------------------------------------------------------------------------------
