#!/usr/bin/env python3
"""layout_check.py TREE — the output layout of one `palisade build` environment
(shared/design/KUBERNETES.md, "Output layout"):

  TREE/kustomization.yaml              lists every other file, each once
  TREE/cluster/namespace-<ns>.yaml     a Namespace (other cluster-scoped kinds: cluster/<kind>-<name>.yaml)
  TREE/<ns>/<kind>-<name>.yaml         one namespaced object, kind lowercased

Every file holds exactly one object. Dot-files and dot-directories are not looked at. Prints one line per problem; exit 0 iff none.
Written for tests/oracles.rs; needs only PyYAML (in the oracles venv)."""
import os
import sys

import yaml

CLUSTER_SCOPED = {'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass',
                  'PriorityClass', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration',
                  'MutatingWebhookConfiguration', 'IngressClass', 'RuntimeClass',
                  'GlobalNetworkPolicy'}


def main():
    tree = sys.argv[1]
    problems = []
    files = []
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if not d.startswith('.')]
        for n in names:
            if n.startswith('.'):
                continue   # the generator's own bookkeeping (e.g. .palisade-generated), not for kubectl
            rel = os.path.relpath(os.path.join(root, n), tree).replace(os.sep, '/')
            if rel != 'kustomization.yaml':
                files.append(rel)
    files.sort()
    kpath = os.path.join(tree, 'kustomization.yaml')
    if not os.path.isfile(kpath):
        problems.append('kustomization.yaml: missing')
    else:
        try:
            k = yaml.safe_load(open(kpath)) or {}
        except yaml.YAMLError as e:
            k = {}
            problems.append(f'kustomization.yaml: YAML parse error: {e}')
        if k.get('kind') != 'Kustomization' or not str(k.get('apiVersion', '')).startswith('kustomize.config.k8s.io/'):
            problems.append(f"kustomization.yaml: kind/apiVersion is {k.get('kind')!r}/{k.get('apiVersion')!r}, "
                            "want Kustomization/kustomize.config.k8s.io/v1beta1")
        res = k.get('resources') or []
        if not isinstance(res, list) or not all(isinstance(r, str) for r in res):
            problems.append('kustomization.yaml: `resources` is not a list of file names')
            res = []
        dups = sorted({r for r in res if res.count(r) > 1})
        if dups:
            problems.append(f'kustomization.yaml: listed more than once: {dups}')
        listed = {os.path.normpath(r).replace(os.sep, '/') for r in res}
        for f in sorted(set(files) - listed):
            problems.append(f'kustomization.yaml: does not list {f}')
        for f in sorted(listed - set(files)):
            problems.append(f'kustomization.yaml: lists {f}, which does not exist')
    for f in files:
        if not f.endswith('.yaml'):
            problems.append(f'{f}: not a .yaml file')
            continue
        try:
            docs = [d for d in yaml.safe_load_all(open(os.path.join(tree, f))) if d is not None]
        except yaml.YAMLError as e:
            problems.append(f'{f}: YAML parse error: {e}')
            continue
        if len(docs) != 1:
            problems.append(f'{f}: holds {len(docs)} objects, want exactly 1')
            continue
        d = docs[0]
        if not isinstance(d, dict) or 'kind' not in d:
            problems.append(f'{f}: not a Kubernetes object')
            continue
        md = d.get('metadata') or {}
        kind, name, ns = d['kind'], md.get('name'), md.get('namespace')
        if kind in CLUSTER_SCOPED:
            want = f'cluster/{kind.lower()}-{name}.yaml'
            if ns is not None:
                problems.append(f'{f}: cluster-scoped {kind} has metadata.namespace {ns!r}')
        elif ns is None:
            problems.append(f'{f}: namespaced {kind} {name!r} has no metadata.namespace')
            continue
        else:
            want = f'{ns}/{kind.lower()}-{name}.yaml'
        if f != want:
            problems.append(f'{f}: holds {kind} {ns + "/" if ns else ""}{name}, so it should be {want}')
    for p in problems:
        print(p)
    print(f'# layout: {len(files)} files, {len(problems)} problems', file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
