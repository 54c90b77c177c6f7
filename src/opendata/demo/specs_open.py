"""The unconditionally open demo datasets (无条件开放): facilities, observations, registrations."""

from __future__ import annotations

from datetime import date
from typing import Final

from .specs import (
    DatasetDef,
    F,
    ResourceDef,
    SYNTHETIC_NOTE,
    _address,
    _credit_code,
    _district,
    _enterprise_name,
    _lat,
    _lon,
    _phone,
)

OPEN_DATASETS: Final = (
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
        usage_notes="AQI ≤ 50 时不计首要污染物（字段为空）；二氧化硫分析仪维护当日 so2 为缺失值（文件中写作 NA），"
                    "AQI 按其余五项计算；CO 单位为 mg/m³，其余为 μg/m³；臭氧为日最大 8 小时平均。",
        resource=ResourceDef(
            id="daily", title_zh="站点空气质量日数据", title_en="Daily station readings",
            description_zh="每行一个站点一天。", format="csv", path="data/air-quality-daily.csv",
            # the station's export writes NA for a day its SO2 analyser was being serviced
            missing_values=("", "NA"),
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
            checks=("planned_end >= planned_start", "planned_start >= issue_date", "contract_amount > 0"),
            references=(
                ("builder_credit_code", "enterprise-registrations/registrations", "credit_code"),
                ("contractor_credit_code", "enterprise-registrations/registrations", "credit_code"),
            ),
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
            # two earlier daily snapshots (generator.parking_history): lots opened, closed, re-priced
            history=("data/history/public-parking-1.csv", "data/history/public-parking-2.csv"),
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
)
