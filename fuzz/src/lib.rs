//! What the fuzz targets run, one function per target, shared with the
//! regression test that replays `tests/corpus/fuzz-regressions/` through
//! all three (tests/robustness.rs includes this file). Each function
//! panics on a bug: a panic in palisade, or a broken promise checked here.

use palisade::diagnostics::Diagnostics;
use palisade::output::{self, tree};
use palisade::source::{SourceFile, SourceMap};

/// Syntax only: the pre-scan, pest and the error recovery of `syntax/`.
pub fn parse(data: &[u8]) {
    // Models are UTF-8 text; the loader rejects anything else before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(
        "fuzz.sec",
        "fuzz.sec".into(),
        text.to_owned(),
    ));
    let mut diags = Diagnostics::new();
    let _ = palisade::syntax::parse_file(file, text, &mut diags);
}

/// The front end: syntax, resolution, and rendering every diagnostic (text,
/// JSON and SARIF), which computes lines, columns and snippets from spans.
pub fn resolve(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comp = palisade::compile_str("fuzz.sec", text);
    let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
    let _ = palisade::diagnostics::render::render(&diags, &comp.sources, false);
    let _ = palisade::diagnostics::render::render(&diags, &comp.sources, true);
    let _ = palisade::diagnostics::json::to_json(&diags, &comp.sources).to_string();
    let sarif =
        palisade::diagnostics::sarif::to_sarif(&diags, &comp.sources, palisade::lints::LINTS);
    let _ = serde_json::to_string(&sarif).expect("SARIF serializes");
}

/// The whole pipeline on models that compile: generate, write the deploy
/// tree with the real transactional writer into a temp dir, build again
/// (must be a no-op), read every written manifest back, then check
/// (effective network + RBAC, lints) and build the access view.
pub fn pipeline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comp = palisade::compile_str("fuzz.sec", text);
    if comp.has_errors() {
        return;
    }
    let model = &comp.model;
    let opts = palisade::generate::Options {
        workloads: model.platform.workloads,
    };
    let files = output::build(model, &opts, None, &["fuzz.sec".to_owned()]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let first = tree::sync(&out, &files).unwrap_or_else(|e| panic!("first build: {e}"));
    assert!(
        first.changed.is_empty() && first.removed.is_empty(),
        "{first:?}"
    );
    let second = tree::sync(&out, &files).unwrap_or_else(|e| panic!("second build: {e}"));
    assert!(
        second.is_empty(),
        "a second build is not a no-op: {second:?}"
    );
    for (rel, bytes) in &files {
        let on_disk = std::fs::read(out.join(rel)).expect("written file");
        assert_eq!(&on_disk, bytes, "{rel}");
        if rel.ends_with(".yaml") && !rel.ends_with("kustomization.yaml") {
            let yaml = std::str::from_utf8(bytes).expect("YAML is UTF-8");
            if let Err((doc, e)) = palisade::k8s::parse_manifests(yaml) {
                panic!("{rel}: document {doc} does not read back: {e}\n{yaml}");
            }
        }
    }
    let checked = palisade::check(comp);
    let view = palisade::view::access_view(&checked);
    assert_eq!(view.envs.len(), checked.graphs.len());
}

