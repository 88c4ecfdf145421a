//! `palisade build` against a hostile or busy OUT (issue 16): concurrent
//! builds, a directory swapped for a symbolic link during a build, a
//! tampered record file, a depfile inside OUT, what a killed build left,
//! and `--env` building one environment only.

use palisade::output::tree::MANIFEST;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

/// The small shop of tests/build.rs.
const SHOP: &str = include_str!("support/shop.sec");

fn palisade(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .expect("palisade runs")
}

fn build(model: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![Path::new("build"), model, Path::new("-o"), out];
    args.extend(extra.iter().map(Path::new));
    palisade(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
}

/// Every file under `root` (links not followed) with its bytes and mtime;
/// a link as its target.
fn snapshot(root: &Path) -> BTreeMap<String, (Vec<u8>, Option<SystemTime>)> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, (Vec<u8>, Option<SystemTime>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_symlink() {
                let target = std::fs::read_link(e.path()).unwrap();
                out.insert(rel, (target.to_string_lossy().as_bytes().to_vec(), None));
            } else if meta.is_dir() {
                walk(&e.path(), &format!("{rel}/"), out);
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                out.insert(rel, (bytes, Some(meta.modified().unwrap())));
            }
        }
    }
    let mut out = BTreeMap::new();
    if root.is_dir() {
        walk(root, "", &mut out);
    }
    out
}

fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    (snapshot(root).into_iter())
        .map(|(rel, (bytes, _))| (rel, bytes))
        .collect()
}

/// A model file `shop.sec` in a directory of its own under `dir`.
fn model(dir: &Path, name: &str, text: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("shop.sec");
    std::fs::write(&path, text).unwrap();
    path
}

/// Variants of the shop that build different trees.
fn variant(i: usize) -> String {
    SHOP.replace("9000", &format!("{}", 9000 + i)).replace(
        "namespace data\n",
        &format!("namespace data\nnamespace extra{i}\napp x{i} in extra{i} {{ image = \"ghcr.io/acme/x:1\" }}\n"),
    )
}

/// The tree a model builds into a fresh directory (record file included).
fn reference(dir: &Path, name: &str, text: &str) -> BTreeMap<String, Vec<u8>> {
    let m = model(dir, name, text);
    let out = dir.join(format!("{name}-reference"));
    ok(&build(&m, &out, &[]));
    contents(&out)
}

/// Several builds of different models into one OUT at once, round after
/// round: every build succeeds (the later ones wait for OUT's lock), and OUT
/// ends as exactly one model's tree with its record file, no temp file left.
#[test]
fn simultaneous_builds_into_one_out_leave_exactly_one_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 4;
    let models: Vec<PathBuf> = (0..n)
        .map(|i| model(tmp.path(), &format!("m{i}"), &variant(i)))
        .collect();
    let trees: Vec<_> = (0..n)
        .map(|i| reference(tmp.path(), &format!("r{i}"), &variant(i)))
        .collect();
    let out = tmp.path().join("out");
    for round in 0..6 {
        let children: Vec<_> = (0..n)
            .map(|i| {
                let i = (i + round) % n;
                Command::new(env!("CARGO_BIN_EXE_palisade"))
                    .arg("build")
                    .arg(&models[i])
                    .arg("-o")
                    .arg(&out)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            ok(&child.wait_with_output().unwrap());
        }
        let now = contents(&out);
        assert!(
            trees.contains(&now),
            "round {round}: OUT matches no model's tree: {:?}",
            now.keys().collect::<Vec<_>>()
        );
    }
}

/// While builds run, a directory of OUT is swapped again and again for a
/// symbolic link to a directory outside OUT holding files of the same
/// names. Nothing there may be created, changed or removed.
#[cfg(unix)]
#[test]
fn a_directory_swapped_for_a_link_during_builds_is_never_written_through() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let tmp = tempfile::tempdir().unwrap();
    let a = model(tmp.path(), "a", &variant(1));
    let b = model(
        tmp.path(),
        "b",
        &variant(2).replace("app worker", "app worker2"),
    );
    let out = tmp.path().join("out");
    ok(&build(&a, &out, &[]));
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    for e in std::fs::read_dir(out.join("prod/web")).unwrap().flatten() {
        std::fs::write(elsewhere.join(e.file_name()), "not palisade's").unwrap();
    }
    let before = snapshot(&elsewhere);

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, out, elsewhere) = (stop.clone(), out.clone(), elsewhere.clone());
        std::thread::spawn(move || {
            let web = out.join("prod/web");
            let aside = out.join("prod/web-aside");
            let mut swaps = 0;
            while !stop.load(Ordering::Relaxed) {
                if std::fs::rename(&web, &aside).is_ok() {
                    let _ = std::os::unix::fs::symlink(&elsewhere, &web);
                    std::thread::sleep(Duration::from_micros(300));
                    let _ = std::fs::remove_file(&web);
                    let _ = std::fs::rename(&aside, &web);
                    swaps += 1;
                }
                std::thread::sleep(Duration::from_micros(300));
            }
            swaps
        })
    };
    for i in 0..30 {
        let m = if i % 2 == 0 { &b } else { &a };
        let _ = build(m, &out, &[]); // may fail: something is in its way
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    let after = snapshot(&elsewhere);
    let touched: Vec<&String> = (before.keys().chain(after.keys()))
        .filter(|rel| before.get(*rel) != after.get(*rel))
        .collect();
    assert!(touched.is_empty(), "written through the link: {touched:?}");
}

