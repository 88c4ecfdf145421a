//! `palisade build` when the file system fails it (issue 6, item 5;
//! docs/testing.md): OUT is a file, a file stands where a directory goes,
//! OUT cannot be written, the disk fills up at any step of the commit, the
//! build is killed half way. Each failure exits 2 (CLI.md: unreadable input
//! or unwritable output), names the path and what went wrong, and leaves OUT
//! as it was; a killed build's OUT is repaired by the next build.
//!
//! The disk-full and (for root, whom `chmod` does not stop) permission
//! errors are injected through the writer's test hook,
//! `PALISADE_TEST_FAIL_AT=N[:ERROR]` (`palisade::output::tree::FAULT_ENV`).

use palisade::output::tree::{FAULT_ENV, MANIFEST};
use palisade::synth::{generate, SynthOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The small shop of tests/build.rs.
const OLD: &str = include_str!("support/shop.sec");

/// OLD changed every way a build can change OUT: files added (a new app
/// and namespace), changed (ports, grants) and removed (`worker`).
fn new_model() -> String {
    OLD.replace("9000", "9100")
        .replace(
            "app worker in web { image = \"ghcr.io/acme/worker:1.0\" }\n",
            "namespace jobs\napp mailer in jobs { image = \"ghcr.io/acme/mailer:1.0\" }\n",
        )
        .replace(
            "allow worker -> orders: read\n",
            "allow mailer -> orders: read\n",
        )
}

fn palisade(args: &[&Path], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("palisade runs")
}

fn build(model: &Path, out: &Path, env: &[(&str, &str)]) -> Output {
    palisade(&[Path::new("build"), model, Path::new("-o"), out], env)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>, SystemTime),
}

/// Everything under `root` (nothing when it does not exist), with mtimes.
fn snapshot(root: &Path) -> BTreeMap<String, Node> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Node>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                out.insert(rel.clone(), Node::Dir);
                walk(&e.path(), &format!("{rel}/"), out);
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                out.insert(rel, Node::File(bytes, meta.modified().unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    if root.is_dir() {
        walk(root, "", &mut out);
    }
    out
}

/// Files only, without mtimes: what a tree holds.
fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    (snapshot(root).into_iter())
        .filter_map(|(rel, n)| match n {
            Node::File(bytes, _) => Some((rel, bytes)),
            Node::Dir => None,
        })
        .collect()
}

struct Fixture {
    dir: tempfile::TempDir,
    out: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        Fixture { dir, out }
    }

    /// Writes a model file (always named `shop.sec`, so that the generated
    /// headers of two models compare) in a directory of its own.
    fn model(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shop.sec");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The tree `text` builds into a fresh directory.
    fn reference(&self, name: &str, text: &str) -> BTreeMap<String, Vec<u8>> {
        let model = self.model(name, text);
        let out = self.dir.path().join(format!("{name}-reference"));
        let o = build(&model, &out, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        contents(&out)
    }
}

/// Exit 2, the path and the failure on stderr, and the promise that OUT is unchanged.
fn assert_failed(o: &Output, out: &Path, path: &Path, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("`{}`", path.display())),
        "the error names `{}`:\n{err}",
        path.display()
    );
    assert!(err.contains(what), "the error says {what:?}:\n{err}");
    assert!(
        err.contains(&format!("nothing in `{}` was changed", out.display())),
        "{err}"
    );
}

#[test]
fn out_is_a_file() {
    let f = Fixture::new();
    let model = f.model("old", OLD);
    std::fs::write(&f.out, "my notes").unwrap();
    let o = build(&model, &f.out, &[]);
    assert_failed(
        &o,
        &f.out,
        &f.out,
        "it is a file, but palisade needs a directory there",
    );
    assert_eq!(std::fs::read_to_string(&f.out).unwrap(), "my notes");

    // A file where a parent of OUT should be.
    let out = f.out.join("deploy");
    let o = build(&model, &out, &[]);
    assert_failed(&o, &out, &out, "not a directory");
    assert_eq!(std::fs::read_to_string(&f.out).unwrap(), "my notes");
}