/// The writer against a hostile OUT: the input is a script of three parts
/// separated by lines `---`: the record file's text (written as is), what
/// else OUT holds (`d REL` a directory, `f REL TEXT` a file, `l REL` a
/// symbolic link to a directory outside OUT, `L REL` one to a file outside
/// OUT), and the files a build wants (`REL TEXT`). A file whose text starts
/// with `#G` carries the generated marker. Two syncs run. The promises:
/// nothing outside OUT is touched; a file is replaced or removed only if
/// the record file lists it and it carries the marker or is cut short
/// within it (staged and backup files of a killed build aside); a failed sync that says OUT is unchanged
/// left it unchanged; a successful one wrote exactly the wanted files,
/// listed them, and a second sync is a no-op.
pub fn tree(data: &[u8]) {
    use std::collections::BTreeMap;
    use std::path::Path;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, "\n---\n");
    let (record, layout, wanted) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    // Paths the script may create: relative, inside OUT.
    let safe = |rel: &str| {
        !rel.is_empty()
            && !rel.starts_with('/')
            && rel
                .split('/')
                .all(|n| !n.is_empty() && n != "." && n != "..")
            && !rel.contains(['\0', '\\'])
            && rel.len() < 200
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(outside.join("sub")).expect("outside");
    std::fs::write(outside.join("secret.yaml"), "#G outside").expect("outside");
    std::fs::write(outside.join("sub/x.yaml"), "#G outside").expect("outside");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::write(out.join(tree::MANIFEST), record).expect("record");
    for line in layout.lines() {
        let mut words = line.splitn(3, ' ');
        let (kind, rel, body) = (words.next(), words.next(), words.next());
        let Some(rel) = rel.filter(|r| safe(r)) else {
            continue;
        };
        let path = out.join(rel);
        let _ = std::fs::create_dir_all(path.parent().expect("in OUT"));
        let _ = match kind {
            Some("d") => std::fs::create_dir_all(&path),
            Some("f") => std::fs::write(&path, body.unwrap_or("")),
            #[cfg(unix)]
            Some("l") => std::os::unix::fs::symlink(outside.join("sub"), &path),
            #[cfg(unix)]
            Some("L") => std::os::unix::fs::symlink(outside.join("secret.yaml"), &path),
            _ => Ok(()),
        };
    }
    let files: tree::FileSet = (wanted.lines())
        .filter_map(|line| {
            let (rel, body) = line.split_once(' ').unwrap_or((line, ""));
            Some((rel.to_owned(), body.as_bytes().to_vec())).filter(|_| !rel.is_empty())
        })
        .collect();

    fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
        fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
                let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                    continue;
                };
                if meta.is_symlink() {
                    let target = std::fs::read_link(e.path()).unwrap_or_default();
                    out.insert(rel, format!("-> {}", target.display()).into_bytes());
                } else if meta.is_dir() {
                    out.insert(format!("{rel}/"), Vec::new());
                    walk(&e.path(), &format!("{rel}/"), out);
                } else {
                    out.insert(rel, std::fs::read(e.path()).unwrap_or_default());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(root, "", &mut out);
        out
    }
    let outside_before = snapshot(&outside);
    let before = snapshot(&out);
    let listed: std::collections::BTreeSet<&str> = record.lines().collect();
    let opts = tree::SyncOptions {
        marker: Some(b"#G"),
        ..Default::default()
    };
    let result = tree::sync_with(&out, &files, &opts);
    assert_eq!(snapshot(&outside), outside_before, "touched outside OUT");
    let after = snapshot(&out);
    for (rel, bytes) in &before {
        if rel.ends_with('/') || rel.starts_with(tree::MANIFEST) {
            continue;
        }
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let temp = name.starts_with(".palisade-") && name.ends_with(".tmp");
        // Palisade's: listed, and starting with the marker or cut short
        // within it (a file being added when a build was killed).
        let marked = bytes.starts_with(b"#G") || b"#G".starts_with(bytes);
        let ours = listed.contains(rel.as_str()) && marked;
        if !temp && !ours {
            assert_eq!(
                after.get(rel),
                Some(bytes),
                "{rel} replaced or removed: {result:?}"
            );
        }
    }
    match result {
        Err(e) if e.out_unchanged() => assert_eq!(after, before, "{e}"),
        Err(_) => {}
        Ok(_) => {
            for (rel, bytes) in &files {
                assert_eq!(after.get(rel), Some(bytes), "{rel} not written");
            }
            let record = std::fs::read_to_string(out.join(tree::MANIFEST)).expect("record");
            let now: Vec<&str> = record.lines().filter(|l| !l.starts_with('#')).collect();
            let want: Vec<&str> = files.keys().map(String::as_str).collect();
            assert_eq!(now, want, "the record file");
            let again = tree::sync_with(&out, &files, &opts).expect("second sync");
            assert!(again.is_empty(), "a second sync is not a no-op: {again:?}");
        }
    }
}

/// The model `manifests` audits its inputs against: bindings of each kind,
/// a store, a persona, a forbid.
const AUDIT_MODEL: &str = r#"system fz
platform {
  api_server = { address = "10.96.0.1/32" }
  ingress = { namespace = "ingress-nginx", pods = { "app.kubernetes.io/name" = "ingress-nginx" } }
}
namespace web
persona dev { group = "devs" }
persona visitor { external }
app api in web { image = "r.example.com/api:1" ports = { http = 8080 } selector = { app = "api" } service_account = "api-sa" }
app worker in web { image = "r.example.com/worker:1" workload = "statefulset/worker" }
store db in web { engine = postgres }
allow worker -> api: http
allow visitor -> api: http
allow api -> db: read
allow dev -> api: logs
allow api -> kube: get configmaps
forbid worker ~> internet
"#;

/// `palisade audit`'s readers and engine on one manifest file: documents,
/// `List`s, positions, binding, evaluation, comparison, and every report
/// form. A panic, a span outside the file, or a JSON report that does not
/// serialize is a bug.
pub fn manifests(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comp = palisade::compile_str("model.sec", AUDIT_MODEL);
    assert!(!comp.has_errors(), "the fuzz model checks");
    let mut checked = palisade::check(comp);
    let first = checked.comp.sources.len();
    checked.comp.sources.add(SourceFile::new(
        "manifests.yaml",
        "manifests.yaml".into(),
        text.to_owned(),
    ));
    let mut diags = Diagnostics::new();
    let m = palisade::manifests::read(&checked.comp.sources, first, "web", &mut diags);
    let len = text.len() as u32;
    for d in diags.iter() {
        assert!(d.primary.span.end <= len, "a span past the end: {d:?}");
    }
    let list: Vec<_> = diags.iter().cloned().collect();
    let _ = palisade::diagnostics::render::render(&list, &checked.comp.sources, false);
    for o in &m.objects {
        assert!(
            o.span.start <= o.span.end && o.span.end <= len,
            "{:?}",
            o.span
        );
    }
    let report = palisade::audit::audit(&checked, None, &m);
    let model = &checked.comp.model;
    let found = palisade::audit::report::diagnostics(model, &m, &report);
    let _ = palisade::diagnostics::render::render(&found, &checked.comp.sources, false);
    let json =
        palisade::audit::report::json(model, &checked.comp.sources, &m, &report, "model.sec");
    let _ = serde_json::to_string(&json).expect("the report serializes");
    let sarif = palisade::diagnostics::sarif::to_sarif(
        &found,
        &checked.comp.sources,
        palisade::lints::LINTS,
    );
    let _ = serde_json::to_string(&sarif).expect("SARIF serializes");
}
