#!/usr/bin/env python3
"""crd_validate.py [--crds DIR] [--kubernetes VERSION] PATH...

Validate every object of a custom resource under PATH(s) against the CRD that
defines it (DIR: tests/oracles/crds, the vendored upstream CRDs; see its
README), the way the API server validates a custom resource on create with
`kubectl apply --validate=strict` (server-side field validation Strict):

  * the `openAPIV3Schema` of the object's apiVersion (a version the CRD serves),
    as a *structural* schema: an object's fields are its `properties` (or its
    `additionalProperties` schema); any other field is an error ("unknown
    field"), except under `x-kubernetes-preserve-unknown-fields: true` (and the
    implicit `apiVersion`, `kind`, `metadata` of the root and of
    `x-kubernetes-embedded-resource`s); `nullable: true` admits null and a null
    elsewhere is an error (the API server would silently drop it: palisade must
    not write a field that means nothing); `x-kubernetes-int-or-string` admits
    an integer or a string; `x-kubernetes-list-type: set` and `map`
    (`x-kubernetes-list-map-keys`) admit no duplicates; `default`s are applied
    first, as the API server does;
  * every CEL rule (`x-kubernetes-validations`) where its value is present,
    evaluated by the CEL interpreter of PyPI's common-expression-language
    (transition rules, which use `oldSelf`, apply to updates only and are
    skipped); a rule that does not hold is an error with its message, and so is
    a rule that cannot be evaluated;
  * metadata: Kubernetes' ObjectMeta schema, strict (kubernetes-validate's, for
    VERSION), a name (required: a GitOps tree has no generateName) that is a
    DNS-1123 subdomain of at most 253 characters (the API server's rule for
    custom resources), a namespace that is a DNS-1123 label for a Namespaced
    kind and none for a Cluster one, label keys and values and annotation keys
    in their formats.

Also Calico's own rule on GlobalNetworkPolicy names, which calicoctl and the
aggregated Calico API server apply and the CRD does not: at most one dot, and
what precedes a dot is the policy's tier; a policy of the default tier (no
`spec.tier`, as palisade writes them) therefore has no dot at all.

An object whose API group is a vendored CRD's (or of the same family:
*.istio.io, *projectcalico.org) but whose apiVersion and kind no vendored CRD
serves is an error. Objects of other groups (built-in kinds: kubernetes-validate
judges them) are skipped and counted. Output: one line per problem
  FILE#DOCINDEX Kind/ns/name: json.path: message
and a summary on stderr. Exit 0 iff there is no problem and at least one
object was validated (a run that validated nothing proves nothing).
Written for tests/oracles.rs (docs/oracles.md)."""
import argparse
import copy
import os
import re
import sys

import cel
import jsonschema
import yaml
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CRDS = os.path.join(HERE, '..', 'crds')

LABEL = r'[a-z0-9]([-a-z0-9]*[a-z0-9])?'
DNS1123_LABEL = re.compile(f'^{LABEL}$')
DNS1123_SUBDOMAIN = re.compile(f'^{LABEL}(\\.{LABEL})*$')
QUALIFIED = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
# Calico's own validator (libcalico-go lib/validator/v3/validator.go, 3.32.1:
# globalNetworkPolicyNameRegex), which its client library runs on every write
# (calicoctl, the aggregated Calico API server) and the CRD does not express.
# At most one dot, and the part before it names the tier (Calico 3.28
# admitted no dot at all): a default-tier policy's name is one label.
CALICO_GNP_NAME = re.compile(f'^({LABEL}\\.)?{LABEL}$')
FAMILIES = (re.compile(r'(^|\.)istio\.io$'), re.compile(r'(^|\.)projectcalico\.org$'))

# CEL functions (and operators) of the language's standard definitions that
# the interpreter provides. Kubernetes adds libraries (isIP, cidr, quantity,
# url, format, lists, regex `find`...): a vendored CRD whose rule needs one
# fails loudly at load time instead of being skipped.
CEL_STANDARD = {
    'size', 'contains', 'startsWith', 'endsWith', 'matches', 'int', 'uint', 'double',
    'string', 'bytes', 'bool', 'type', 'dyn', 'timestamp', 'duration', 'in',
}


def yaml_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(('.yaml', '.yml')):
                        yield os.path.join(root, f)
        else:
            yield p


def load_docs(paths):
    """[(where, doc or None, parse-error or None)] of every YAML document."""
    out = []
    for fn in yaml_files(paths):
        try:
            with open(fn) as f:
                docs = list(yaml.safe_load_all(f))
        except (OSError, yaml.YAMLError) as e:
            out.append((fn, None, f'cannot read: {e}'))
            continue
        out.extend((f'{fn}#{i}', d, None) for i, d in enumerate(docs) if d is not None)
    return out


