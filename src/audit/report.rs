//! A [`Report`] as diagnostics (rustc-style text pointing into the YAML,
//! SARIF) and as the documented JSON (docs/brownfield.md, schema
//! version 1).

use super::{Cause, Item, Layer, Report};
use crate::diagnostics::{Code, Diagnostic};
use crate::manifests::Manifests;
use crate::model::{Entity, Model};
use crate::source::SourceMap;
use crate::span::Span;
use serde_json::{json, Value};

/// Where a model name is declared (the system, when it is no entity).
fn declared(model: &Model, name: &str) -> Span {
    let span = match model.lookup(name) {
        Some(Entity::Persona(p)) => Some(model.personas[p.index()].span),
        Some(Entity::App(a)) => Some(model.apps[a.index()].span),
        Some(Entity::Store(s)) => Some(model.stores[s.index()].span),
        Some(Entity::External(x)) => Some(model.externals[x.index()].span),
        _ => None,
    };
    span.or(model.system.span)
        .unwrap_or_else(|| Span::new(crate::span::FileId(0), 0, 0))
}

fn object_span(m: &Manifests, c: &Cause) -> Option<Span> {
    c.object.map(|i| m.objects[i].span)
}

fn cause_label(m: &Manifests, c: &Cause) -> String {
    match c.object {
        Some(i) => format!("{}: {}", m.objects[i].title(), c.detail),
        None => c.detail.clone(),
    }
}

fn wider(model: &Model, m: &Manifests, item: &Item) -> Diagnostic {
    let message = match item.layer {
        Layer::Network => format!(
            "`{}` can connect to `{}` on {}, which the model does not allow",
            item.subject, item.target, item.access
        ),
        Layer::Rbac => format!(
            "`{}` is allowed `{}` ({}), which the model does not grant",
            item.subject, item.access, item.target
        ),
    };
    let mut causes = item.causes.iter();
    let first = causes.by_ref().find(|c| c.object.is_some());
    let mut d = match first {
        Some(c) => Diagnostic::error(
            Code::AuditWider,
            object_span(m, c).expect("an object"),
            message,
        )
        .label(cause_label(m, c)),
        None => Diagnostic::error(Code::AuditWider, declared(model, &item.subject), message)
            .label("as the manifests are evaluated"),
    };
    for c in item.causes.iter().filter(|c| Some(*c) != first) {
        match object_span(m, c) {
            Some(span) => d = d.secondary(span, cause_label(m, c)),
            None => d = d.note(c.detail.clone()),
        }
    }
    if let Some(note) = &item.note {
        d = d.note(note.clone());
    }
    for c in item.causes.iter().filter_map(|c| c.object) {
        if let Some(src) = &m.objects[c].source {
            d = d.note(format!(
                "{} comes from Helm template `{src}`",
                m.objects[c].title()
            ));
        }
    }
    d.help(match item.layer {
        Layer::Network => "narrow the policy to what the model declares, or declare the access in the model (`allow`)",
        Layer::Rbac => "narrow the Role to what the model declares, or declare the access in the model",
    })
}

fn unenforced(model: &Model, m: &Manifests, r: &Report, item: &Item) -> Diagnostic {
    let mut d = Diagnostic::error(
        Code::AuditUnenforced,
        item.declared
            .unwrap_or_else(|| declared(model, &item.subject)),
        format!(
            "`{}` → `{}`: {} is declared, and the manifests do not allow it",
            item.subject, item.target, item.access
        ),
    )
    .label("declared here");
    // Cut by the mesh or guardrail layer: what admits it and what cuts it.
    for c in &item.causes {
        match object_span(m, c) {
            Some(span) => d = d.secondary(span, cause_label(m, c)),
            None => d = d.note(c.detail.clone()),
        }
    }
    if let Some(note) = &item.note {
        d = d.note(note.clone());
    }
    if !item.causes.is_empty() {
        return d.help(
            "the NetworkPolicies admit it and the mesh or guardrail layer cuts it: admit it in the object that cuts it, or remove the grant",
        );
    }
    // An end bound to no workload: no policy could say anything of it yet.
    let unbound = (r.unbound.iter()).find(|u| u.entity == item.subject || u.entity == item.target);
    if let Some(u) = unbound {
        return d.help(format!(
            "bind `{}` to its workload first (`selector` or `workload = \"KIND/NAME\"`; the warning on it says what was looked for), then audit again",
            u.entity
        ));
    }
    d.help(match item.layer {
        Layer::Network => "a default-deny policy blocks it and no policy admits it: add the rule `palisade build --no-workloads` writes, or remove the grant",
        Layer::Rbac => "no Role of the manifests grants it: bind the Role `palisade build --no-workloads` writes, or remove the grant",
    })
}

