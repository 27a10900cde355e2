"""Ids past the id columns' range in a URL path answer 404 on both databases, never 500."""
import pytest

HUGE = (2**31, 2**63, 10**30)


@pytest.mark.parametrize("value", HUGE)
def test_a_path_id_past_the_column_range_is_not_found(api, value):
    client, _ = api("admin")
    for path in (f"/api/v1/assignments/{value}", f"/api/v1/projects/{value}", f"/api/v1/exports/{value}"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.json["error"]["code"] == "not_found"


def test_the_largest_id_in_range_still_routes(api):
    client, _ = api("admin")
    response = client.get(f"/api/v1/projects/{2**31 - 1}")
    assert response.status_code == 404 and "project" in response.json["error"]["message"].lower()
