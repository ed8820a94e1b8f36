"""Deployment artefacts: the kustomize base and example overlay, the Dockerfile, the alert rules.

The manifests are rendered with ``kubectl kustomize``, validated offline against the Kubernetes
OpenAPI schemas shipped by ``kubernetes-validate`` (strict: an unknown field is an error), then
checked against our own rules. Each rule is a function that returns a list of problems (empty:
fine), and the tests at the end show that every rule rejects a broken object.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.cli import build_parser
from service.observability import Metrics
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
TREES = {"base": K8S / "base", "example": K8S / "overlays" / "example"}
SECRET_TEMPLATE = K8S / "base" / "secret.template.yaml"
ALERTS = ROOT / "ops" / "prometheus-alerts.yaml"
KUBECTL = shutil.which("kubectl")
# The oldest Kubernetes we support (matchLabelKeys, nodeTaintsPolicy, unhealthyPodEvictionPolicy
# are all in its schema) and the one we target.
K8S_VERSIONS = ("1.28", "1.31")

needs_kubectl = pytest.mark.skipif(
    KUBECTL is None,
    reason="kubectl is not installed: these tests render k8s/ with `kubectl kustomize` "
    "(kubectl >= 1.27 bundles kustomize v5)",
)

APP = "omnistock"
UID = 10001
SECRET_NAME = "omnistock-secrets"
# Required keys (placeholders in the template, secretKeyRef not optional) and the notification
# secrets (empty in the template, secretKeyRef optional: absent or empty turns them off).
REQUIRED_SECRET_KEYS = {"DATABASE_URL", "OMNISTOCK_ERP_PASSWORD", "OMNISTOCK_REPLAY_KEY"}
NOTIFICATION_SECRET_KEYS = {"OMNISTOCK_WEBHOOK_SECRET", "OMNISTOCK_PRESTASHOP_KEY"}
# read by the API only: former replay keys, during a key rotation
OPTIONAL_SECRET_KEYS = NOTIFICATION_SECRET_KEYS | {"OMNISTOCK_REPLAY_KEY_PREVIOUS"}
SECRET_KEYS = REQUIRED_SECRET_KEYS | OPTIONAL_SECRET_KEYS
PLACEHOLDER = "change-me"
# Where k8s/base/config.env departs from the README's default, and why.
BASE_CONFIG_DEVIATIONS = {
    "OMNISTOCK_HOST": "0.0.0.0",  # a container listens on every interface
    "OMNISTOCK_DATA_DIR": "/tmp/omnistock",  # the default is under ~, on the read-only root
    "REDIS_URL": "redis://redis:6379/0",  # several API replicas share one cache
}
ALLOWED_EGRESS = {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 6379), ("TCP", 443)}
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")
API_PORT = 8080
WORKER_METRICS_PORT = 9100
# The ingress sources of the base (k8s/README.md: overlays adjust them to the cluster).
PROMETHEUS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
INGRESS_CONTROLLER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
}
PRESTOP_TIMEOUT_MARGIN_S = 5

Obj = dict[str, Any]
# component -> (protocol, port) -> the sources that may reach it; anything else is closed.
ALLOWED_INGRESS: dict[str, dict[tuple[str, object], list[Obj]]] = {
    "api": {("TCP", API_PORT): [INGRESS_CONTROLLER, PROMETHEUS]},
    "worker": {("TCP", WORKER_METRICS_PORT): [PROMETHEUS]},
}


# --------------------------------------------------------------------------- loading
@cache
def _render(tree: str) -> tuple[Obj, ...]:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(TREES[tree])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"kubectl kustomize {tree} failed:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def render(tree: str) -> list[Obj]:
    """A fresh copy of the rendered objects (tests may change them)."""
    return copy.deepcopy(list(_render(tree)))


def secret_template() -> Obj:
    docs = [d for d in yaml.safe_load_all(SECRET_TEMPLATE.read_text()) if d]
    assert len(docs) == 1
    doc: Obj = docs[0]
    return doc


def readme_settings() -> dict[str, str | None]:
    """README.md's configuration table: variable -> default (None: unset)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    table: dict[str, str | None] = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*([^|]*?)\s*\|", line)
        if not match:
            continue
        name, cell = match[1], match[2]
        if cell.startswith("`") and cell.endswith("`"):
            table[name] = cell[1:-1]
        elif cell == "empty":
            table[name] = ""
        elif cell == "unset":
            table[name] = None
        else:
            raise AssertionError(f"README: cannot read the default of {name}: {cell!r}")
    return table


def metric_series_names() -> set[str]:
    """Every series name omnistock exports (counters with _total, histograms' _bucket...)."""
    names: set[str] = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
        else:
            names.add(family.name)
    return names


# --------------------------------------------------------------------------- helpers
def ident(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def labels_of(obj: Obj) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("labels") or {})


def component(obj: Obj) -> str | None:
    return labels_of(obj).get("app.kubernetes.io/component")


def pod_template(obj: Obj) -> Obj | None:
    kind = obj.get("kind")
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        template: Obj = obj["spec"]["template"]
        return template
    if kind == "CronJob":
        template = obj["spec"]["jobTemplate"]["spec"]["template"]
        return template
    if kind == "Pod":
        return obj
    return None


