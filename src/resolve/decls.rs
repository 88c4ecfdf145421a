//! Declarations' properties: one function per declaration kind, each
//! reading its block through [`Props`] into the model's types.

use super::names;
use super::props::{self, backticked, Props, QuantityKind};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::syntax::ast::{self, Decl, PlatformDecl, ValueKind};

fn desc(d: &Decl) -> Option<String> {
    d.description.as_ref().map(|s| s.value.clone())
}

pub fn platform(p: &PlatformDecl, diags: &mut Diagnostics) -> Platform {
    const KEYS: &[&str] = &[
        "kubernetes",
        "ingress",
        "dns",
        "private_ranges",
        "label_domain",
        "workloads",
        "registries",
        "api_server",
    ];
    let props = Props::new(Some(&p.props), KEYS, "`platform`", diags);
    let mut out = Platform {
        span: Some(p.span),
        ..Platform::default()
    };
    if let Some(v) = props.value("kubernetes", "\"1.30\"", diags) {
        if let Some(ver) = kubernetes_version(v, diags) {
            out.kubernetes = ver;
        }
    }
    if let Some(v) = props.value("ingress", "{ namespace = \"...\", pods = { ... } }", diags) {
        out.ingress = pod_selector("ingress", v, &[], diags).map(|(sel, _)| sel);
    }
    if let Some(v) = props.value("dns", "{ namespace = \"...\", pods = { ... } }", diags) {
        if let Some((sel, props)) = pod_selector("dns", v, &["ports"], diags) {
            out.dns = sel;
            if let Some(v) = props.value("ports", "[53]", diags) {
                if let Some(ports) = dns_ports(v, diags) {
                    out.dns_ports = ports;
                }
            }
        }
    }
    if let Some(v) = props.value("private_ranges", "[\"10.0.0.0/8\"]", diags) {
        if let Some(c) = props::cidrs("private_ranges", v, diags) {
            out.private_ranges = c;
        }
    }
    if let Some(v) = props.value("label_domain", "\"palisade.dev\"", diags) {
        if let Some(s) = props::string("label_domain", v, diags) {
            match names::dns_subdomain_problem(s) {
                None => out.label_domain = s.to_string(),
                Some(problem) => diags.push(props::invalid(
                    "label_domain",
                    v.span,
                    format!("`label_domain` {problem}"),
                )),
            }
        }
    }
    if let Some(e) = props.get("workloads") {
        if let Some(b) = props::bool_flag("workloads", e, diags) {
            out.workloads = b;
        }
    }
    if let Some(v) = props.value("registries", "[\"ghcr.io/acme/\"]", diags) {
        if let Some(list) = props::string_list("registries", v, diags) {
            out.registries = list;
        }
    }
    if let Some(v) = props.value("api_server", "{ address = \"CIDR\", port = 6443 }", diags) {
        out.api_server = api_server(v, diags);
    }
    out
}

fn kubernetes_version(v: &ast::Value, diags: &mut Diagnostics) -> Option<(u32, u32)> {
    let text = match &v.kind {
        ValueKind::Str(s) | ValueKind::Quantity(s) => s.as_str(),
        _ => {
            diags.push(props::wrong_type(
                "kubernetes",
                v,
                "a version string such as `\"1.30\"`",
            ));
            return None;
        }
    };
    let parsed = text
        .trim_start_matches('v')
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    match parsed {
        Some((1, minor)) if (25..=99).contains(&minor) => Some((1, minor)),
        Some((1, minor)) if minor < 25 => {
            diags.push(
                props::invalid(
                    "kubernetes",
                    v.span,
                    format!("Kubernetes 1.{minor} is not supported"),
                )
                .help("Pod Security Admission needs Kubernetes 1.25 or later"),
            );
            None
        }
        _ => {
            diags.push(
                props::invalid(
                    "kubernetes",
                    v.span,
                    format!("`{}` is not a Kubernetes version", names::shorten(text)),
                )
                .help("write `MAJOR.MINOR`, e.g. `kubernetes = \"1.30\"`"),
            );
            None
        }
    }
}

