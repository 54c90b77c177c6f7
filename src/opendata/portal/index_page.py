"""The open-data index page (数据开放指数): figures per department and domain, as SVG charts."""

from __future__ import annotations

from litestar import Response, get

from opendata.catalogue import vocabulary as vocab
from opendata.deps import DbSession
from opendata.numbers import ascii_digits
from opendata.portal import charts
from opendata.portal.index_data import DEFAULT_PERIOD, OPEN_LEVELS, PERIODS, Group, OpenIndex, build_index
from opendata.portal.page import Page, PortalPage, url_with


def _name(page: PortalPage, group: Group) -> str:
    return page.t.pick(group.name_zh, group.name_en)


def _charts(page: PortalPage, index: OpenIndex) -> dict[str, object]:
    t = page.t
    level_names = {level: t.open_level(level) for level in OPEN_LEVELS}

    def mix(groups: list[Group], title: str) -> object:
        return charts.stacked_bar_chart(
            [charts.StackedBar(_name(page, g), [charts.Segment(level, level_names[level], g.levels[level])
                                                for level in OPEN_LEVELS]) for g in groups],
            title=title)

    def bars(groups: list[Group], attribute: str, title: str, *, unit: str = "", maximum: float | None = None,
             css: str = "bar", link: str | None = None) -> object:
        """A ranking: the largest value first."""
        ranked = sorted(groups, key=lambda g: -getattr(g, attribute))
        return charts.bar_chart(
            [charts.Bar(_name(page, g), getattr(g, attribute),
                        url_with("/datasets", [], **{link: g.key}) if link else None) for g in ranked],
            title=title, unit=unit, maximum=maximum, css=css)

    pubs, doms = index.publishers, index.domains
    return {
        "publisher_mix": mix(pubs, t("index.chart.publisher_mix")),
        "domain_mix": mix(doms, t("index.chart.domain_mix")),
        "publisher_downloads": bars(pubs, "downloads", t("index.chart.publisher_downloads"), css="download"),
        "publisher_api": bars(pubs, "api_calls", t("index.chart.publisher_api"), css="api"),
        "domain_downloads": bars(doms, "downloads", t("index.chart.domain_downloads"), css="download", link="domain"),
        "publisher_completeness": bars(pubs, "completeness", t("index.chart.publisher_completeness"), unit="%",
                                       maximum=100, css="complete"),
        "domain_completeness": bars(doms, "completeness", t("index.chart.domain_completeness"), unit="%",
                                    maximum=100, css="complete"),
        "daily": charts.column_chart(
            [(day.strftime("%m-%d"), {"download": downloads, "api": api}) for day, downloads, api in index.days],
            [("download", t("index.downloads")), ("api", t("index.api_calls"))],
            title=t("index.chart.daily")),
    }


@get("/open-index", name="portal-open-index", sync_to_thread=True)
def open_index(page: Page, db_session: DbSession) -> Response:
    raw = page.request.query_params.get("days", str(DEFAULT_PERIOD))
    days = ascii_digits(raw, 4)
    days = days if days in PERIODS else DEFAULT_PERIOD
    names = {term.code: (term.zh, term.en) for term in vocab.DOMAINS}
    index = build_index(db_session, days, names)
    return page.render(
        "open_index.html", nav="index", index=index, days=days,
        periods=[(p, url_with("/open-index", [], days=p)) for p in PERIODS],
        charts=_charts(page, index), levels=OPEN_LEVELS, name_of=lambda g: _name(page, g),
    )


HANDLERS = [open_index]
