"""Portal strings of the dataset page's map, line chart and related datasets:
key -> (中文, English)."""

from __future__ import annotations

VISUAL_MESSAGES: dict[str, tuple[str, str]] = {
    "related.heading": ("相关数据集", "Related datasets"),
    "related.none": ("没有标签、领域或数源部门相同的数据集。", "No dataset shares a tag, the domain or the publisher."),
    "related.tags": ("相同标签：{tags}", "Shared tags: {tags}"),
    "related.domain": ("同属{domain}领域", "Also {domain}"),
    "related.publisher": ("同一数源部门", "Same publisher"),
}
