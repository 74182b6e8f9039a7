"""Hostile requests at ``fsm serve``: whatever a phone (or anyone) sends, the answer is a
reason (2xx or 4xx), never a 500, and the server keeps serving.

Hypothesis makes the requests: OsmAnd parameters with values of every kind (numbers out of
range, NaN, huge exponents, control characters, empty, repeated), form and JSON bodies
with the wrong shapes, and raw bytes under any content type."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gps.test_serve import prepare

KEYS = [
    "id",
    "deviceid",
    "lat",
    "lon",
    "timestamp",
    "speed",
    "bearing",
    "heading",
    "altitude",
    "accuracy",
    "hdop",
    "batt",
    "location",
    "valid",
    "x",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "",
            "nan",
            "-inf",
            "1e309",
            "59.93",
            "30.36",
            "p1",
            "2026-11-26T09:00:00Z",
            "0x10",
            "1_000",
            "٣",
            "\x00",
            "\x1b[2J",
        ]
    ),
)
QUERY = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=8)
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _answered(response: httpx.Response) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the parser, not the database
def test_no_request_gets_a_500(world, fsm_server) -> None:
    prepare(world, p1=world.ivanov.id)
    with httpx.Client(base_url=fsm_server.url, timeout=10) as client:

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            method=st.sampled_from(["GET", "POST"]),
            path=st.sampled_from(["/gps/osmand", "/"]),
            query=QUERY,
            body=st.one_of(
                st.none(),
                QUERY.map(lambda pairs: ("form", pairs)),
                JSONISH.map(lambda value: ("json", value)),
                st.binary(max_size=200).map(lambda raw: ("raw", raw)),
            ),
        )
        def check(method, path, query, body) -> None:
            headers: dict[str, str] = {}
            content: bytes | None = None
            if body is not None:
                kind, value = body
                if kind == "form":
                    content = str(httpx.QueryParams(value)).encode()
                    headers["content-type"] = "application/x-www-form-urlencoded"
                elif kind == "json":
                    content = json.dumps({"device_id": "p1", "location": value}).encode()
                    headers["content-type"] = "application/json"
                else:
                    content = value
                    headers["content-type"] = "application/octet-stream"
            _answered(client.request(method, path, params=query, content=content, headers=headers))

        check()
        alive = client.get(
            "/gps/osmand",
            params={"id": "p1", "lat": "59.93", "lon": "30.36", "timestamp": str(int(time.time()))},
        )
    assert alive.status_code == 200, alive.text
