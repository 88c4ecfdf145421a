//! Access edges as reports show them: serializable (the JSON of `query`
//! and `diff`) and as text, with their derivation — the `allow` statements
//! that declare them, the causes of their widening, the findings.

use super::{kind_text, node_name, AccessEdge, CutAccess};
use crate::model::Model;
use crate::Compilation;
use serde::Serialize;

/// The schema version of `query` and `diff` JSON: bumped only when a field
/// is removed or changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// One edge and its derivation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct EdgeReport {
    pub from: String,
    pub to: String,
    /// `http`, `TCP/9000`, `read`, `exec`, `kube`.
    pub access: String,
    /// The statements that declare it (each once).
    pub declared: Vec<StatementRef>,
    /// `null` when exactly as declared.
    pub widened: Option<WideningReport>,
    pub findings: Vec<FindingRef>,
}

/// An `allow` statement: where, and its text (whitespace collapsed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct StatementRef {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub statement: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct WideningReport {
    /// The part no statement declares, e.g. `TCP/5432` or `admin`.
    pub undeclared: String,
    pub causes: Vec<String>,
}

/// A lint finding that reports the edge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct FindingRef {
    pub lint: String,
    pub message: String,
    /// The reason of the `accept` that silences it; `null`: reported.
    pub accepted: Option<String>,
}

impl EdgeReport {
    pub fn new(comp: &Compilation, e: &AccessEdge) -> EdgeReport {
        let m = &comp.model;
        let mut declared: Vec<StatementRef> = Vec::new();
        let mut seen = Vec::new();
        for &g in &e.declared {
            let stmt = m.grants[g].stmt;
            if seen.contains(&stmt) {
                continue;
            }
            seen.push(stmt);
            declared.push(statement_ref(comp, m.statements[stmt.index()].span));
        }
        let findings = (e.findings.iter())
            .filter_map(|&i| comp.findings.get(i))
            .map(|o| FindingRef {
                lint: o.finding.lint.to_string(),
                message: o.finding.message.clone(),
                accepted: o.accepted.first().map(|&a| m.accepts[a].reason.clone()),
            })
            .collect();
        EdgeReport {
            from: node_name(m, e.from),
            to: node_name(m, e.to),
            access: kind_text(m, e.to, &e.access),
            declared,
            widened: e.widened.as_ref().map(|w| WideningReport {
                undeclared: kind_text(m, e.to, &w.undeclared),
                causes: w.causes.clone(),
            }),
            findings,
        }
    }

    /// `sre -> main-db: admin`
    pub fn title(&self) -> String {
        format!("{} -> {}: {}", self.from, self.to, self.access)
    }

    /// The derivation as indented text lines (`indent` before each).
    pub fn derivation(&self, indent: &str) -> String {
        let mut out = String::new();
        for d in &self.declared {
            out.push_str(&format!(
                "{indent}declared at {}:{}:{}: {}\n",
                d.file, d.line, d.column, d.statement
            ));
        }
        if let Some(w) = &self.widened {
            out.push_str(&format!(
                "{indent}wider than declared ({} undeclared):\n",
                w.undeclared
            ));
            for c in &w.causes {
                out.push_str(&format!("{indent}  because {c}\n"));
            }
        }
        for f in &self.findings {
            match &f.accepted {
                None => out.push_str(&format!("{indent}finding {}: {}\n", f.lint, f.message)),
                Some(r) => out.push_str(&format!(
                    "{indent}finding {} (accepted: \"{r}\"): {}\n",
                    f.lint, f.message
                )),
            }
        }
        out
    }
}

/// A connection a layer cuts ([`CutAccess`]), as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct CutReport {
    pub from: String,
    pub to: String,
    /// The ports cut: `postgres`, `TCP/9000`.
    pub access: String,
    /// What admits it in the NetworkPolicies and which object of which
    /// layer cuts it, one string per cause.
    pub causes: Vec<String>,
}

impl CutReport {
    pub fn new(m: &Model, c: &CutAccess) -> CutReport {
        CutReport {
            from: node_name(m, c.from),
            to: node_name(m, c.to),
            access: kind_text(m, c.to, &c.access),
            causes: c.causes.clone(),
        }
    }

    /// `frontend -> orders: postgres`
    pub fn title(&self) -> String {
        format!("{} -> {}: {}", self.from, self.to, self.access)
    }

    /// The causes as indented text lines (`indent` before each).
    pub fn derivation(&self, indent: &str) -> String {
        (self.causes.iter())
            .map(|c| format!("{indent}because {c}\n"))
            .collect()
    }
}

/// The statement a span belongs to, located.
pub fn statement_ref(comp: &Compilation, span: crate::span::Span) -> StatementRef {
    let file = comp.sources.get(span.file);
    let (line, column) = file.line_col(span.start);
    StatementRef {
        file: file.name.clone(),
        line,
        column,
        statement: one_line(comp.sources.snippet(span)),
    }
}

/// Whitespace runs (newlines included) as one space; comments dropped.
pub fn one_line(text: &str) -> String {
    let no_comments: Vec<&str> = text
        .lines()
        .map(|l| match l.find('#') {
            // `#` inside a string is text: only strip when no quote precedes it.
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect();
    no_comments
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An environment's name, or `None` for the implicit one.
pub fn env_name(m: &Model, env: Option<crate::model::EnvId>) -> Option<String> {
    env.map(|e| m.environments[e.index()].name.clone())
}
