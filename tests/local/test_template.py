"""local.template reads the WebSocket API out of template.yaml exactly (no substring matches)."""

from __future__ import annotations

from local.template import _refs, http_routes, websocket_routes


def test_websocket_routes_map_each_route_key_to_its_function_module():
    assert websocket_routes() == {
        "$connect": "functions.ws_connect.app",
        "$disconnect": "functions.ws_disconnect.app",
        "ping": "functions.ws_message.app",
        "$default": "functions.ws_message.app",
    }


def test_refs_are_exact_logical_ids():
    assert _refs({"Fn::Sub": "integrations/${WsDisconnectIntegration}"}) == {"WsDisconnectIntegration"}
    assert _refs({"Fn::Sub": "arn:${AWS::Partition}:x/${WsConnectFunction.Arn}/y"}) == {"AWS::Partition",
                                                                                      "WsConnectFunction"}
    assert _refs({"Fn::GetAtt": ["Fn", "Arn"]}) == {"Fn"} and _refs({"Ref": "Api"}) == {"Api"}


def test_realtime_http_routes_are_listed():
    routes = {(r.method, r.path): r.module for r in http_routes()}
    assert routes[("POST", "/api/v1/realtime/ticket")] == "functions.realtime.app"
    assert routes[("GET", "/api/v1/sync")] == "functions.realtime.app"


def test_scheduled_functions_are_read_from_the_template():
    from local.template import schedules

    assert schedules() == {"functions.digest_planner.app": "cron(0 * * * ? *)",
                           "functions.maintenance.app": "cron(30 3 * * ? *)"}