/// `--env dev` touches only `OUT/dev`: `OUT/prod` keeps every file, bytes
/// and mtimes, and stays listed, so a later full build takes it as its own.
#[test]
fn building_one_environment_leaves_the_others_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path(), "m", SHOP);
    let out = tmp.path().join("out");
    ok(&build(&m, &out, &[]));
    let prod = |out: &Path| {
        (snapshot(out).into_iter())
            .filter(|(rel, _)| rel.starts_with("prod/"))
            .collect::<BTreeMap<_, _>>()
    };
    let before = prod(&out);
    assert!(!before.is_empty());
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        &m,
        SHOP.replace("9000", "9100")
            .replace("app worker", "app worker2")
            .replace("worker ->", "worker2 ->"),
    )
    .unwrap();
    ok(&build(&m, &out, &["--env", "dev"]));
    assert_eq!(prod(&out), before, "--env dev changed OUT/prod");
    let listed = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
    for rel in before.keys() {
        assert!(listed.lines().any(|l| l == rel), "{rel} unlisted");
    }
    assert!(
        std::fs::read_to_string(out.join("dev/web/service-api.yaml"))
            .unwrap()
            .contains("9100")
    );
    assert!(!out.join("dev/web/deployment-worker.yaml").exists());
    // The full build now updates prod as its own.
    ok(&build(&m, &out, &[]));
    assert!(!out.join("prod/web/deployment-worker.yaml").exists());
    let fresh = reference(tmp.path(), "fresh", &std::fs::read_to_string(&m).unwrap());
    assert_eq!(contents(&out), fresh);
}

/// The record file can make palisade replace or remove only files of the
/// generated layout that start with palisade's header.
#[test]
fn a_tampered_record_file_cannot_make_palisade_delete_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path(), "m", SHOP);
    let out = tmp.path().join("out");
    ok(&build(&m, &out, &[]));
    std::fs::create_dir_all(out.join(".git")).unwrap();
    std::fs::write(out.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(out.join("prod/web/notes.yaml"), "mine\n").unwrap();
    std::fs::write(tmp.path().join("outside.yaml"), "mine\n").unwrap();
    let listed = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
    for (line, what) in [
        (".git/HEAD", "is not a path palisade generates"),
        ("../outside.yaml", "is not a path palisade generates"),
        (
            "prod/web/notes.yaml",
            "does not start with palisade's header",
        ),
    ] {
        std::fs::write(out.join(MANIFEST), format!("{listed}{line}\n")).unwrap();
        let before = snapshot(&out);
        let o = build(&m, &out, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{line}: {err}");
        assert!(err.contains(what), "{line}: {err}");
        assert!(err.contains("nothing in `"), "{err}");
        assert_eq!(snapshot(&out), before, "{line}");
    }
    assert!(out.join(".git/HEAD").exists());
    assert!(out.join("prod/web/notes.yaml").exists());
    assert!(tmp.path().join("outside.yaml").exists());
}

/// A depfile inside OUT (the record file itself, or any path there) is
/// refused before anything is written.
#[test]
fn a_depfile_inside_out_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path(), "m", SHOP);
    let out = tmp.path().join("out");
    ok(&build(&m, &out, &[]));
    let before = snapshot(&out);
    let record = out.join(MANIFEST);
    let via_dots = tmp.path().join("m/../out/x.d");
    for dep in [record.as_path(), &out.join("prod/x.d"), &out, &via_dots] {
        let o = build(&m, &out, &["--depfile", dep.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("is inside the output directory"), "{err}");
        assert!(err.contains("nothing in `"), "{err}");
        assert_eq!(snapshot(&out), before);
    }
    let dep = tmp.path().join("out.d");
    ok(&build(&m, &out, &["--depfile", dep.to_str().unwrap()]));
    assert!(dep.exists());
}