/// `platform.dns.ports`: the DNS pods' ports, each admitted on UDP and TCP.
fn dns_ports(v: &ast::Value, diags: &mut Diagnostics) -> Option<Vec<u16>> {
    let items: Vec<&ast::Value> = match &v.kind {
        ValueKind::List(items) => items.iter().collect(),
        ValueKind::Int(_) => vec![v],
        _ => {
            diags.push(
                props::wrong_type("ports", v, "a list of port numbers")
                    .help("write `ports = [5353]`: the port the DNS pods listen on, UDP and TCP"),
            );
            return None;
        }
    };
    if items.is_empty() {
        diags.push(
            props::invalid("ports", v.span, "`dns.ports` is empty: no name resolution")
                .help("write the port the DNS pods listen on, e.g. `ports = [53]`"),
        );
        return None;
    }
    let mut out = Vec::new();
    for item in items {
        let n = props::int("ports", item, (1, 65535), diags)?;
        let n = n as u16;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Some(out)
}

/// A `{ namespace = "...", pods = { ... } }` selector (with `extra` keys
/// allowed beside them, read by the caller from the returned properties).
fn pod_selector<'v>(
    key: &str,
    v: &'v ast::Value,
    extra: &[&'static str],
    diags: &mut Diagnostics,
) -> Option<(PodSelector, Props<'v>)> {
    let map = props::map(
        key,
        v,
        "{ namespace = \"...\", pods = { \"label\" = \"value\" } }",
        diags,
    )?;
    let mut keys = vec!["namespace", "pods"];
    keys.extend_from_slice(extra);
    let props = Props::new(Some(map), &keys, &format!("`{key}`"), diags);
    let ns = props.value("namespace", "\"...\"", diags).and_then(|v| {
        let s = props::string("namespace", v, diags)?;
        match names::dns1035_problem(s).or((s.len() > names::MAX_LABEL).then_some("is too long")) {
            None => Some(s.to_string()),
            Some(problem) => {
                diags.push(props::invalid(
                    "namespace",
                    v.span,
                    format!("namespace `{}` {problem}", names::shorten(s)),
                ));
                None
            }
        }
    });
    let labels = props
        .value("pods", "{ \"label\" = \"value\" }", diags)
        .and_then(|v| props::labels("pods", v, diags));
    let mut missing = Vec::new();
    if !props.has("namespace") {
        missing.push("namespace");
    }
    if !props.has("pods") {
        missing.push("pods");
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                map.span,
                format!("`{key}` needs {}", backticked(&missing)),
            )
            .label("incomplete")
            .help(format!(
                "write `{key} = {{ namespace = \"...\", pods = {{ \"label\" = \"value\" }} }}`"
            )),
        );
        return None;
    }
    let labels = labels?;
    if labels.is_empty() {
        diags.push(
            props::invalid(
                "pods",
                map.span,
                format!("`{key}.pods` selects every pod of the namespace"),
            )
            .help("give at least one label of the pods"),
        );
        return None;
    }
    Some((
        PodSelector {
            namespace: ns?,
            labels: labels.into_iter().collect(),
        },
        props,
    ))
}

fn api_server(v: &ast::Value, diags: &mut Diagnostics) -> Option<ApiServer> {
    let map = props::map(
        "api_server",
        v,
        "{ address = \"CIDR\", port = 6443 }",
        diags,
    )?;
    let props = Props::new(Some(map), &["address", "port"], "`api_server`", diags);
    let address = props
        .value("address", "\"CIDR\"", diags)
        .and_then(|v| props::cidr("address", v, diags));
    let port = props
        .value("port", "6443", diags)
        .and_then(|v| props::int("port", v, (1, 65535), diags));
    if !props.has("address") {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                map.span,
                "`api_server` needs an `address`",
            )
            .label("no address")
            .help("write `address = \"172.20.0.10/32\"`: where pods reach the Kubernetes API"),
        );
    }
    Some(ApiServer {
        address: address?,
        port: port.map_or(6443, |p| p as u16),
    })
}

