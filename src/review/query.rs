//! `palisade query`: who-can, what-can and path questions answered from the
//! access view and the effective access graph, each answer with its
//! derivation (the `allow` statements, or the widening's causes).

use crate::effective::network::Protocol;
use crate::model::{DataLevel, Entity, EnvId, Model, Operation};
use crate::view::report::{env_name, CutReport, EdgeReport, SCHEMA_VERSION};
use crate::view::{AccessEdge, AccessView, CutAccess, EnvView, GNode, Kind};
use crate::{Checked, Compilation};
use serde::Serialize;

/// A question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// Who can perform ACCESS on TARGET: a port name of the target or a port
    /// (`8080`, `53/udp`), `read`/`write`/`admin`, an operation, `connect`
    /// (any network access), `kube` (the token) or `any`.
    WhoCan { access: String, target: String },
    /// Everything SUBJECT can do.
    WhatCan { subject: String },
    /// The shortest path from FROM to TO through the effective access graph.
    Path { from: String, to: String },
}

/// A question that cannot be asked of this model (exit 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    pub help: Option<String>,
}

/// The answer, in the documented JSON shape (docs/review.md).
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub version: u32,
    pub query: Echo,
    pub environments: Vec<EnvAnswer>,
}

/// The question as asked.
#[derive(Clone, Debug, Serialize)]
pub struct Echo {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EnvAnswer {
    Edges {
        /// `null` in a model without environments.
        environment: Option<String>,
        edges: Vec<EdgeReport>,
        /// Connections the question asks about that the NetworkPolicies
        /// admit and the mesh or guardrail layer cuts.
        cut: Vec<CutReport>,
    },
    Path {
        environment: Option<String>,
        /// `null`: no path.
        path: Option<PathReport>,
        /// With no path: the connections into TO, from FROM or a party it
        /// reaches, that the NetworkPolicies admit and a layer cuts.
        cut: Vec<CutReport>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// `customer --TCP/8080 through the ingress--> web --TCP/9000--> api ...`
    pub text: String,
    pub hops: Vec<Hop>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub from: String,
    pub to: String,
    /// The edge as the path shows it: `--TCP/8080-->`, `--exec-->`.
    pub label: String,
    /// The access edge behind the hop: every hop is an edge of the graph,
    /// so this is never `null` (an `Option` for the JSON schema's sake).
    pub edge: Option<EdgeReport>,
}

/// What ACCESS asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Any,
    Net(Option<(Protocol, u16)>),
    Data(DataLevel),
    Op(Operation),
    Kube,
}

fn want_matches(want: Want, e: &AccessEdge) -> bool {
    want_access(want, &e.access)
}

/// Whether a cut connection is one ACCESS asks about.
fn want_cut(want: Want, c: &CutAccess) -> bool {
    want_access(want, &c.access)
}

fn want_access(want: Want, access: &Kind) -> bool {
    match (want, access) {
        (Want::Any, _) => true,
        (Want::Net(None), Kind::Net(_)) => true,
        (Want::Net(Some((proto, port))), Kind::Net(ports)) => ports.contains(proto, port),
        (Want::Data(want), Kind::Data(have)) => *have >= want,
        (Want::Op(op), Kind::Op(have)) => *have == op,
        (Want::Kube, Kind::Token) => true,
        _ => false,
    }
}

/// Answer a question on a checked model (`view`: [`crate::view::access_view`]
/// of it); `only`: one environment. Edges come from the view, paths from the
/// same graphs the view reads.
pub fn answer(
    checked: &Checked,
    view: &AccessView,
    question: &Question,
    only: Option<EnvId>,
) -> Result<Answer, QueryError> {
    let comp = &checked.comp;
    let m = &comp.model;
    let selected = view.envs.iter().filter(|e| only.is_none() || e.env == only);
    let (echo, environments) = match question {
        Question::WhoCan { access, target } => {
            let t = entity(m, target)?;
            let want = parse_access(m, t, access)?;
            let answers = selected
                .map(|ev| EnvAnswer::Edges {
                    environment: env_name(m, ev.env),
                    edges: (ev.edges.iter())
                        .filter(|e| e.to == GNode::E(t) && want_matches(want, e))
                        .map(|e| EdgeReport::new(comp, e))
                        .collect(),
                    cut: (ev.cut.iter())
                        .filter(|c| c.to == GNode::E(t) && want_cut(want, c))
                        .map(|c| CutReport::new(m, c))
                        .collect(),
                })
                .collect();
            let echo = Echo {
                access: Some(access.clone()),
                target: Some(target.clone()),
                ..Echo::new("who-can")
            };
            (echo, answers)
        }
        Question::WhatCan { subject } => {
            let s = entity(m, subject)?;
            let answers = selected
                .map(|ev| EnvAnswer::Edges {
                    environment: env_name(m, ev.env),
                    edges: (ev.edges.iter())
                        .filter(|e| e.from == GNode::E(s))
                        .map(|e| EdgeReport::new(comp, e))
                        .collect(),
                    cut: (ev.cut.iter())
                        .filter(|c| c.from == GNode::E(s))
                        .map(|c| CutReport::new(m, c))
                        .collect(),
                })
                .collect();
            let echo = Echo {
                subject: Some(subject.clone()),
                ..Echo::new("what-can")
            };
            (echo, answers)
        }
        Question::Path { from, to } => {
            let (f, t) = (entity(m, from)?, entity(m, to)?);
            let answers = (view.envs.iter().zip(&checked.graphs))
                .filter(|(ev, _)| only.is_none() || ev.env == only)
                .map(|(ev, graph)| {
                    let path = path(comp, graph, ev, f, t);
                    let cut = match path {
                        Some(_) => Vec::new(),
                        None => cut_into(m, graph, ev, f, t),
                    };
                    EnvAnswer::Path {
                        environment: env_name(m, ev.env),
                        path,
                        cut,
                    }
                })
                .collect();
            let echo = Echo {
                from: Some(from.clone()),
                to: Some(to.clone()),
                ..Echo::new("path")
            };
            (echo, answers)
        }
    };
    Ok(Answer {
        version: SCHEMA_VERSION,
        query: echo,
        environments,
    })
}

impl Echo {
    fn new(kind: &'static str) -> Echo {
        Echo {
            kind,
            access: None,
            target: None,
            subject: None,
            from: None,
            to: None,
        }
    }
}

fn path(
    comp: &Compilation,
    graph: &crate::access_graph::EnvGraph,
    ev: &EnvView,
    f: Entity,
    t: Entity,
) -> Option<PathReport> {
    let m = &comp.model;
    let reach = graph.reach(GNode::E(f));
    let text = graph.render_path(m, &reach, GNode::E(t))?;
    let hops = graph.path(&reach, GNode::E(t))?;
    // The view's edges are the graph's, in the same order: each hop's edge
    // is found by (from, to, class).
    let hops = (hops.iter())
        .map(|h| Hop {
            from: crate::view::node_name(m, h.from),
            to: crate::view::node_name(m, h.to),
            label: graph.label(m, h.edge),
            edge: (ev.edges.iter())
                .find(|e| e.from == h.from && e.to == h.to && e.access.class() == h.edge.class)
                .map(|e| EdgeReport::new(comp, e)),
        })
        .collect();
    Some(PathReport { text, hops })
}

/// With no path from `f` to `t`: the cut connections into `t` from `f` or
/// a party `f` reaches — the last step a layer took away.
fn cut_into(
    m: &Model,
    graph: &crate::access_graph::EnvGraph,
    ev: &EnvView,
    f: Entity,
    t: Entity,
) -> Vec<CutReport> {
    if ev.cut.is_empty() {
        return Vec::new();
    }
    let reach = graph.reach(GNode::E(f));
    (ev.cut.iter())
        .filter(|c| c.to == GNode::E(t))
        .filter(|c| c.from == GNode::E(f) || graph.reaches(&reach, c.from))
        .map(|c| CutReport::new(m, c))
        .collect()
}

/// A name of the model (or `internet`, `kube`).
fn entity(m: &Model, name: &str) -> Result<Entity, QueryError> {
    match name {
        "internet" => return Ok(Entity::Internet),
        "kube" => return Ok(Entity::Kube),
        _ => {}
    }
    if let Some(e) = m.lookup(name) {
        return Ok(e);
    }
    let names = (m.personas.iter().map(|p| p.name.as_str()))
        .chain(m.apps.iter().map(|a| a.name.as_str()))
        .chain(m.stores.iter().map(|s| s.name.as_str()))
        .chain(m.externals.iter().map(|x| x.name.as_str()))
        .chain(["internet", "kube"]);
    let pod = m.pods.iter().any(|p| p.name == name);
    Err(QueryError {
        message: if pod {
            format!("`{name}` is a pod; ask about one of its apps")
        } else {
            format!("the model declares no persona, app, store or external `{name}`")
        },
        help: crate::suggest::closest(name, names).map(|c| format!("did you mean `{c}`?")),
    })
}

/// ACCESS for a target.
fn parse_access(m: &Model, target: Entity, access: &str) -> Result<Want, QueryError> {
    match access {
        "any" => return Ok(Want::Any),
        "connect" => return Ok(Want::Net(None)),
        "kube" => return Ok(Want::Kube),
        _ => {}
    }
    if let Some(l) = DataLevel::parse(access) {
        return Ok(Want::Data(l));
    }
    if let Some(op) = Operation::parse(access) {
        return Ok(Want::Op(op));
    }
    let ports: Vec<(&str, Protocol, u16)> = match target {
        Entity::App(a) => (m.apps[a.index()].ports.iter())
            .map(|p| (p.name.as_str(), p.protocol.into(), p.number))
            .collect(),
        Entity::External(x) => (m.externals[x.index()].ports.iter())
            .map(|p| (p.name.as_str(), p.protocol.into(), p.number))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(&(_, proto, n)) = ports.iter().find(|p| p.0 == access) {
        return Ok(Want::Net(Some((proto, n))));
    }
    if let Some(port) = parse_port(access) {
        return Ok(Want::Net(Some(port)));
    }
    let mut words: Vec<&str> = vec!["any", "connect", "read", "write", "admin", "kube"];
    words.extend(Operation::NAMES);
    words.extend(ports.iter().map(|p| p.0));
    let port_names: Vec<&str> = ports.iter().map(|p| p.0).collect();
    let help = match crate::suggest::closest(access, words.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if port_names.is_empty() => "ACCESS is a port (`8080`, `53/udp`), `read`, `write`, `admin`, an operation (`exec`, `logs`, ...), `connect`, `kube` or `any`".to_string(),
        None => format!(
            "ACCESS is a port name of `{}` ({}), a port (`8080`, `53/udp`), `read`, `write`, `admin`, an operation (`exec`, `logs`, ...), `connect`, `kube` or `any`",
            m.name_of(target),
            port_names.join(", ")
        ),
    };
    Err(QueryError {
        message: format!("unknown access `{access}` for `{}`", m.name_of(target)),
        help: Some(help),
    })
}

/// `8080`, `53/udp`.
fn parse_port(s: &str) -> Option<(Protocol, u16)> {
    let (num, proto) = match s.split_once('/') {
        Some((n, p)) => (n, crate::model::Protocol::parse(p)?.into()),
        None => (s, Protocol::Tcp),
    };
    let n: u16 = num.parse().ok()?;
    (n > 0).then_some((proto, n))
}

/// The question in words: `who can read main-db`.
pub fn title(q: &Question) -> String {
    match q {
        Question::WhoCan { access, target } => format!("who can `{access}` `{target}`"),
        Question::WhatCan { subject } => format!("what can `{subject}` do"),
        Question::Path { from, to } => format!("path from `{from}` to `{to}`"),
    }
}

/// The answer as text: per environment (environments with the same answer
/// together), each edge with its derivation.
pub fn render_text(q: &Question, a: &Answer) -> String {
    let mut out = format!("{}\n", title(q));
    // Group environments with equal answers (ignoring the environment name).
    let mut groups: Vec<(Vec<String>, &EnvAnswer)> = Vec::new();
    for ans in &a.environments {
        let name = match ans {
            EnvAnswer::Edges { environment, .. } | EnvAnswer::Path { environment, .. } => {
                environment.clone()
            }
        };
        match groups.last_mut() {
            Some((names, prev)) if same_answer(prev, ans) => names.extend(name),
            _ => groups.push((name.into_iter().collect(), ans)),
        }
    }
    for (names, ans) in groups {
        let indent = if names.is_empty() {
            "  "
        } else {
            out.push_str(&format!("\nin {}:\n", names.join(", ")));
            "  "
        };
        match ans {
            EnvAnswer::Edges { edges, cut, .. } => {
                if edges.is_empty() {
                    out.push_str(&format!("{indent}(nothing)\n"));
                }
                for e in edges {
                    out.push_str(&format!("{indent}{}\n", e.title()));
                    out.push_str(&e.derivation(&format!("{indent}    ")));
                }
                cut_text(cut, indent, &mut out);
            }
            EnvAnswer::Path {
                path: None, cut, ..
            } => {
                out.push_str(&format!("{indent}no path\n"));
                cut_text(cut, indent, &mut out);
            }
            EnvAnswer::Path { path: Some(p), .. } => {
                out.push_str(&format!("{indent}{}  ({} hops)\n", p.text, p.hops.len()));
                for h in &p.hops {
                    let Some(e) = &h.edge else { continue };
                    out.push_str(&format!("{indent}  {}\n", e.title()));
                    out.push_str(&e.derivation(&format!("{indent}      ")));
                }
            }
        }
    }
    out
}

/// The connections the layers cut, under a heading.
fn cut_text(cut: &[CutReport], indent: &str, out: &mut String) {
    if cut.is_empty() {
        return;
    }
    out.push_str(&format!(
        "{indent}cut by the mesh or guardrail layer (the NetworkPolicies admit it):\n"
    ));
    for c in cut {
        out.push_str(&format!("{indent}  {}\n", c.title()));
        out.push_str(&c.derivation(&format!("{indent}      ")));
    }
}

fn same_answer(a: &EnvAnswer, b: &EnvAnswer) -> bool {
    match (a, b) {
        (
            EnvAnswer::Edges {
                edges: x, cut: cx, ..
            },
            EnvAnswer::Edges {
                edges: y, cut: cy, ..
            },
        ) => x == y && cx == cy,
        (
            EnvAnswer::Path {
                path: x, cut: cx, ..
            },
            EnvAnswer::Path {
                path: y, cut: cy, ..
            },
        ) => x == y && cx == cy,
        _ => false,
    }
}

/// An environment by name, for `--env`.
pub fn environment(m: &Model, name: &str) -> Result<EnvId, QueryError> {
    if let Some(i) = m.environments.iter().position(|e| e.name == name) {
        return Ok(EnvId(i as u32));
    }
    let names = m.environments.iter().map(|e| e.name.as_str());
    Err(QueryError {
        message: if m.environments.is_empty() {
            format!("the model declares no environments, so not `{name}`")
        } else {
            format!("the model declares no environment `{name}`")
        },
        help: crate::suggest::closest(name, names).map(|c| format!("did you mean `{c}`?")),
    })
}
