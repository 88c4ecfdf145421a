//! Diagnostics as a SARIF 2.1.0 log (`palisade check --format sarif`), for
//! code-scanning services such as GitHub's.
//!
//! One run; `tool.driver.rules` holds every lint of the catalogue it is given
//! and then each compiler error code that occurs, and each diagnostic is a
//! result pointing at its rule by `ruleId` and `ruleIndex`. Lines and columns
//! are 1-based and columns count Unicode code points (`run.columnKind` is
//! `"unicodeCodePoints"`), computed exactly as in the JSON form
//! ([`super::json::JsonLocation`]). Artifact URIs are the files' display
//! names (relative to the current directory when the user gave a relative
//! path), percent-encoded. `partialFingerprints["palisade/v1"]` hashes the
//! rule, file, message and the text under the primary span, but no line
//! number, so a finding keeps its fingerprint when lines above it change.
//!
//! The types are our own minimal serde structs rather than a SARIF crate's:
//! `serde-sarif` (the one maintained-looking crate) had no release since
//! 0.8.0 (May 2025), builds its types with a code generator at build time,
//! does not compile on its own without serde's `derive` feature, and types
//! `columnKind` and `defaultConfiguration.level` as untyped JSON values. We
//! write a small subset; `tests/sarif.rs` validates it against the official
//! schema and Microsoft's SARIF Multitool.

use super::json::JsonLocation;
use super::render::clamp;
use super::{Code, Diagnostic, Severity};
use crate::model::{Level, LintInfo};
use crate::source::SourceMap;
use crate::span::Span;
use serde::Serialize;
use std::collections::HashMap;

/// The `$schema` of the log: the final SARIF 2.1.0 schema.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The `partialFingerprints` key of our fingerprint.
pub const FINGERPRINT_KEY: &str = "palisade/v1";

/// Where to read about the tool: the package's homepage or repository
/// (Cargo.toml), when it declares one.
pub fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|u| !u.is_empty())
}