pub fn environment(d: &Decl, diags: &mut Diagnostics) -> Environment {
    Props::new(
        d.props.as_ref(),
        &[],
        &format!("environment `{}`", d.name.name),
        diags,
    );
    Environment {
        name: d.name.name.clone(),
        description: desc(d),
        span: d.name.span,
    }
}

pub fn namespace(d: &Decl, diags: &mut Diagnostics) -> Namespace {
    let what = format!("namespace `{}`", d.name.name);
    let props = Props::new(
        d.props.as_ref(),
        &["quota", "limits", "pod_security"],
        &what,
        diags,
    );
    let mut ns = Namespace {
        name: d.name.name.clone(),
        description: desc(d),
        quota: None,
        limits: None,
        pod_security: PodSecurity::Restricted,
        pod_security_span: None,
        span: d.name.span,
    };
    if let Some(v) = props.value(
        "quota",
        "{ cpu = \"8\", memory = \"16Gi\", pods = 40 }",
        diags,
    ) {
        ns.quota = quota(v, diags);
    }
    if let Some(v) = props.value("limits", "{ cpu = \"500m\", memory = \"512Mi\" }", diags) {
        ns.limits = resources("limits", v, diags);
    }
    if let Some(v) = props.value("pod_security", "restricted", diags) {
        ns.pod_security_span = Some(v.span);
        ns.pod_security = match props::choice("pod_security", v, PodSecurity::NAMES, diags) {
            Some("baseline") => PodSecurity::Baseline,
            Some("privileged") => PodSecurity::Privileged,
            _ => PodSecurity::Restricted,
        };
    }
    ns
}

fn quota(v: &ast::Value, diags: &mut Diagnostics) -> Option<Quota> {
    let map = props::map(
        "quota",
        v,
        "{ cpu = \"8\", memory = \"16Gi\", pods = 40 }",
        diags,
    )?;
    let props = Props::new(Some(map), &["cpu", "memory", "pods"], "`quota`", diags);
    let q = Quota {
        cpu: props
            .value("cpu", "\"8\"", diags)
            .and_then(|v| props::quantity("cpu", v, QuantityKind::Cpu, diags)),
        memory: props
            .value("memory", "\"16Gi\"", diags)
            .and_then(|v| props::quantity("memory", v, QuantityKind::Memory, diags)),
        pods: props
            .value("pods", "40", diags)
            .and_then(|v| props::int("pods", v, (0, 1_000_000), diags)),
    };
    props::empty_block_check("quota", map, diags);
    Some(q)
}

fn resources(key: &str, v: &ast::Value, diags: &mut Diagnostics) -> Option<Resources> {
    let map = props::map(key, v, "{ cpu = \"250m\", memory = \"256Mi\" }", diags)?;
    let props = Props::new(Some(map), &["cpu", "memory"], &format!("`{key}`"), diags);
    let r = Resources {
        cpu: props
            .value("cpu", "\"250m\"", diags)
            .and_then(|v| props::quantity("cpu", v, QuantityKind::Cpu, diags)),
        memory: props
            .value("memory", "\"256Mi\"", diags)
            .and_then(|v| props::quantity("memory", v, QuantityKind::Memory, diags)),
    };
    props::empty_block_check(key, map, diags);
    Some(r)
}