def cel_functions_ok(rule):
    """Compile a CEL rule; the reason it cannot be evaluated, or None."""
    try:
        program = cel.compile(rule)
    except ValueError as e:
        return f'does not parse: {e}'
    unknown = sorted(f for f in program.functions()
                     if not (f.startswith(('_', '!_', '@')) or f in CEL_STANDARD))
    if unknown:
        return f'uses functions the CEL interpreter lacks: {", ".join(unknown)}'
    return None


class Crd:
    """One CRD's kind, scope and per-version schemas."""

    def __init__(self, doc, source):
        spec = doc['spec']
        self.source = source
        self.group = spec['group']
        self.kind = spec['names']['kind']
        self.scope = spec['scope']
        self.versions = {}
        for v in spec['versions']:
            if not v.get('served'):
                continue
            schema = v['schema']['openAPIV3Schema']
            self.versions[v['name']] = schema
            for where, rule in cel_rules(schema, '(root)'):
                why = cel_functions_ok(rule)
                if why and 'oldSelf' not in rule:
                    raise SystemExit(f'crd-validate: {source} {self.kind} {v["name"]} {where}: '
                                     f'CEL rule {rule!r} {why}')


def cel_rules(schema, path):
    """Every (path, rule) of a schema, and a check that none hides where the walk does not go."""
    for r in schema.get('x-kubernetes-validations') or []:
        yield path, r['rule']
    for k, sub in (schema.get('properties') or {}).items():
        yield from cel_rules(sub, f'{path}.{k}')
    if isinstance(schema.get('additionalProperties'), dict):
        yield from cel_rules(schema['additionalProperties'], f'{path}.*')
    if isinstance(schema.get('items'), dict):
        yield from cel_rules(schema['items'], f'{path}[]')
    for k in ('allOf', 'anyOf', 'oneOf', 'not'):
        branches = schema.get(k)
        for b in branches if isinstance(branches, list) else [branches] if branches else []:
            if any(True for _ in cel_rules(b, path)):
                raise SystemExit(f'crd-validate: a CEL rule under {k} at {path}: not supported')


def load_crds(directory):
    crds = {}
    for fn in yaml_files([directory]):
        with open(fn) as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict) and doc.get('kind') == 'CustomResourceDefinition':
                    crd = Crd(doc, os.path.basename(fn))
                    crds[(crd.group, crd.kind)] = crd
    if not crds:
        raise SystemExit(f'crd-validate: no CustomResourceDefinition under {directory}')
    return crds


def to_json_schema(s, root=False):
    """A structural OpenAPI v3 schema of a CRD as a JSON Schema (draft 4, which
    OpenAPI 3.0's schema objects follow) that rejects unknown fields."""
    out = {}
    for k, v in s.items():
        if k == 'properties':
            out[k] = {p: to_json_schema(ps) for p, ps in v.items()}
        elif k == 'additionalProperties':
            out[k] = to_json_schema(v) if isinstance(v, dict) else v
        elif k == 'items':
            out[k] = to_json_schema(v) if isinstance(v, dict) else v
        elif k in ('allOf', 'anyOf', 'oneOf'):
            out[k] = [to_json_schema(b) for b in v]
        elif k == 'not':
            out[k] = to_json_schema(v)
        elif k in ('description', 'default', 'example', 'externalDocs', 'nullable', 'title') \
                or k.startswith('x-kubernetes-'):
            continue
        else:
            out[k] = v  # type, enum, format, pattern, lengths, bounds, required, ...
    if s.get('x-kubernetes-int-or-string') and 'anyOf' not in out:
        out['anyOf'] = [{'type': 'integer'}, {'type': 'string'}]
    if s.get('x-kubernetes-list-type') in ('set',):
        out['uniqueItems'] = True
    is_object = s.get('type') == 'object' or 'properties' in s
    if is_object and not s.get('x-kubernetes-preserve-unknown-fields') \
            and 'additionalProperties' not in s:
        props = out.setdefault('properties', {})
        if root or s.get('x-kubernetes-embedded-resource'):
            # Implicit in every object of a kind; metadata is judged apart (ObjectMeta).
            props.setdefault('apiVersion', {'type': 'string'})
            props.setdefault('kind', {'type': 'string'})
            props['metadata'] = {'type': 'object'}
        out['additionalProperties'] = False
    if s.get('nullable'):
        if isinstance(out.get('type'), str):
            out['type'] = [out['type'], 'null']
            if 'enum' in out:
                out['enum'] = list(out['enum']) + [None]
        else:
            out = {'anyOf': [out, {'type': 'null'}]}
    return out