/// The SARIF log of `diags`, with positions computed from `sources`;
/// `lints` (the catalogue, `crate::lints::LINTS`) become the log's rules.
pub fn to_sarif(diags: &[Diagnostic], sources: &SourceMap, lints: &[&LintInfo]) -> SarifLog {
    let rules = rules(diags, lints);
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let results = diags
        .iter()
        .map(|d| {
            let id = d.code.as_str();
            let location = SarifLocation::of(d.primary.span, &d.primary.message, sources);
            let hash = fingerprint(id, location.as_ref(), &d.message, d.primary.span, sources);
            let n = seen.entry(hash).or_default();
            let print = format!("{hash:016x}:{n}");
            *n += 1;
            SarifResult {
                rule_id: id,
                rule_index: index[id],
                level: result_level(d.severity),
                message: Message {
                    text: message_text(d),
                },
                locations: location.into_iter().collect(),
                related_locations: d
                    .secondary
                    .iter()
                    .filter_map(|l| SarifLocation::of(l.span, &l.message, sources))
                    .enumerate()
                    .map(|(i, mut l)| {
                        l.id = Some(i + 1);
                        l
                    })
                    .collect(),
                partial_fingerprints: [(FINGERPRINT_KEY, print)].into_iter().collect(),
            }
        })
        .collect();
    SarifLog {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "palisade",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: information_uri(),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

/// Every lint, then every other code that occurs (in code order).
fn rules(diags: &[Diagnostic], lints: &[&LintInfo]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = lints
        .iter()
        .map(|l| Rule {
            id: l.name,
            short_description: Message {
                text: l.summary.to_string(),
            },
            help: Message {
                text: format!(
                    "`palisade explain {}` tells what the lint finds, why it matters and how to fix it.",
                    l.name
                ),
            },
            default_configuration: Configuration {
                level: match l.default {
                    Level::Deny => "error",
                    Level::Warn => "warning",
                    Level::Allow => "none",
                },
            },
        })
        .collect();
    let mut others: Vec<Code> = diags
        .iter()
        .map(|d| d.code)
        .filter(|c| !rules.iter().any(|r| r.id == c.as_str()))
        .collect();
    others.sort();
    others.dedup();
    rules.extend(others.into_iter().map(|c| Rule {
        id: c.as_str(),
        short_description: Message {
            text: c.summary().to_string(),
        },
        help: Message {
            text: match c {
                Code::Lint(name) => format!("`palisade explain {name}` explains the lint."),
                _ => format!(
                    "{}: a compiler error; docs/language.md lists every code with an example.",
                    c.as_str()
                ),
            },
        },
        default_configuration: Configuration { level: "error" },
    }));
    rules
}

fn result_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The message, then `help:` and `note:` lines, as in the rendered form.
fn message_text(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    for note in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    text
}

/// FNV-1a (64 bits) of the rule, the file's URI, the message and the text
/// under the primary span: stable across runs, platforms and Rust versions,
/// and free of line numbers.
fn fingerprint(
    rule: &str,
    location: Option<&SarifLocation>,
    message: &str,
    span: Span,
    sources: &SourceMap,
) -> u64 {
    let uri = location.map_or("", |l| l.physical_location.artifact_location.uri.as_str());
    let snippet = if (span.file.0 as usize) < sources.len() {
        let text = &sources.get(span.file).text;
        &text[clamp(text, span)]
    } else {
        ""
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [rule, uri, message, snippet] {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A file's display name as a URI reference: relative names stay relative
/// (forward slashes), absolute ones become `file:` URIs; everything but
/// unreserved characters and `/` is percent-encoded (UTF-8).
pub fn artifact_uri(name: &str) -> String {
    let path = if cfg!(windows) {
        name.replace('\\', "/")
    } else {
        name.to_string()
    };
    if std::path::Path::new(name).is_absolute() {
        // `/srv/m.sec` -> `file:///srv/m.sec`; `C:/m.sec` -> `file:///C:/m.sec`.
        format!("file:///{}", encode(path.trim_start_matches('/'), true))
    } else {
        encode(&path, false)
    }
}

fn encode(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || (keep_colon && b == b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The whole log (`sarifLog`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SarifLog {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    /// Always `"unicodeCodePoints"`: columns count characters, as everywhere
    /// in palisade.
    pub column_kind: &'static str,
    pub results: Vec<SarifResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

/// `tool.driver` (a `toolComponent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub information_uri: Option<&'static str>,
    pub rules: Vec<Rule>,
}

/// A rule (`reportingDescriptor`): a lint or a compiler error code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: &'static str,
    pub short_description: Message,
    pub help: Message,
    pub default_configuration: Configuration,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Configuration {
    /// `"error"`, `"warning"`, `"note"` or `"none"`.
    pub level: &'static str,
}

/// A plain-text `message` (or `multiformatMessageString`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub text: String,
}

/// One diagnostic (`result`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    pub rule_index: usize,
    /// `"error"`, `"warning"` or `"note"`.
    pub level: &'static str,
    pub message: Message,
    /// The primary span; empty only for a span into an unknown file.
    pub locations: Vec<SarifLocation>,
    /// The secondary labels, with ids 1, 2, ...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<SarifLocation>,
    pub partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    pub physical_location: PhysicalLocation,
    /// The label's text; absent when it is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

/// 1-based; the end is the position just after the span, in code points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl SarifLocation {
    /// Where `span` is; `None` for a span into a file `sources` does not
    /// hold (a compiler bug: SARIF has no line 0).
    fn of(span: Span, label: &str, sources: &SourceMap) -> Option<SarifLocation> {
        if span.file.0 as usize >= sources.len() {
            return None;
        }
        let l = JsonLocation::new(span, sources);
        Some(SarifLocation {
            id: None,
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: artifact_uri(l.file),
                },
                region: Region {
                    start_line: l.line,
                    start_column: l.column,
                    end_line: l.end_line,
                    end_column: l.end_column,
                },
            },
            message: Some(label).filter(|m| !m.is_empty()).map(|m| Message {
                text: m.to_string(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The real catalogue (tests may read any stage).
    use crate::diagnostics::test_support::{sources, span};
    use crate::lints::LINTS;
    use crate::span::FileId;
    use serde_json::json;

    fn value(diags: &[Diagnostic], map: &SourceMap) -> serde_json::Value {
        serde_json::to_value(to_sarif(diags, map, crate::lints::LINTS)).unwrap()
    }

    const SHOP: &str = "system shop {\n  app web {\n    calls wbe\n  }\n}\n";

    fn region(text: &str, needle: &str) -> serde_json::Value {
        let map = sources(&[("a.sec", text)]);
        let d = Diagnostic::error(Code::Syntax, span(&map, 0, needle), "m");
        value(&[d], &map)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
            .clone()
    }

    #[test]
    fn columns_count_code_points_not_bytes_or_utf16_units() {
        // `é` is 2 bytes, `→` 3 bytes, `𝄞` 4 bytes and 2 UTF-16 code units:
        // each is one code point.
        let text = "app café {\n  nom \"é→𝄞x\" wbe\n}\n";
        let start = text.find("wbe").unwrap();
        assert_eq!(start - text.find("  nom").unwrap(), 19); // bytes before `wbe` on its line: 14 UTF-16 code units, 13 code points
        assert_eq!(
            region(text, "wbe"),
            json!({"startLine": 2, "startColumn": 14, "endLine": 2, "endColumn": 17})
        );
        // A span of multi-byte characters ends one code point per character later.
        assert_eq!(
            region(text, "é→𝄞"),
            json!({"startLine": 2, "startColumn": 8, "endLine": 2, "endColumn": 11})
        );
        assert_eq!(
            region(text, "café"),
            json!({"startLine": 1, "startColumn": 5, "endLine": 1, "endColumn": 9})
        );
    }

    #[test]
    fn multi_line_and_empty_spans() {
        let map = sources(&[("a.sec", SHOP)]);
        let at = |s, e| {
            let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), s, e), "m");
            value(&[d], &map)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
                .clone()
        };
        assert_eq!(
            at(16, 43),
            json!({"startLine": 2, "startColumn": 3, "endLine": 4, "endColumn": 4})
        );
        let len = SHOP.len();
        assert_eq!(
            at(len, len),
            json!({"startLine": 6, "startColumn": 1, "endLine": 6, "endColumn": 1})
        );
    }

    #[test]
    fn full_log() {
        let map = sources(&[("shop.sec", SHOP), ("my apps/ü.sec", "app api {\n}\n")]);
        let diags = [
            Diagnostic::error(
                Code::Undeclared,
                span(&map, 0, "wbe"),
                "cannot find app `wbe`",
            )
            .label("not declared")
            .secondary(span(&map, 1, "api"), "first declared here")
            .secondary(span(&map, 0, "web"), "")
            .help("did you mean `web`?")
            .note("a note"),
            Diagnostic::warning(Code::Lint("wildcard-grant"), span(&map, 0, "web"), "grant"),
        ];
        let v = value(&diags, &map);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SCHEMA_URI);
        let run = &v["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "palisade");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), LINTS.len() + 1);
        for (rule, lint) in rules.iter().zip(LINTS) {
            assert_eq!(rule["id"], lint.name);
            assert_eq!(rule["shortDescription"]["text"], lint.summary);
        }
        let deny = LINTS.iter().position(|l| l.default == Level::Deny).unwrap();
        assert_eq!(rules[deny]["defaultConfiguration"]["level"], "error");
        let warn = LINTS.iter().position(|l| l.default == Level::Warn).unwrap();
        assert_eq!(rules[warn]["defaultConfiguration"]["level"], "warning");
        let last = &rules[LINTS.len()];
        assert_eq!(last["id"], "E0101");
        assert_eq!(last["shortDescription"]["text"], "name is not declared");
        assert_eq!(last["defaultConfiguration"]["level"], "error");

        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "E0101");
        assert_eq!(r["ruleIndex"], LINTS.len());
        assert_eq!(r["level"], "error");
        assert_eq!(
            r["message"]["text"],
            "cannot find app `wbe`\nhelp: did you mean `web`?\nnote: a note"
        );
        assert_eq!(
            r["locations"],
            json!([{
                "physicalLocation": {
                    "artifactLocation": {"uri": "shop.sec"},
                    "region": {"startLine": 3, "startColumn": 11, "endLine": 3, "endColumn": 14},
                },
                "message": {"text": "not declared"},
            }])
        );
        assert_eq!(
            r["relatedLocations"],
            json!([
                {
                    "id": 1,
                    "physicalLocation": {
                        "artifactLocation": {"uri": "my%20apps/%C3%BC.sec"},
                        "region": {"startLine": 1, "startColumn": 5, "endLine": 1, "endColumn": 8},
                    },
                    "message": {"text": "first declared here"},
                },
                {
                    "id": 2,
                    "physicalLocation": {
                        "artifactLocation": {"uri": "shop.sec"},
                        "region": {"startLine": 2, "startColumn": 7, "endLine": 2, "endColumn": 10},
                    },
                },
            ])
        );
        let w = &run["results"][1];
        assert_eq!(w["ruleId"], "wildcard-grant");
        let wi = LINTS
            .iter()
            .position(|l| l.name == "wildcard-grant")
            .unwrap();
        assert_eq!(w["ruleIndex"], wi);
        assert_eq!(w["level"], "warning");
        assert_eq!(w["message"]["text"], "grant");
        assert!(w.get("relatedLocations").is_none());
    }

    fn print(v: &serde_json::Value, i: usize) -> String {
        v["runs"][0]["results"][i]["partialFingerprints"][FINGERPRINT_KEY]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn fingerprints_survive_edits_above_and_tell_findings_apart() {
        let before = "system shop\napp web { }\n";
        let after = "// a comment\n\nsystem shop\n\napp web { }\n";
        let one = |text: &str| {
            let map = sources(&[("a.sec", text)]);
            let d =
                Diagnostic::warning(Code::Lint("unused-declaration"), span(&map, 0, "web"), "m");
            print(&value(&[d], &map), 0)
        };
        assert_eq!(one(before), one(after));
        assert_eq!(one(before).len(), 16 + 2); // hash:occurrence

        // Same rule and message, different text under the span: different.
        let map = sources(&[("a.sec", "app web { }\napp api { }\n")]);
        let d = |needle, msg: &str| {
            Diagnostic::warning(Code::Lint("unused-declaration"), span(&map, 0, needle), msg)
        };
        let v = value(
            &[d("web", "unused"), d("api", "unused"), d("web", "other")],
            &map,
        );
        assert_ne!(print(&v, 0), print(&v, 1));
        assert_ne!(print(&v, 0), print(&v, 2));

        // Exact repeats get their occurrence number.
        let v = value(&[d("web", "unused"), d("web", "unused")], &map);
        let (a, b) = (print(&v, 0), print(&v, 1));
        assert!(a.ends_with(":0") && b.ends_with(":1"), "{a} {b}");
        assert_eq!(a[..16], b[..16]);

        // A different file or rule changes it.
        let other = sources(&[("b.sec", "app web { }\napp api { }\n")]);
        let moved = Diagnostic::warning(
            Code::Lint("unused-declaration"),
            span(&other, 0, "web"),
            "unused",
        );
        assert_ne!(print(&value(&[moved], &other), 0), print(&v, 0));
        let rule =
            Diagnostic::warning(Code::Lint("wildcard-grant"), span(&map, 0, "web"), "unused");
        assert_ne!(print(&value(&[rule], &map), 0), print(&v, 0));
    }

    #[test]
    fn uris() {
        assert_eq!(
            artifact_uri("examples/marketing.sec"),
            "examples/marketing.sec"
        );
        assert_eq!(artifact_uri("../x/a b.sec"), "../x/a%20b.sec");
        assert_eq!(artifact_uri("a:b#c%?.sec"), "a%3Ab%23c%25%3F.sec");
        assert_eq!(artifact_uri("modèle.sec"), "mod%C3%A8le.sec");
        if cfg!(unix) {
            assert_eq!(
                artifact_uri("/srv/my model.sec"),
                "file:///srv/my%20model.sec"
            );
        }
    }

    #[test]
    fn unknown_file_has_no_location() {
        let map = sources(&[("a.sec", SHOP)]);
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(4), 1, 2), "m")
            .secondary(Span::new(FileId(5), 0, 1), "x");
        let v = value(&[d], &map);
        let r = &v["runs"][0]["results"][0];
        assert_eq!(r["locations"], json!([]));
        assert!(r.get("relatedLocations").is_none());
    }

    #[test]
    fn severities_and_unregistered_lints() {
        let map = sources(&[("a.sec", SHOP)]);
        let diags = [
            Diagnostic::new(
                Code::Lint("not-yet-registered"),
                Severity::Note,
                span(&map, 0, "web"),
                "n",
            ),
            Diagnostic::error(Code::Syntax, span(&map, 0, "wbe"), "e"),
            Diagnostic::error(Code::Duplicate, span(&map, 0, "shop"), "e"),
            Diagnostic::error(Code::Syntax, span(&map, 0, "app"), "e"),
        ];
        let v = value(&diags, &map);
        let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .skip(LINTS.len())
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["E0001", "E0102", "not-yet-registered"]);
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results[0]["level"], "note");
        assert_eq!(results[0]["ruleIndex"], LINTS.len() + 2);
        assert_eq!(results[3]["ruleIndex"], LINTS.len());
        // No diagnostics: every lint is still described.
        let v = value(&[], &map);
        assert_eq!(v["runs"][0]["results"], json!([]));
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            LINTS.len()
        );
    }
}
