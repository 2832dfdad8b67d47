"""The KubeRay example (deploy/k8s): the core resources and every pod template pass the
Kubernetes API's schemas (kubernetes-validate ships them), the RayJob has the fields
KubeRay's ray.io/v1 CRD defines (and passes that CRD's schema when
``KUBERAY_RAYJOB_CRD`` names a copy of ``ray.io_rayjobs.yaml``), the ConfigMap's config
passes `orderhub config check` with the Secrets' keys filled in and is refused with
them empty, as shipped, and the grace periods cover the drain. Not applied to a
cluster here (README)."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools import DEPLOY, REPO, documents, manifest, run

K8S_VERSION = "1.30.0"
# ray.io/v1 RayJob spec fields (KubeRay's CRD); a misspelt one would be pruned silently
RAYJOB_FIELDS = {
    "activeDeadlineSeconds", "backoffLimit", "clusterSelector", "deletionStrategy",
    "entrypoint", "entrypointNumCpus", "entrypointNumGpus", "entrypointResources", "jobId",
    "managedBy", "metadata", "preRunningDeadlineSeconds", "rayClusterSpec", "runtimeEnvYAML",
    "shutdownAfterJobFinishes", "submissionMode", "submitterConfig", "submitterPodTemplate",
    "suspend", "ttlSecondsAfterFinished"}
GROUP_FIELDS = {"groupName", "replicas", "minReplicas", "maxReplicas", "rayStartParams",
                "template", "numOfHosts", "idleTimeoutSeconds", "suspend", "scaleStrategy",
                "headService", "serviceType", "enableIngress", "resources", "labels"}


def _validate(resource: dict[str, Any]) -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not "
                             "installed (the Kubernetes schemas); `pip install -e '.[dev]'`")
    try:
        kv.validate(resource, K8S_VERSION, strict=True)
    except kv.ValidationError as exc:
        raise AssertionError(f"{resource['kind']}/{resource['metadata']['name']}: "
                             f"{exc.path}: {exc.message}") from None


def _rayjob() -> dict[str, Any]:
    return manifest("RayJob", "orderhub")


def _templates() -> dict[str, dict[str, Any]]:
    cluster = _rayjob()["spec"]["rayClusterSpec"]
    out = {"head": cluster["headGroupSpec"]["template"]}
    out |= {g["groupName"]: g["template"] for g in cluster["workerGroupSpecs"]}
    return out


def test_core_resources_pass_the_kubernetes_schemas() -> None:
    checked = 0
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in documents(path):
            if doc["apiVersion"] != "ray.io/v1":
                _validate(doc)
                checked += 1
    assert checked >= 4  # the ConfigMap, two Secrets, the Service


def test_the_rayjobs_pod_templates_pass_the_kubernetes_schemas() -> None:
    for name, template in _templates().items():
        _validate({"apiVersion": "v1", "kind": "PodTemplate",
                   "metadata": {"name": f"orderhub-{name}"}, "template": template})


def test_the_rayjob_uses_kuberays_fields() -> None:
    job = _rayjob()
    spec = job["spec"]
    assert set(spec) <= RAYJOB_FIELDS, set(spec) - RAYJOB_FIELDS
    assert spec["entrypoint"].startswith("orderhub run --config /etc/orderhub/")
    cluster = spec["rayClusterSpec"]
    assert set(cluster) <= {"rayVersion", "headGroupSpec", "workerGroupSpecs",
                            "enableInTreeAutoscaling", "autoscalerOptions", "suspend",
                            "headServiceAnnotations", "gcsFaultToleranceOptions", "managedBy"}
    import ray

    assert cluster["rayVersion"] == ray.__version__
    for group in cluster["workerGroupSpecs"]:
        assert set(group) <= GROUP_FIELDS, set(group) - GROUP_FIELDS
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    for params in [cluster["headGroupSpec"]["rayStartParams"],
                   *(g["rayStartParams"] for g in cluster["workerGroupSpecs"])]:
        assert all(isinstance(v, str) for v in params.values()), params  # map of strings


def test_the_rayjob_passes_kuberays_crd_schema_when_given() -> None:
    path = os.environ.get("KUBERAY_RAYJOB_CRD")
    if not path:
        pytest.skip("set KUBERAY_RAYJOB_CRD to KubeRay's ray.io_rayjobs.yaml to check the "
                    "RayJob against its schema (not vendored: 1.4 MB)")
    import jsonschema

    crd = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema = schema["schema"]["openAPIV3Schema"]
    _closed(schema)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(_rayjob())]
    assert not errors, errors


def _closed(schema: Any) -> None:
    """The API server prunes unknown fields of a structural schema; refuse them instead."""
    if isinstance(schema, dict):
        if (schema.get("type") == "object" and "properties" in schema
                and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        for value in schema.values():
            _closed(value)
    elif isinstance(schema, list):
        for value in schema:
            _closed(value)


def _head() -> dict[str, Any]:
    return _templates()["head"]["spec"]


def test_the_head_mounts_the_configmap_and_the_secrets_where_the_config_says() -> None:
    head = _head()
    container = head["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in head["volumes"]}
    config = tomllib.loads(manifest("ConfigMap")["data"]["hub.toml"])
    assert volumes["config"]["configMap"]["name"] == manifest("ConfigMap")["metadata"]["name"]
    assert _rayjob()["spec"]["entrypoint"].endswith(f"{mounts['config']}/hub.toml")
    assert volumes["secrets"]["secret"]["secretName"] == "orderhub-secrets"
    assert config["secrets_dir"] == mounts["secrets"]
    env_from = [e["secretRef"]["name"] for e in container["envFrom"]]
    assert env_from == ["orderhub-ledger"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["hub-api"] == config["api"]["port"]
    service = manifest("Service", "orderhub-api")
    assert service["spec"]["ports"][0]["targetPort"] == "hub-api"
    labels = _templates()["head"]["metadata"]["labels"]
    wanted = {k: v for k, v in service["spec"]["selector"].items() if not k.startswith("ray.io/")}
    assert wanted.items() <= labels.items()
    for template in _templates().values():
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True


def _check(config_text: str, tmp_path: Path, fill: bool) -> Any:
    """`orderhub config check` on the ConfigMap's hub.toml, the Secrets' keys as files and
    variables: filled with stand-in values, or as shipped."""
    (tmp_path / "hub.toml").write_text(config_text, encoding="utf-8")
    files = tmp_path / "secrets"
    files.mkdir(exist_ok=True)
    for key, value in manifest("Secret", "orderhub-secrets")["stringData"].items():
        stand_in = f"operator:{key}-stand-in" if key == "api.token" else f"{key}-stand-in"
        (files / key).write_text(stand_in if fill else value, encoding="utf-8")
    ledger = manifest("Secret", "orderhub-ledger")["stringData"]
    assert set(ledger) == {"ORDERHUB_LEDGER", "ORDERHUB_BACK_OFFICE__WMS_CALLBACK_SECRETS"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env |= {"ORDERHUB_SECRETS_DIR": str(files), "PYTHONPATH": str(REPO)}
    if fill:
        env |= {"ORDERHUB_LEDGER": "postgresql://orderhub:pw@postgres:5432/orderhub",
                "ORDERHUB_BACK_OFFICE__WMS_CALLBACK_SECRETS": '{"main": "wms-stand-in"}'}
    return run(sys.executable, "-m", "hub.cli", "config", "check", "--config",
               str(tmp_path / "hub.toml"), env=env, cwd=REPO)


def test_the_configmaps_config_passes_config_check_once_the_secrets_are_filled(
        tmp_path: Path) -> None:
    text = manifest("ConfigMap")["data"]["hub.toml"]
    done = _check(text, tmp_path, fill=True)
    assert done.returncode == 0, done.stderr
    assert "stand-in" not in done.stdout  # redacted
    shipped = _check(text, tmp_path, fill=False)
    assert shipped.returncode == 1, shipped.stderr  # empty secrets: the hub would refuse
    assert "tmall-flagship" in shipped.stderr


def test_the_grace_periods_cover_the_drain() -> None:
    config = tomllib.loads(manifest("ConfigMap")["data"]["hub.toml"])
    head = _head()
    env = {e["name"]: e.get("value") for e in head["containers"][0]["env"]}
    ray_stop_wait = float(env["RAY_JOB_STOP_WAIT_TIME_S"])
    # the hub stops within drain_s + a few seconds (tests/runtime/test_restart.py)
    assert config["drain_s"] + 15 <= ray_stop_wait < head["terminationGracePeriodSeconds"]
    stop = head["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert stop[-1] == _rayjob()["spec"]["jobId"] and "stop" in stop
