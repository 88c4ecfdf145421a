//! How an app's container runs: `env`, `env_from`, `command`, `args`,
//! `run_as`, `resources` (requests and limits) and `health` (readiness,
//! liveness and startup probes), read from the app's block; and the check
//! that no `env_from` hands an app a store's credentials.

use super::names;
use super::props::{self, Props, QuantityKind};
use super::props::{backticked, empty_block_check};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::span::Span;
use crate::syntax::ast::{self, ValueKind};

/// The properties [`run`] reads.
pub const KEYS: &[&str] = &["env", "env_from", "command", "args", "run_as"];

/// `env`, `env_from`, `command`, `args` and `run_as` of an app's block.
pub fn run(props: &Props<'_>, diags: &mut Diagnostics) -> Run {
    let mut out = Run::default();
    if let Some(v) = props.value("env", "{ LOG_LEVEL = \"info\" }", diags) {
        out.env = env(v, diags);
    }
    if let Some(v) = props.value(
        "env_from",
        "{ configmaps = [\"...\"], secrets = [\"...\"] }",
        diags,
    ) {
        out.env_from = env_from(v, diags);
    }
    for key in ["command", "args"] {
        if let Some(v) = props.value(key, "[\"...\"]", diags) {
            let list = argv(key, v, diags);
            if key == "command" {
                out.command = list;
            } else {
                out.args = list;
            }
        }
    }
    if let Some(v) = props.value("run_as", "10001", diags) {
        out.run_as_span = Some(v.span);
        out.run_as = run_as(v, diags);
    }
    out
}

/// `env = { NAME = "value", ... }`: literal values, in the model's order.
fn env(v: &ast::Value, diags: &mut Diagnostics) -> Vec<EnvVar> {
    let Some(map) = props::map("env", v, "{ LOG_LEVEL = \"info\" }", diags) else {
        return Vec::new();
    };
    let mut out: Vec<EnvVar> = Vec::new();
    let mut seen: Vec<&ast::Entry> = Vec::new();
    for e in &map.entries {
        let name = &e.key.name;
        if let Some(problem) = env_name_problem(name) {
            diags.push(
                props::invalid(
                    "env",
                    e.key.span,
                    format!(
                        "`{}` is not an environment variable name: {problem}",
                        names::shorten(name)
                    ),
                )
                .help("use letters, digits, `_`, `-` and `.`, not starting with a digit, e.g. `LOG_LEVEL`"),
            );
            continue;
        }
        if let Some(first) = seen.iter().find(|f| f.key.name == *name) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateProperty,
                    e.key.span,
                    format!("variable `{name}` is given twice in `env`"),
                )
                .label("given again here")
                .secondary(first.key.span, "first given here")
                .help("remove one of them"),
            );
            continue;
        }
        seen.push(e);
        let Some(value) = &e.value else {
            diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    e.key.span,
                    format!("variable `{name}` needs a value"),
                )
                .label(format!("expected `{name} = \"...\"`")),
            );
            continue;
        };
        let text = match &value.kind {
            ValueKind::Str(s) | ValueKind::Quantity(s) => s.clone(),
            ValueKind::Int(Some(n)) => n.to_string(),
            ValueKind::Int(None) => continue, // "number too large" already reported
            _ => {
                diags.push(
                    props::wrong_type("env", value, "a string")
                        .help(format!("quote it: `{name} = \"...\"`")),
                );
                continue;
            }
        };
        out.push(EnvVar {
            name: name.clone(),
            value: text,
            span: e.key.span,
        });
    }
    out
}

/// Kubernetes' rule for a variable name (the one every version accepts):
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
fn env_name_problem(name: &str) -> Option<&'static str> {
    let first = name.chars().next()?;
    if first.is_ascii_digit() {
        return Some("it starts with a digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Some("it has a character other than letters, digits, `_`, `-` and `.`");
    }
    None
}

