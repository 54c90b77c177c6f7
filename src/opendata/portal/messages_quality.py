"""Portal strings of measured quality (docs/quality.md): key -> (中文, English)."""

from __future__ import annotations

QUALITY_MESSAGES: dict[str, tuple[str, str]] = {
    "quality.heading": ("数据质量", "Data quality"),
    "quality.score": ("质量评分", "Quality score"),
    "quality.none": ("尚无可测量的数据表。", "No table measured yet."),
    "quality.component": ("维度", "Component"),
    "quality.value": ("得分", "Score"),
    "quality.weight": ("权重", "Weight"),
    "quality.not_measured": ("未声明规则", "nothing declared"),
    "quality.completeness": ("完整性", "Completeness"),
    "quality.validity": ("有效性", "Validity"),
    "quality.uniqueness": ("唯一性", "Uniqueness"),
    "quality.consistency": ("一致性", "Consistency"),
    "quality.timeliness": ("及时性", "Timeliness"),
    "quality.status.on_time": ("按时更新", "On time"),
    "quality.status.overdue": ("更新逾期", "Overdue"),
    "quality.status.unknown": ("更新时间不明", "Last update unknown"),
    "quality.status.not_applicable": ("不定期 / 不更新", "No schedule"),
    "quality.last_update": ("最近更新 {last}，应于 {due} 前更新", "Last updated {last}, due by {due}"),
    "quality.days_overdue": ("已逾期 {n} 天", "{n} days overdue"),
    "quality.measured": ("测量于 {when}，共 {rows} 行", "Measured {when} over {rows} rows"),
    "quality.details": ("逐字段明细（JSON）", "Per-field detail (JSON)"),
    "quality.report": ("下载质量报告（Excel）", "Download the quality report (Excel)"),
    "quality.index_column": ("数据质量", "Quality"),
    "quality.index_note": ("数据质量为部门已测量数据集质量评分的平均值（0–100）。",
                           "Quality is the mean quality score (0–100) of the department's measured datasets."),
}