def apply_defaults(schema, value):
    """The API server's defaulting: absent fields with a `default` get it."""
    if isinstance(value, dict):
        props = schema.get('properties') or {}
        for k, sub in props.items():
            if k not in value and 'default' in sub:
                value[k] = copy.deepcopy(sub['default'])
        for k, v in value.items():
            sub = props.get(k)
            if sub is None and isinstance(schema.get('additionalProperties'), dict):
                sub = schema['additionalProperties']
            if sub is not None:
                apply_defaults(sub, v)
    elif isinstance(value, list) and isinstance(schema.get('items'), dict):
        for v in value:
            apply_defaults(schema['items'], v)


def dotted(path):
    out = ''
    for p in path:
        out += f'[{p}]' if isinstance(p, int) else (f'.{p}' if out else str(p))
    return out or '(root)'


def walk(schema, value, path, problems):
    """CEL rules and list-map keys, where the object has a value."""
    if value is None:
        return
    for r in schema.get('x-kubernetes-validations') or []:
        rule = r['rule']
        if 'oldSelf' in rule:
            continue  # a transition rule: updates only
        try:
            ok = cel.evaluate(rule, {'self': value})
        except Exception as e:  # the API server reports an error too
            problems.append((path, f'CEL rule {rule!r} cannot be evaluated: {e}'))
            continue
        if ok is not True:
            problems.append((path, f"{r.get('message') or 'failed rule: ' + rule} (CEL: {' '.join(rule.split())})"))
    if isinstance(value, dict):
        props = schema.get('properties') or {}
        extra = schema.get('additionalProperties')
        for k, v in value.items():
            sub = props.get(k, extra if isinstance(extra, dict) else None)
            if sub is not None:
                walk(sub, v, path + [k], problems)
    elif isinstance(value, list) and isinstance(schema.get('items'), dict):
        for i, v in enumerate(value):
            walk(schema['items'], v, path + [i], problems)
        keys = schema.get('x-kubernetes-list-map-keys')
        if schema.get('x-kubernetes-list-type') == 'map' and keys:
            seen = set()
            for i, v in enumerate(value):
                key = tuple(repr(v.get(k)) if isinstance(v, dict) else None for k in keys)
                if key in seen:
                    problems.append((path + [i], f'duplicate entry for key {dict(zip(keys, key))}'))
                seen.add(key)


def explain(e):
    """(path, message) of a jsonschema error; an unknown field is named as `kubectl` names it."""
    if e.validator == 'additionalProperties' and e.validator_value is False:
        known = set(e.schema.get('properties') or {})
        return [(list(e.absolute_path) + [f], 'unknown field') for f in sorted(set(e.instance) - known)]
    if e.instance is None and e.validator in ('type', 'enum'):
        return [(list(e.absolute_path), 'null, and the field is not nullable (the API server would drop it)')]
    return [(list(e.absolute_path), e.message)]


def qualified_name(k):
    prefix, _, name = str(k).rpartition('/')
    return (not prefix or (len(prefix) <= 253 and DNS1123_SUBDOMAIN.match(prefix))) \
        and len(name) <= 63 and QUALIFIED.match(name)


def check_metadata(md, crd, meta_validator, problems):
    if not isinstance(md, dict):
        problems.append((['metadata'], 'missing or not an object'))
        return
    for e in meta_validator.iter_errors(md):
        problems.extend((['metadata'] + p, m) for p, m in explain(e))
    name = md.get('name')
    if not isinstance(name, str) or not name:
        problems.append((['metadata', 'name'], 'missing (a GitOps tree names every object)'))
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        problems.append((['metadata', 'name'],
                         f'{name!r} is not a DNS-1123 subdomain (lower case alphanumerics, "-", "."; <= 253)'))
    ns = md.get('namespace')
    if crd.scope == 'Namespaced':
        if ns is None:
            problems.append((['metadata', 'namespace'],
                             f'missing: {crd.kind} is namespaced (it would land in the applier\'s namespace)'))
        elif not isinstance(ns, str) or len(ns) > 63 or not DNS1123_LABEL.match(ns):
            problems.append((['metadata', 'namespace'], f'{ns!r} is not a DNS-1123 label (<= 63)'))
    elif ns is not None:
        problems.append((['metadata', 'namespace'], f'not allowed: {crd.kind} is cluster-scoped'))
    for k, v in (md.get('labels') or {}).items():
        if not qualified_name(k):
            problems.append((['metadata', 'labels', k], 'key is not a qualified name'))
        if not isinstance(v, str) or (v and (len(v) > 63 or not QUALIFIED.match(v))):
            problems.append((['metadata', 'labels', k], f'{v!r} is not a label value (<= 63)'))
    for k in md.get('annotations') or {}:
        if not qualified_name(k):
            problems.append((['metadata', 'annotations', k], 'key is not a qualified name'))


