//! The draft as `.sec` text (the caller formats it): the header with what
//! the language cannot express, then the declarations and statements, each
//! under a comment naming the objects it came from.

use super::{Draft, Group, Options, Port, Subject};
use crate::k8s::Labels;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Where the API server is, when the manifests do not say: a documentation
/// address (RFC 5737) that matches nothing, so that a forgotten placeholder
/// opens nothing.
const API_SERVER_PLACEHOLDER: &str = "192.0.2.1/32";

pub(super) fn render(d: &Draft<'_>, opts: &Options) -> String {
    let mut out = String::new();
    header(d, opts, &mut out);
    let inputs = if opts.inputs.is_empty() {
        "manifests".to_string()
    } else {
        opts.inputs.join(", ")
    };
    let _ = writeln!(
        out,
        "system {} {}\n",
        d.system,
        quote(&format!("Imported from {inputs}"))
    );
    platform(d, &mut out);
    for (name, ns) in &d.namespaces {
        comment(&mut out, ns.origin.as_deref().into_iter());
        if ns.origin.is_none() {
            out.push_str("# (no Namespace object: its workloads name it)\n");
        }
        match &ns.pod_security {
            Some(level) if matches!(level.as_str(), "restricted" | "baseline" | "privileged") => {
                let _ = writeln!(out, "namespace {name} {{ pod_security = {level} }}");
            }
            _ => {
                out.push_str("# no Pod Security level set: the model's default is `restricted`\n");
                let _ = writeln!(out, "namespace {name}");
            }
        }
    }
    out.push('\n');
    for p in &d.personas {
        comment(&mut out, p.origins.iter().map(String::as_str));
        let (what, props) = match &p.subject {
            Subject::User(u) => (format!("User {u}"), format!("users = [{}]", quote(u))),
            Subject::Group(g) => (format!("Group {g}"), format!("group = {}", quote(g))),
            Subject::ServiceAccount { namespace, name } => (
                format!("ServiceAccount {namespace}/{name}"),
                format!(
                    "service_account = {}",
                    quote(&format!("{namespace}/{name}"))
                ),
            ),
        };
        let _ = writeln!(out, "persona {} {} {{ {props} }}", p.name, quote(&what));
    }
    if !d.personas.is_empty() {
        out.push('\n');
    }
    for g in &d.groups {
        group(g, &mut out);
        out.push('\n');
    }
    for x in &d.externals {
        comment(&mut out, std::iter::once(x.origin.as_str()));
        let addresses: Vec<String> = x.cidrs.iter().map(|c| quote(c)).collect();
        let _ = writeln!(
            out,
            "external {} {{ address = [{}]  ports = {} }}",
            x.name,
            addresses.join(", "),
            ports(&x.ports)
        );
    }
    if !d.externals.is_empty() {
        out.push('\n');
    }
    allows(d, &mut out);
    out
}

fn header(d: &Draft<'_>, opts: &Options, out: &mut String) {
    let inputs = if opts.inputs.is_empty() {
        "the manifests".to_string()
    } else {
        opts.inputs.join(", ")
    };
    let _ = writeln!(
        out,
        "# A draft model, written by `palisade import` from {inputs}.\n\
         # It declares the workloads the manifests hold and allows what their\n\
         # NetworkPolicies and RBAC permit today, as Kubernetes evaluates them;\n\
         # each statement names the objects it came from. Review it: what is\n\
         # permitted today is not necessarily what is intended.\n#"
    );
    let notes = d.all_notes();
    if notes.is_empty() {
        out.push_str("# The language expresses everything the manifests say.\n");
    } else {
        out.push_str("# What the language cannot express (review by hand):\n");
        for n in notes {
            let _ = writeln!(out, "# - {}", one_line(&n));
        }
    }
    if !d.manifests.skipped.is_empty() {
        let kinds: Vec<String> = (d.manifests.skipped.iter())
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        let _ = writeln!(out, "#\n# Read and skipped, by kind: {}", kinds.join(", "));
    }
    out.push('\n');
}

fn platform(d: &Draft<'_>, out: &mut String) {
    out.push_str("platform {\n");
    out.push_str(
        "  # the workloads are the manifests' own: `build` generates only the security layer\n",
    );
    out.push_str("  workloads = false\n");
    if let Some((ns, labels, origin)) = &d.platform.ingress {
        let _ = writeln!(out, "  # the ingress controller: {}", one_line(origin));
        let _ = writeln!(
            out,
            "  ingress = {{ namespace = {}, pods = {} }}",
            quote(ns),
            labels_map(labels)
        );
    }
    if let Some((ns, labels, ports, origin)) = &d.platform.dns {
        let _ = writeln!(out, "  # cluster DNS: {}", one_line(origin));
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        let _ = writeln!(
            out,
            "  dns = {{ namespace = {}, pods = {}, ports = [{}] }}",
            quote(ns),
            labels_map(labels),
            list.join(", ")
        );
    }
    if d.platform.api_server {
        out.push_str(
            "  # TODO: the manifests do not say where the API server is, and `kube` grants need it.\n  \
             # 192.0.2.1 is a documentation address that matches nothing: put your API server's\n  \
             # endpoint here (`kubectl get endpoints kubernetes -n default`).\n",
        );
        let _ = writeln!(
            out,
            "  api_server = {{ address = {}, port = 6443 }}",
            quote(API_SERVER_PLACEHOLDER)
        );
    }
    out.push_str("}\n\n");
}