pub fn persona(d: &Decl, diags: &mut Diagnostics) -> Persona {
    const KEYS: &[&str] = &[
        "external",
        "group",
        "groups",
        "users",
        "service_account",
        "clearance",
    ];
    let what = format!("persona `{}`", d.name.name);
    let props = Props::new(d.props.as_ref(), KEYS, &what, diags);
    let errors_before = diags.error_count();
    let external = props
        .get("external")
        .and_then(|e| props::bool_flag("external", e, diags))
        .unwrap_or(false);
    let mut subjects = Vec::new();
    if let Some(v) = props.value("group", "\"oidc:team\"", diags) {
        if let Some(s) = subject_string("group", v, diags) {
            reserved_identities("group", v, diags);
            subjects.push(Subject::Group(s));
        }
    }
    for (key, group) in [("groups", true), ("users", false)] {
        if let Some(v) = props.value(key, "[\"...\"]", diags) {
            reserved_identities(if group { "group" } else { "user" }, v, diags);
            for s in props::string_list(key, v, diags).unwrap_or_default() {
                subjects.push(if group {
                    Subject::Group(s)
                } else {
                    Subject::User(s)
                });
            }
        }
    }
    if let Some(v) = props.value("service_account", "\"namespace/name\"", diags) {
        if let Some(sa) = service_account(v, diags) {
            subjects.push(sa);
        }
    }
    let clearance = props
        .value("clearance", "confidential", diags)
        .and_then(|v| props::choice("clearance", v, Classification::NAMES, diags))
        .and_then(Classification::parse);
    let subject_keys: Vec<_> = ["group", "groups", "users", "service_account"]
        .into_iter()
        .filter_map(|k| props.get(k))
        .collect();
    if external {
        if let Some(first) = subject_keys.first() {
            diags.push(
                Diagnostic::error(
                    Code::ConflictingProperties,
                    first.key.span,
                    format!("external persona `{}` cannot have Kubernetes subjects", d.name.name),
                )
                .label(format!("`{}` maps to an RBAC subject", first.key.name))
                .secondary(props.get("external").expect("external").key.span, "declared external here")
                .help("external personas come in through the ingress and have no RBAC; remove one of the two"),
            );
        }
    } else if subjects.is_empty() && diags.error_count() == errors_before {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                d.name.span,
                format!("persona `{}` maps to no Kubernetes subject", d.name.name),
            )
            .label("no `group`, `groups`, `users` or `service_account`")
            .help("add e.g. `{ group = \"oidc:analysts\" }`, or `{ external }` for people outside the cluster"),
        );
    }
    Persona {
        name: d.name.name.clone(),
        description: desc(d),
        external,
        subjects,
        clearance,
        span: d.name.span,
    }
}

/// E0105 for each string of `v` (a string or a list) under `system:`.
fn reserved_identities(kind: &str, v: &ast::Value, diags: &mut Diagnostics) {
    let items = match &v.kind {
        ast::ValueKind::List(items) => items.as_slice(),
        _ => std::slice::from_ref(v),
    };
    for item in items {
        if let ast::ValueKind::Str(s) = &item.kind {
            if let Some(d) = super::identities::identity_error(kind, s, item.span) {
                diags.push(d);
            }
        }
    }
}

fn subject_string(key: &str, v: &ast::Value, diags: &mut Diagnostics) -> Option<String> {
    let s = props::string(key, v, diags)?;
    if s.trim().is_empty() {
        diags.push(props::invalid(key, v.span, format!("`{key}` is empty")));
        return None;
    }
    Some(s.to_string())
}

fn service_account(v: &ast::Value, diags: &mut Diagnostics) -> Option<Subject> {
    let s = props::string("service_account", v, diags)?;
    let parsed = s.split_once('/').filter(|(ns, name)| {
        names::dns1035_problem(ns).is_none() && names::dns_subdomain_problem(name).is_none()
    });
    match parsed {
        Some((ns, name)) => Some(Subject::ServiceAccount {
            namespace: ns.into(),
            name: name.into(),
        }),
        None => {
            diags.push(
                props::invalid(
                    "service_account",
                    v.span,
                    format!("`{}` is not `namespace/name`", names::shorten(s)),
                )
                .help("e.g. `service_account = \"argocd/argocd-application-controller\"`"),
            );
            None
        }
    }
}

