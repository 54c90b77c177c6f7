"""What the shipped demo catalogue says about itself: publishers, datasets, data dictionaries.

This is the single source of ``catalogues/guangzhou-demo/catalogue.toml``: the manifest is
rendered from these definitions (see ``manifest.py``), and the row generators produce
exactly the fields listed here, in this order.
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
    modified: date = date(2024, 11, 1)
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

DATASETS: Final = (
    DatasetDef(
        id="bus-stops",
        title_zh="广州市公交站点",
        title_en="Guangzhou bus stops",
        description_zh="全市常规公交站点的名称、所在道路、经纬度、途经线路及候车亭设置情况。" + SYNTHETIC_NOTE,
        description_en="Name, road, coordinates, routes served and shelter of every regular bus stop. "
                       "Synthetic demo data.",
        domain="transport", publisher="gz-transport", open_level="unconditional", industry_code="G5411",
        tags=("公交", "站点", "公共交通", "线路", "bus", "transit"),
        update_frequency="monthly", version="1.2.0",
        source_system="广州市公交智能调度系统", update_mechanism="每月自动同步",
        usage_notes="坐标为 WGS-84；同名站点按行车方向分设，以站点编号区分。",
        resource=ResourceDef(
            id="stops", title_zh="公交站点表", title_en="Bus stops",
            description_zh="每行一个公交站点（按行车方向区分）。", format="csv", path="data/bus-stops.csv",
            primary_key="stop_id",
            fields=(
                F("stop_id", "站点编号", "Stop ID", "string"),
                F("stop_name", "站点名称", "Stop name", "string"),
                _district(),
                F("road", "所在道路", "Road", "string"),
                _lon(), _lat(),
                F("routes", "途经线路", "Routes", "string", description="以“、”分隔的线路名称"),
                F("route_count", "途经线路数", "Number of routes", "integer", "条"),
                F("has_shelter", "是否设候车亭", "Has shelter", "boolean"),
                F("is_terminal", "是否总站", "Is terminal", "boolean"),
            ),
        ),
    ),
    DatasetDef(
        id="medical-institutions",
        title_zh="广州市医疗机构名录",
        title_en="Guangzhou medical institutions",
        description_zh="全市医院、社区卫生服务中心、乡镇卫生院、门诊部和诊所的类别、等级、床位数及医保定点情况。"
                       + SYNTHETIC_NOTE,
        description_en="Hospitals, community health centres, township health centres, outpatient "
                       "departments and clinics with category, grade, beds and medical-insurance "
                       "designation. Synthetic demo data.",
        domain="health", publisher="gz-health", open_level="unconditional",
        tags=("医疗机构", "医院", "社区卫生", "医保定点", "hospital", "clinic"),
        update_frequency="quarterly", version="2.0.1",
        source_system="医疗机构电子化注册系统", update_mechanism="每季度由注册系统导出后人工审核发布",
        usage_notes="医院等级以卫生健康行政部门评审结果为准；床位数为核定床位。",
        resource=ResourceDef(
            id="institutions", title_zh="医疗机构表", title_en="Medical institutions",
            description_zh="每行一家医疗机构。", format="csv", path="data/medical-institutions.csv",
            primary_key="institution_id",
            fields=(
                F("institution_id", "机构编号", "Institution ID", "string"),
                F("name", "机构名称", "Name", "string"),
                F("category", "机构类别", "Category", "string", description="综合医院、专科医院、中医医院、"
                  "妇幼保健院、社区卫生服务中心、乡镇卫生院、门诊部、诊所"),
                F("grade", "医院等级", "Grade", "string", description="三级甲等 … 一级、未定级"),
                F("ownership", "经营性质", "Ownership", "string", description="公立 或 民营"),
                _district(), _address(), _phone(),
                F("beds", "核定床位数", "Approved beds", "integer", "张"),
                F("insurance_designated", "是否医保定点", "Medical-insurance designated", "boolean"),
                _lon(), _lat(),
            ),
        ),
    ),
    DatasetDef(
        id="schools",
        title_zh="广州市中小学校及幼儿园名录",
        title_en="Guangzhou schools and kindergartens",
        description_zh="全市幼儿园、小学、中学、九年一贯制学校、中等职业学校和特殊教育学校的办学性质、规模及"
                       "办学许可有效期（Excel 发布）。" + SYNTHETIC_NOTE,
        description_en="Kindergartens, primary, secondary, vocational and special-education schools "
                       "with ownership, size and licence validity, published as an Excel workbook. "
                       "Synthetic demo data.",
        domain="education", publisher="gz-education", open_level="unconditional",
        tags=("学校", "幼儿园", "中小学", "办学许可", "school", "education"),
        update_frequency="yearly", version="2024.1", issued=date(2022, 9, 1), modified=date(2024, 9, 10),
        temporal_start=date(2024, 9, 1), temporal_end=date(2025, 8, 31),
        source_system="教育事业统计信息系统", update_mechanism="每学年初按教育事业统计口径更新",
        usage_notes="学校标识码为教育部统一编码格式；学生数、教职工数为学年初统计数。",
        resource=ResourceDef(
            id="schools", title_zh="学校名录", title_en="Schools",
            description_zh="每行一所学校或幼儿园。", format="xlsx", path="data/schools.xlsx",
            primary_key="school_id",
            fields=(
                F("school_id", "学校标识码", "School ID", "string"),
                F("name", "学校名称", "Name", "string"),
                F("stage", "办学类型", "Type", "string"),
                F("ownership", "办学性质", "Ownership", "string", description="公办 或 民办"),
                _district(), _address(), _phone(),
                F("founded_year", "创办年份", "Year founded", "integer", "年"),
                F("campus_area", "占地面积", "Campus area", "decimal", "平方米"),
                F("class_count", "班级数", "Classes", "integer", "个"),
                F("student_count", "在校生数", "Students", "integer", "人"),
                F("teacher_count", "专任教师数", "Teachers", "integer", "人"),
                F("boarding", "是否寄宿制", "Boarding", "boolean"),
                F("license_valid_until", "办学许可证有效期至", "Licence valid until", "date"),
            ),
        ),
    ),
    DatasetDef(
        id="air-quality-daily",
        title_zh="广州市环境空气质量日报（国控站点）",
        title_en="Daily air quality at Guangzhou's national monitoring stations",
        description_zh="11 个国控环境空气质量监测站点逐日的空气质量指数（AQI）、首要污染物、空气质量级别及六项"
                       "污染物浓度，AQI 按 HJ 633-2012 计算。" + SYNTHETIC_NOTE,
        description_en="Daily AQI, primary pollutant, quality level and the six pollutant concentrations "
                       "at the 11 national monitoring stations; AQI computed per HJ 633-2012. Synthetic "
                       "demo data.",
        domain="environment", publisher="gz-ecology", open_level="unconditional",
        tags=("空气质量", "AQI", "PM2.5", "臭氧", "监测站点", "air quality"),
        update_frequency="daily", version="2024.12", modified=date(2025, 1, 2),
        temporal_start=date(2024, 1, 1), temporal_end=date(2024, 12, 31),
        source_system="广东省环境空气质量监测网络", update_mechanism="每日自动汇总前一日数据",
        quality_standard="HJ 633-2012",
        usage_notes="AQI ≤ 50 时不计首要污染物（字段为空）；CO 单位为 mg/m³，其余为 μg/m³；臭氧为日最大 8 小时平均。",
        resource=ResourceDef(
            id="daily", title_zh="站点空气质量日数据", title_en="Daily station readings",
            description_zh="每行一个站点一天。", format="csv", path="data/air-quality-daily.csv",
            fields=(
                F("station_id", "站点编码", "Station ID", "string"),
                F("station_name", "站点名称", "Station name", "string"),
                _district(),
                F("monitor_date", "监测日期", "Date", "date"),
                F("aqi", "空气质量指数", "AQI", "integer"),
                F("quality_level", "空气质量级别", "Quality level", "string", description="优、良、轻度污染、"
                  "中度污染、重度污染、严重污染"),
                F("primary_pollutant", "首要污染物", "Primary pollutant", "string",
                  description="AQI 大于 50 时 IAQI 最大的污染物，并列时以逗号分隔；AQI ≤ 50 时为空"),
                F("pm25", "PM2.5 日均浓度", "PM2.5 (24 h)", "integer", "μg/m³"),
                F("pm10", "PM10 日均浓度", "PM10 (24 h)", "integer", "μg/m³"),
                F("o3_8h", "臭氧日最大 8 小时均值", "O3 (max 8 h)", "integer", "μg/m³"),
                F("no2", "二氧化氮日均浓度", "NO2 (24 h)", "integer", "μg/m³"),
                F("so2", "二氧化硫日均浓度", "SO2 (24 h)", "integer", "μg/m³"),
                F("co", "一氧化碳日均浓度", "CO (24 h)", "number", "mg/m³"),
            ),
        ),
    ),
    DatasetDef(
        id="enterprise-registrations",
        title_zh="广州市企业登记注册信息",
        title_en="Guangzhou enterprise registrations",
        description_zh="在广州市登记的企业及农民专业合作社的统一社会信用代码、名称、法定代表人、类型、注册资本、"
                       "成立日期、行业、住所和登记状态。" + SYNTHETIC_NOTE,
        description_en="Unified social credit code, name, legal representative, type, registered capital, "
                       "date of establishment, industry, address and status of enterprises registered in "
                       "Guangzhou. Synthetic demo data.",
        domain="market", publisher="gz-market", open_level="unconditional",
        tags=("企业", "商事登记", "统一社会信用代码", "市场主体", "enterprise", "registration"),
        update_frequency="weekly", version="3.1.0",
        source_system="广东省市场监管主体登记系统", update_mechanism="每周增量同步",
        usage_notes="法定代表人姓名已脱敏；行业代码为 GB/T 4754-2017 小类；注册资本单位为万元人民币。",
        resource=ResourceDef(
            id="registrations", title_zh="企业登记信息表", title_en="Enterprise registrations",
            description_zh="每行一个市场主体。", format="csv", path="data/enterprise-registrations.csv",
            primary_key="credit_code", subject_key="credit_code",
            fields=(
                _credit_code(), _enterprise_name(),
                F("legal_representative", "法定代表人", "Legal representative", "string",
                  sensitivity="L2", mask="keep_first:1"),
                F("enterprise_type", "企业类型", "Enterprise type", "string"),
                F("registered_capital", "注册资本", "Registered capital", "decimal", "万元"),
                F("establishment_date", "成立日期", "Date established", "date"),
                F("industry_code", "行业代码", "Industry code", "string", description="GB/T 4754-2017"),
                F("industry_name", "行业名称", "Industry", "string"),
                _district(),
                F("address", "住所", "Registered address", "string"),
                F("business_status", "登记状态", "Status", "string", description="存续、在业、注销、吊销、迁出"),
                F("registration_authority", "登记机关", "Registration authority", "string"),
            ),
        ),
    ),
    DatasetDef(
        id="construction-permits",
        title_zh="广州市建筑工程施工许可信息",
        title_en="Guangzhou construction permits",
        description_zh="2024 年核发的房屋建筑和市政基础设施工程施工许可证：项目、建设单位、施工单位、建筑面积、"
                       "合同价格及计划工期。" + SYNTHETIC_NOTE,
        description_en="Building and municipal-infrastructure construction permits issued in 2024: "
                       "project, developer, contractor, floor area, contract price and planned dates. "
                       "Synthetic demo data.",
        domain="urban", publisher="gz-housing", open_level="unconditional", industry_code="E47",
        tags=("施工许可", "建筑工程", "建设单位", "施工单位", "construction", "permit"),
        update_frequency="monthly", version="1.0.3",
        temporal_start=date(2024, 1, 1), temporal_end=date(2024, 10, 31),
        source_system="广州市建设工程项目审批管理系统", update_mechanism="每月汇总当月核发的许可证",
        usage_notes="市政基础设施工程的建筑面积填 0；合同价格单位为万元。",
        resource=ResourceDef(
            id="permits", title_zh="施工许可证表", title_en="Construction permits",
            description_zh="每行一张施工许可证。", format="csv", path="data/construction-permits.csv",
            primary_key="permit_no", subject_key="contractor_credit_code",
            fields=(
                F("permit_no", "施工许可证编号", "Permit number", "string"),
                F("project_name", "项目名称", "Project", "string"),
                F("project_type", "工程类别", "Project type", "string"),
                F("builder_name", "建设单位", "Developer", "string"),
                _credit_code("builder_credit_code", "建设单位统一社会信用代码", "Developer credit code"),
                F("contractor_name", "施工单位", "Contractor", "string"),
                _credit_code("contractor_credit_code", "施工单位统一社会信用代码", "Contractor credit code"),
                _district(),
                F("address", "建设地址", "Site address", "string"),
                F("floor_area", "建筑面积", "Floor area", "decimal", "平方米"),
                F("contract_amount", "合同价格", "Contract price", "decimal", "万元"),
                F("issue_date", "发证日期", "Date issued", "date"),
                F("planned_start", "计划开工日期", "Planned start", "date"),
                F("planned_end", "计划竣工日期", "Planned completion", "date"),
            ),
        ),
    ),
    DatasetDef(
        id="public-libraries",
        title_zh="广州市公共图书馆服务网点",
        title_en="Guangzhou public library service points",
        description_zh="“图书馆之城”总分馆体系中的中心馆、区总馆、镇街分馆、村居服务点和 24 小时自助图书馆的"
                       "面积、馆藏、座位和开放时间。" + SYNTHETIC_NOTE,
        description_en="Central, district, sub-district and community libraries and 24-hour self-service "
                       "libraries with floor area, holdings, seats and opening hours. Synthetic demo data.",
        domain="culture_tourism", publisher="gz-culture", open_level="unconditional",
        tags=("图书馆", "公共文化", "总分馆", "自助图书馆", "library", "culture"),
        update_frequency="quarterly", version="1.1.0",
        source_system="广州市公共图书馆总分馆管理平台", update_mechanism="每季度由中心馆汇总发布",
        usage_notes="馆藏量含纸质图书和报刊合订本；自助图书馆不设座位。",
        resource=ResourceDef(
            id="libraries", title_zh="图书馆服务网点表", title_en="Library service points",
            description_zh="每行一个服务网点。", format="csv", path="data/public-libraries.csv",
            primary_key="library_id",
            fields=(
                F("library_id", "网点编号", "Library ID", "string"),
                F("name", "网点名称", "Name", "string"),
                F("library_type", "网点类型", "Type", "string"),
                _district(), _address(),
                F("floor_area", "建筑面积", "Floor area", "decimal", "平方米"),
                F("collection_volumes", "馆藏量", "Holdings", "integer", "册"),
                F("seats", "阅览座位数", "Seats", "integer", "个"),
                F("weekly_open_hours", "每周开放时长", "Opening hours per week", "integer", "小时"),
                F("open_24h", "是否 24 小时开放", "Open 24 hours", "boolean"),
                _phone(), _lon(), _lat(),
            ),
        ),
    ),
    DatasetDef(
        id="public-parking",
        title_zh="广州市公共停车场信息",
        title_en="Guangzhou public parking facilities",
        description_zh="路外公共停车场、建筑物配建停车场、立体机械停车库和路内临时泊位的泊位数、充电桩泊位、"
                       "首小时收费标准及采集时刻的空余泊位。" + SYNTHETIC_NOTE,
        description_en="Off-street, building-attached, mechanical and on-street parking with spaces, EV "
                       "charging spaces, first-hour rate and free spaces at snapshot time. Synthetic demo data.",
        domain="transport", publisher="gz-transport", open_level="unconditional",
        tags=("停车场", "泊位", "充电桩", "静态交通", "parking"),
        update_frequency="daily", version="1.4.2",
        source_system="广州市智慧停车管理平台", update_mechanism="每日同步一次泊位快照",
        usage_notes="空余泊位为 updated_at 时刻的快照，实时数据请使用停车诱导接口。",
        resource=ResourceDef(
            id="lots", title_zh="停车场表", title_en="Parking facilities",
            description_zh="每行一个停车场或一段路内泊位。", format="csv", path="data/public-parking.csv",
            primary_key="parking_id",
            fields=(
                F("parking_id", "停车场编号", "Parking ID", "string"),
                F("name", "停车场名称", "Name", "string"),
                F("lot_type", "停车场类型", "Type", "string"),
                _district(), _address(),
                F("total_spaces", "总泊位数", "Spaces", "integer", "个"),
                F("ev_charging_spaces", "充电泊位数", "EV charging spaces", "integer", "个"),
                F("available_spaces", "空余泊位数", "Free spaces", "integer", "个"),
                F("first_hour_rate", "首小时收费", "First-hour rate", "decimal", "元"),
                F("open_24h", "是否 24 小时开放", "Open 24 hours", "boolean"),
                F("operator", "经营单位", "Operator", "string"),
                F("updated_at", "数据采集时间", "Snapshot time", "datetime", description="北京时间"),
                _lon(), _lat(),
            ),
        ),
    ),
    DatasetDef(
        id="agri-wholesale-prices",
        title_zh="广州市主要农产品批发价格（周报）",
        title_en="Weekly wholesale prices of main agricultural products in Guangzhou",
        description_zh="江南果菜批发市场和黄沙水产交易市场主要蔬菜、水果、肉禽蛋和水产品每周一的最低价、平均价、"
                       "最高价及交易量。" + SYNTHETIC_NOTE,
        description_en="Monday minimum, average and maximum wholesale prices and volumes of vegetables, "
                       "fruit, meat, eggs and aquatic products at two wholesale markets. Synthetic demo data.",
        domain="agriculture", publisher="gz-agriculture", open_level="unconditional", industry_code="F512",
        tags=("农产品", "批发价格", "菜篮子", "蔬菜", "水产", "prices"),
        update_frequency="weekly", version="2024.53", modified=date(2025, 1, 2),
        temporal_start=date(2024, 1, 1), temporal_end=date(2024, 12, 30),
        source_system="广州市农产品市场价格监测系统", update_mechanism="每周一采集，次日发布",
        usage_notes="价格单位为元/公斤；交易量为当日估算值。",
        resource=ResourceDef(
            id="prices", title_zh="批发价格表", title_en="Wholesale prices",
            description_zh="每行一个市场、一天、一个品种。", format="csv", path="data/agri-wholesale-prices.csv",
            fields=(
                F("market_name", "批发市场", "Market", "string"),
                F("price_date", "价格日期", "Date", "date"),
                F("product_name", "品种", "Product", "string"),
                F("category", "类别", "Category", "string"),
                F("origin", "主要产地", "Main origin", "string"),
                F("min_price", "最低价", "Minimum price", "decimal", "元/公斤"),
                F("avg_price", "平均价", "Average price", "decimal", "元/公斤"),
                F("max_price", "最高价", "Maximum price", "decimal", "元/公斤"),
                F("volume_tonnes", "交易量", "Volume", "number", "吨"),
            ),
        ),
    ),
    DatasetDef(
        id="tax-credit-ratings",
        title_zh="企业纳税信用等级评价结果",
        title_en="Enterprise tax credit ratings",
        description_zh="广州市企业 2021—2023 年度纳税信用等级（A、B、M、C、D）及评价得分。" + SYNTHETIC_NOTE,
        description_en="Tax credit rating (A, B, M, C, D) and score of Guangzhou enterprises for 2021-2023. "
                       "Synthetic demo data.",
        domain="finance", publisher="gz-tax", open_level="conditional",
        tags=("纳税信用", "信用等级", "税务", "银税互动", "tax", "credit rating"),
        update_frequency="yearly", version="2023.1", issued=date(2022, 4, 30), modified=date(2024, 4, 30),
        temporal_start=date(2021, 1, 1), temporal_end=date(2023, 12, 31),
        source_system="金税三期税收管理系统", update_mechanism="每年 4 月发布上一年度评价结果",
        usage_notes="仅限经授权用于企业信贷（银税互动）等场景；M 级为新设立企业；D 级含直接判级。",
        resource=ResourceDef(
            id="ratings", title_zh="纳税信用等级表", title_en="Tax credit ratings",
            description_zh="每行一个企业一个评价年度。", format="csv", path="data/tax-credit-ratings.csv",
            subject_key="credit_code",
            fields=(
                _credit_code(), _enterprise_name(),
                F("year", "评价年度", "Year", "integer", "年"),
                F("rating", "纳税信用等级", "Rating", "string", description="A、B、M、C、D", sensitivity="L2"),
                F("score", "评价得分", "Score", "decimal", "分", sensitivity="L2"),
                F("tax_authority", "主管税务机关", "Tax office", "string"),
            ),
        ),
    ),
    DatasetDef(
        id="social-insurance-headcounts",
        title_zh="企业社会保险参保人数（月度）",
        title_en="Enterprise social-insurance headcount by month",
        description_zh="参保单位按月的社会保险参保人数和缴费总额（单位与个人合计）。" + SYNTHETIC_NOTE,
        description_en="Monthly insured headcount and total contributions (employer and employee) per "
                       "enterprise. Synthetic demo data.",
        domain="social_security", publisher="gz-hrss", open_level="conditional",
        tags=("社会保险", "参保人数", "就业", "社保", "social insurance", "employment"),
        update_frequency="monthly", version="2024.10", issued=date(2023, 12, 15), modified=date(2024, 11, 15),
        temporal_start=date(2023, 11, 1), temporal_end=date(2024, 10, 31),
        source_system="广东省社会保险信息系统", update_mechanism="每月 15 日发布上月数据",
        usage_notes="月份字段为当月 1 日；仅限经授权的普惠金融、就业监测场景使用，不得反推个人信息。",
        resource=ResourceDef(
            id="headcounts", title_zh="参保人数月度表", title_en="Monthly headcounts",
            description_zh="每行一个企业一个月。", format="csv", path="data/social-insurance-headcounts.csv",
            subject_key="credit_code",
            fields=(
                _credit_code(),
                F("month", "月份", "Month", "date", description="当月 1 日"),
                F("headcount", "参保人数", "Insured headcount", "integer", "人", sensitivity="L2"),
                F("contribution_total", "缴费总额", "Total contributions", "decimal", "元", sensitivity="L3"),
            ),
        ),
    ),
    DatasetDef(
        id="administrative-penalties",
        title_zh="市场监管行政处罚信息",
        title_en="Market-regulation administrative penalties",
        description_zh="市、区市场监督管理部门作出的行政处罚决定：文书号、当事人、处罚种类、罚没金额、处罚日期、"
                       "违法事实和处罚依据。" + SYNTHETIC_NOTE,
        description_en="Administrative penalty decisions of the city and district market-regulation "
                       "authorities: decision number, party, penalty, amount, date, facts and legal basis. "
                       "Synthetic demo data.",
        domain="credit", publisher="gz-market", open_level="conditional",
        tags=("行政处罚", "信用", "双公示", "市场监管", "penalty", "credit"),
        update_frequency="weekly", version="2.3.0",
        temporal_start=date(2022, 1, 1), temporal_end=date(2024, 10, 31),
        source_system="广东省市场监管行政执法办案系统", update_mechanism="处罚决定作出后 7 个工作日内推送",
        usage_notes="罚没金额单位为元，警告类处罚金额为 0；违法事实可能含多行文本和引号。",
        resource=ResourceDef(
            id="penalties", title_zh="行政处罚决定表", title_en="Penalty decisions",
            description_zh="每行一份行政处罚决定书。", format="csv", path="data/administrative-penalties.csv",
            primary_key="decision_no", subject_key="credit_code",
            fields=(
                F("decision_no", "处罚决定书文号", "Decision number", "string"),
                _credit_code(), _enterprise_name(),
                F("penalty_type", "处罚种类", "Penalty", "string"),
                F("amount", "罚没金额", "Amount", "decimal", "元"),
                F("decision_date", "处罚决定日期", "Decision date", "date"),
                F("reason", "违法事实", "Facts", "string"),
                F("legal_basis", "处罚依据", "Legal basis", "string"),
                F("authority", "处罚机关", "Authority", "string"),
            ),
        ),
    ),
    DatasetDef(
        id="personal-social-insurance",
        title_zh="个人社会保险缴费基数",
        title_en="Personal social-insurance contribution bases",
        description_zh="参保人按月的缴费基数、个人缴纳的养老和医疗保险费及参保单位。不予开放，仅通过密文核验"
                       "（如银行核验贷款申请人申报的缴费基数）提供服务。" + SYNTHETIC_NOTE,
        description_en="Monthly contribution base, personal pension and medical contributions and employer "
                       "of insured persons. Closed: only encrypted verification services (e.g. a bank "
                       "verifying an applicant's declared base) may use it. Synthetic demo data.",
        domain="social_security", publisher="gz-hrss", open_level="closed",
        tags=("社会保险", "缴费基数", "个人信息", "核验", "social insurance", "contribution base"),
        update_frequency="monthly", version="2024.10", issued=date(2023, 12, 15), modified=date(2024, 11, 15),
        temporal_start=date(2023, 11, 1), temporal_end=date(2024, 10, 31),
        source_system="广东省社会保险信息系统", update_mechanism="每月 15 日同步上月缴费明细",
        usage_notes="含个人敏感信息，原始数据不出域；基数上下限为演示用示意值。",
        resource=ResourceDef(
            id="bases", title_zh="个人缴费基数表", title_en="Contribution bases",
            description_zh="每行一名参保人一个月。", format="csv", path="data/personal-social-insurance.csv",
            subject_key="id_number",
            fields=(
                F("id_number", "公民身份号码", "ID number", "string", description="18 位（GB 11643）",
                  sensitivity="L4", mask="keep_first_last:6:4"),
                F("name", "姓名", "Name", "string", sensitivity="L3", mask="keep_first:1"),
                _credit_code("employer_credit_code", "参保单位统一社会信用代码", "Employer credit code", "L2"),
                F("employer_name", "参保单位名称", "Employer", "string", sensitivity="L2"),
                F("month", "费款所属期", "Month", "date", description="当月 1 日", sensitivity="L2"),
                F("contribution_base", "缴费基数", "Contribution base", "decimal", "元", sensitivity="L3"),
                F("pension_personal", "养老保险个人缴费", "Personal pension contribution", "decimal", "元",
                  description="缴费基数 × 8%", sensitivity="L3"),
                F("medical_personal", "医疗保险个人缴费", "Personal medical contribution", "decimal", "元",
                  description="缴费基数 × 2%", sensitivity="L3"),
                F("payment_status", "缴费状态", "Payment status", "string", description="正常 或 补缴",
                  sensitivity="L2"),
            ),
        ),
    ),
    DatasetDef(
        id="enterprise-tax-payments",
        title_zh="企业年度纳税情况",
        title_en="Annual enterprise tax payments",
        description_zh="企业 2022—2023 年度开票销售收入及增值税、企业所得税和其他税费实缴金额。不予开放，"
                       "仅用于密文核验和授权模型计算。" + SYNTHETIC_NOTE,
        description_en="Invoiced revenue and VAT, corporate income tax and other taxes paid per enterprise "
                       "for 2022-2023. Closed: used only for encrypted verification and authorised model "
                       "computations. Synthetic demo data.",
        domain="finance", publisher="gz-tax", open_level="closed",
        tags=("纳税", "税收", "开票收入", "企业经营", "tax", "revenue"),
        update_frequency="yearly", version="2023.1", issued=date(2023, 6, 30), modified=date(2024, 6, 30),
        temporal_start=date(2022, 1, 1), temporal_end=date(2023, 12, 31),
        source_system="金税三期税收管理系统", update_mechanism="每年汇算清缴结束后更新",
        usage_notes="涉及纳税人商业秘密，原始数据不出域。",
        resource=ResourceDef(
            id="payments", title_zh="年度纳税表", title_en="Annual tax payments",
            description_zh="每行一个企业一个年度。", format="csv", path="data/enterprise-tax-payments.csv",
            subject_key="credit_code",
            fields=(
                _credit_code(), _enterprise_name("L2"),
                F("year", "年度", "Year", "integer", "年", sensitivity="L2"),
                F("invoice_revenue", "开票销售收入", "Invoiced revenue", "decimal", "元", sensitivity="L3"),
                F("vat_paid", "增值税实缴", "VAT paid", "decimal", "元", sensitivity="L3"),
                F("cit_paid", "企业所得税实缴", "Corporate income tax paid", "decimal", "元", sensitivity="L3"),
                F("other_taxes_paid", "其他税费实缴", "Other taxes paid", "decimal", "元",
                  description="城市维护建设税、教育费附加、印花税等", sensitivity="L3"),
                F("total_tax_paid", "实缴税费合计", "Total taxes paid", "decimal", "元", sensitivity="L3"),
            ),
        ),
    ),
)

DATASET_BY_ID: Final = {d.id: d for d in DATASETS}
