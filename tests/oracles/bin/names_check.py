#!/usr/bin/env python3
"""names_check.py PATH... — Kubernetes API-server rules that schema validation
cannot see (kubernetes-validate checks structure and types, not these), so a
tree that passes it can still be rejected by `kubectl apply`:

  * metadata.name: Namespace = DNS-1123 label, Service = DNS-1035 label,
    Role/RoleBinding/ClusterRole(Binding) = path segment, others = DNS-1123 subdomain
  * label keys (qualified names) and values, in metadata, pod templates, selectors
  * pod specs: container and volume names are DNS-1123 labels and unique, every
    volumeMount names a volume, port names are IANA service names (<= 15 chars)
  * Deployment: spec.selector.matchLabels is a subset of the template's labels
  * Service: port names DNS-1123 labels, unique, named when several; named targetPorts
  * NetworkPolicy: named ports

The rules are those of k8s.io/apimachinery/pkg/util/validation and
pkg/apis/core/validation (written down here, not an independent tool).
Prints one line per problem; exit 0 iff none. Written for tests/oracles.rs."""
import os
import re
import sys

import yaml

LABEL = r'[a-z0-9]([-a-z0-9]*[a-z0-9])?'
DNS1123_LABEL = re.compile(f'^{LABEL}$')
DNS1123_SUBDOMAIN = re.compile(f'^{LABEL}(\\.{LABEL})*$')
DNS1035_LABEL = re.compile(r'^[a-z]([-a-z0-9]*[a-z0-9])?$')
QUALIFIED = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
PORT_NAME = re.compile(r'^[-a-z0-9]+$')
PATH_SEGMENT_KINDS = {'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'}
POD_TEMPLATE_KINDS = {'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'}


def label(s, n=63):
    return isinstance(s, str) and len(s) <= n and DNS1123_LABEL.match(s)


def subdomain(s):
    return isinstance(s, str) and len(s) <= 253 and DNS1123_SUBDOMAIN.match(s)


def port_name(s):
    return (isinstance(s, str) and len(s) <= 15 and PORT_NAME.match(s) and re.search('[a-z]', s)
            and '--' not in s and not s.startswith('-') and not s.endswith('-'))


def check_labels(labels, where, out):
    for k, v in (labels or {}).items():
        prefix, _, name = str(k).rpartition('/')
        if (prefix and not subdomain(prefix)) or len(name) > 63 or not QUALIFIED.match(name):
            out.append(f'{where}: label key {k!r} is not a qualified name')
        if not isinstance(v, str) or (v and (len(v) > 63 or not QUALIFIED.match(v))):
            out.append(f'{where}: label value {v!r} of {k!r} is not a valid label value (<= 63 characters)')


def check_pod(spec, where, out):
    volumes = [v.get('name') for v in spec.get('volumes') or []]
    for v in volumes:
        if not label(v):
            out.append(f'{where}: volume name {v!r} is not a DNS-1123 label (<= 63 characters)')
    if len(set(volumes)) != len(volumes):
        out.append(f'{where}: duplicate volume names {volumes}')
    containers = (spec.get('initContainers') or []) + (spec.get('containers') or [])
    names = [c.get('name') for c in containers]
    if len(set(names)) != len(names):
        out.append(f'{where}: duplicate container names {names}')
    for c in containers:
        cw = f"{where} container {c.get('name')!r}"
        if not label(c.get('name')):
            out.append(f'{cw}: name is not a DNS-1123 label (<= 63 characters)')
        pnames = [p.get('name') for p in c.get('ports') or [] if p.get('name') is not None]
        for p in pnames:
            if not port_name(p):
                out.append(f'{cw}: port name {p!r} is not an IANA service name (<= 15 characters)')
        if len(set(pnames)) != len(pnames):
            out.append(f'{cw}: duplicate port names {pnames}')
        paths = []
        for m in c.get('volumeMounts') or []:
            if m.get('name') not in volumes:
                out.append(f"{cw}: volumeMount {m.get('name')!r} names no volume of the pod")
            paths.append(m.get('mountPath'))
        if len(set(paths)) != len(paths):
            out.append(f'{cw}: duplicate mountPaths {paths}')
        for probe in ('livenessProbe', 'readinessProbe', 'startupProbe'):
            pr = c.get(probe) or {}
            for h in ('httpGet', 'tcpSocket', 'grpc'):
                port = (pr.get(h) or {}).get('port')
                if isinstance(port, str) and not port_name(port):
                    out.append(f'{cw}: {probe} port {port!r} is not an IANA service name')