fn group(g: &Group, out: &mut String) {
    comment(out, g.notes.iter().map(String::as_str));
    let binding = |out: &mut String, indent: &str| {
        if !g.selector.is_empty() {
            let _ = writeln!(out, "{indent}selector = {}", labels_map(&g.selector));
        }
        if let Some(kind) = match g.kind {
            "Deployment" => Some("deployment"),
            "StatefulSet" => Some("statefulset"),
            "DaemonSet" => Some("daemonset"),
            _ => None,
        } {
            let _ = writeln!(
                out,
                "{indent}workload = {}",
                quote(&format!("{kind}/{}", g.workload))
            );
        }
        if !g.service_account.is_empty() {
            let _ = writeln!(
                out,
                "{indent}service_account = {}",
                quote(&g.service_account)
            );
        }
    };
    if let Some(s) = &g.store {
        if !s.image.is_empty() {
            let _ = writeln!(out, "# image {}", one_line(&s.image));
        }
        let _ = writeln!(out, "store {} in {} {{", s.name, g.namespace);
        let _ = writeln!(out, "  engine = {}", s.engine);
        if s.explicit_port {
            let _ = writeln!(out, "  port = {}", s.port);
        }
        binding(out, "  ");
        out.push_str("}\n");
        return;
    }
    let single = g.apps.len() == 1;
    for app in &g.apps {
        let _ = writeln!(out, "app {} in {} {{", app.name, g.namespace);
        let _ = writeln!(out, "  image = {}", quote(&app.image));
        if !app.ports.is_empty() {
            let _ = writeln!(out, "  ports = {}", ports(&app.ports));
        }
        if let Some(r) = g.replicas {
            let _ = writeln!(out, "  replicas = {}", r.min(10_000));
        }
        if single {
            binding(out, "  ");
        }
        out.push_str("}\n");
    }
    if !single {
        let names: Vec<&str> = g.apps.iter().map(|a| a.name.as_str()).collect();
        let _ = writeln!(out, "pod {} = [{}] {{", g.name, names.join(", "));
        binding(out, "  ");
        out.push_str("}\n");
    }
}

fn allows(d: &Draft<'_>, out: &mut String) {
    let personas: BTreeSet<&str> = d.personas.iter().map(|p| p.name.as_str()).collect();
    let category = |a: &super::Allow| {
        if a.target == "kube" {
            2
        } else if a.subjects.iter().any(|s| personas.contains(s.as_str())) {
            1
        } else {
            0
        }
    };
    let mut list: Vec<&super::Allow> = d.allows.iter().collect();
    list.sort_by_key(|a| (category(a), a.target.clone(), a.subjects.clone()));
    let mut last = None;
    for a in list {
        let c = category(a);
        if last != Some(c) {
            out.push_str(match c {
                0 => "# Connections the NetworkPolicies permit\n",
                1 => "# Operations the RBAC authorizer grants people\n",
                _ => "# What the apps' ServiceAccounts may do with the API\n",
            });
            last = Some(c);
        }
        comment(out, a.origins.iter().map(String::as_str));
        comment(out, a.notes.iter().map(String::as_str));
        let mut subjects = a.subjects.clone();
        subjects.sort();
        let subjects = if subjects.len() == 1 {
            subjects[0].clone()
        } else {
            format!("[{}]", subjects.join(", "))
        };
        let _ = writeln!(
            out,
            "allow {subjects} -> {}: {}",
            a.target,
            a.items.join(", ")
        );
    }
}

fn comment<'a>(out: &mut String, lines: impl Iterator<Item = &'a str>) {
    for l in lines {
        let _ = writeln!(out, "# {}", one_line(l));
    }
}

/// A comment's text never ends it early: no newline.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// A string literal: `"` and `\` escaped, nothing else can be.
fn quote(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
}

fn labels_map(labels: &Labels) -> String {
    let entries: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

fn ports(list: &[Port]) -> String {
    let entries: Vec<String> = list
        .iter()
        .map(|p| format!("{} = {}", p.name, p.literal()))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}