/// `ports = { http = 8080, dns = 53/udp }`
fn ports(v: &ast::Value, diags: &mut Diagnostics) -> Vec<Port> {
    let Some(map) = props::map("ports", v, "{ http = 8080 }", diags) else {
        return Vec::new();
    };
    let mut out: Vec<Port> = Vec::new();
    for e in &map.entries {
        if let Some(problem) = names::port_name_problem(&e.key.name) {
            diags.push(
                Diagnostic::error(Code::InvalidName, e.key.span, format!("port name `{}` {problem}", names::shorten(&e.key.name)))
                    .label("invalid port name")
                    .help("Kubernetes port names are at most 15 lowercase letters, digits and `-`, e.g. `http`"),
            );
            continue;
        }
        if Operation::parse(&e.key.name).is_some() || DataLevel::parse(&e.key.name).is_some() {
            diags.push(
                Diagnostic::error(
                    Code::InvalidName,
                    e.key.span,
                    format!("port name `{}` is also an access operation", e.key.name),
                )
                .label("ambiguous in `allow` statements")
                .help("name the port after its protocol, e.g. `http`, `grpc`, `metrics`"),
            );
            continue;
        }
        if let Some(first) = out.iter().find(|p| p.name == e.key.name) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateProperty,
                    e.key.span,
                    format!("port `{}` is declared twice", e.key.name),
                )
                .label("declared again here")
                .secondary(first.span, "first declared here"),
            );
            continue;
        }
        let Some(value) = &e.value else {
            diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    e.key.span,
                    format!("port `{}` needs a number", e.key.name),
                )
                .label("expected `name = 8080`"),
            );
            continue;
        };
        if let Some((number, protocol)) = props::port_number(&e.key.name, value, diags) {
            if let Some(clash) = out
                .iter()
                .find(|p| p.number == number && p.protocol == protocol)
            {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        value.span,
                        format!("port {number} is already declared as `{}`", clash.name),
                    )
                    .label("same number and protocol")
                    .secondary(clash.span, "declared here"),
                );
                continue;
            }
            out.push(Port {
                name: e.key.name.clone(),
                number,
                protocol,
                span: e.key.span,
            });
        }
    }
    out
}

/// The properties that bind a pod group or a store to existing workloads.
pub const BINDING_KEYS: &[&str] = &["selector", "workload", "service_account"];

/// `selector`, `workload` and `service_account` (docs/brownfield.md).
pub fn binding(props: &Props<'_>, diags: &mut Diagnostics) -> Binding {
    let mut out = Binding::default();
    for key in BINDING_KEYS {
        if let Some(e) = props.get(key) {
            let span = e.key.span;
            if out.span.is_none_or(|s| span.start < s.start) {
                out.span = Some(span);
            }
        }
    }
    if let Some(v) = props.value(
        "selector",
        "{ \"app.kubernetes.io/name\" = \"api\" }",
        diags,
    ) {
        out.selector_span = Some(v.span);
        if let Some(labels) = props::labels("selector", v, diags) {
            if labels.is_empty() {
                diags.push(
                    props::invalid("selector", v.span, "an empty `selector` selects every pod of the namespace")
                        .help("give the labels that only this group's pods carry, e.g. `selector = { \"app.kubernetes.io/name\" = \"api\" }`"),
                );
            }
            out.selector = labels.into_iter().collect();
        }
    }
    if let Some(v) = props.value("workload", "\"deployment/NAME\"", diags) {
        out.workload = workload_ref(v, diags);
        out.workload_span = Some(v.span);
    }
    if let Some(v) = props.get("service_account").and_then(|e| e.value.as_ref()) {
        let name = match &v.kind {
            ast::ValueKind::Str(s) | ast::ValueKind::Word(s) => Some(s.as_str()),
            _ => {
                diags.push(props::wrong_type(
                    "service_account",
                    v,
                    "a ServiceAccount name",
                ));
                None
            }
        };
        if let Some(name) = name {
            match names::dns_subdomain_problem(name) {
                None => out.service_account = Some(name.to_string()),
                Some(problem) => diags.push(
                    props::invalid(
                        "service_account",
                        v.span,
                        format!("ServiceAccount name `{}` {problem}", names::shorten(name)),
                    )
                    .help("the name of the ServiceAccount in the group's namespace, without the namespace"),
                ),
            }
        }
    } else if props.has("service_account") {
        props.value("service_account", "\"NAME\"", diags);
    }
    out
}

