"""Request bodies for the provider tests."""

import copy

VALID_CODE = "91350100M000100Y43"


def application(node_id: int, **changes) -> dict:
    body = {
        "name": "京体健身(三里屯店)",
        "credit_code": VALID_CODE,
        "kind": "gym",
        "contact_name": "赵敏",
        "contact_phone": "13812345678",
        "node_id": node_id,
        "locations": [
            {
                "name": "三里屯店",
                "address": "北京市朝阳区三里屯路19号",
                "district": "朝阳区",
                "latitude": 39.936,
                "longitude": 116.455,
                "opening_hours": {"mon": ["09:00", "21:00"], "sat": ["10:00", "18:00"]},
            }
        ],
        "owner": {"username": "jingti_owner", "password": "Str0ng-Pass-2026"},
    }
    body = copy.deepcopy(body)
    body.update(changes)
    return body


def location(**changes) -> dict:
    body = {
        "name": "工体店",
        "address": "北京市朝阳区工人体育场北路8号",
        "district": "朝阳区",
        "latitude": 39.93,
        "longitude": 116.44,
        "opening_hours": {"sun": ["08:00", "20:00"]},
    }
    body.update(changes)
    return body
