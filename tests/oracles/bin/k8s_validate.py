#!/usr/bin/env python3
# Copied from shared/oracles/bin/k8s_validate.py (the project's oracle kit); changed for
# tests/oracles.rs: VERSION may be a comma-separated list (one process validates every
# version; problem lines are then prefixed with "[1.30] "), and files are parsed once.
"""k8s_validate.py VERSION[,VERSION...] PATH... [--loose] [--allow-unknown-kinds]
Validate every YAML document under PATH(s) against the Kubernetes OpenAPI JSON schemas
shipped in pip 'kubernetes-validate' (1.25 .. 1.37), STRICT by default (unknown fields are errors).
Unlike the stock CLI it (a) reports ALL errors per document, not just the first, (b) treats an
unknown kind/apiVersion (no schema for that k8s version) as an ERROR, not a warning, (c) rejects
versions it has no schemas for with a clear message. Output: one line per problem
  FILE#DOCINDEX Kind/ns/name: json.path: message
Exit 0 iff no problems."""
import argparse, os, re, sys
import yaml, jsonschema
from referencing import Registry, Resource
import kubernetes_validate.utils as kv


def yaml_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in sorted(os.walk(p)):
                for f in sorted(files):
                    if f.endswith(('.yaml', '.yml', '.json')):
                        yield os.path.join(root, f)
        else:
            yield p


def schema_for(version_dir, kind, api_version):
    api = re.sub(r'^([^./]*)(?:\.[^/]*)?/', r'\1-', api_version)
    return kv.schema_contents(f'kubernetes-json-schema/{version_dir}/{kind.lower()}-{api}.json', version_dir)


def load_docs(paths):
    """[(file, docindex, doc or None, parse-error or None)] for every YAML document."""
    out = []
    for fn in yaml_files(paths):
        try:
            docs = list(yaml.safe_load_all(open(fn)))
        except yaml.YAMLError as e:
            out.append((fn, 0, None, f'YAML parse error: {e}'))
            continue
        out.extend((fn, i, d, None) for i, d in enumerate(docs) if d is not None)
    return out


def validate(version, docs, a, prefix):
    """Print every problem of `docs` for one Kubernetes version; return (ndocs, problems) or None."""
    want = version.lstrip('v')
    mm = kv.major_minor(want)
    avail = {kv.major_minor(v): v for v in kv.all_versions()}
    if mm not in avail:
        print(f'{prefix}k8s-validate: no schemas for Kubernetes {mm}; available: {", ".join(sorted(avail, key=lambda s: tuple(map(int, s.split("."))))) }')
        return None
    vdir = f'v{avail[mm]}-local' + ('' if a.loose else '-strict')
    defs = Resource.from_contents(kv.schema_contents(f'kubernetes-json-schema/{vdir}/_definitions.json', vdir))
    problems = ndocs = 0
    for fn, i, d, err in docs:
        if err is not None:
            print(f'{prefix}{fn}: {err}'); problems += 1; continue
        ndocs += 1
        where = f'{fn}#{i}'
        if not isinstance(d, dict) or 'kind' not in d or 'apiVersion' not in d:
            print(f'{prefix}{where}: not a Kubernetes object (missing kind/apiVersion)'); problems += 1; continue
        md = d.get('metadata') or {}
        ident = f"{d['kind']}/{md.get('namespace', '-')}/{md.get('name', '?')}"
        try:
            schema = schema_for(vdir, d['kind'], d['apiVersion'])
        except FileNotFoundError:
            msg = f"{where} {ident}: no schema for {d['apiVersion']} {d['kind']} in Kubernetes {mm}"
            if a.allow_unknown_kinds:
                print('WARN ' + msg, file=sys.stderr)
            else:
                print(prefix + msg); problems += 1
            continue
        reg = defs @ (Resource.from_contents(schema) @ Registry())
        v = jsonschema.validators.Draft202012Validator(schema, registry=reg)
        errs = sorted(v.iter_errors(d), key=lambda e: list(map(str, e.absolute_path)))
        for e in errs:
            path = '.'.join(str(p) for p in e.absolute_path) or '(root)'
            print(f'{prefix}{where} {ident}: {path}: {e.message}')
        problems += len(errs)
    print(f'# k8s-validate {mm} ({"loose" if a.loose else "strict"}): {ndocs} documents, {problems} problems', file=sys.stderr)
    return ndocs, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('version'); ap.add_argument('paths', nargs='+')
    ap.add_argument('--loose', action='store_true', help='non-strict: allow unknown fields')
    ap.add_argument('--allow-unknown-kinds', action='store_true', help='only warn when no schema exists (e.g. CRDs)')
    a = ap.parse_args()
    versions = [v for v in a.version.split(',') if v]
    docs = load_docs(a.paths)
    if not docs:
        print(f'k8s-validate: no YAML documents under {" ".join(a.paths)}')
        sys.exit(1)
    failed = False
    for version in versions:
        prefix = f'[{version}] ' if len(versions) > 1 else ''
        res = validate(version, docs, a, prefix)
        failed |= res is None or res[1] > 0
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