/// What a killed build leaves (staged files and backups, in directories the
/// next build no longer wants too) is removed by the next build, and so
/// are the directories this empties.
#[test]
fn the_next_build_removes_what_a_killed_build_left() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path(), "m", &variant(3));
    let out = tmp.path().join("out");
    ok(&build(&m, &out, &[]));
    // Killed while removing namespace extra3: its files are gone, many
    // backups are left beside them and elsewhere.
    for env in ["dev", "prod"] {
        let dir = out.join(format!("{env}/extra3"));
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            std::fs::remove_file(e.path()).unwrap();
        }
        for i in 0..500 {
            std::fs::write(dir.join(format!(".palisade-old-{i:04x}.tmp")), "old").unwrap();
        }
        std::fs::write(
            out.join(format!("{env}/web/.palisade-old-{env}.tmp")),
            "old",
        )
        .unwrap();
    }
    std::fs::write(out.join(".palisade-abc.tmp"), "staged").unwrap();
    std::fs::write(out.join("dev/web/.palisade-notes"), "mine").unwrap();
    std::fs::write(&m, SHOP).unwrap();
    ok(&build(&m, &out, &[]));
    let left: Vec<String> = contents(&out)
        .into_keys()
        .filter(|rel| rel.contains(".tmp"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert!(!out.join("dev/extra3").exists());
    assert!(!out.join("prod/extra3").exists());
    assert!(out.join("dev/web/.palisade-notes").exists());
}

/// A build of an OUT whose lock is held says that it waits, waits, and
/// builds once the lock is released; `--check` waits too.
#[test]
fn a_build_waits_for_the_lock_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path(), "m", SHOP);
    let out = tmp.path().join("out");
    ok(&build(&m, &out, &[]));
    std::fs::write(&m, SHOP.replace("9000", "9100")).unwrap();
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    let spawn = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_palisade"))
            .arg("build")
            .arg(&m)
            .arg("-o")
            .arg(&out)
            .args(extra)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = spawn(&[]);
    let mut check = spawn(&["--check"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "did not wait");
    assert!(check.try_wait().unwrap().is_none(), "--check did not wait");
    let untouched = std::fs::read_to_string(out.join("prod/web/service-api.yaml")).unwrap();
    assert!(untouched.contains("9000"));
    held.unlock().unwrap();
    let o = child.wait_with_output().unwrap();
    ok(&o);
    assert!(
        stderr(&o).contains(&format!(
            "waiting for another palisade build of `{}` to finish",
            out.display()
        )),
        "{}",
        stderr(&o)
    );
    let c = check.wait_with_output().unwrap();
    assert!(
        stderr(&c).contains("waiting for another palisade build"),
        "{}",
        stderr(&c)
    );
    assert!(
        std::fs::read_to_string(out.join("prod/web/service-api.yaml"))
            .unwrap()
            .contains("9100")
    );
}

/// A build that waits for OUT's lock gives up after `--lock-timeout`
/// seconds (default 600), exit 2, saying so and that OUT is unchanged,
/// which it is; `--check` too. `--lock-timeout 0` does not wait at all.
#[test]
fn a_build_gives_up_waiting_for_the_lock_after_the_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path(), "m", SHOP);
    let out = tmp.path().join("out");
    ok(&build(&m, &out, &[]));
    std::fs::write(&m, SHOP.replace("9000", "9100")).unwrap();
    let before = snapshot(&out);
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    for (extra, waits) in [
        (&["--lock-timeout", "1"][..], 1),
        (&["--lock-timeout", "0"][..], 0),
        (&["--check", "--lock-timeout", "1"][..], 1),
    ] {
        let start = std::time::Instant::now();
        let o = build(&m, &out, extra);
        let took = start.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            took >= Duration::from_secs(waits) && took < Duration::from_secs(waits + 20),
            "{extra:?}: {took:?}"
        );
        assert!(
            err.contains(&format!(
                "gave up after {waits} s waiting for another palisade build of `{}` to finish",
                out.display()
            )),
            "{extra:?}: {err}"
        );
        if !extra.contains(&"--check") {
            assert!(
                err.contains(&format!("nothing in `{}` was changed", out.display())),
                "{err}"
            );
        }
        assert_eq!(snapshot(&out), before, "{extra:?}");
    }
    held.unlock().unwrap();
    ok(&build(&m, &out, &["--lock-timeout", "0"]));
    // A timeout past the end of time waits as long as it takes.
    ok(&build(&m, &out, &["--lock-timeout", &u64::MAX.to_string()]));
}
