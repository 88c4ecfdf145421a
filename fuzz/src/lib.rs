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
    // A model that resolves must never make two objects share a file.
    let files = output::build(model, &opts, None, &["fuzz.sec".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
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

/// The directory readers against a hostile checkout: the model's
/// (`source::load` of a directory: its top-level `*.sec` files) and the
/// manifests' of `audit` and `import` (`source::load_manifests`: `*.yaml`,
/// `*.yml` and `*.json` files, recursively, hidden entries skipped), both on
/// the same directory. The input is a script, one entry a line, `KIND NAME
/// [ARG]`, built in a fresh directory before it is read:
///
/// - `f NAME TEXT` a file holding TEXT; `d NAME` a directory; `p NAME` a FIFO;
/// - `l NAME TARGET` a symbolic link to TARGET, taken as is (`../outside/secret.sec`,
///   `sub/a.sec`, `/etc/shadow`, `..`), with `@O` and `@R` at its start standing for
///   the absolute paths of a directory outside the model and of the model;
/// - `z NAME N` N KiB of comment lines (at most 2 MiB); `s NAME N` a sparse
///   file of N × 16 MiB of NUL bytes (at most 160 MiB, beyond the size limit);
/// - `r` alone: the directory is named through a symbolic link to it.
///
/// NAME may hold `/` (parents are created, `.` and `..` are refused); in NAME,
/// TEXT and TARGET `\n`, `\s` (a space), `\\` and `\xHH` (any byte: names
/// need not be UTF-8) are escapes. Outside the directory, every file holds a
/// secret. The promises, for each reader: no panic; nothing read outside
/// (no text read and no error message holds the secret, and every text read
/// is a regular file physically inside the directory); and the oracle
/// ([`Reader`]): a successful read holds exactly the candidate entries that
/// are not directories (nor links to directories inside), in the reader's
/// order, each with the text read through its path, while a failed one
/// names a candidate that justifies its error (a link that leaves the
/// directory or dangles or loops, a FIFO, text that is not UTF-8, a total
/// over the size limit), or says there is no candidate when there is none.
pub fn modeldir(data: &[u8]) {
    use std::ffi::{OsStr, OsString};
    use std::io::Write as _;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::{Path, PathBuf};

    let Ok(script) = std::str::from_utf8(data) else {
        return;
    };
    fn unescape(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && i + 1 < b.len() {
                match b[i + 1] {
                    b'n' => out.push(b'\n'),
                    b's' => out.push(b' '),
                    b'\\' => out.push(b'\\'),
                    b'x' if i + 4 <= b.len() => {
                        match std::str::from_utf8(&b[i + 2..i + 4])
                            .ok()
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                        {
                            Some(v) => {
                                out.push(v);
                                i += 4;
                                continue;
                            }
                            None => out.push(b'\\'),
                        }
                        i += 1;
                        continue;
                    }
                    _ => {
                        out.push(b'\\');
                        i += 1;
                        continue;
                    }
                }
                i += 2;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }
    // A relative path of normal components, or None.
    fn safe(name: &[u8]) -> Option<PathBuf> {
        let ok = !name.is_empty()
            && name.len() < 240
            && !name.contains(&0)
            && name
                .split(|&c| c == b'/')
                .all(|c| !c.is_empty() && c != b"." && c != b".." && c.len() < 200);
        ok.then(|| PathBuf::from(OsString::from_vec(name.to_vec())))
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().join("model");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).expect("outside");
    for rel in ["secret.sec", "dir/x.sec", "secret.txt"] {
        std::fs::write(outside.join(rel), format!("{SECRET}\n")).expect("outside");
    }
    std::fs::create_dir_all(&root).expect("model");
    let mut via_link = false;
    for line in script.lines() {
        let mut words = line.splitn(3, ' ');
        let (kind, name, arg) = (words.next(), words.next(), words.next());
        if kind == Some("r") {
            via_link = true;
            continue;
        }
        let Some(rel) = name.map(unescape).as_deref().and_then(safe) else {
            continue;
        };
        let path = root.join(&rel);
        // Nothing is created through a symbolic link or over an existing
        // entry: a script could otherwise write outside the temp dir (`l etc
        // /etc`, then `f etc/passwd`) or block on a FIFO (`p a`, then `f a`).
        let mut at = root.clone();
        let through_link = (rel.parent().into_iter())
            .flat_map(Path::components)
            .any(|c| {
                at.push(c);
                std::fs::symlink_metadata(&at).is_ok_and(|m| !m.is_dir())
            });
        if through_link || std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let arg = arg.unwrap_or("");
        let create = |path: &Path| {
            std::fs::File::options()
                .write(true)
                .create_new(true)
                .open(path)
        };
        let _ = match kind {
            Some("f") => create(&path).and_then(|mut f| f.write_all(&unescape(arg))),
            Some("d") => std::fs::create_dir_all(&path),
            Some("p") => {
                let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("no NUL");
                // SAFETY: a valid NUL-terminated path.
                unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
                Ok(())
            }
            Some("l") => {
                let mut target = unescape(arg);
                if target.contains(&0) {
                    continue;
                }
                for (tag, dir) in [(&b"@O"[..], &outside), (&b"@R"[..], &root)] {
                    if let Some(rest) = target.strip_prefix(tag) {
                        let mut t = dir.as_os_str().as_bytes().to_vec();
                        t.extend_from_slice(rest);
                        target = t;
                        break;
                    }
                }
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path)
            }
            Some("z") => {
                let kib: usize = arg.trim().parse().unwrap_or(1).min(2048);
                let line = "# filler line of a model, sixty-four bytes long, for the reader\n";
                create(&path)
                    .and_then(|mut f| f.write_all(line.repeat(kib * 1024 / line.len()).as_bytes()))
            }
            Some("s") => {
                let n: u64 = arg.trim().parse().unwrap_or(1).min(10);
                create(&path).and_then(|f| f.set_len(n << 24))
            }
            _ => Ok(()),
        };
    }
    let model = if via_link {
        let link = tmp.path().join("link-to-model");
        std::os::unix::fs::symlink(&root, &link).expect("link");
        link
    } else {
        root.clone()
    };

    // What the model physically holds: every regular file under it, links
    // not followed (a loaded text must be read from one of these).
    fn walk(dir: &Path, out: &mut std::collections::BTreeSet<(u64, u64)>) {
        use std::os::unix::fs::MetadataExt;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                walk(&e.path(), out);
            } else if meta.is_file() {
                out.insert((meta.dev(), meta.ino()));
            }
        }
    }
    let mut inside = std::collections::BTreeSet::new();
    walk(&root, &mut inside);
    let canon_root = std::fs::canonicalize(&root).expect("model dir");

    // The model reader: the top-level entries named `*.sec` (`.sec` alone is
    // a hidden file without an extension), in name order.
    let mut sec: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("model dir")
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| name.len() > 4 && name.as_bytes().ends_with(b".sec"))
        .map(|name| model.join(name))
        .collect();
    sec.sort();
    let loaded = palisade::source::load(&model);
    let what = Reader {
        model: &model,
        canon_root: &canon_root,
        inside: &inside,
        candidates: sec,
    };
    what.check(loaded.map(|map| files_of(&map)), "model");

    // The manifest reader of `audit` and `import`, on the same directory:
    // recursive, depth first, in each directory its files in name order and
    // then its directories; hidden entries skipped; `*.yaml`, `*.yml`,
    // `*.json` files (an extension that is not UTF-8 is none of these).
    fn manifests(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable")
            .flatten()
            .map(|e| e.file_name())
            .filter(|name| !name.as_bytes().starts_with(b"."))
            .collect();
        entries.sort();
        let mut subdirs = Vec::new();
        for name in entries {
            let path = dir.join(&name);
            let real_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if real_dir {
                subdirs.push(path);
                continue;
            }
            let b = name.as_bytes();
            let manifest = [&b".yaml"[..], b".yml", b".json"]
                .iter()
                .any(|x| b.len() > x.len() && b.ends_with(x))
                && !b.starts_with(b".");
            if manifest {
                out.push(path);
            }
        }
        for dir in subdirs {
            manifests(&dir, out);
        }
    }
    let mut candidates = Vec::new();
    manifests(&model, &mut candidates);
    let mut map = palisade::source::SourceMap::new();
    let loaded = palisade::source::load_manifests(std::slice::from_ref(&model), &mut map);
    let what = Reader { candidates, ..what };
    what.check(loaded.map(|()| files_of(&map)), "manifests");
}

