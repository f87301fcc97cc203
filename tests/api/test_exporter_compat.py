"""A real third-party Statuspage client reads Signalfire unchanged.

statuspage-prometheus-exporter polls a page's summary.json and turns it into
Prometheus metrics; run it once against the live server and read its metrics.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families


def _exporter() -> str:
    found = shutil.which("statuspage-prometheus-exporter") or str(
        Path(sys.executable).parent / "statuspage-prometheus-exporter")
    assert Path(found).exists(), "statuspage-prometheus-exporter is not installed"
    return found


def test_the_exporter_reports_components_and_the_active_incident(live, tmp_path):
    api = httpx.Client(base_url=f"{live.url}/api/v1/pages/{live.page_id}",
                       headers={"Authorization": f"Bearer {live.token}"})
    with api:
        comps = {c["name"]: c["id"] for c in api.get("/components").json()}
        r = api.post("/incidents", json={
            "name": "Feed not loading", "status": "identified", "impact": "major",
            "body": "The feed does not load.", "components": {comps["Feed"]: "partial_outage"}})
        assert r.status_code == 201, r.text
        incident = r.json()

    (tmp_path / "services.json").write_text(json.dumps(
        {"signalfire": {"url": f"{live.url}/api/v2/summary.json", "name": "Signalfire App"}}))
    env = {**os.environ, "RUN_MODE": "once", "METRICS_TEXTFILE_PATH": str(tmp_path / "out.prom"),
           "SERVICES_JSON_PATH": str(tmp_path / "services.json")}
    done = subprocess.run([_exporter()], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr

    samples = [s for fam in text_string_to_metric_families((tmp_path / "out.prom").read_text())
               for s in fam.samples]

    def values(name):
        return [(s.labels, s.value) for s in samples if s.name == name]

    components = {lab["component_name"]: v for lab, v in values("statuspage_component_status")}
    assert components == {"Feed": 0.0, "Login": 1.0}
    assert values("statuspage_service_status") == [({"service_name": "Signalfire App"}, 0.0)]
    ((labels, value),) = values("statuspage_incident_info")
    assert value == 1.0
    assert labels["incident_id"] == incident["id"]
    assert labels["incident_name"] == "Feed not loading"
    assert labels["impact"] == "major"
    assert labels["shortlink"] == f"{live.url}/incidents/{incident['id']}"
    assert "Feed" in labels["affected_components"]
    assert values("statuspage_probe_check")[0][1] == 1.0