/// `env_from = { configmaps = [...], secrets = [...] }`.
fn env_from(v: &ast::Value, diags: &mut Diagnostics) -> Vec<EnvSource> {
    let example = "{ configmaps = [\"...\"], secrets = [\"...\"] }";
    let Some(map) = props::map("env_from", v, example, diags) else {
        return Vec::new();
    };
    let props = Props::new(Some(map), &["configmaps", "secrets"], "`env_from`", diags);
    empty_block_check("env_from", map, diags);
    let mut out: Vec<EnvSource> = Vec::new();
    for (key, kind) in [
        ("configmaps", EnvSourceKind::ConfigMap),
        ("secrets", EnvSourceKind::Secret),
    ] {
        let Some(v) = props.value(key, "[\"...\"]", diags) else {
            continue;
        };
        let ValueKind::List(items) = &v.kind else {
            diags.push(
                props::wrong_type(key, v, "a list of names")
                    .help(format!("write `{key} = [\"name\"]`")),
            );
            continue;
        };
        for item in items {
            let Some(name) = props::string(key, item, diags) else {
                continue;
            };
            if let Some(problem) = names::dns_subdomain_problem(name) {
                diags.push(props::invalid(
                    key,
                    item.span,
                    format!("`{}` {problem}", names::shorten(name)),
                ));
                continue;
            }
            if let Some(first) = out.iter().find(|s| s.kind == kind && s.name == name) {
                diags.push(
                    Diagnostic::error(
                        Code::DuplicateProperty,
                        item.span,
                        format!("`{name}` is listed twice in `env_from.{key}`"),
                    )
                    .label("listed again here")
                    .secondary(first.span, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            out.push(EnvSource {
                kind,
                name: name.to_string(),
                span: item.span,
            });
        }
    }
    out
}

/// `command` or `args`: a non-empty list of strings.
fn argv(key: &str, v: &ast::Value, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let list = props::string_list(key, v, diags)?;
    if list.is_empty() {
        diags.push(
            props::invalid(key, v.span, format!("`{key}` is an empty list")).help(format!(
                "remove `{key}` to keep the image's own {}",
                if key == "command" {
                    "entrypoint"
                } else {
                    "arguments"
                }
            )),
        );
        return None;
    }
    Some(list)
}

/// `run_as = UID` (user and group) or `{ user = UID, group = GID }`.
fn run_as(v: &ast::Value, diags: &mut Diagnostics) -> Option<RunAs> {
    match &v.kind {
        ValueKind::Int(_) => {
            let id = id("run_as", v, diags)?;
            Some(RunAs {
                user: id,
                group: id,
            })
        }
        ValueKind::Map(map) => {
            let props = Props::new(Some(map), &["user", "group"], "`run_as`", diags);
            empty_block_check("run_as", map, diags);
            let user = props
                .value("user", "10001", diags)
                .map(|v| id("user", v, diags));
            let group = props
                .value("group", "10001", diags)
                .map(|v| id("group", v, diags));
            let user = match user {
                Some(u) => u?,
                None => DEFAULT_RUN_AS,
            };
            let group = match group {
                Some(g) => g?,
                // A user of its own gets a group of the same number.
                None if props.has("user") => user,
                None => DEFAULT_RUN_AS,
            };
            Some(RunAs { user, group })
        }
        _ => {
            diags.push(
                props::wrong_type(
                    "run_as",
                    v,
                    "a uid such as `10001` or `{ user = 10001, group = 10001 }`",
                )
                .help("write `run_as = 10001` or `run_as = { user = 10001, group = 10001 }`"),
            );
            None
        }
    }
}

/// A user or group id: 1 to 2^31 - 1, never root's 0.
fn id(key: &str, v: &ast::Value, diags: &mut Diagnostics) -> Option<u32> {
    if let ValueKind::Int(Some(0)) = v.kind {
        let d = if key == "group" {
            props::invalid(key, v.span, "group 0 is root's group")
                .help("pick a group id of 10000 or more, e.g. `group = 10001`")
                .note("in root's group the container reads every file the image gives that group, and the pod's mounted Secrets (`fsGroup`) would belong to it")
        } else {
            props::invalid(key, v.span, "user 0 is root")
                .help("Pod Security `restricted` refuses containers that run as root; pick a uid of 10000 or more, e.g. `10001`")
                .note("every container palisade generates has `runAsNonRoot: true`, so it would not start either")
        };
        diags.push(d);
        return None;
    }
    props::int(key, v, (1, i32::MAX as u64), diags).map(|n| n as u32)
}

// ---------------------------------------------------------------- resources

/// `resources = { cpu, memory }` (requests = limits) or with `limits = {
/// cpu, memory }` (requests and limits apart).
pub fn resources(v: &ast::Value, diags: &mut Diagnostics) -> Option<AppResources> {
    let example = "{ cpu = \"250m\", memory = \"256Mi\", limits = { memory = \"512Mi\" } }";
    let map = props::map("resources", v, example, diags)?;
    let props = Props::new(
        Some(map),
        &["cpu", "memory", "limits"],
        "`resources`",
        diags,
    );
    empty_block_check("resources", map, diags);
    let errors = diags.error_count();
    let (requests, request_spans) = cpu_memory(&props, diags);
    let Some(lv) = props.value("limits", "{ memory = \"512Mi\" }", diags) else {
        return (diags.error_count() == errors).then_some(AppResources {
            requests,
            limits: None,
            limits_span: None,
        });
    };
    let lmap = props::map("limits", lv, "{ cpu = \"1\", memory = \"512Mi\" }", diags)?;
    let lprops = Props::new(Some(lmap), &["cpu", "memory"], "`limits`", diags);
    empty_block_check("limits", lmap, diags);
    let (limits, limit_spans) = cpu_memory(&lprops, diags);
    if diags.error_count() != errors {
        return None;
    }
    let mut requests = requests;
    for (i, (request, limit)) in [
        (&mut requests.cpu, &limits.cpu),
        (&mut requests.memory, &limits.memory),
    ]
    .into_iter()
    .enumerate()
    {
        let what = ["cpu", "memory"][i];
        match (request.as_deref(), limit.as_deref()) {
            // Kubernetes' own rule: a limit without a request requests the limit.
            (None, Some(l)) => *request = Some(l.to_string()),
            (Some(r), Some(l)) if below(l, r) => {
                diags.push(
                    props::invalid(
                        what,
                        limit_spans[i].expect("a limit was given"),
                        format!("the {what} limit `{l}` is below the request `{r}`"),
                    )
                    .secondary(request_spans[i].expect("a request was given"), "requested here")
                    .help("Kubernetes refuses a limit below the request: raise the limit or lower the request"),
                );
                return None;
            }
            _ => {}
        }
    }
    Some(AppResources {
        requests,
        limits: Some(limits),
        limits_span: Some(lv.span),
    })
}

/// `cpu` and `memory` of a block, with the spans of their values.
fn cpu_memory(props: &Props<'_>, diags: &mut Diagnostics) -> (Resources, [Option<Span>; 2]) {
    let cpu = props.value("cpu", "\"250m\"", diags);
    let memory = props.value("memory", "\"256Mi\"", diags);
    let r = Resources {
        cpu: cpu.and_then(|v| props::quantity("cpu", v, QuantityKind::Cpu, diags)),
        memory: memory.and_then(|v| props::quantity("memory", v, QuantityKind::Memory, diags)),
    };
    (r, [cpu.map(|v| v.span), memory.map(|v| v.span)])
}

/// `a < b`, for two valid quantities (false when either is too large to compare).
fn below(a: &str, b: &str) -> bool {
    matches!((quantity_value(a), quantity_value(b)), (Some(a), Some(b)) if a < b)
}

/// A quantity in billionths of its unit (`1` → 10^9, `500m` → 5·10^8,
/// `1Ki` → 1024·10^9); `None` if it does not fit.
pub fn quantity_value(q: &str) -> Option<u128> {
    let i = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(i);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.len() > 9 {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    let nanos = whole.checked_mul(1_000_000_000)?.checked_add(fraction)?;
    let (mul, div): (u128, u128) = match suffix {
        "" => (1, 1),
        "m" => (1, 1000),
        "k" => (1000, 1),
        "M" => (1000u128.pow(2), 1),
        "G" => (1000u128.pow(3), 1),
        "T" => (1000u128.pow(4), 1),
        "P" => (1000u128.pow(5), 1),
        "E" => (1000u128.pow(6), 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        "Pi" => (1 << 50, 1),
        "Ei" => (1 << 60, 1),
        _ => return None,
    };
    Some(nanos.checked_mul(mul)? / div)
}

/// A namespace `quota` on cpu or memory makes Kubernetes refuse a pod
/// whose containers do not all limit it: an app that gives `limits` apart
/// must limit what its namespace's quota counts.
pub fn limits_for_quotas(model: &Model, diags: &mut Diagnostics) {
    for app in &model.apps {
        let Some(r) = &app.resources else { continue };
        let (Some(limits), Some(span)) = (&r.limits, r.limits_span) else {
            continue;
        };
        let ns = &model.namespaces[app.namespace.index()];
        let Some(quota) = &ns.quota else { continue };
        for (what, counted, limited) in [
            ("cpu", &quota.cpu, &limits.cpu),
            ("memory", &quota.memory, &limits.memory),
        ] {
            if counted.is_none() || limited.is_some() {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    Code::MissingProperty,
                    span,
                    format!(
                        "app `{}` has no {what} limit, and namespace `{}` has a {what} quota",
                        app.name, ns.name
                    ),
                )
                .label(format!("no `{what}` here"))
                .secondary(ns.span, format!("its `quota` counts `limits.{what}`"))
                .help(format!(
                    "add `{what}` to `limits`: Kubernetes refuses a pod without a {what} limit in a namespace whose quota counts {what} limits"
                )),
            );
        }
    }
}

// ---------------------------------------------------------------- health

const PROBE_KEYS: &[&str] = &[
    "http", "tcp", "exec", "port", "delay", "period", "timeout", "failures",
];
const KINDS: [&str; 3] = ["http", "tcp", "exec"];
const EXAMPLE: &str = "{ http = \"/healthz\", port = http }";

/// `health`: one probe for readiness and liveness (`{ http = "/healthz" }`),
/// and/or `readiness`, `liveness`, `startup` apart; each may give `delay`,
/// `period`, `timeout` and `failures`.
pub fn health(v: &ast::Value, ports: &[Port], diags: &mut Diagnostics) -> Option<Health> {
    let map = props::map("health", v, EXAMPLE, diags)?;
    let mut keys = PROBE_KEYS.to_vec();
    keys.extend(["readiness", "liveness", "startup"]);
    let props = Props::new(Some(map), &keys, "`health`", diags);
    let errors = diags.error_count();
    let shared = action(&props, ports, diags)?;
    let timing = timing(&props, diags);
    let shared = shared.map(|probe| ProbeSpec {
        probe,
        timing: timing.clone(),
    });
    let mut out = Health::default();
    for (key, slot) in [
        ("readiness", &mut out.readiness),
        ("liveness", &mut out.liveness),
        ("startup", &mut out.startup),
    ] {
        *slot = match props.get(key) {
            Some(e) => own_probe(key, e, shared.as_ref(), ports, diags),
            None if key == "startup" => None,
            None => shared.clone(),
        };
    }
    if diags.error_count() != errors {
        return None;
    }
    if out == Health::default() {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                map.span,
                "`health` needs one of `http`, `tcp` or `exec`",
            )
            .label("no probe")
            .help(format!("e.g. `health = {EXAMPLE}`")),
        );
        return None;
    }
    if shared.is_none() {
        if let Some(p) = props.get("port") {
            diags.push(
                Diagnostic::error(
                    Code::ConflictingProperties,
                    p.key.span,
                    "`port` belongs to an `http` probe beside it",
                )
                .label("no `http` here")
                .help("give `port` inside the probe that uses it"),
            );
            return None;
        }
    }
    Some(out)
}

/// The probe of a block: `Ok(None)` when it gives none, `Err` when it is wrong.
fn action(props: &Props<'_>, ports: &[Port], diags: &mut Diagnostics) -> Option<Option<Probe>> {
    let kinds: Vec<_> = KINDS.into_iter().filter_map(|k| props.get(k)).collect();
    match kinds.as_slice() {
        [] => Some(None),
        [one] => probe_of(one, props, ports, diags).map(Some),
        [first, second, ..] => {
            diags.push(
                Diagnostic::error(
                    Code::ConflictingProperties,
                    second.key.span,
                    "`health` takes one probe",
                )
                .label(format!("`{}` given too", second.key.name))
                .secondary(first.key.span, "first probe")
                .help("keep one of `http`, `tcp` and `exec`"),
            );
            None
        }
    }
}

/// `readiness`, `liveness` or `startup`: a flag (the shared probe) or a
/// block of its own, whose probe and timing override the shared ones.
fn own_probe(
    key: &str,
    e: &ast::Entry,
    shared: Option<&ProbeSpec>,
    ports: &[Port],
    diags: &mut Diagnostics,
) -> Option<ProbeSpec> {
    // The startup probe does not take the shared timing: it is the one that
    // must wait longer.
    let inherited = |t: &ProbeTiming| {
        if key == "startup" {
            ProbeTiming::default()
        } else {
            t.clone()
        }
    };
    let no_probe = |span: Span, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(
                Code::MissingProperty,
                span,
                format!("`{key}` has no probe"),
            )
            .label("no `http`, `tcp` or `exec` here or beside it")
            .help(format!(
                "give it one, e.g. `{key} = {{ http = \"/healthz\" }}`, or give one in `health` for it to share"
            )),
        );
    };
    let Some(v) = &e.value else {
        let Some(shared) = shared else {
            no_probe(e.key.span, diags);
            return None;
        };
        return Some(ProbeSpec {
            probe: shared.probe.clone(),
            timing: inherited(&shared.timing),
        });
    };
    let map = props::map(key, v, "{ http = \"/healthz\", failures = 30 }", diags)?;
    let props = Props::new(Some(map), PROBE_KEYS, &format!("`{key}`"), diags);
    let probe = match action(&props, ports, diags)? {
        Some(p) => p,
        None => {
            if let Some(p) = props.get("port") {
                diags.push(
                    Diagnostic::error(
                        Code::ConflictingProperties,
                        p.key.span,
                        format!("`port` in `{key}` needs an `http` probe beside it"),
                    )
                    .label("no `http` here")
                    .help(format!(
                        "write `{key} = {{ http = \"/path\", port = ... }}`"
                    )),
                );
                return None;
            }
            match shared {
                Some(s) => s.probe.clone(),
                None => {
                    no_probe(map.span, diags);
                    return None;
                }
            }
        }
    };
    let own = timing(&props, diags);
    let base = shared.map(|s| inherited(&s.timing)).unwrap_or_default();
    Some(ProbeSpec {
        probe,
        timing: ProbeTiming {
            delay: own.delay.or(base.delay),
            period: own.period.or(base.period),
            timeout: own.timeout.or(base.timeout),
            failures: own.failures.or(base.failures),
        },
    })
}