/// Every finding of the report as a diagnostic, in report order.
pub fn diagnostics(model: &Model, m: &Manifests, r: &Report) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for item in &r.wider {
        out.push(wider(model, m, item));
    }
    for item in &r.unenforced {
        out.push(unenforced(model, m, r, item));
    }
    for inv in r.invariants.iter().filter(|i| !i.holds) {
        let mut d = Diagnostic::error(
            Code::Lint(crate::model::INVARIANT_VIOLATED),
            inv.span,
            inv.message.clone().unwrap_or_default(),
        )
        .label("fails on the manifests");
        for n in &inv.notes {
            d = d.note(n.clone());
        }
        out.push(d);
    }
    for u in &r.unbound {
        out.push(
            Diagnostic::warning(
                Code::AuditUnbound,
                u.span,
                format!(
                    "{} `{}` is bound to no workload of the manifests",
                    u.kind, u.entity
                ),
            )
            .label("no workload")
            .note(u.note.clone())
            .help("give it a `selector` (the labels of its pods) or a `workload = \"KIND/NAME\"`"),
        );
    }
    for u in &r.unmodelled {
        let mut d = Diagnostic::warning(
            Code::AuditUnmodelled,
            m.objects[u.object].span,
            format!("{} is not in the model", u.what),
        )
        .label(if u.what.contains(' ') {
            "a subject of this binding"
        } else {
            "this workload"
        })
        .help("model it (`palisade import` drafts it), or remove it");
        if let Some(party) = &u.shares {
            d = d.note(format!(
                "its pods carry the labels that select `{party}`: `{party}`'s NetworkPolicies select them too, and its access is theirs (give `{party}` a `selector` only its pods have)"
            ));
        }
        out.push(d);
    }
    out
}

fn location(sources: &SourceMap, span: Span) -> Value {
    let f = sources.get(span.file);
    let (line, column) = f.line_col(span.start);
    json!({ "file": f.name, "line": line, "column": column })
}

fn causes(sources: &SourceMap, m: &Manifests, c: &[Cause]) -> Vec<Value> {
    c.iter()
        .map(|c| match c.object {
            Some(i) => {
                let o = &m.objects[i];
                let mut v = location(sources, o.span);
                v["object"] = json!(o.title());
                v["detail"] = json!(c.detail);
                if let Some(src) = &o.source {
                    v["helm_source"] = json!(src);
                }
                v
            }
            None => json!({ "detail": c.detail }),
        })
        .collect()
}

/// The JSON document (schema version 1, docs/brownfield.md).
pub fn json(
    model: &Model,
    sources: &SourceMap,
    m: &Manifests,
    r: &Report,
    model_path: &str,
) -> Value {
    let items = |list: &[Item]| -> Vec<Value> {
        list.iter()
            .map(|i| {
                let mut v = json!({
                    "layer": i.layer.as_str(),
                    "subject": i.subject,
                    "target": i.target,
                    "access": i.access,
                    "causes": causes(sources, m, &i.causes),
                });
                if let Some(span) = i.declared {
                    v["declared"] = location(sources, span);
                }
                if let Some(note) = &i.note {
                    v["note"] = json!(note);
                }
                v
            })
            .collect()
    };
    json!({
        "version": 1,
        "model": model_path,
        "env": r.env.map(|e| model.environments[e.index()].name.clone()),
        "clean": r.clean(),
        "bindings": r.bindings.iter().map(|b| json!({
            "entity": b.entity,
            "kind": b.kind,
            "workload": b.workload,
            "by": b.by.as_str(),
            "at": location(sources, m.objects[b.object].span),
        })).collect::<Vec<_>>(),
        "unbound": r.unbound.iter().map(|u| json!({
            "entity": u.entity,
            "kind": u.kind,
            "declared": location(sources, u.span),
        })).collect::<Vec<_>>(),
        "unmodelled": r.unmodelled.iter().map(|u| {
            let key = if u.what.contains(' ') { "subject" } else { "workload" };
            let mut v = location(sources, m.objects[u.object].span);
            v[key] = json!(u.what);
            if let Some(party) = &u.shares {
                v["shares_selector_of"] = json!(party);
            }
            v
        }).collect::<Vec<_>>(),
        "wider": items(&r.wider),
        "unenforced": items(&r.unenforced),
        "invariants": r.invariants.iter().map(|i| {
            let f = sources.get(i.span.file);
            let statement = f.text.get(i.span.range()).unwrap_or("").lines().next().unwrap_or("").trim().to_string();
            let mut v = json!({
                "statement": statement,
                "holds": i.holds,
                "declared": location(sources, i.span),
            });
            // A failing one: the path; one that holds: what the mesh and
            // guardrails cut that the NetworkPolicies would admit.
            if !i.holds || !i.notes.is_empty() {
                v["notes"] = json!(i.notes);
            }
            v
        }).collect::<Vec<_>>(),
    })
}