#[test]
fn a_file_where_a_directory_goes() {
    let f = Fixture::new();
    let model = f.model("old", OLD);
    // Before the first build: `dev/web` is a file of the user's.
    std::fs::create_dir_all(f.out.join("dev")).unwrap();
    std::fs::write(f.out.join("dev/web"), "mine").unwrap();
    let before = snapshot(&f.out);
    let o = build(&model, &f.out, &[]);
    let path = f.out.join("dev").join("web");
    assert_failed(
        &o,
        &f.out,
        &path,
        "it is a file, but palisade needs a directory there",
    );
    assert_eq!(snapshot(&f.out), before);

    // After a build: a namespace directory replaced by a file.
    std::fs::remove_file(&path).unwrap();
    assert!(build(&model, &f.out, &[]).status.success());
    let prod = f.out.join("prod").join("data");
    std::fs::remove_dir_all(&prod).unwrap();
    std::fs::write(&prod, "mine").unwrap();
    let before = snapshot(&f.out);
    let o = build(&f.model("new", &new_model()), &f.out, &[]);
    assert_failed(
        &o,
        &f.out,
        &prod,
        "it is a file, but palisade needs a directory there",
    );
    assert_eq!(snapshot(&f.out), before);
}

/// Whether `chmod` stops this user from writing (not for root).
fn permissions_enforced(dir: &Path) -> bool {
    let probe = dir.join("probe");
    match std::fs::write(&probe, "") {
        Ok(()) => {
            std::fs::remove_file(&probe).unwrap();
            false
        }
        Err(_) => true,
    }
}