def object_meta_validator(version):
    import kubernetes_validate.utils as kv
    want = kv.major_minor(version.lstrip('v'))
    avail = {kv.major_minor(v): v for v in kv.all_versions()}
    if want not in avail:
        raise SystemExit(f'crd-validate: kubernetes-validate has no schemas for Kubernetes {want}')
    vdir = f'v{avail[want]}-local-strict'
    defs = kv.schema_contents(f'kubernetes-json-schema/{vdir}/_definitions.json', vdir)
    registry = Resource.from_contents(defs) @ Registry()
    ref = {'$ref': defs['$id'] + '#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'}
    return jsonschema.validators.Draft202012Validator(ref, registry=registry)


def in_family(group):
    return any(f.search(group) for f in FAMILIES)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('paths', nargs='+')
    ap.add_argument('--crds', default=DEFAULT_CRDS, help='directory of CRDs (default: tests/oracles/crds)')
    ap.add_argument('--kubernetes', default='1.34', help="the ObjectMeta schema's Kubernetes version")
    a = ap.parse_args()
    crds = load_crds(a.crds)
    groups = {g for g, _ in crds}
    meta = object_meta_validator(a.kubernetes)
    validators = {}
    counts, skipped, nproblems = {}, 0, 0
    for where, doc, err in load_docs(a.paths):
        if err is not None:
            print(f'{where}: {err}')
            nproblems += 1
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get('apiVersion'), str) \
                or not isinstance(doc.get('kind'), str):
            print(f'{where}: not a Kubernetes object (missing kind/apiVersion)')
            nproblems += 1
            continue
        group, _, version = doc['apiVersion'].rpartition('/')
        md = doc.get('metadata') if isinstance(doc.get('metadata'), dict) else {}
        ident = f"{doc['kind']}/{md.get('namespace', '-')}/{md.get('name', '?')}"
        crd = crds.get((group, doc['kind']))
        if crd is None:
            if group in groups or in_family(group):
                served = sorted(f'{g}/{v} {k}' for (g, k), c in crds.items() for v in c.versions)
                print(f"{where} {ident}: no vendored CRD defines {doc['apiVersion']} {doc['kind']} "
                      f"(vendored: {', '.join(served)})")
                nproblems += 1
            else:
                skipped += 1
            continue
        if version not in crd.versions:
            print(f"{where} {ident}: {crd.kind} is not served as {doc['apiVersion']} "
                  f"(served: {', '.join(f'{crd.group}/{v}' for v in crd.versions)})")
            nproblems += 1
            continue
        schema = crd.versions[version]
        key = (crd.group, crd.kind, version)
        if key not in validators:
            validators[key] = jsonschema.Draft4Validator(
                to_json_schema(schema, root=True), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        obj = copy.deepcopy(doc)
        apply_defaults(schema, obj)
        problems = []
        check_metadata(doc.get('metadata'), crd, meta, problems)
        if crd.kind == 'GlobalNetworkPolicy':
            name = str(md.get('name', ''))
            tier = (doc.get('spec') or {}).get('tier') or 'default'
            if not CALICO_GNP_NAME.match(name):
                problems.append((['metadata', 'name'], "Calico's validator admits at most one dot "
                                 '(libcalico-go globalNetworkPolicyNameRegex)'))
            elif '.' in name and name.split('.')[0] != tier:
                problems.append((['metadata', 'name'], f"Calico reads `{name.split('.')[0]}.` as the "
                                 f"policy's tier, and its tier is `{tier}`"))
        for e in validators[key].iter_errors(obj):
            problems.extend(explain(e))
        walk(schema, obj, [], problems)
        problems = sorted({(dotted(p), m) for p, m in problems})
        for path, message in problems:
            print(f'{where} {ident}: {path}: {message}')
        nproblems += len(problems)
        counts[crd.kind] = counts.get(crd.kind, 0) + 1
    total = sum(counts.values())
    kinds = ', '.join(f'{k} {n}' for k, n in sorted(counts.items())) or 'none'
    print(f'# crd-validate: {total} custom resources ({kinds}), {skipped} other objects skipped, '
          f'{nproblems} problems', file=sys.stderr)
    if total == 0 and nproblems == 0:
        print(f'crd-validate: no object of a vendored CRD under {" ".join(a.paths)}: nothing was validated')
        sys.exit(1)
    sys.exit(1 if nproblems else 0)


if __name__ == '__main__':
    main()