def check(doc, where, out):
    kind = doc.get('kind')
    md = doc.get('metadata') or {}
    name = md.get('name')
    if kind == 'Namespace':
        ok = label(name)
    elif kind == 'Service':
        ok = isinstance(name, str) and len(name) <= 63 and DNS1035_LABEL.match(name)
    elif kind in PATH_SEGMENT_KINDS:
        ok = isinstance(name, str) and name not in ('.', '..') and '/' not in name and '%' not in name
    else:
        ok = subdomain(name)
    if not ok:
        out.append(f'{where}: metadata.name {name!r} is not a valid {kind} name')
    check_labels(md.get('labels'), where, out)
    spec = doc.get('spec') or {}
    if kind in POD_TEMPLATE_KINDS:
        tmpl = spec.get('template') or {}
        tlabels = (tmpl.get('metadata') or {}).get('labels') or {}
        check_labels(tlabels, f'{where} template', out)
        sel = (spec.get('selector') or {}).get('matchLabels') or {}
        check_labels(sel, f'{where} selector', out)
        if any(tlabels.get(k) != v for k, v in sel.items()):
            out.append(f'{where}: selector {sel} does not match the template labels {tlabels}')
        check_pod(tmpl.get('spec') or {}, where, out)
    elif kind == 'Pod':
        check_pod(spec, where, out)
    elif kind == 'Service':
        ports = spec.get('ports') or []
        pn = [p.get('name') for p in ports]
        if len(ports) > 1 and (None in pn or len(set(pn)) != len(pn)):
            out.append(f'{where}: several ports need unique names, got {pn}')
        for p in ports:
            if p.get('name') is not None and not label(p['name']):
                out.append(f"{where}: port name {p['name']!r} is not a DNS-1123 label")
            if isinstance(p.get('targetPort'), str) and not port_name(p['targetPort']):
                out.append(f"{where}: targetPort {p['targetPort']!r} is not an IANA service name")
        check_labels(spec.get('selector'), f'{where} selector', out)
    elif kind == 'NetworkPolicy':
        check_labels((spec.get('podSelector') or {}).get('matchLabels'), f'{where} podSelector', out)
        for direction in ('ingress', 'egress'):
            for rule in spec.get(direction) or []:
                for p in rule.get('ports') or []:
                    if isinstance(p.get('port'), str) and not port_name(p['port']):
                        out.append(f"{where}: {direction} port {p['port']!r} is not an IANA service name")
                for peer in rule.get('from' if direction == 'ingress' else 'to') or []:
                    for sel in ('podSelector', 'namespaceSelector'):
                        check_labels((peer.get(sel) or {}).get('matchLabels'), f'{where} {direction} {sel}', out)


def main():
    out = []
    n = 0
    for p in sys.argv[1:]:
        files = [p] if not os.path.isdir(p) else sorted(
            os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs if f.endswith(('.yaml', '.yml')))
        for fn in files:
            for i, d in enumerate(yaml.safe_load_all(open(fn))):
                if isinstance(d, dict) and d.get('kind') and d.get('kind') != 'Kustomization':
                    n += 1
                    md = d.get('metadata') or {}
                    check(d, f"{fn}#{i} {d['kind']}/{md.get('namespace', '-')}/{md.get('name', '?')}", out)
    for line in out:
        print(line)
    print(f'# names: {n} objects, {len(out)} problems', file=sys.stderr)
    sys.exit(1 if out else 0)


if __name__ == '__main__':
    main()
