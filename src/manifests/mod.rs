//! Reading the manifests users already have — `helm template` output,
//! `kustomize build` output, `kubectl get -o yaml` dumps, a GitOps
//! repository — into typed objects that remember where they came from
//! (docs/brownfield.md).
//!
//! Input: the files [`crate::source::load_manifests`] put into a
//! [`SourceMap`]. Output: [`Manifests`], every object of a kind the engine
//! evaluates ([`crate::k8s::KINDS`], plus Jobs and CronJobs as pods) with
//! the file, the span of its document and Helm's `# Source:` template.
//! Other kinds are read and skipped; a `kind: List` is unpacked.
//!
//! A stream is split into documents at `---` lines (a document marker at
//! the start of a line cannot occur inside YAML content), so that every
//! document knows its place in the file and a syntax error its line.

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::k8s::{self, Resource};
use crate::source::SourceMap;
use crate::span::{FileId, Span};
use serde::Deserialize as _;

/// One object read from a manifest.
#[derive(Clone, Debug)]
pub struct Object {
    pub resource: Resource,
    /// The kind as written (`CronJob` for a CronJob's pods, which the
    /// engine sees as a `Pod`-making workload).
    pub kind: &'static str,
    /// The document (or, inside a `List`, the list's document).
    pub span: Span,
    /// Helm's `# Source: chart/templates/x.yaml` above the document.
    pub source: Option<String>,
    /// Made by a controller (`metadata.ownerReferences` with `controller:
    /// true`): the ReplicaSets and Pods of a Deployment in a `kubectl get`
    /// dump. Its owner stands for it.
    pub owned: bool,
}

impl Object {
    /// `NetworkPolicy shop/api`, `ClusterRole view`.
    pub fn title(&self) -> String {
        let m = self.resource.metadata();
        match &m.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, m.name),
            None => format!("{} {}", self.kind, m.name),
        }
    }

    /// `ns/Kind/name`: how audit names a workload the model does not.
    pub fn workload_id(&self) -> String {
        let m = self.resource.metadata();
        format!(
            "{}/{}/{}",
            m.namespace.as_deref().unwrap_or("default"),
            self.kind,
            m.name
        )
    }
}

/// Every object of a set of manifest files, in file and document order.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Object>,
    /// Documents of kinds the engine does not evaluate (ConfigMaps, CRDs,
    /// Ingresses, …), by kind, with a count: `audit` says what it skipped.
    pub skipped: std::collections::BTreeMap<String, usize>,
}

impl Manifests {
    pub fn resources(&self) -> Vec<Resource> {
        self.objects.iter().map(|o| o.resource.clone()).collect()
    }
}

/// Kinds that are not namespaced: they keep no namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "GlobalNetworkPolicy",
];

/// Reads every file of `files` from `first` on (the files before are the
/// model's). `namespace`: the namespace of namespaced objects that name
/// none, as `kubectl apply -n` would use. Syntax errors and objects whose
/// fields have the wrong type are errors (E0501, E0502) with the position
/// in the file; reading goes on, so one run reports them all.
pub fn read(
    files: &SourceMap,
    first: usize,
    namespace: &str,
    diags: &mut Diagnostics,
) -> Manifests {
    let mut out = Manifests::default();
    for (id, file) in files.files().skip(first) {
        for doc in documents(&file.text) {
            read_document(id, &file.text, doc, namespace, &mut out, diags);
        }
    }
    out
}

/// A document of a stream: its byte range (after the `---` line) and the
/// `# Source:` comment in its leading comments.
#[derive(Debug, PartialEq)]
struct Document<'a> {
    start: usize,
    end: usize,
    source: Option<&'a str>,
}

/// Splits a YAML stream at its document markers (`---` at the start of a
/// line, alone or followed by a space or a comment; `...` ends a document).
fn documents(text: &str) -> Vec<Document<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    let push = |start: usize, end: usize, out: &mut Vec<Document<'_>>| {
        out.push(Document {
            start,
            end,
            source: None,
        })
    };
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = |m: &str| {
            bare.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        if marker("---") {
            push(start, offset, &mut out);
            // `--- {a: 1}`: content on the marker line belongs to the
            // document it starts.
            start = offset + 3;
        } else if marker("...") {
            push(start, offset, &mut out);
            start = offset + line.len();
        }
        offset += line.len();
    }
    push(start, text.len(), &mut out);
    for d in &mut out {
        d.source = helm_source(&text[d.start..d.end]);
    }
    out
}

