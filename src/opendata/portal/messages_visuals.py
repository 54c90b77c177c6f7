"""Portal strings of the dataset page's map, line chart and related datasets:
key -> (中文, English)."""

from __future__ import annotations

VISUAL_MESSAGES: dict[str, tuple[str, str]] = {
    "related.heading": ("相关数据集", "Related datasets"),
    "related.none": ("没有标签、领域或数源部门相同的数据集。", "No dataset shares a tag, the domain or the publisher."),
    "related.tags": ("相同标签：{tags}", "Shared tags: {tags}"),
    "series.lowest": ("最低", "min"),
    "series.highest": ("最高", "max"),
    "series.last": ("最新", "last"),
    "related.domain": ("同属{domain}领域", "Also {domain}"),
    "related.publisher": ("同一数源部门", "Same publisher"),
}

VISUAL_MESSAGES.update({
    "map.heading": ("地图", "Map"),
    "map.title": ("{title}：点位地图", "{title}: map of the points"),
    "map.desc": ("{n} 个点，按{lon}和{lat}绘制。", "{n} points drawn by {lon} and {lat}."),
    "map.all": ("显示全部 {n} 个点。", "All {n} points shown."),
    "map.sampled": ("显示 {n} 个点，从 {total} 个点中均匀抽样。", "{n} points shown, sampled evenly from {total}."),
    "map.no_outline": ("底图仅有经纬网和比例尺，不含行政区划边界。",
                       "The map has a graticule and a scale bar, no district boundaries."),
    "map.as_table": ("以表格查看点位", "The points as a table"),
    "map.table_caption": ("前 {n} 个点（全部数据请下载）", "The first {n} points (download for all of them)"),
    "map.empty": ("没有带经纬度的行。", "No row has both coordinates."),
    "series.heading": ("趋势图", "Chart over time"),
    "series.title": ("{title}：随时间变化", "{title} over time"),
    "series.note": ("横轴为{x}。", "Along {x}."),
    "series.monthly": ("日期过多，按月汇总。", "Too many dates: one point per month."),
    "series.agg_sum": ("同一日期的多行取合计：", "Rows of the same date are added up:"),
    "series.agg_avg": ("同一日期的多行取平均：", "Rows of the same date are averaged:"),
    "series.agg_name_sum": ("合计", "sum"),
    "series.agg_name_avg": ("平均", "mean"),
    "series.as_table": ("以表格查看数值", "The values as a table"),
    "series.empty": ("没有带日期的行。", "No row has a date."),
    "series.too_large": ("数据表超过 {n} 行，不在页面上绘制趋势图；请下载后分析。",
                         "The table has more than {n} rows: no chart on the page; download it to analyse."),
})