fn files_of(map: &palisade::source::SourceMap) -> Vec<(std::path::PathBuf, String)> {
    map.files()
        .map(|(_, f)| (f.path.clone(), f.text.clone()))
        .collect()
}

/// What a directory reader of `modeldir` must have done.
struct Reader<'a> {
    /// The directory as given to the reader (maybe through a link).
    model: &'a std::path::Path,
    canon_root: &'a std::path::Path,
    /// Device and inode of every regular file physically in the directory.
    inside: &'a std::collections::BTreeSet<(u64, u64)>,
    /// The entries it considers, in the order it reads them: those that are
    /// (links to) directories are skipped, the others read.
    candidates: Vec<std::path::PathBuf>,
}

const SECRET: &str = "SECRET_TOKEN=outside-the-model";

impl Reader<'_> {
    fn check(
        &self,
        result: Result<Vec<(std::path::PathBuf, String)>, palisade::source::LoadError>,
        reader: &str,
    ) {
        use palisade::source::{LoadError, MAX_MODEL_BYTES};
        use std::os::unix::fs::MetadataExt;
        use std::path::{Path, PathBuf};
        let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_symlink());
        let leaves = |p: &Path| {
            is_link(p) && std::fs::canonicalize(p).is_ok_and(|t| !t.starts_with(self.canon_root))
        };
        let wanted: Vec<&PathBuf> = (self.candidates.iter())
            .filter(|p| !std::fs::metadata(p).is_ok_and(|m| m.is_dir()))
            .collect();
        match result {
            Ok(got) => {
                let paths: Vec<&PathBuf> = got.iter().map(|(p, _)| p).collect();
                assert_eq!(paths, wanted, "{reader}: the files read, in order");
                for (path, text) in &got {
                    assert!(!leaves(path), "{reader}: {path:?} leaves and was read");
                    assert!(!text.contains(SECRET), "{reader}: {path:?} read outside");
                    let meta = std::fs::metadata(path).expect("readable");
                    assert!(
                        self.inside.contains(&(meta.dev(), meta.ino())),
                        "{reader}: {path:?} read from no file inside the directory"
                    );
                    let on_disk = std::fs::read(path).expect("readable");
                    assert_eq!(
                        on_disk,
                        text.as_bytes(),
                        "{reader}: {path:?} not as on disk"
                    );
                }
                let total: usize = got.iter().map(|(_, t)| t.len()).sum();
                assert!(
                    total as u64 <= MAX_MODEL_BYTES,
                    "{reader}: over the size limit"
                );
                // Links to directories are skipped, not read, but one that
                // leaves is still an error.
                for path in &self.candidates {
                    assert!(!leaves(path), "{reader}: {path:?} leaves, no error");
                }
            }
            Err(e) => {
                let message = format!("{e} {:?}", e.help());
                assert!(
                    !message.contains(SECRET),
                    "{reader}: the error quotes outside: {message}"
                );
                let entry = |p: &Path| {
                    self.candidates.iter().any(|q| q == p)
                        || panic!("{reader}: {e}: {} is not a candidate", p.display())
                };
                match &e {
                    LoadError::NotFound(p) => assert!(
                        entry(p) && is_link(p) && std::fs::metadata(p).is_err(),
                        "{reader}: {e}"
                    ),
                    // Only a path given on the command line: the model
                    // directory, which exists.
                    LoadError::ManifestNotFound(_) => panic!("{reader}: {e}"),
                    LoadError::Io(p, _) => assert!(
                        entry(p)
                            && (is_link(p) && std::fs::metadata(p).is_err()
                                || std::fs::read(p).is_err()),
                        "{reader}: {e}"
                    ),
                    LoadError::LinkOutside { link, target } => {
                        assert!(entry(link) && leaves(link), "{reader}: {e}");
                        assert_eq!(&std::fs::canonicalize(link).expect("resolves"), target);
                    }
                    LoadError::NotAFile { path, .. } => assert!(
                        entry(path)
                            && std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()),
                        "{reader}: {e}"
                    ),
                    LoadError::NotUtf8 { path, valid_up_to } => {
                        assert!(entry(path), "{reader}: {e}");
                        let bytes = std::fs::read(path).expect("readable");
                        let err = std::str::from_utf8(&bytes).expect_err("not UTF-8");
                        assert_eq!(err.valid_up_to(), *valid_up_to, "{reader}: {e}");
                    }
                    LoadError::NoSecFiles(p) | LoadError::NoManifests(p) => {
                        assert_eq!(p, self.model, "{reader}");
                        assert_eq!(
                            matches!(e, LoadError::NoSecFiles(_)),
                            reader == "model",
                            "{reader}: {e}"
                        );
                        assert!(wanted.is_empty(), "{reader}: {e}, but {wanted:?}");
                    }
                    LoadError::TooLarge { path } => {
                        assert!(entry(path), "{reader}: {e}");
                        let total: u64 = (wanted.iter())
                            .filter_map(|p| std::fs::metadata(p).ok())
                            .map(|m| m.len())
                            .sum();
                        assert!(total > MAX_MODEL_BYTES, "{reader}: {e}: {total} bytes");
                    }
                }
            }
        }
    }
}