/// `"deployment/NAME"`, `"statefulset/NAME"`, `"daemonset/NAME"`.
fn workload_ref(v: &ast::Value, diags: &mut Diagnostics) -> Option<WorkloadRef> {
    let s = props::string("workload", v, diags)?;
    let parsed = s
        .split_once('/')
        .and_then(|(kind, name)| Some((WorkloadKind::parse(&kind.to_ascii_lowercase())?, name)));
    let Some((kind, name)) = parsed else {
        diags.push(
            props::invalid(
                "workload",
                v.span,
                format!("`{}` is not `KIND/NAME`", names::shorten(s)),
            )
            .help(format!(
                "KIND is one of {}: e.g. `workload = \"deployment/frontend\"`",
                backticked(WorkloadKind::NAMES)
            )),
        );
        return None;
    };
    if let Some(problem) = names::dns_subdomain_problem(name) {
        diags.push(props::invalid(
            "workload",
            v.span,
            format!("workload name `{}` {problem}", names::shorten(name)),
        ));
        return None;
    }
    Some(WorkloadRef {
        kind,
        name: name.to_string(),
    })
}

pub fn app(d: &Decl, namespace: NsId, diags: &mut Diagnostics) -> App {
    const KEYS: &[&str] = &["image", "ports", "replicas", "resources", "health"];
    let keys: Vec<&'static str> = (KEYS.iter().chain(super::run::KEYS))
        .chain(BINDING_KEYS)
        .copied()
        .collect();
    let what = format!("app `{}`", d.name.name);
    let props = Props::new(d.props.as_ref(), &keys, &what, diags);
    let image = props.value("image", "\"registry/name:tag\"", diags);
    let image_text = image.and_then(|v| image_ref(v, diags));
    if !props.has("image") {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                d.name.span,
                format!("app `{}` has no `image`", d.name.name),
            )
            .label("no image")
            .help("add `image = \"registry/name@sha256:...\"` (a digest pins exactly what runs)"),
        );
    }
    let ports = props
        .value("ports", "{ http = 8080 }", diags)
        .map(|v| ports(v, diags))
        .unwrap_or_default();
    let replicas = props
        .value("replicas", "2", diags)
        .and_then(|v| props::int("replicas", v, (0, 10_000), diags))
        .map_or(1, |n| n as u32);
    let resources = props
        .value("resources", "{ cpu = \"250m\", memory = \"256Mi\" }", diags)
        .and_then(|v| super::run::resources(v, diags));
    let health = props
        .value("health", "{ http = \"/healthz\", port = http }", diags)
        .and_then(|v| super::run::health(v, &ports, diags));
    let run = super::run::run(&props, diags);
    App {
        name: d.name.name.clone(),
        description: desc(d),
        namespace,
        image: image_text.unwrap_or_default(),
        image_span: image.map_or(d.name.span, |v| v.span),
        ports,
        replicas,
        resources,
        health,
        run,
        binding: binding(&props, diags),
        pod: PodId(u32::MAX),
        span: d.name.span,
    }
}

fn image_ref(v: &ast::Value, diags: &mut Diagnostics) -> Option<String> {
    let s = props::string("image", v, diags)?;
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        diags.push(
            props::invalid(
                "image",
                v.span,
                "an image reference cannot be empty or contain spaces",
            )
            .help("e.g. `image = \"ghcr.io/acme/web:1.4.2\"`"),
        );
        return None;
    }
    Some(s.to_string())
}

