"""Sessions as devices (issue 15): GET /me/sessions and DELETE /me/sessions/{id} through the auth handler.

Signing a device out revokes its refresh family at once and closes that device's WebSockets, which
the test holds open through the local WebSocket gateway (real $connect handler, real @connections).
"""

from __future__ import annotations

import uuid

import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from functions.realtime.app import handler as realtime_handler
from shared.clients import db
from tests.functions.auth.test_app import IP_A, IP_B, PASSWORD, bearer, call, refresh, register
from tests.support import http_event, invoke
from tests.support.realtime import hello_id, my_connection_id, open_socket

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def sign_in(user_agent: str, ip: str, **extra) -> dict:
    response = call("POST", "/auth/login", {"username": "quester", "password": PASSWORD, **extra},
                    headers={"user-agent": user_agent}, ip=ip)
    assert response.status == 200, response
    return response.json


def sid(pair: dict) -> str:
    return jwt.decode(pair["access_token"], options={"verify_signature": False})["sid"]


def test_each_sign_in_is_a_device_and_this_one_is_marked():
    register()
    phone = sign_in(FIREFOX_ANDROID, IP_A)
    laptop = sign_in(SAFARI_IPHONE, "2001:db8:1234:5678::1", device_name="Work iPhone")
    families = {str(r["id"]) for r in db.get_conn().execute("SELECT id FROM refresh_families").fetchall()}
    assert {sid(phone), sid(laptop)} <= families  # the access token's sid is the refresh family
    response = call("GET", "/me/sessions", headers=bearer(phone))
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    devices = {d["id"]: d for d in response.json["sessions"]}
    assert len(devices) == 3  # registration's sign-in, the phone, the laptop
    assert devices[sid(phone)]["current"] is True
    assert devices[sid(phone)]["device_name"] == "Firefox on Android"
    assert devices[sid(phone)]["ip_prefix"] == "198.51.100.0/24"  # coarse: never the address
    assert devices[sid(laptop)] | {"created_at": "", "last_used_at": ""} == {
        "id": sid(laptop), "device_name": "Work iPhone", "ip_prefix": "2001:db8:1234::/48", "current": False,
        "created_at": "", "last_used_at": ""}
    assert sum(d["current"] for d in devices.values()) == 1


def test_refreshing_keeps_the_device_and_its_sid():
    register()
    phone = sign_in(FIREFOX_ANDROID, IP_A)
    rotated = refresh(phone["refresh_token"]).json
    assert sid(rotated) == sid(phone)


def test_signing_a_device_out_stops_its_refresh_at_once_and_only_its():
    register()
    phone, laptop = sign_in(FIREFOX_ANDROID, IP_A), sign_in(SAFARI_IPHONE, IP_B)
    assert call("DELETE", f"/me/sessions/{sid(laptop)}", headers=bearer(phone)).status == 204
    assert refresh(laptop["refresh_token"]).status == 401
    assert refresh(phone["refresh_token"]).status == 200
    listed = {d["id"] for d in call("GET", "/me/sessions", headers=bearer(phone)).json["sessions"]}
    assert sid(laptop) not in listed and sid(phone) in listed
    again = call("DELETE", f"/me/sessions/{sid(laptop)}", headers=bearer(phone))
    assert again.status == 404 and again.json["error"]["code"] == "not_found"


def test_nobody_can_sign_out_someone_elses_device():
    mine = register()
    theirs = register("other")
    response = call("DELETE", f"/me/sessions/{sid(theirs)}", headers=bearer(mine))
    assert response.status == 404
    assert refresh(theirs["refresh_token"]).status == 200
    assert call("DELETE", f"/me/sessions/{uuid.uuid4()}", headers=bearer(mine)).status == 404
    assert call("DELETE", "/me/sessions/not-a-uuid", headers=bearer(mine)).status == 422
    assert call("GET", "/me/sessions").status == 401


@pytest.mark.usefixtures("ws_gateway")
def test_signing_a_device_out_closes_its_websockets_and_no_others():
    pair = register()
    user_id = uuid.UUID(pair["user"]["id"])
    phone, laptop = sign_in(FIREFOX_ANDROID, IP_A), sign_in(SAFARI_IPHONE, IP_B)
    ticket = invoke(realtime_handler, http_event("POST", "/api/v1/realtime/ticket", headers=bearer(laptop)))
    assert ticket.status == 201, ticket  # the real ticket route binds the ticket to the token's sid
    with connect(ticket.json["url"], open_timeout=15) as laptop_socket, \
            open_socket(user_id, uuid.UUID(sid(phone))) as phone_socket:
        laptop_id, phone_id = hello_id(laptop_socket), my_connection_id(phone_socket)  # the phone's hello was read
        assert call("DELETE", f"/me/sessions/{sid(laptop)}", headers=bearer(phone)).status == 204
        with pytest.raises(ConnectionClosed):
            laptop_socket.recv(timeout=5)
        assert my_connection_id(phone_socket) == phone_id  # the other device stays connected
    rows = db.get_conn().execute("SELECT connection_id FROM ws_connections WHERE connection_id = %s",
                                 (laptop_id,)).fetchall()
    assert rows == []
