"""The pages anyone sees: home, search with facets, dataset pages with preview and downloads."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from litestar.testing import TestClient

from opendata.portal.public import pager
from tests.portal.helpers import text_of


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_home_shows_figures_domains_publishers_and_newest(client: TestClient) -> None:
    client.get("/api/v1/datasets/bus-stops/resources/stops/download?format=csv")
    html = client.get("/").text
    text = text_of(html)
    assert '<form class="search-bar" method="get" action="/datasets"' in html
    assert 'data-testid="figure-datasets">5<' in html
    assert "无条件开放" in text and "有条件开放" in text and "不予开放" in text
    assert "交通 1 个数据集" in text and "社会保障 3 个数据集" in text
    assert "/datasets?domain=transport" in links(html) and "/datasets?publisher=gz-hrss" in links(html)
    most = text.split("下载排行")[1].split("数源部门")[0]
    assert "广州市公交站点" in most and "1 次下载" in most
    assert "广州市交通运输局" in text


def test_search_in_chinese_with_facets_and_badges(client: TestClient) -> None:
    html = client.get("/datasets?q=企业社保").text
    text = text_of(html)
    assert "共找到 2 个数据集" in text
    assert "企业社保参保人数" in text and "企业社保欠费记录" in text and "广州市公交站点" not in text
    assert 'class="badge level-conditional">有条件开放<' in html
    facet = html.split('data-facet="open_level"')[1].split("</details>")[0]
    assert "有条件开放" in facet and '<span class="count">2</span>' in facet


def test_facet_links_add_and_remove_filters(client: TestClient) -> None:
    html = client.get("/datasets").text
    domain_link = next(h for h in links(html) if "domain=social_security" in h)
    narrowed = client.get(domain_link).text
    assert "共找到 3 个数据集" in text_of(narrowed)
    level_link = next(h for h in links(narrowed) if "open_level=closed" in h)
    assert "domain=social_security" in level_link
    both = client.get(level_link).text
    assert "共找到 1 个数据集" in text_of(both) and "个人社保缴费基数" in both
    # a chosen value is marked and its link removes it again
    selected = both.split('data-facet="open_level"')[1].split("</details>")[0]
    remove = unescape(re.search(r'href="([^"]+)" class="facet-link selected"', selected).group(1))
    assert "open_level" not in remove and "domain=social_security" in remove
    assert "共找到 3 个数据集" in text_of(client.get(remove).text)


def test_a_domain_by_chinese_name_and_sorting(client: TestClient) -> None:
    html = client.get("/datasets?domain=交通&sort=title").text
    assert "共找到 1 个数据集" in text_of(html)
    assert 'aria-current="true" class="current">名称<' in html


def test_bad_search_parameters_say_why(client: TestClient) -> None:
    response = client.get("/datasets?domain=nowhere")
    assert response.status_code == 400 and "数据领域无效" in response.text
    response = client.get("/datasets?page=0")
    assert response.status_code == 400 and "页码无效" in response.text


def test_pager_shows_first_last_and_a_window() -> None:
    assert pager(1, 5, 10) == [1]
    assert pager(6, 200, 10) == [1, 4, 5, 6, 7, 8, 20]


def test_open_dataset_page_has_metadata_dictionary_preview_and_downloads(client: TestClient) -> None:
    html = client.get("/datasets/bus-stops").text
    text = text_of(html)
    assert "广州市交通运输局" in text and "每月" in text and "gz-open-data-1.0" in text
    assert "站点编号" in text and "线路数" in text and "条" in text  # dictionary with units
    preview = html.split('data-testid="preview"')[1].split("</table>")[0]
    assert "天河客运站" in preview and "北京路, 步行街" in preview
    hrefs = links(html)
    for fmt in ("format=csv", "format=csv&bom=1", "format=xlsx", "format=json", "format=ndjson"):
        assert any(h.startswith("/api/v1/datasets/bus-stops/resources/stops/download?" + fmt) for h in hrefs), fmt
    assert "curl &#39;http://testserver.local/api/v1/datasets/bus-stops/resources/stops/rows?limit=5&#39;" in html
    # the light SDK, with the command that installs it from this portal first
    assert "# pip install http://testserver.local/sdk/opendata_client-" in html
    assert "from opendata_client import Client" in html and 'Client(&#34;http://testserver.local&#34;)' in html


def test_preview_filter_is_carried_by_the_downloads(client: TestClient) -> None:
    html = client.get("/datasets/bus-stops?resource=stops&field=district&op=eq&value=越秀区").text
    preview = html.split('data-testid="preview"')[1].split("</table>")[0]
    assert "北京路, 步行街" in preview and "天河客运站" not in preview
    assert "符合条件 1 行" in text_of(html)
    excel = next(h for h in links(html) if "bom=1" in h)
    assert "district=%E8%B6%8A%E7%A7%80%E5%8C%BA" in excel
    download = client.get(excel)
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    # Excel's CSV is headed by the dictionary's titles, Chinese first.
    stop_title = next(k for k in rows[0] if k.startswith("站点编号"))
    assert [r[stop_title] for r in rows] == ["S002"]
    numeric = client.get("/datasets/bus-stops?field=lines&op=gte&value=8").text
    assert "天河客运站" in numeric and "番禺广场" not in numeric


def test_a_bad_filter_says_why_and_shows_no_rows(client: TestClient) -> None:
    response = client.get("/datasets/bus-stops?field=lines&op=gte&value=many")
    assert response.status_code == 400 and "筛选值与字段类型不符" in response.text
    assert 'data-testid="preview"' not in response.text
    response = client.get("/datasets/bus-stops?field=lines&op=contains&value=1")
    assert response.status_code == 400 and "不适用于此字段类型" in response.text


def test_preview_applies_the_masks_the_api_applies(client: TestClient) -> None:
    html = client.get("/datasets/people").text
    api = client.get("/api/v1/datasets/people/resources/list/rows").json()
    preview = html.split('data-testid="preview"')[1].split("</table>")[0]
    for row in api["items"]:
        assert row["name"] in preview and row["person_id"] in preview  # masked exactly as the API masks
    assert "张三丰" not in html and "440106199001011234" not in html
    assert "13800000001" not in html and "电话</th>" not in preview  # a dropped field is not served
    assert "6222020012345678" not in html and "************5678" in preview
    filterable = html.split('name="field"')[1].split("</select>")[0]
    assert 'value="district"' in filterable and 'value="name"' not in filterable
    refused = client.get("/datasets/people?field=name&op=eq&value=张三丰")
    assert refused.status_code == 400 and "张三丰" not in refused.text.replace("value=\"张三丰\"", "")


def test_conditional_and_closed_pages_show_no_rows(client: TestClient) -> None:
    conditional = client.get("/datasets/si-headcount").text
    assert "91440101MA5CXXXX1A" not in conditional and 'data-testid="preview"' not in conditional
    assert "申请授权" in conditional and "/workspace/applications/new?dataset=si-headcount" in conditional
    assert "/download?" not in conditional
    # the API refuses the same browser
    assert client.get("/api/v1/datasets/si-headcount/resources/monthly/rows").status_code == 403
    closed = client.get("/datasets/personal-si-base").text
    assert "440106" not in closed and "8500" not in closed and "/download?" not in closed
    assert "不予开放" in closed and "隐私计算" in closed
    assert 'data-testid="compute-offer"' not in closed  # the mini dataset has no subject key
    assert "暂不提供计算服务" in closed
    # conditional filters in the URL change nothing
    forced = client.get("/datasets/si-headcount?field=headcount&op=gte&value=0").text
    assert "35" not in forced.split('id="data"')[1].split("</section>")[0]


def test_views_and_downloads_are_counted(client: TestClient) -> None:
    client.get("/datasets/bus-stops")
    client.get("/api/v1/datasets/bus-stops/resources/stops/download?format=json")
    html = client.get("/datasets/bus-stops").text
    assert 'data-testid="download-count">1<' in html
    assert "<strong>2</strong> 次浏览" in html  # this view included


def test_unknown_dataset_is_a_404_page(client: TestClient) -> None:
    response = client.get("/datasets/nothing-here")
    assert response.status_code == 404 and "您访问的内容不存在" in response.text
    assert response.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/datasets/nothing-here")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_paging_through_results(client: TestClient, monkeypatch) -> None:
    import opendata.portal.public as public

    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    first = client.get("/datasets?sort=title").text
    assert 'aria-current="page">1<' in first and 'rel="next"' in first and 'rel="prev"' not in first
    titles = re.findall(r'<h3 class="card-title"><a href="/datasets/([^"]+)"', first)
    assert len(titles) == 2
    last = client.get(next(h for h in links(first) if h.endswith("page=3"))).text
    assert 'aria-current="page">3<' in last and 'rel="next"' not in last
    third = re.findall(r'<h3 class="card-title"><a href="/datasets/([^"]+)"', last)
    assert len(third) == 1 and not set(third) & set(titles)