/// `# Source: chart/templates/deployment.yaml` among a document's leading
/// comments (Helm writes it right after `---`).
fn helm_source(doc: &str) -> Option<&str> {
    for line in doc.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let comment = t.strip_prefix('#')?;
        if let Some(s) = comment.trim_start().strip_prefix("Source:") {
            return Some(s.trim());
        }
    }
    None
}

/// Where diagnostics point for a document's object: its `kind:` line
/// (JSON: `"kind"`), else its first line that is not blank or a comment.
fn content_span(file: FileId, text: &str, doc: &Document<'_>) -> Span {
    let body = &text[doc.start..doc.end];
    let mut first: Option<(usize, usize)> = None;
    let mut at = doc.start;
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        let start = at + (line.len() - line.trim_start().len());
        let end = at + line.trim_end().len();
        if first.is_none() && !t.is_empty() && !t.starts_with('#') {
            first = Some((start, end));
        }
        if line.starts_with("kind:") || t.starts_with("\"kind\"") {
            return Span::new(file, start, end.max(start));
        }
        at += line.len();
    }
    let (start, end) = first.unwrap_or((doc.start, doc.start));
    Span::new(file, start, end.max(start))
}

fn read_document(
    file: FileId,
    text: &str,
    doc: Document<'_>,
    namespace: &str,
    out: &mut Manifests,
    diags: &mut Diagnostics,
) {
    let body = &text[doc.start..doc.end];
    if body
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return;
    }
    let span = content_span(file, text, &doc);
    let value = match serde_yaml::Value::deserialize(serde_yaml::Deserializer::from_str(body)) {
        Ok(v) => v,
        Err(e) => {
            diags.push(yaml_error(file, doc.start, body, &e, Code::ManifestSyntax));
            return;
        }
    };
    if value.is_null() {
        return;
    }
    let source = doc.source.map(str::to_string);
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    if kind == "List" {
        let items = value.get("items").and_then(|i| i.as_sequence());
        // Each item at its own `kind` line, found in order after the
        // previous item's (an owner reference's `kind` comes after its
        // object's own).
        let mut cursor = span.end as usize;
        for item in items.into_iter().flatten() {
            let item_span =
                kind_line(&kind_of(item), text, cursor, doc.end).map_or(span, |(start, end)| {
                    cursor = end;
                    Span::new(file, start, end)
                });
            match object(item.clone(), namespace) {
                Ok(Some((resource, kind))) => out.objects.push(Object {
                    resource,
                    kind,
                    span: item_span,
                    source: source.clone(),
                    owned: owned(item),
                }),
                Ok(None) => *out.skipped.entry(kind_of(item)).or_default() += 1,
                Err(e) => diags.push(
                    Diagnostic::error(
                        Code::ManifestObject,
                        span,
                        format!("an item of this `List` is not a valid object: {e}"),
                    )
                    .label("in this list"),
                ),
            }
        }
        return;
    }
    match object(value.clone(), namespace) {
        Ok(Some((resource, kind))) => out.objects.push(Object {
            resource,
            kind,
            span,
            source,
            owned: owned(&value),
        }),
        Ok(None) => *out.skipped.entry(kind_of(&value)).or_default() += 1,
        Err(message) => {
            // Again from the text, as the kind's own type (a tagged enum
            // buffers its input and loses positions), for the position of
            // the bad field.
            let e = located_error(kind, body).unwrap_or_else(|| serde::de::Error::custom(message));
            diags.push(yaml_error(file, doc.start, body, &e, Code::ManifestObject));
        }
    }
}

/// The error of reading `body` as the type of `kind`, with its position.
fn located_error(kind: &str, body: &str) -> Option<serde_yaml::Error> {
    fn err<T: serde::de::DeserializeOwned>(body: &str) -> Option<serde_yaml::Error> {
        serde_yaml::from_str::<T>(body).err()
    }
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => err::<k8s::Deployment>(body),
        "Pod" => err::<k8s::Pod>(body),
        "NetworkPolicy" => err::<k8s::NetworkPolicy>(body),
        "Role" | "ClusterRole" => err::<k8s::Role>(body),
        "RoleBinding" | "ClusterRoleBinding" => err::<k8s::RoleBinding>(body),
        "ServiceAccount" => err::<k8s::ServiceAccount>(body),
        "Service" => err::<k8s::Service>(body),
        "Namespace" => err::<k8s::Namespace>(body),
        _ => None,
    }
}

/// Whether a controller owns the object.
fn owned(v: &serde_yaml::Value) -> bool {
    let refs = v.get("metadata").and_then(|m| m.get("ownerReferences"));
    (refs.and_then(|r| r.as_sequence()).into_iter().flatten())
        .any(|r| r.get("controller").and_then(|c| c.as_bool()) == Some(true))
}

