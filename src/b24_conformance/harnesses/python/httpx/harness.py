"""A b24c-harness/1 client harness: plain httpx, one POST of JSON per call (see ../../PROTOCOL.md)."""
import json
import sys
import time
from urllib.parse import quote

import httpx

CANNOT = {t: "this harness always POSTs a JSON body" for t in ("form", "multipart", "get", "oauth-query")}
CANNOT["upper-case-method"] = "this harness sends the method name as it is given"


def query(value, prefix=""):  # PHP's http_build_query, for batch commands
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return "&".join(query(v, f"{prefix}[{k}]" if prefix else str(k)) for k, v in items)
    return f"{quote(prefix, safe='[]')}={quote(str(value), safe='')}"


def post(start, role, method, body, transport="json"):
    cred = start["roles"][role]
    url = cred["webhook_url"] or cred["oauth_endpoint"]
    if transport == "plain-http":
        url = start["plain_origin"].rstrip("/") + "/rest/" + url.split("/rest/", 1)[1]
    if cred["token"]:
        body = {**body, "auth": cred["token"]}
    for wait in (0.5, 1, 2, 4, 8, 0):  # ride out the portal's request limit, as a client should
        reply = http.post(url + method + (".json" if transport == "json-suffix" else ""), json=body)
        data = reply.json()
        if data.get("error") != "QUERY_LIMIT_EXCEEDED" or not wait:
            break
        time.sleep(wait)
    if reply.is_error or "error" in data:
        return {"raised": {"type": "BitrixError", "code": str(data.get("error")), "status": reply.status_code,
                           "description": data.get("error_description"), "body": data}}
    return {"returned": data, "whole": True}


http, start = None, None
for line in sys.stdin:
    msg = json.loads(line)
    if msg["op"] == "start":
        start = msg
        http = httpx.Client(verify=msg["ca_path"] or True, timeout=30)
        answer = {"op": "started", "protocol": "b24c-harness/1", "cannot": CANNOT,
                  "client": {"name": "httpx", "version": httpx.__version__}}
    elif msg["op"] == "call":
        answer = {"id": msg["id"], **post(start, msg["role"], msg["method"], msg["params"], msg["transport"])}
    elif msg["op"] == "batch":
        cmd = {k: f"{c['method']}?{query(c['params'])}" for k, c in msg["commands"].items()}
        answer = {"id": msg["id"], **post(start, msg["role"], "batch", {"halt": int(msg["halt"]), "cmd": cmd})}
    else:
        answer = {"op": "stopped"}
    print(json.dumps(answer), flush=True)
    if msg["op"] == "stop":
        break