/// `delay`, `period`, `timeout` (seconds) and `failures` of a probe block.
fn timing(props: &Props<'_>, diags: &mut Diagnostics) -> ProbeTiming {
    let mut get = |key: &str, range: (u64, u64)| {
        props
            .value(key, "10", diags)
            .and_then(|v| props::int(key, v, range, diags))
            .map(|n| n as u32)
    };
    ProbeTiming {
        delay: get("delay", (0, 3600)),
        period: get("period", (1, 3600)),
        timeout: get("timeout", (1, 3600)),
        failures: get("failures", (1, 10_000)),
    }
}

// ---------------------------------------------------------------- credentials

/// An `env_from` Secret named like a store's credentials Secret
/// (`<store>-<level>`) would hand the app that store's credentials without
/// a data grant, as environment variables: refused.
pub fn credentials_in_env_from(model: &Model, diags: &mut Diagnostics) {
    for app in &model.apps {
        for src in &app.run.env_from {
            if src.kind != EnvSourceKind::Secret {
                continue;
            }
            let Some((store, level)) = model.stores.iter().find_map(|s| {
                let level = src.name.strip_prefix(s.name.as_str())?.strip_prefix('-')?;
                Some((s, DataLevel::parse(level)?))
            }) else {
                continue;
            };
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    src.span,
                    format!(
                        "`{}` is store `{}`'s {}-credentials Secret",
                        src.name,
                        store.name,
                        level.as_str()
                    ),
                )
                .label("credentials a data grant hands out")
                .secondary(store.span, "the store")
                .help(format!(
                    "grant them instead: `allow {} -> {}: {}` mounts that Secret read-only at /var/run/secrets/palisade/{}",
                    app.name,
                    store.name,
                    level.as_str(),
                    store.name
                ))
                .note("as environment variables, without a grant, the app would hold credentials the model does not give it, and `check` would not see them"),
            );
        }
    }
}

