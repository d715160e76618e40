"""Coordinates without typing them: 高德/百度 map links, the geocoder seam, the districts to
choose from, and the location pages that use them."""

import pytest

from marketplace.core.errors import Invalid
from providers import geocoding, services
from providers.geocoding import Point, point_from_link
from tests.providers.test_pages import HTML, _login, _post, _value


@pytest.mark.unit
@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://uri.amap.com/marker?position=116.473195,39.993253&name=望京店", (39.993253, 116.473195)),
        ("https://ditu.amap.com/regeo?lng=116.455&lat=39.936&name=三里屯", (39.936, 116.455)),
        ("https://www.amap.com/place/B000A7BD6C?p=B000A7BD6C,39.993253,116.473195,望京店", (39.993253, 116.473195)),
        ("39.9087, 116.3975", (39.9087, 116.3975)),
        ("39.9087，116.3975", (39.9087, 116.3975)),
    ],
)
def test_amap_links_and_typed_pairs_give_their_point(link, expected):
    assert point_from_link(link) == Point(*expected)


@pytest.mark.unit
def test_a_baidu_link_is_converted_from_bd09():
    point = point_from_link("http://api.map.baidu.com/marker?location=39.916979,116.41004&title=天安门")
    # BD-09 sits about 600 m north-east of GCJ-02 in Beijing.
    assert 39.9105 < point.latitude < 39.9115 and 116.4030 < point.longitude < 116.4040


@pytest.mark.unit
@pytest.mark.parametrize("link", ["https://surl.amap.com/3kdd8x", "https://j.map.baidu.com/7c/abc", "望京店", ""])
def test_links_without_a_position_give_none(link):
    assert point_from_link(link) is None


@pytest.mark.unit
async def test_locate_explains_what_to_do_at_the_field():
    with pytest.raises(Invalid) as short:
        await geocoding.locate("https://surl.amap.com/3kdd8x", "")
    assert short.value.field == "map_link"
    with pytest.raises(Invalid) as abroad:
        await geocoding.locate("https://uri.amap.com/marker?position=2.35,48.85", "")
    assert abroad.value.field == "map_link"
    with pytest.raises(Invalid) as unknown:
        await geocoding.locate("", "火星路1号", prefix="locations[0].")
    assert unknown.value.field == "locations[0].address"


@pytest.mark.unit
async def test_the_fake_geocoder_answers_near_the_district_and_the_same_every_time(monkeypatch):
    monkeypatch.delenv("AMAP_WEB_KEY", raising=False)
    assert isinstance(geocoding.geocoder(), geocoding.FakeGeocoder)
    first = await geocoding.locate("", "朝阳区阜通东大街6号")
    again = await geocoding.locate("", "朝阳区阜通东大街6号")
    other = await geocoding.locate("", "朝阳区工体北路8号")
    assert first == again != other
    centre = geocoding.FakeGeocoder.CENTRES["朝阳区"]
    assert abs(first.latitude - centre.latitude) < 0.02 and abs(first.longitude - centre.longitude) < 0.02
    monkeypatch.setenv("AMAP_WEB_KEY", "k")
    assert isinstance(geocoding.geocoder(), geocoding.AmapGeocoder)  # the real one, behind the same interface


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_districts_are_the_federations_district_unions(world):
    assert services.district_name("朝阳区总工会") == "朝阳区"
    beijing = await services.district_choices(world.nodes["chaoyang"])
    assert "朝阳区" in beijing and "海淀区" in beijing
    assert all(not name.endswith("工会") for name in beijing)


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_a_location_from_a_map_link_or_the_address_with_the_district_from_the_list(client, world):
    provider = world.providers["chaoyang"]
    await _login(client, "provider", provider["owner"])
    page = await client.get("/provider/locations", headers=HTML)
    assert '<option value="朝阳区"' in page.text and 'data-testid="locate"' in page.text
    form = {
        "location_name": "工体店",
        "address": "工体北路8号",
        "district": "朝阳区",
        "open_sun": "10:00",
        "close_sun": "20:00",
        "open_mon": "09:00",
        "close_mon": "21:00",
        "open_fri": "09:00",
        "close_fri": "22:00",
    }
    outside = await _post(client, "/provider/locations", {**form, "district": "火星区"})
    assert outside.status_code == 422 and 'id="district-error"' in outside.text
    located = await _post(
        client,
        "/provider/locations",
        {**form, "locate": "1", "map_link": "https://uri.amap.com/marker?position=116.447,39.932"},
    )
    assert located.status_code == 200 and 'data-testid="located"' in located.text
    assert 'value="39.932"' in located.text and 'value="116.447"' in located.text
    saved = await _post(client, "/provider/locations", form)  # no link, no coordinates: from the address
    assert saved.status_code in (302, 303), saved.text
    latitude = await _value("SELECT latitude FROM location WHERE name = '工体店'")
    assert 39.90 < latitude < 39.95
    page = await client.get("/provider/locations", headers=HTML)
    hours = page.text.split("工体店", 1)[1]
    assert hours.index("周一") < hours.index("周五") < hours.index("周日")  # in the week's order