pub fn store(d: &Decl, namespace: Option<NsId>, diags: &mut Diagnostics) -> Store {
    const KEYS: &[&str] = &[
        "engine",
        "port",
        "classification",
        "address",
        "selector",
        "workload",
        "service_account",
    ];
    let what = format!("store `{}`", d.name.name);
    let props = Props::new(d.props.as_ref(), KEYS, &what, diags);
    let engine = props
        .value("engine", "postgres", diags)
        .and_then(|v| props::choice("engine", v, Engine::NAMES, diags))
        .and_then(Engine::parse);
    let port = props.value("port", "5432", diags).and_then(|v| {
        let (n, proto) = props::port_number("port", v, diags)?;
        if proto != Protocol::Tcp {
            diags.push(
                props::invalid("port", v.span, "stores are reached over TCP")
                    .help(format!("write `port = {n}`")),
            );
            return None;
        }
        Some(n)
    });
    let classification = props
        .value("classification", "confidential", diags)
        .and_then(|v| props::choice("classification", v, Classification::NAMES, diags))
        .and_then(Classification::parse)
        .unwrap_or_default();
    let address = props
        .value("address", "\"CIDR\"", diags)
        .and_then(|v| props::cidrs("address", v, diags));
    let engine_given = props.has("engine");
    let engine_invalid = engine_given && engine.is_none();
    let engine = engine.unwrap_or(Engine::Generic);
    let port = match (port, engine.default_port()) {
        (Some(p), _) => p,
        (None, Some(p)) => p,
        (None, None) => {
            if engine_invalid || props.has("port") {
                // already reported
            } else if engine_given {
                diags.push(
                    Diagnostic::error(
                        Code::MissingProperty,
                        d.name.span,
                        format!("store `{}` needs a `port`", d.name.name),
                    )
                    .label("`generic` stores have no default port")
                    .help("add `port = 5000`"),
                );
            } else {
                diags.push(
                    Diagnostic::error(
                        Code::MissingProperty,
                        d.name.span,
                        format!("store `{}` needs an `engine` or a `port`", d.name.name),
                    )
                    .label("no engine and no port")
                    .help(format!(
                        "add `engine = ...` (one of {}) or `port = ...`",
                        backticked(Engine::NAMES)
                    )),
                );
            }
            0
        }
    };
    let location = match (d.namespace.as_ref(), props.get("address")) {
        (Some(ns), Some(a)) => {
            diags.push(
                Diagnostic::error(Code::ConflictingProperties, a.key.span, format!("store `{}` is both in the cluster and outside it", d.name.name))
                    .label("an address means outside the cluster")
                    .secondary(ns.span, "`in` means it runs in this namespace")
                    .help("keep `in NAMESPACE` for a store in the cluster, or `address` for one outside it"),
            );
            StoreLocation::Outside(Vec::new())
        }
        (Some(_), None) => {
            namespace.map_or(StoreLocation::Outside(Vec::new()), StoreLocation::InCluster)
        }
        (None, Some(_)) => StoreLocation::Outside(address.unwrap_or_default()),
        (None, None) => {
            diags.push(
                Diagnostic::error(
                    Code::MissingProperty,
                    d.name.span,
                    format!(
                        "store `{}` is neither in a namespace nor at an address",
                        d.name.name
                    ),
                )
                .label("where does it run?")
                .help(format!(
                    "write `store {} in NAMESPACE {{ ... }}` or give `address = \"CIDR\"`",
                    d.name.name
                )),
            );
            StoreLocation::Outside(Vec::new())
        }
    };
    let binding = binding(&props, diags);
    if let (Some(span), StoreLocation::Outside(_)) = (binding.span, &location) {
        if d.namespace.is_none() {
            diags.push(
                Diagnostic::error(
                    Code::ConflictingProperties,
                    span,
                    format!(
                        "store `{}` is outside the cluster: it has no pods to bind",
                        d.name.name
                    ),
                )
                .label("a binding names pods in the cluster")
                .help("remove `selector`, `workload` and `service_account`, or put the store `in` a namespace"),
            );
        }
    }
    Store {
        name: d.name.name.clone(),
        description: desc(d),
        engine,
        port,
        classification,
        location,
        binding,
        span: d.name.span,
    }
}

pub fn external(d: &Decl, diags: &mut Diagnostics) -> External {
    let what = format!("external `{}`", d.name.name);
    let props = Props::new(d.props.as_ref(), &["address", "ports"], &what, diags);
    let addresses = props
        .value("address", "\"CIDR\"", diags)
        .and_then(|v| props::cidrs("address", v, diags))
        .unwrap_or_default();
    let ports = props
        .value("ports", "{ https = 443 }", diags)
        .map(|v| ports(v, diags))
        .unwrap_or_default();
    let mut missing = Vec::new();
    if !props.has("address") {
        missing.push("address");
    }
    if !props.has("ports") {
        missing.push("ports");
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                d.name.span,
                format!("external `{}` needs {}", d.name.name, backticked(&missing)),
            )
            .label("incomplete")
            .help("e.g. `{ address = \"203.0.113.0/24\"  ports = { https = 443 } }`"),
        );
    }
    External {
        name: d.name.name.clone(),
        description: desc(d),
        addresses,
        ports,
        span: d.name.span,
    }
}
