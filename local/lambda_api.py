"""A local stand-in for Lambda's Invoke API, so boto3's ``lambda.invoke`` works unchanged.

``POST /2015-03-31/functions/{FunctionName}/invocations`` runs the function's real handler (found by
logical id in ``template.yaml``; locally a function's name *is* its logical id, as
``!Ref WsHelloFunction`` resolves to in ``local.stack``). Like Lambda:

- ``X-Amz-Invocation-Type: Event`` answers 202 at once and runs the handler afterwards, so the caller
  never waits for it (``$connect`` → the hello function);
- ``RequestResponse`` (the default) answers 200 with the handler's JSON result, or 200 with
  ``X-Amz-Function-Error: Unhandled`` and ``{"errorMessage", "errorType"}`` when it raised;
- an unknown function is a 404 ``ResourceNotFoundException``.

It is served by the local WebSocket gateway's server (``local.ws_gateway``), whose handlers are the
ones that invoke functions today; requests are not signature-checked, as with moto.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote

from local.invoker import Invoker
from local.template import function_modules

INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")
Answer = tuple[int, dict[str, str], bytes]


def _function_name(raw: str) -> str:
    """A name, a partial ARN (``123:function:Name``) or a full ARN, without a version or alias."""
    name = raw.split(":function:")[-1] if ":function:" in raw else raw
    return name.split(":")[0]


class LambdaApi:
    def __init__(self, invoker: Invoker) -> None:
        self.invoker = invoker
        self.modules = function_modules()
        self._running: set[asyncio.Task] = set()

    def handles(self, path: str) -> bool:
        return INVOKE_PATH.fullmatch(path) is not None

    async def invoke(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        found = INVOKE_PATH.fullmatch(path)
        name = _function_name(unquote(found["name"])) if found else ""
        module = self.modules.get(name)
        if module is None:
            return 404, {"x-amzn-errortype": "ResourceNotFoundException"}, json.dumps(
                {"Type": "User", "message": f"Function not found: {name}"}).encode()
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            return 400, {"x-amzn-errortype": "InvalidRequestContentException"}, json.dumps(
                {"Type": "User", "message": "Could not parse request body into json"}).encode()
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "Event":
            task = asyncio.create_task(self._quietly(module, event, name))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            return 202, {}, b""
        try:
            result = await self.invoker.invoke(module, event, name)
        except Exception as exc:
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            return 200, {"x-amz-function-error": "Unhandled"}, json.dumps(error).encode()
        return 200, {}, json.dumps(result).encode()

    async def _quietly(self, module: str, event: Any, name: str) -> None:
        """An asynchronous invocation: its result and its errors go to the logs, never to the caller."""
        try:
            await self.invoker.invoke(module, event, name)
        except Exception:  # Lambda logs it; with retries off (EventInvokeConfig) that is the end
            import logging

            logging.getLogger("local.lambda").exception("asynchronous invocation of %s failed", name)