fn probe_of(
    entry: &ast::Entry,
    props: &Props<'_>,
    ports: &[Port],
    diags: &mut Diagnostics,
) -> Option<Probe> {
    let port_ref = |v: &ast::Value, diags: &mut Diagnostics| -> Option<u16> {
        match &v.kind {
            ValueKind::Word(w) => match ports.iter().find(|p| &p.name == w) {
                Some(p) => Some(p.number),
                None => {
                    let mut d = Diagnostic::error(
                        Code::Undeclared,
                        v.span,
                        format!("the app has no port named `{}`", names::shorten(w)),
                    )
                    .label("not one of the app's ports");
                    d = match crate::suggest::closest(w, ports.iter().map(|p| p.name.as_str())) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if ports.is_empty() => d.help("declare it in `ports = { ... }`"),
                        None => d.help(format!(
                            "its ports: {}",
                            backticked(&ports.iter().map(|p| &p.name).collect::<Vec<_>>())
                        )),
                    };
                    diags.push(d);
                    None
                }
            },
            _ => props::port_number("port", v, diags).map(|(n, _)| n),
        }
    };
    let default_port = |diags: &mut Diagnostics| -> Option<u16> {
        match ports.first() {
            Some(p) => Some(p.number),
            None => {
                diags.push(
                    Diagnostic::error(
                        Code::MissingProperty,
                        entry.key.span,
                        "this probe needs a `port`, and the app declares none",
                    )
                    .label("no port to probe")
                    .help("add `port = NAME` or declare the app's `ports`"),
                );
                None
            }
        }
    };
    let value = entry.value.as_ref();
    let key = entry.key.name.as_str();
    if value.is_none() && key != "tcp" {
        let example = if key == "http" {
            "http = \"/healthz\""
        } else {
            "exec = [\"/bin/check\"]"
        };
        diags.push(
            Diagnostic::error(
                Code::WrongType,
                entry.key.span,
                format!("`{key}` needs a value"),
            )
            .label(format!("expected `{example}`")),
        );
        return None;
    }
    if key != "http" {
        if let Some(p) = props.get("port") {
            diags.push(
                Diagnostic::error(
                    Code::ConflictingProperties,
                    p.key.span,
                    format!("`port` belongs to `http` probes, not `{key}`"),
                )
                .label("not used by this probe")
                .help(if key == "tcp" {
                    "write the port as `tcp = PORT`"
                } else {
                    "remove `port`"
                }),
            );
            return None;
        }
    }
    match key {
        "http" => {
            let path = props::string("http", value?, diags)?;
            if !path.starts_with('/') {
                diags.push(
                    props::invalid("http", value?.span, "an HTTP probe path starts with `/`")
                        .help("e.g. `http = \"/healthz\"`"),
                );
                return None;
            }
            let port = match props.get("port").and_then(|e| e.value.as_ref()) {
                Some(v) => port_ref(v, diags)?,
                None => default_port(diags)?,
            };
            Some(Probe::Http {
                path: path.to_string(),
                port,
            })
        }
        "tcp" => {
            let port = match value {
                Some(v) => port_ref(v, diags)?,
                None => default_port(diags)?,
            };
            Some(Probe::Tcp { port })
        }
        _ => {
            let command = props::string_list("exec", value?, diags)?;
            if command.is_empty() {
                diags.push(
                    props::invalid("exec", value?.span, "an exec probe needs a command")
                        .help("e.g. `exec = [\"/bin/healthcheck\"]`"),
                );
                return None;
            }
            Some(Probe::Exec { command })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantity_value;

    #[test]
    fn quantities_compare_across_units() {
        let v = |q| quantity_value(q).unwrap();
        assert_eq!(v("1"), 1_000_000_000);
        assert_eq!(v("500m"), v("0.5"));
        assert_eq!(v("1Ki"), v("1024"));
        assert_eq!(v("1k"), v("1000"));
        assert!(v("1Gi") > v("1G"));
        assert!(v("499m") < v("0.5"));
        assert!(v("512Mi") < v("1Gi"));
        assert_eq!(v("1.5Gi"), v("1536Mi"));
        assert_eq!(quantity_value("99999999999999999999999999999999E"), None);
    }
}
