"""The floor the exam load benchmark compares autosave with: Flask doing almost nothing.

One route that takes the same JSON body as an autosave and answers like one, with no
database, no token and no session. `bench/exam_load.py` serves it with gunicorn under the
same worker and thread settings as Certify (`gunicorn --pythonpath bench bare_app:app`).
"""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.put("/bare/<int:n>")
def bare(n: int):
    body = request.get_json(silent=True)
    answer = body.get("answer") if isinstance(body, dict) else None
    if not isinstance(answer, list):
        return jsonify(error={"code": "invalid_answer"}), 422
    return jsonify(ok=True)