#[test]
fn unwritable_out() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    assert!(build(&f.model("old", OLD), &f.out, &[]).status.success());
    let new = f.model("new", &new_model());
    let mode = |m| std::fs::Permissions::from_mode(m);
    let dirs: Vec<PathBuf> = (snapshot(&f.out).into_iter())
        .filter(|(_, n)| *n == Node::Dir)
        .map(|(rel, _)| f.out.join(rel))
        .chain([f.out.clone()])
        .collect();
    for d in &dirs {
        std::fs::set_permissions(d, mode(0o555)).unwrap();
    }
    let enforced = permissions_enforced(&f.out);
    let before = snapshot(&f.out);
    let o = if enforced {
        build(&new, &f.out, &[])
    } else {
        // root: chmod stops nothing; the writer gets the same error injected.
        eprintln!("chmod does not stop this user (root?): EACCES is injected instead");
        build(&new, &f.out, &[(FAULT_ENV, "1:eacces")])
    };
    for d in &dirs {
        std::fs::set_permissions(d, mode(0o755)).unwrap();
    }
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("permission denied (os error 13)"), "{err}");
    assert!(
        err.contains(&format!("`{}", f.out.display())),
        "the error names a path in OUT:\n{err}"
    );
    assert!(err.contains("was changed"), "{err}");
    assert_eq!(snapshot(&f.out), before);
    // Writable again: the build goes through.
    let o = build(&new, &f.out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The disk fills up at each step of a build in turn (staging each file,
/// each step of the commit): every time, exit 2, the path and "no space
/// left on device" in the error, OUT byte for byte and mtime for mtime as it
/// was; then, with space again, the new tree.
#[test]
fn disk_full_at_every_step_of_a_build() {
    let f = Fixture::new();
    let old = f.model("old", OLD);
    let new = f.model("new", &new_model());
    let expected = f.reference("new-ref", &new_model());
    assert!(build(&old, &f.out, &[]).status.success());
    std::fs::write(f.out.join("README.md"), "not generated").unwrap();
    let before = snapshot(&f.out);
    let mut failed = 0;
    for n in 1.. {
        let o = build(&new, &f.out, &[(FAULT_ENV, &n.to_string())]);
        if o.status.success() {
            break;
        }
        failed += 1;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "step {n}: {err}");
        assert!(
            err.contains(": no space left on device (os error 28)"),
            "step {n}: {err}"
        );
        assert!(
            err.contains(&format!("`{}", f.out.display())),
            "step {n}: the error names a path in OUT:\n{err}"
        );
        assert!(err.contains("was changed"), "step {n}: {err}");
        assert_eq!(snapshot(&f.out), before, "step {n} changed OUT:\n{err}");
    }
    assert!(failed >= 20, "only {failed} steps");
    let mut tree = contents(&f.out);
    assert_eq!(
        tree.remove("README.md").as_deref(),
        Some(&b"not generated"[..])
    );
    assert_eq!(tree, expected);

    // A first build that fails leaves no OUT behind.
    let fresh = f.dir.path().join("fresh");
    for n in [1, 2, 5, 20] {
        let o = build(&new, &fresh, &[(FAULT_ENV, &n.to_string())]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(!fresh.exists(), "step {n}");
    }
}

/// How the killed build left OUT: files the two models write alike, files
/// at their old or new version, files being added cut short, temp files.
#[derive(Debug, Default)]
struct Killed {
    same: usize,
    old: usize,
    new: usize,
    partial: usize,
    temps: usize,
}

/// `palisade build` killed (SIGKILL) at several moments of writing a large
/// tree over another. A kill cannot be rolled back, and the writer
/// promises what its module documentation says: every file is whole and
/// either its old or its new version, except a file the build was adding,
/// which may be a prefix of its new bytes; nothing else appears but the
/// build's `.palisade-*.tmp` files; and the next build — of either model —
/// leaves exactly its tree, temp files deleted.
#[test]
fn an_interrupted_build_is_repaired_by_the_next() {
    let f = Fixture::new();
    let text = |seed| {
        generate(&SynthOptions {
            pod_groups: 300,
            seed,
        })
    };
    let (mut old_ref, mut new_ref) = (
        f.reference("old-ref", &text(1)),
        f.reference("new-ref", &text(2)),
    );
    old_ref.remove(MANIFEST);
    new_ref.remove(MANIFEST);
    let (old, new) = (f.model("old", &text(1)), f.model("new", &text(2)));
    let changed = (new_ref.iter())
        .filter(|(rel, bytes)| old_ref.get(*rel) != Some(*bytes))
        .count();
    assert!(changed > 1_000, "the models differ in only {changed} files");
    let manifest = |root: &Path| std::fs::read(root.join(MANIFEST)).ok();
    let mut outcomes = Vec::new();
    // When to kill: at the first sign of each phase, or after a delay.
    for (i, moment) in ["staging", "commit", "commit+20ms"].iter().enumerate() {
        let out = f.dir.path().join(format!("out-{i}"));
        assert!(build(&old, &out, &[]).status.success());
        let old_manifest = manifest(&out);
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .arg("build")
            .arg(&new)
            .arg("-o")
            .arg(&out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        loop {
            let hit = match *moment {
                "staging" => has_temp(&out),
                _ => manifest(&out) != old_manifest, // the provisional manifest
            };
            let over = child.try_wait().unwrap().is_some();
            if hit || over || start.elapsed() > Duration::from_secs(120) {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        if let Some(ms) = moment.strip_prefix("commit+") {
            let ms = ms.trim_end_matches("ms").parse().unwrap();
            std::thread::sleep(Duration::from_millis(ms));
        }
        let _ = child.kill();
        child.wait().unwrap();

        let mut k = Killed::default();
        for (rel, bytes) in contents(&out) {
            let name = rel.rsplit('/').next().unwrap();
            if name.starts_with(".palisade-") && name.ends_with(".tmp") {
                k.temps += 1;
                continue;
            }
            if rel == MANIFEST {
                continue;
            }
            let (was, will) = (old_ref.get(&rel), new_ref.get(&rel));
            if was == will && will == Some(&bytes) {
                k.same += 1;
            } else if will == Some(&bytes) {
                k.new += 1;
            } else if was == Some(&bytes) {
                k.old += 1;
            } else if was.is_none() && will.is_some_and(|w| w.starts_with(&bytes)) {
                k.partial += 1;
            } else {
                panic!("killed at {moment}: `{rel}` is neither its old nor its new version");
            }
        }
        // The next build repairs it: of the new model, or of the old one.
        let (model, reference) = match i % 2 {
            0 => (&new, &new_ref),
            _ => (&old, &old_ref),
        };
        let o = build(model, &out, &[]);
        assert!(o.status.success(), "killed at {moment}: {}", stderr(&o));
        let mut tree = contents(&out);
        assert!(tree.remove(MANIFEST).is_some());
        assert!(
            &tree == reference,
            "killed at {moment}, the next build leaves {} files, {} expected; not as built: {:?}",
            tree.len(),
            reference.len(),
            (tree.iter())
                .filter(|(rel, b)| reference.get(*rel) != Some(*b))
                .map(|(rel, _)| rel)
                .take(5)
                .collect::<Vec<_>>()
        );
        outcomes.push((moment, k));
    }
    eprintln!("killed builds: {outcomes:?}");
}

/// Whether a staged file or backup exists anywhere in OUT.
fn has_temp(out: &Path) -> bool {
    fn walk(dir: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with(".palisade-") && name.ends_with(".tmp"))
                || (e.file_type().is_ok_and(|t| t.is_dir()) && walk(&e.path()))
        })
    }
    walk(out)
}
