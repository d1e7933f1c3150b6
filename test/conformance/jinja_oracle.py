"""Renders templates with real Jinja2 for Keyway's conformance tests.

One long-lived process: each stdin line is {"id": 1, "template": "..."}, each stdout line
{"id": 1, "ok": true, "out": "..."} or {"id": 1, "ok": false, "error": "..."}. The environment is
Jinja2's default (no autoescaping) with undefined variables failing, and the template's trailing
newline kept, so that the output is compared with the text exactly.
"""

import json
import sys

import jinja2

ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


def answer(request):
    try:
        return {"id": request.get("id"), "ok": True, "out": ENV.from_string(request["template"]).render()}
    except Exception as error:  # every failure is an answer, never the end of the process
        return {"id": request.get("id"), "ok": False, "error": f"{type(error).__name__}: {error}"}


def main():
    sys.stdin.reconfigure(encoding="utf-8")
    sys.stdout.reconfigure(encoding="utf-8")
    print(json.dumps({"ready": True, "version": jinja2.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(answer(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