def workloads(objs: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    """(object, pod spec) of everything that runs pods."""
    for obj in objs:
        template = pod_template(obj)
        if template is not None:
            yield obj, template["spec"]


def containers(spec: Obj) -> list[Obj]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def of_kind(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") == kind]


def one(objs: list[Obj], kind: str, name_prefix: str) -> Obj:
    found = [o for o in of_kind(objs, kind) if o["metadata"]["name"].startswith(name_prefix)]
    assert len(found) == 1, f"expected one {kind} named {name_prefix}*, found {len(found)}"
    return found[0]


def configmap(objs: list[Obj]) -> dict[str, str]:
    data: dict[str, str] = one(objs, "ConfigMap", "omnistock-config")["data"]
    return data


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "selectors with matchExpressions: not handled"
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


_QUANTITY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
_QUANTITY |= {"m": 1e-3}


def quantity(value: object) -> float:
    text = str(value)
    for suffix in sorted(_QUANTITY, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _QUANTITY[suffix]
    return float(text)


def prestop_sleep_s(container: Obj) -> float:
    command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
    if command and command[0] == "sleep":
        return float(command[1])
    sleep = container.get("lifecycle", {}).get("preStop", {}).get("sleep")
    return float(sleep["seconds"]) if sleep else 0.0


# --------------------------------------------------------------------------- rules
def schema_problems(objs: list[Obj], version: str) -> list[str]:
    problems = []
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path)
            problems.append(f"{ident(obj)} ({version}): {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{ident(obj)} ({version}): no schema: {exc}")
    return problems


def probe_problems(objs: list[Obj]) -> list[str]:
    """API containers: startup, readiness on /readyz and liveness on /healthz, on a declared
    port. Liveness must not test the database (an outage would restart every pod)."""
    problems = []
    for obj, spec in workloads(objs):
        if component(obj) != "api":
            continue
        for c in spec.get("containers") or []:
            where = f"{ident(obj)}/{c['name']}"
            ports = {p.get("name") for p in c.get("ports") or []}
            ports |= {p["containerPort"] for p in c.get("ports") or []}
            expected = {
                "readinessProbe": "/readyz",
                "livenessProbe": "/healthz",
                "startupProbe": "/healthz",
            }
            for probe_name, path in expected.items():
                probe = c.get(probe_name)
                if not probe:
                    problems.append(f"{where}: no {probe_name}")
                    continue
                http = probe.get("httpGet") or {}
                if http.get("path") != path:
                    problems.append(f"{where}: {probe_name} should GET {path}")
                if http.get("port") not in ports:
                    problems.append(f"{where}: {probe_name} port {http.get('port')} not declared")
    return problems


def resource_problems(objs: list[Obj]) -> list[str]:
    problems = []
    for obj, spec in workloads(objs):
        for c in containers(spec):
            where = f"{ident(obj)}/{c['name']}"
            res = c.get("resources") or {}
            for resource in ("cpu", "memory"):
                request = (res.get("requests") or {}).get(resource)
                limit = (res.get("limits") or {}).get(resource)
                if request is None:
                    problems.append(f"{where}: no {resource} request")
                if limit is None:
                    problems.append(f"{where}: no {resource} limit")
                if (
                    request is not None
                    and limit is not None
                    and quantity(request) > quantity(limit)
                ):
                    problems.append(f"{where}: {resource} request above its limit")
    return problems


def security_problems(objs: list[Obj]) -> list[str]:
    problems = []
    for obj, spec in workloads(objs):
        pod_ctx = spec.get("securityContext") or {}
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(flag):
                problems.append(f"{ident(obj)}: {flag}")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{ident(obj)}: the service account token is mounted")
        if spec.get("enableServiceLinks") is not False:
            problems.append(f"{ident(obj)}: service links inject *_PORT variables (OMNISTOCK_*)")
        tmp_volumes = {v["name"] for v in spec.get("volumes") or [] if "emptyDir" in v}
        for c in containers(spec):
            where = f"{ident(obj)}/{c['name']}"
            ctx = c.get("securityContext") or {}

            def effective(key: str, ctx: Obj = ctx, pod_ctx: Obj = pod_ctx) -> Any:
                return ctx[key] if key in ctx else pod_ctx.get(key)

            if effective("runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            if effective("runAsUser") != UID:
                problems.append(f"{where}: runAsUser is not {UID} (the image's USER)")
            if ctx.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem is writable")
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if ctx.get("privileged"):
                problems.append(f"{where}: privileged")
            caps = ctx.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                problems.append(f"{where}: capabilities not dropped (drop: [ALL])")
            if caps.get("add"):
                problems.append(f"{where}: adds capabilities {caps['add']}")
            seccomp = (effective("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{where}: seccompProfile is {seccomp}")
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
            if mounts.get("/tmp") not in tmp_volumes:
                problems.append(f"{where}: no emptyDir at /tmp (the root is read-only)")
    return problems


def image_ref_problems(image: str) -> list[str]:
    """A reference must name an exact version: a tag other than latest, or a digest."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if "$" in image:
        return [f"{image}: unresolved variable"]
    if tag == "latest":
        return [f"{image}: tag latest"]
    if tag is None and not digest:
        return [f"{image}: no tag"]
    return []


def image_problems(objs: list[Obj]) -> list[str]:
    problems = []
    for obj, spec in workloads(objs):
        for c in containers(spec):
            problems += [f"{ident(obj)}/{c['name']}: {p}" for p in image_ref_problems(c["image"])]
            if c.get("imagePullPolicy") == "Always":
                problems.append(f"{ident(obj)}/{c['name']}: imagePullPolicy Always")
    return problems


def config_problems(
    data: dict[str, str],
    readme: dict[str, str | None],
    deviations: dict[str, str] | None = None,
) -> list[str]:
    """ConfigMap keys: documented in the README, no secret among them, and (``deviations`` given)
    each value the README default unless listed with its expected value."""
    problems = []
    for key, value in data.items():
        if key not in readme:
            problems.append(f"{key}: not in README.md's configuration table")
            continue
        if key in SECRET_KEYS or re.search(r"PASSWORD|SECRET|TOKEN", key):
            problems.append(f"{key}: a secret in the ConfigMap")
            continue
        if deviations is None:
            continue
        expected = deviations.get(key, readme[key])
        if value != expected:
            problems.append(f"{key}={value!r}: expected {expected!r}")
    return problems


def secret_template_problems(secret: Obj) -> list[str]:
    problems = []
    if secret.get("kind") != "Secret":
        problems.append(f"{ident(secret)}: not a Secret")
    if secret.get("data"):
        problems.append("data: base64 values can hide a real secret; use stringData placeholders")
    values = secret.get("stringData") or {}
    for key, value in values.items():
        if key in OPTIONAL_SECRET_KEYS:
            if value != "":
                problems.append(f"{key}: optional, must be empty in the template (off)")
        elif PLACEHOLDER not in str(value):
            problems.append(f"{key}: not a placeholder (must contain {PLACEHOLDER!r})")
    for key in sorted(SECRET_KEYS - set(values)):
        problems.append(f"{key}: missing from the template")
    for key in sorted(set(values) - SECRET_KEYS):
        problems.append(f"{key}: not a secret omnistock reads")
    return problems


def _port(entry: Obj) -> tuple[str, object]:
    return entry.get("protocol", "TCP"), entry.get("port")


def network_problems(objs: list[Obj]) -> list[str]:
    problems = []
    policies = of_kind(objs, "NetworkPolicy")
    egress = [p for p in policies if "Egress" in p["spec"].get("policyTypes", [])]
    ingress = [p for p in policies if "Ingress" in p["spec"].get("policyTypes", [])]
    found: set[tuple[str, object]] = set()
    for policy in egress:
        for i, rule in enumerate(policy["spec"].get("egress") or []):
            if not rule.get("ports"):
                problems.append(f"{ident(policy)}: egress rule {i} allows every port")
                continue
            for entry in rule["ports"]:
                if "endPort" in entry:
                    problems.append(f"{ident(policy)}: egress port range {entry}")
                found.add(_port(entry))
                if entry.get("port") == 443:
                    problems += _public_only(policy, rule)
    if found != ALLOWED_EGRESS:
        problems.append(f"egress ports {sorted(map(str, found))} are not the allowed set")
    for policy in ingress:
        for i, rule in enumerate(policy["spec"].get("ingress") or []):
            if not rule.get("from"):
                problems.append(f"{ident(policy)}: ingress rule {i} is open to every source")
    for obj, _spec in workloads(objs):
        labels = labels_of(pod_template(obj) or {})
        if not any(selects(p["spec"]["podSelector"], labels) for p in egress):
            problems.append(f"{ident(obj)}: egress not restricted by any NetworkPolicy")
        selecting = [p for p in ingress if selects(p["spec"]["podSelector"], labels)]
        if not selecting:
            problems.append(f"{ident(obj)}: ingress not restricted by any NetworkPolicy")
        opened = [p for p in selecting if p["spec"].get("ingress")]
        allowed = ALLOWED_INGRESS.get(component(obj) or "", {})
        if opened and not allowed:
            problems.append(f"{ident(obj)}: ingress opened by {[ident(p) for p in opened]}")
            continue
        for policy in opened:
            for i, rule in enumerate(policy["spec"]["ingress"]):
                ports = {_port(e) for e in rule.get("ports") or []}
                where = f"{ident(policy)}: ingress rule {i}"
                if not ports or not ports <= set(allowed):
                    problems.append(f"{where} opens {ports or 'all ports'} to {ident(obj)}")
                    continue
                for source in rule.get("from") or []:
                    if any(source not in allowed[port] for port in ports):
                        problems.append(f"{where} admits {source} to {ident(obj)}")
    return problems


def scrape_problems(objs: list[Obj]) -> list[str]:
    """The API and the worker are scraped: prometheus.io annotations on a declared port (the
    worker's is OMNISTOCK_WORKER_METRICS_PORT, where its liveness probe GETs /healthz), and a
    NetworkPolicy admitting Prometheus to that port."""
    problems = []
    policies = [
        p for p in of_kind(objs, "NetworkPolicy") if "Ingress" in p["spec"].get("policyTypes", [])
    ]
    worker_port = int(configmap(objs)["OMNISTOCK_WORKER_METRICS_PORT"])
    scraped = set()
    for obj, spec in workloads(objs):
        template = pod_template(obj) or {}
        notes = template.get("metadata", {}).get("annotations") or {}
        if notes.get("prometheus.io/scrape") != "true":
            continue
        scraped.add(component(obj))
        port = int(notes.get("prometheus.io/port", 0))
        if notes.get("prometheus.io/path") != "/metrics":
            problems.append(f"{ident(obj)}: prometheus.io/path is not /metrics")
        declared = {
            p["containerPort"]: p.get("name")
            for c in spec["containers"]
            for p in c.get("ports") or []
        }
        if port not in declared:
            problems.append(f"{ident(obj)}: prometheus.io/port {port} is not a container port")
        if component(obj) == "worker":
            if port != worker_port:
                problems.append(
                    f"{ident(obj)}: prometheus.io/port {port} is not "
                    f"OMNISTOCK_WORKER_METRICS_PORT {worker_port}"
                )
            for c in spec["containers"]:
                probe_port = (c.get("livenessProbe") or {}).get("httpGet", {}).get("port")
                if probe_port not in (port, declared.get(port)):
                    problems.append(f"{ident(obj)}: liveness probe not on the metrics port")
        labels = labels_of(template)
        admitted = any(
            ("TCP", port) in {_port(e) for e in rule.get("ports") or []}
            and PROMETHEUS in (rule.get("from") or [])
            for p in policies
            if selects(p["spec"]["podSelector"], labels)
            for rule in p["spec"].get("ingress") or []
        )
        if not admitted:
            problems.append(f"{ident(obj)}: port {port} not open to Prometheus")
    for missing in sorted({"api", "worker"} - scraped):
        problems.append(f"the {missing} pods are not scraped (no prometheus.io/scrape)")
    return problems


def _public_only(policy: Obj, rule: Obj) -> list[str]:
    targets = rule.get("to") or []
    if not targets:
        return [f"{ident(policy)}: 443 open to every address, private ranges included"]
    problems = []
    for target in targets:
        block = target.get("ipBlock")
        if not block:
            continue  # a pod/namespace selector is in-cluster by construction
        excluded = [ipaddress.ip_network(e) for e in block.get("except") or []]
        for private in map(ipaddress.ip_network, PRIVATE_RANGES):
            inside = private.subnet_of(ipaddress.ip_network(block["cidr"]))  # type: ignore[arg-type]
            if inside and not any(private.subnet_of(e) for e in excluded):  # type: ignore[arg-type]
                problems.append(f"{ident(policy)}: 443 reaches private range {private}")
    return problems


def shutdown_problems(objs: list[Obj]) -> list[str]:
    """API pods: the kubelet must not kill a pod before preStop + in-flight requests finish."""
    problems = []
    timeout = float(configmap(objs)["OMNISTOCK_SHUTDOWN_TIMEOUT_S"])
    for obj, spec in workloads(objs):
        if component(obj) != "api":
            continue
        grace = spec.get("terminationGracePeriodSeconds", 30)
        for c in spec["containers"]:
            sleep = prestop_sleep_s(c)
            if sleep <= 0:
                problems.append(f"{ident(obj)}/{c['name']}: no preStop sleep to drain endpoints")
            if grace < sleep + timeout + PRESTOP_TIMEOUT_MARGIN_S:
                problems.append(
                    f"{ident(obj)}: terminationGracePeriodSeconds {grace} < preStop {sleep} s "
                    f"+ OMNISTOCK_SHUTDOWN_TIMEOUT_S {timeout} s + {PRESTOP_TIMEOUT_MARGIN_S} s"
                )
    return problems


def scaling_problems(objs: list[Obj]) -> list[str]:
    """HPA targets a Deployment whose replicas equal minReplicas (>= 2); every PDB selects a
    workload and leaves room for a drain; API pods spread over nodes."""
    problems = []
    deployments = {d["metadata"]["name"]: d for d in of_kind(objs, "Deployment")}
    for hpa in of_kind(objs, "HorizontalPodAutoscaler"):
        target = deployments.get(hpa["spec"]["scaleTargetRef"]["name"])
        if target is None:
            problems.append(f"{ident(hpa)}: targets no Deployment of ours")
            continue
        low, high = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
        if low < 2 or high < low:
            problems.append(f"{ident(hpa)}: min {low} / max {high}")
        if target["spec"].get("replicas") != low:
            problems.append(f"{ident(target)}: replicas differ from {ident(hpa)} minReplicas")
    for pdb in of_kind(objs, "PodDisruptionBudget"):
        chosen = [
            d
            for d in deployments.values()
            if selects(pdb["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        if not chosen:
            problems.append(f"{ident(pdb)}: selects no Deployment")
        for d in chosen:
            if pdb["spec"].get("minAvailable", 0) >= d["spec"].get("replicas", 1):
                problems.append(f"{ident(pdb)}: minAvailable blocks every drain of {ident(d)}")
    for d in deployments.values():
        if component(d) == "api":
            spread = d["spec"]["template"]["spec"].get("topologySpreadConstraints") or []
            keys = {c["topologyKey"] for c in spread}
            if "kubernetes.io/hostname" not in keys:
                problems.append(f"{ident(d)}: pods not spread over nodes")
    return problems


def wiring_problems(objs: list[Obj]) -> list[str]:
    """Labels, selectors, ports, commands, config and secret references fit together."""
    problems = []
    for obj in objs:
        labels = labels_of(obj)
        if labels.get("app.kubernetes.io/name") != APP:
            problems.append(f"{ident(obj)}: app.kubernetes.io/name is not {APP}")
        if labels.get("app.kubernetes.io/part-of") != APP:
            problems.append(f"{ident(obj)}: app.kubernetes.io/part-of is not {APP}")
    configmaps = {c["metadata"]["name"] for c in of_kind(objs, "ConfigMap")}
    parser = build_parser()
    for obj, spec in workloads(objs):
        template_labels = labels_of(pod_template(obj) or {})
        selector = obj["spec"].get("selector")
        if selector and not selects(selector, template_labels):
            problems.append(f"{ident(obj)}: selector does not match its pod template")
        for c in containers(spec):
            where = f"{ident(obj)}/{c['name']}"
            if c.get("command") != ["omnistock"]:
                problems.append(f"{where}: command is not omnistock")
            try:
                parser.parse_args(c.get("args") or [])
            except SystemExit:
                problems.append(f"{where}: `omnistock {' '.join(c.get('args') or [])}` is invalid")
            for source in c.get("envFrom") or []:
                ref = (source.get("configMapRef") or {}).get("name")
                if ref is not None and ref not in configmaps:
                    problems.append(f"{where}: ConfigMap {ref} is not rendered")
            passed = set()
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref is None:
                    continue
                if ref.get("name") != SECRET_NAME or ref.get("key") not in SECRET_KEYS:
                    problems.append(f"{where}: unknown secret {ref.get('name')}/{ref.get('key')}")
                    continue
                if env["name"] != ref["key"]:
                    problems.append(f"{where}: secret {ref['key']} read as {env['name']}")
                passed.add(ref["key"])
                if ref.get("optional") and ref["key"] in REQUIRED_SECRET_KEYS:
                    problems.append(f"{where}: secret {ref['key']} is optional")
                if not ref.get("optional") and ref["key"] in OPTIONAL_SECRET_KEYS:
                    problems.append(f"{where}: secret {ref['key']} is required, not optional")
            # Settings refuse a notification URL (from the ConfigMap) without its secret: every
            # process that reads the ConfigMap gets the optional secrets, and the database.
            if c.get("envFrom"):
                for key in sorted((NOTIFICATION_SECRET_KEYS | {"DATABASE_URL"}) - passed):
                    problems.append(f"{where}: secret {key} not passed")
            if component(obj) == "api":  # the replay keys: every API replica the same
                for key in ("OMNISTOCK_REPLAY_KEY", "OMNISTOCK_REPLAY_KEY_PREVIOUS"):
                    if key not in passed:
                        problems.append(f"{where}: secret {key} not passed")
    api_pods = [
        labels_of(pod_template(d) or {})
        for d in of_kind(objs, "Deployment")
        if component(d) == "api"
    ]
    api_ports = {
        port.get(key)
        for d in of_kind(objs, "Deployment")
        if component(d) == "api"
        for c in d["spec"]["template"]["spec"]["containers"]
        for port in c.get("ports") or []
        for key in ("name", "containerPort")
    }
    for svc in of_kind(objs, "Service"):
        if not any(selects({"matchLabels": svc["spec"]["selector"]}, pod) for pod in api_pods):
            problems.append(f"{ident(svc)}: selects no API pod")
        for port in svc["spec"]["ports"]:
            if port.get("targetPort", port["port"]) not in api_ports:
                problems.append(f"{ident(svc)}: targetPort {port.get('targetPort')} is no API port")
    return problems


def job_problems(objs: list[Obj]) -> list[str]:
    problems = []
    jobs = of_kind(objs, "Job")
    commands = [
        c.get("args") or [] for j in jobs for c in containers(j["spec"]["template"]["spec"])
    ]
    if ["migrate"] not in commands:
        problems.append("no Job runs `omnistock migrate`")
    for job in jobs:
        spec = job["spec"]
        for field in ("backoffLimit", "ttlSecondsAfterFinished", "activeDeadlineSeconds"):
            if field not in spec:
                problems.append(f"{ident(job)}: no {field}")
        if spec["template"]["spec"].get("restartPolicy") not in ("Never", "OnFailure"):
            problems.append(f"{ident(job)}: restartPolicy must be Never or OnFailure")
    return problems


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found, buffer = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not buffer):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        op, _, rest = buffer.partition(" ")
        found.append((op.upper(), rest.strip()))
        buffer = ""
    return found


def dockerfile_problems(text: str) -> list[str]:
    problems = []
    args: dict[str, str] = {}
    stages: list[dict[str, Any]] = []
    for op, rest in dockerfile_instructions(text):
        if op == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip("\"'")
        elif op == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), words[0])
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append({"image": image, "alias": alias, "ops": []})
        elif stages:
            stages[-1]["ops"].append((op, rest))
        if op == "ADD" and re.search(r"https?://", rest):
            problems.append(f"ADD {rest}: remote sources are not pinned; download in a RUN")
    if not stages:
        return ["no FROM"]
    aliases: set[str] = set()
    for stage in stages:
        image = stage["image"]
        if image not in aliases:
            problems += [f"FROM {p}" for p in image_ref_problems(image)]
            tag = image.partition("@")[0].rsplit("/", 1)[-1].partition(":")[2]
            if "@" not in image and not re.search(r"\d+\.\d+\.\d+", tag):
                problems.append(f"FROM {image}: base image not pinned to an exact version")
        if stage["alias"]:
            aliases.add(stage["alias"])
    final = stages[-1]["ops"]
    users = [rest for op, rest in final if op == "USER"]
    if not users:
        problems.append("the final stage runs as root (no USER)")
    else:
        user = users[-1].split(":", 1)[0]
        if not user.isdigit():
            problems.append(f"USER {users[-1]}: use a numeric uid (runAsNonRoot can verify it)")
        elif int(user) == 0:
            problems.append(f"USER {users[-1]}: root")
    env: dict[str, str] = {}
    for op, rest in final:
        if op == "ENV":
            for word in shlex.split(rest):
                key, _, value = word.partition("=")
                env[key] = value
    if env.get("PYTHONDONTWRITEBYTECODE") != "1":
        problems.append("PYTHONDONTWRITEBYTECODE=1 not set (a read-only root cannot take .pyc)")
    exposed = {w.split("/")[0] for op, rest in final if op == "EXPOSE" for w in rest.split()}
    if str(API_PORT) not in exposed:
        problems.append(f"port {API_PORT} not exposed")
    entry = [rest for op, rest in final if op == "ENTRYPOINT"]
    if not entry or not entry[-1].startswith("[") or json.loads(entry[-1])[:1] != ["omnistock"]:
        problems.append('ENTRYPOINT is not ["omnistock"] (exec form)')
    return problems


def alert_problems(doc: Any, series: set[str]) -> list[str]:
    """A plain Prometheus rules file: groups of alerting rules, each complete, each on series
    omnistock exports."""
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list) or not doc["groups"]:
        return ["not a rules file: no `groups` list"]
    seen: set[str] = set()
    for group in doc["groups"]:
        if not group.get("name") or not group.get("rules"):
            problems.append(f"group {group.get('name')!r}: needs a name and rules")
            continue
        for rule in group["rules"]:
            name = rule.get("alert")
            if not name:
                problems.append(f"{group['name']}: a rule without `alert`")
                continue
            if name in seen:
                problems.append(f"{name}: defined twice")
            seen.add(name)
            expr = str(rule.get("expr") or "")
            if not expr.strip():
                problems.append(f"{name}: no expr")
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                problems.append(f"{name}: unbalanced brackets")
            if not re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))):
                problems.append(f"{name}: `for` missing or not a duration")
            if (rule.get("labels") or {}).get("severity") not in ("warning", "critical"):
                problems.append(f"{name}: severity must be warning or critical")
            notes = rule.get("annotations") or {}
            for key in ("summary", "description"):
                if not notes.get(key):
                    problems.append(f"{name}: no annotations.{key}")
            for metric in re.findall(r"\bomnistock_[a-z0-9_]+", expr):
                if metric not in series:
                    problems.append(f"{name}: omnistock exports no series {metric}")
    return problems


# --------------------------------------------------------------------------- the real files
TREE_NAMES = list(TREES)


@needs_kubectl
@pytest.mark.parametrize("tree", TREE_NAMES)
def test_renders_every_kind(tree: str) -> None:
    kinds = sorted({o["kind"] for o in render(tree)})
    expected = {
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    }
    assert expected <= set(kinds)
    assert "Secret" not in kinds  # never applied with placeholders over the real one
    assert len(of_kind(render(tree), "Deployment")) == 2


@needs_kubectl
@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("tree", TREE_NAMES)
def test_schemas(tree: str, version: str) -> None:
    assert schema_problems(render(tree), version) == []


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_secret_template_schema(version: str) -> None:
    assert schema_problems([secret_template()], version) == []


@needs_kubectl
@pytest.mark.parametrize(
    "rule",
    [
        probe_problems,
        resource_problems,
        security_problems,
        image_problems,
        network_problems,
        shutdown_problems,
        scaling_problems,
        wiring_problems,
        job_problems,
        scrape_problems,
    ],
    ids=lambda rule: rule.__name__,
)
@pytest.mark.parametrize("tree", TREE_NAMES)
def test_rules(tree: str, rule: Callable[[list[Obj]], list[str]]) -> None:
    assert rule(render(tree)) == []


@needs_kubectl
def test_base_config_is_the_readme_defaults() -> None:
    data = configmap(render("base"))
    assert config_problems(data, readme_settings(), BASE_CONFIG_DEVIATIONS) == []


@needs_kubectl
@pytest.mark.parametrize("tree", TREE_NAMES)
def test_config_covers_every_setting(tree: str) -> None:
    data = configmap(render(tree))
    assert config_problems(data, readme_settings()) == []
    assert set(readme_settings()) == set(data) | SECRET_KEYS
    assert set(secret_template()["stringData"]) == SECRET_KEYS


@needs_kubectl
@pytest.mark.parametrize("tree", TREE_NAMES)
def test_config_and_secret_load_as_settings(tree: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendered environment is what omnistock reads: it validates, and it agrees with the
    manifests (port, host)."""
    for name in list(os.environ):
        if name.startswith("OMNISTOCK_") or name in SECRET_KEYS | {"REDIS_URL"}:
            monkeypatch.delenv(name)
    for key, value in {**configmap(render(tree)), **secret_template()["stringData"]}.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.host == "0.0.0.0"
    assert settings.port == API_PORT
    assert settings.database_url and PLACEHOLDER in settings.database_url


def test_secret_template_holds_only_placeholders() -> None:
    assert secret_template_problems(secret_template()) == []
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert SECRET_TEMPLATE.name not in kustomization["resources"]


@needs_kubectl
def test_base_images() -> None:
    images = {c["image"] for _, spec in workloads(render("base")) for c in containers(spec)}
    assert images == {"omnistock:0.1.0"}


@needs_kubectl
def test_example_overlay() -> None:
    objs = render("example")
    images = {c["image"] for _, spec in workloads(objs) for c in containers(spec)}
    assert images == {"registry.example.com/omnistock:0.1.0"}
    assert configmap(objs)["OMNISTOCK_ERP_URL"] == "https://tenant-retail-ondemand.cegid.cloud"
    for obj in objs:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "omnistock", ident(obj)
    namespace = one(objs, "Namespace", "omnistock")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert one(objs, "HorizontalPodAutoscaler", "omnistock-api")["spec"]["minReplicas"] == 3


@needs_kubectl
def test_versions_agree() -> None:
    """Image tag, version label, Dockerfile label and pyproject say the same version."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    objs = render("base")
    assert {labels_of(o).get("app.kubernetes.io/version") for o in objs} == {version}
    assert {c["image"].rsplit(":", 1)[1] for _, s in workloads(objs) for c in containers(s)} == {
        version
    }
    assert f'org.opencontainers.image.version="{version}"' in (ROOT / "Dockerfile").read_text()


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert dockerfile_problems(text) == []
    users = [rest for op, rest in dockerfile_instructions(text) if op == "USER"]
    assert users[-1] == f"{UID}:{UID}"  # the runAsUser/runAsGroup of every pod


def test_dockerignore_admits_exactly_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "allow-list: exclude everything, then re-include"
    admitted = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = set()
    for op, rest in dockerfile_instructions((ROOT / "Dockerfile").read_text()):
        if op == "COPY" and "--from" not in rest:
            copied |= {w.rstrip("/") for w in rest.split()[:-1]}
    assert copied == admitted
    assert all((ROOT / path).exists() for path in copied)


def test_alert_rules() -> None:
    doc = yaml.safe_load(ALERTS.read_text())
    assert alert_problems(doc, metric_series_names()) == []
    exprs = {r["alert"]: r["expr"] for g in doc["groups"] for r in g["rules"]}
    expected_series = {
        "OmnistockOutboxBacklogOld": "omnistock_outbox_oldest_pending_age_seconds",
        "OmnistockOutboxDeadRows": "omnistock_outbox_dead",
        "OmnistockSyncFullLagHigh": 'omnistock_sync_lag_seconds{job="stock_full"}',
        "OmnistockSyncHotLagHigh": 'omnistock_sync_lag_seconds{job="stock_hot"}',
        "OmnistockErpErrorRateHigh": 'omnistock_erp_calls_total{outcome!="ok"}',
        "OmnistockApi5xxRateHigh": 'status=~"5.."',
        "OmnistockApiLatencyP99High": "omnistock_http_request_duration_seconds_bucket",
    }
    for alert, fragment in expected_series.items():
        assert fragment in exprs.get(alert, ""), alert
    assert "histogram_quantile(0.99" in exprs["OmnistockApiLatencyP99High"]
    # Thresholds follow the settings of k8s/base/config.env.
    base = (K8S / "base" / "config.env").read_text()

    def setting(name: str) -> float:
        return float(re.search(rf"^{name}=(.*)$", base, re.M)[1])  # type: ignore[index]

    def threshold(alert: str) -> float:
        return float(exprs[alert].rsplit(">", 1)[1])

    assert threshold("OmnistockSyncFullLagHigh") == 3 * setting("OMNISTOCK_SYNC_FULL_INTERVAL_S")
    assert threshold("OmnistockSyncHotLagHigh") == 3 * setting("OMNISTOCK_SYNC_HOT_INTERVAL_S")
    # A row may legitimately wait one full backoff bound: warn only past two.
    backoff = setting("OMNISTOCK_OUTBOX_BACKOFF_MAX_S")
    assert threshold("OmnistockOutboxBacklogOld") >= 2 * backoff


def test_readme_table_is_readable() -> None:
    table = readme_settings()
    assert table["OMNISTOCK_PORT"] == "8080"
    assert table["DATABASE_URL"] is None
    assert table["OMNISTOCK_OUTBOX_DEFAULT_CUSTOMER_ID"] == ""


# --------------------------------------------------------------------------- the rules can fail
def _api(objs: list[Obj]) -> Obj:
    return one(objs, "Deployment", "omnistock-api")


def _api_container(objs: list[Obj]) -> Obj:
    container: Obj = _api(objs)["spec"]["template"]["spec"]["containers"][0]
    return container


def _worker_container(objs: list[Obj]) -> Obj:
    container: Obj = one(objs, "Deployment", "omnistock-worker")["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


def _egress(objs: list[Obj]) -> Obj:
    return one(objs, "NetworkPolicy", "omnistock-egress")


def _worker_ingress_rule(objs: list[Obj]) -> Obj:
    rule: Obj = one(objs, "NetworkPolicy", "omnistock-worker-ingress")["spec"]["ingress"][0]
    return rule


def _env(container: Obj, name: str) -> Obj:
    found: Obj = next(e for e in container["env"] if e["name"] == name)
    return found


def _migrate_container(objs: list[Obj]) -> Obj:
    container: Obj = one(objs, "Job", "omnistock-migrate")["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


BREAKAGES: list[
    tuple[str, Callable[[list[Obj]], object], Callable[[list[Obj]], list[str]], str]
] = [
    (
        "no-readiness",
        lambda o: _api_container(o).pop("readinessProbe"),
        probe_problems,
        "no readinessProbe",
    ),
    (
        "liveness-on-readyz",
        lambda o: _api_container(o)["livenessProbe"]["httpGet"].update(path="/readyz"),
        probe_problems,
        "livenessProbe should GET /healthz",
    ),
    (
        "no-memory-limit",
        lambda o: _worker_container(o)["resources"]["limits"].pop("memory"),
        resource_problems,
        "no memory limit",
    ),
    (
        "request-above-limit",
        lambda o: _api_container(o)["resources"]["requests"].update(cpu="2"),
        resource_problems,
        "cpu request above its limit",
    ),
    (
        "root",
        lambda o: (
            _api_container(o)["securityContext"].update(runAsUser=0),
            _api_container(o)["securityContext"].pop("runAsNonRoot"),
            _api(o)["spec"]["template"]["spec"]["securityContext"].update(runAsNonRoot=False),
        ),
        security_problems,
        "runAsNonRoot is not true",
    ),
    (
        "writable-root",
        lambda o: _worker_container(o)["securityContext"].pop("readOnlyRootFilesystem"),
        security_problems,
        "root filesystem is writable",
    ),
    (
        "service-links",
        lambda o: _api(o)["spec"]["template"]["spec"].pop("enableServiceLinks"),
        security_problems,
        "service links",
    ),
    (
        "latest",
        lambda o: _api_container(o).update(image="omnistock:latest"),
        image_problems,
        "tag latest",
    ),
    (
        "untagged",
        lambda o: _worker_container(o).update(image="registry.example.com/omnistock"),
        image_problems,
        "no tag",
    ),
    (
        "ssh-egress",
        lambda o: _egress(o)["spec"]["egress"].append({"ports": [{"port": 22}]}),
        network_problems,
        "not the allowed set",
    ),
    (
        "egress-any-port",
        lambda o: _egress(o)["spec"]["egress"].append({"to": [{"podSelector": {}}]}),
        network_problems,
        "allows every port",
    ),
    (
        "https-to-private",
        lambda o: _egress(o)["spec"]["egress"][-1]["to"][0]["ipBlock"].pop("except"),
        network_problems,
        "443 reaches private range",
    ),
    (
        "worker-ingress",
        lambda o: one(o, "NetworkPolicy", "omnistock-api-ingress")["spec"]["podSelector"][
            "matchLabels"
        ].pop("app.kubernetes.io/component"),
        network_problems,
        "ingress opened by",
    ),
    (
        "short-grace",
        lambda o: _api(o)["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=20),
        shutdown_problems,
        "terminationGracePeriodSeconds 20",
    ),
    (
        "hpa-floor-mismatch",
        lambda o: _api(o)["spec"].update(replicas=1),
        scaling_problems,
        "replicas differ",
    ),
    (
        "pdb-blocks-drain",
        lambda o: one(o, "PodDisruptionBudget", "omnistock-worker")["spec"].update(minAvailable=2),
        scaling_problems,
        "blocks every drain",
    ),
    (
        "bad-command",
        lambda o: _worker_container(o).update(args=["wrker"]),
        wiring_problems,
        "is invalid",
    ),
    (
        "unknown-secret-key",
        lambda o: _api_container(o)["env"][0]["valueFrom"]["secretKeyRef"].update(key="DB"),
        wiring_problems,
        "unknown secret",
    ),
    (
        "service-port",
        lambda o: one(o, "Service", "omnistock-api")["spec"]["ports"][0].update(targetPort=9090),
        wiring_problems,
        "targetPort 9090 is no API port",
    ),
    (
        "uid-mismatch",
        lambda o: _worker_container(o)["securityContext"].update(runAsUser=1000),
        security_problems,
        "runAsUser is not 10001",
    ),
    (
        "no-ttl",
        lambda o: one(o, "Job", "omnistock-migrate")["spec"].pop("ttlSecondsAfterFinished"),
        job_problems,
        "no ttlSecondsAfterFinished",
    ),
    (
        "worker-metrics-closed",
        lambda o: one(o, "NetworkPolicy", "omnistock-worker-ingress")["spec"]["ingress"].clear(),
        scrape_problems,
        "Deployment/omnistock-worker: port 9100 not open to Prometheus",
    ),
    (
        "worker-not-scraped",
        lambda o: one(o, "Deployment", "omnistock-worker")["spec"]["template"]["metadata"].pop(
            "annotations"
        ),
        scrape_problems,
        "the worker pods are not scraped",
    ),
    (
        "worker-metrics-port-moved",
        lambda o: configmap(o).update(OMNISTOCK_WORKER_METRICS_PORT="9200"),
        scrape_problems,
        "is not OMNISTOCK_WORKER_METRICS_PORT 9200",
    ),
    (
        "worker-liveness-elsewhere",
        lambda o: _worker_container(o)["livenessProbe"]["httpGet"].update(port=8080),
        scrape_problems,
        "liveness probe not on the metrics port",
    ),
    (
        "worker-ingress-other-port",
        lambda o: _worker_ingress_rule(o)["ports"][0].update(port=5432),
        network_problems,
        "opens {('TCP', 5432)} to Deployment/omnistock-worker",
    ),
    (
        "worker-ingress-from-ingress-controller",
        lambda o: _worker_ingress_rule(o)["from"].append(copy.deepcopy(INGRESS_CONTROLLER)),
        network_problems,
        "admits",
    ),
    (
        "worker-ingress-from-anywhere",
        lambda o: _worker_ingress_rule(o).pop("from"),
        network_problems,
        "open to every source",
    ),
    (
        "optional-database",
        lambda o: _env(_api_container(o), "DATABASE_URL")["valueFrom"]["secretKeyRef"].update(
            optional=True
        ),
        wiring_problems,
        "secret DATABASE_URL is optional",
    ),
    (
        "required-webhook-secret",
        lambda o: _env(_worker_container(o), "OMNISTOCK_WEBHOOK_SECRET")["valueFrom"][
            "secretKeyRef"
        ].pop("optional"),
        wiring_problems,
        "secret OMNISTOCK_WEBHOOK_SECRET is required, not optional",
    ),
    (
        "migration-without-prestashop-key",
        lambda o: _migrate_container(o)["env"].remove(
            _env(_migrate_container(o), "OMNISTOCK_PRESTASHOP_KEY")
        ),
        wiring_problems,
        "Job/omnistock-migrate/migrate: secret OMNISTOCK_PRESTASHOP_KEY not passed",
    ),
]


@needs_kubectl
@pytest.mark.parametrize(
    ("breakage", "checker", "expected"),
    [pytest.param(b, c, e, id=i) for i, b, c, e in BREAKAGES],
)
def test_rules_reject_broken_objects(
    breakage: Callable[[list[Obj]], object],
    checker: Callable[[list[Obj]], list[str]],
    expected: str,
) -> None:
    objs = render("base")
    assert checker(objs) == []
    breakage(objs)
    problems = checker(objs)
    assert any(expected in p for p in problems), problems


@needs_kubectl
def test_schema_rejects_an_unknown_field() -> None:
    objs = render("base")
    _api(objs)["spec"]["replica"] = 3  # a typo of replicas
    _worker_container(objs)["resources"]["limit"] = {"cpu": "1"}  # a typo of limits
    problems = schema_problems(objs, K8S_VERSIONS[-1])
    assert len(problems) == 2, problems
    assert any("replica" in p for p in problems)


def test_config_rules_reject() -> None:
    readme = readme_settings()
    assert config_problems({"OMNISTOCK_NOT_A_SETTING": "1"}, readme) == [
        "OMNISTOCK_NOT_A_SETTING: not in README.md's configuration table"
    ]
    assert "a secret" in config_problems({"OMNISTOCK_ERP_PASSWORD": "x"}, readme)[0]
    assert config_problems({"OMNISTOCK_PORT": "9090"}, readme, {}) == [
        "OMNISTOCK_PORT='9090': expected '8080'"
    ]


def test_secret_rules_reject() -> None:
    secret = secret_template()
    secret["stringData"]["OMNISTOCK_ERP_PASSWORD"] = "s3cr3t-real-looking"
    secret["data"] = {"X": "c2VjcmV0"}
    problems = secret_template_problems(secret)
    assert len(problems) == 2, problems


def test_secret_rules_reject_notification_secrets() -> None:
    secret = secret_template()
    secret["stringData"]["OMNISTOCK_WEBHOOK_SECRET"] = "change-me"  # optional: empty, not a value
    del secret["stringData"]["OMNISTOCK_PRESTASHOP_KEY"]
    secret["stringData"]["OMNISTOCK_SMTP_PASSWORD"] = "change-me"
    assert secret_template_problems(secret) == [
        "OMNISTOCK_WEBHOOK_SECRET: optional, must be empty in the template (off)",
        "OMNISTOCK_PRESTASHOP_KEY: missing from the template",
        "OMNISTOCK_SMTP_PASSWORD: not a secret omnistock reads",
    ]


def test_notification_secrets_are_secret_settings() -> None:
    """The optional Secret keys are exactly the settings that are secrets besides the required
    ones, and none of them is in config.env."""
    secret_settings = {
        f"OMNISTOCK_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }
    assert secret_settings == (SECRET_KEYS - {"DATABASE_URL"})
    config_env = (K8S / "base" / "config.env").read_text()
    for key in SECRET_KEYS:
        assert not re.search(rf"^{key}=", config_env, re.M), key
    assert secret_template()["stringData"].keys() >= OPTIONAL_SECRET_KEYS
    assert all(secret_template()["stringData"][k] == "" for k in OPTIONAL_SECRET_KEYS)


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        ("FROM python:latest\nUSER 10001\n", "tag latest"),
        ("FROM python\nUSER 10001\n", "no tag"),
        ("FROM python:3.11-slim\nUSER 10001\n", "not pinned to an exact version"),
        ("FROM python:3.11.11-slim\n", "runs as root"),
        ("FROM python:3.11.11-slim\nUSER root\n", "numeric uid"),
        ("FROM python:3.11.11-slim\nUSER 0:0\n", "USER 0:0: root"),
        ("ARG B=python:3.11\nFROM ${B} AS b\nFROM b\nUSER 1\n", "not pinned"),
        ("FROM python:3.11.11-slim\nUSER 1\nENV PYTHONDONTWRITEBYTECODE=0\n", "BYTECODE"),
        ("FROM python:3.11.11-slim\nUSER 1\nENTRYPOINT python -m service\n", "ENTRYPOINT"),
    ],
)
def test_dockerfile_rules_reject(dockerfile: str, expected: str) -> None:
    problems = dockerfile_problems(dockerfile)
    assert any(expected in p for p in problems), problems


def test_dockerfile_rules_follow_build_args() -> None:
    good = (
        "ARG PY=python:3.11.11-slim-bookworm\nFROM ${PY} AS b\nFROM ${PY}\nUSER 10001:10001\n"
        "ENV A=1 \\\n    PYTHONDONTWRITEBYTECODE=1\nEXPOSE 8080\n"
        'ENTRYPOINT ["omnistock"]\n'
    )
    assert dockerfile_problems(good) == []


def test_alert_rules_reject() -> None:
    series = metric_series_names()
    assert alert_problems({"groups": []}, series) == ["not a rules file: no `groups` list"]
    broken = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {
                        "alert": "A",
                        "expr": "max(omnistock_outbox_deadd > 0",
                        "for": "soon",
                        "labels": {"severity": "page"},
                        "annotations": {"summary": "s"},
                    },
                    {"alert": "A", "expr": "up", "for": "1m", "labels": {"severity": "warning"}},
                ],
            }
        ]
    }
    problems = alert_problems(broken, series)
    for fragment in (
        "unbalanced brackets",
        "`for` missing",
        "severity must be",
        "no annotations.description",
        "no series omnistock_outbox_deadd",
        "defined twice",
    ):
        assert any(fragment in p for p in problems), (fragment, problems)