/// The first line in `text[from..to]` that says `kind: K` (YAML) or
/// `"kind": "K"` (JSON): its byte range.
fn kind_line(kind: &str, text: &str, from: usize, to: usize) -> Option<(usize, usize)> {
    let yaml = format!("kind: {kind}");
    let json = format!("\"kind\": \"{kind}\"");
    let mut at = from;
    for line in text.get(from..to)?.split_inclusive('\n') {
        let t = line.trim().trim_end_matches(',').trim_start_matches("- ");
        let t = t.trim_start_matches('{').trim();
        if t == yaml || t == json || t.starts_with(&format!("{json},")) {
            let start = at + (line.len() - line.trim_start().len());
            return Some((start, at + line.trim_end().len()));
        }
        at += line.len();
    }
    None
}

fn kind_of(v: &serde_yaml::Value) -> String {
    v.get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("(no kind)")
        .to_string()
}

/// The typed object of a value, or `None` for a kind the engine does not
/// read. Jobs and CronJobs become the pods they make (their templates);
/// namespaced objects without a namespace get `namespace`.
fn object(
    mut value: serde_yaml::Value,
    namespace: &str,
) -> Result<Option<(Resource, &'static str)>, String> {
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let kind: &'static str = match kind {
        "Job" => "Job",
        "CronJob" => "CronJob",
        k => match k8s::KINDS.iter().find(|&&known| known == k) {
            Some(&known) => known,
            None => return Ok(None),
        },
    };
    if !CLUSTER_SCOPED.contains(&kind) {
        if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_mapping_mut()) {
            let ns = serde_yaml::Value::String("namespace".into());
            if meta.get(&ns).is_none_or(|v| v.is_null()) {
                meta.insert(ns, serde_yaml::Value::String(namespace.into()));
            }
        }
    }
    let resource = match kind {
        // The pods a Job or CronJob makes, as a workload of their own.
        "Job" | "CronJob" => {
            let template = if kind == "Job" {
                value.get("spec").and_then(|s| s.get("template"))
            } else {
                value
                    .get("spec")
                    .and_then(|s| s.get("jobTemplate"))
                    .and_then(|j| j.get("spec"))
                    .and_then(|s| s.get("template"))
            };
            let template: k8s::PodTemplateSpec = match template {
                Some(t) => serde_yaml::from_value(t.clone()).map_err(|e| e.to_string())?,
                None => k8s::PodTemplateSpec::default(),
            };
            let metadata: k8s::ObjectMeta = match value.get("metadata") {
                Some(m) => serde_yaml::from_value(m.clone()).map_err(|e| e.to_string())?,
                None => k8s::ObjectMeta::default(),
            };
            Resource::ReplicaSet(k8s::Deployment {
                metadata,
                spec: k8s::DeploymentSpec {
                    replicas: None,
                    selector: k8s::LabelSelector::default(),
                    template,
                },
            })
        }
        _ => serde_yaml::from_value(value).map_err(|e| e.to_string())?,
    };
    Ok(Some((resource, kind)))
}

/// A serde_yaml error in a document that starts at `start` of its file.
fn yaml_error(
    file: FileId,
    start: usize,
    body: &str,
    e: &serde_yaml::Error,
    code: Code,
) -> Diagnostic {
    let at = e.location().map_or(0, |l| l.index()).min(body.len());
    // Point at one character (or the end of the document).
    let end = body[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    let message = e.to_string();
    // serde_yaml appends " at line L column C": the span says it.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let (what, help) = match code {
        Code::ManifestSyntax => (
            "this manifest is not valid YAML",
            "is this a Helm template rather than its output? run `helm template` first",
        ),
        _ => (
            "this object does not have the fields its kind requires",
            "`kubectl apply --dry-run=server` says the same about it",
        ),
    };
    Diagnostic::error(code, Span::new(file, start + at, start + end), what)
        .label(message)
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_at_markers() {
        let text = "a: 1\n---\n# Source: c/templates/x.yaml\nb: 2\n--- # note\nc: 3\n...\n";
        let docs = documents(text);
        let bodies: Vec<&str> = docs.iter().map(|d| &text[d.start..d.end]).collect();
        assert_eq!(
            bodies,
            [
                "a: 1\n",
                "\n# Source: c/templates/x.yaml\nb: 2\n",
                " # note\nc: 3\n",
                ""
            ]
        );
        assert_eq!(docs[1].source, Some("c/templates/x.yaml"));
        assert_eq!(docs[0].source, None);
    }

    #[test]
    fn a_marker_needs_a_line_of_its_own() {
        let text = "a: ---x\n----\nb: 1\n";
        assert_eq!(documents(text).len(), 1);
    }
}
