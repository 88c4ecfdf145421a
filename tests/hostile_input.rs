//! Hostile and pathological model input (issue 16): what palisade reads and
//! how much of it a diagnostic may quote. Every refusal exits 2, names the
//! file and gives a hint; nothing hangs.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const MODEL: &str = "system s\nnamespace n\n";

fn palisade(args: &[&Path]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palisade runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("palisade {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn check(model: &Path) -> Output {
    palisade(&[Path::new("check"), model])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2, the file named, the words of the error and a hint.
fn refused(o: &Output, path: &Path, what: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("`{}`", path.display())),
        "names {}: {err}",
        path.display()
    );
    assert!(err.contains(what), "says {what:?}: {err}");
    assert!(err.contains("= help: "), "a hint: {err}");
    err
}

#[cfg(unix)]
#[test]
fn a_symlink_leaving_the_model_directory_is_refused_not_quoted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.sec"), MODEL).unwrap();
    let secrets = tmp.path().join("secrets.env");
    std::fs::write(&secrets, "API_TOKEN=s3cr3t-value\n").unwrap();
    let link = dir.join("b.sec");
    for target in [secrets.as_path(), Path::new("/proc/self/environ")] {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).unwrap();
        for o in [
            check(&dir),
            palisade(&[
                Path::new("build"),
                &dir,
                Path::new("-o"),
                &tmp.path().join("out"),
            ]),
        ] {
            let err = refused(&o, &link, "outside the model directory");
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(!err.contains("PATH="), "{err}");
        }
    }
    assert!(!tmp.path().join("out").exists());

    // A link inside the directory is read; a file named on the command
    // line is read as given, a link too.
    std::fs::create_dir(dir.join("parts")).unwrap();
    std::fs::write(dir.join("parts/extra.txt"), "namespace m\n").unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("parts/extra.txt", &link).unwrap();
    let o = check(&dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let given = tmp.path().join("given.sec");
    std::os::unix::fs::symlink(dir.join("a.sec"), &given).unwrap();
    let o = check(&given);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("model.sec");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    refused(&check(&fifo), &fifo, "it is a FIFO, not a regular file");
    // In a model directory, too.
    refused(
        &check(tmp.path()),
        &fifo,
        "it is a FIFO, not a regular file",
    );
    let zero = Path::new("/dev/zero");
    refused(&check(zero), zero, "it is a device, not a regular file");
}

#[test]
fn a_model_above_the_size_limit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.sec");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(palisade::source::MAX_MODEL_BYTES + 1).unwrap(); // sparse
    let err = refused(&check(&big), &big, "the input is larger than 128 MiB");
    assert!(err.contains("big.sec"), "{err}");

    // The limit is on the model, all its files together.
    let dir = tmp.path().join("split");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.sec"), MODEL).unwrap();
    let half = std::fs::File::create(dir.join("b.sec")).unwrap();
    half.set_len(palisade::source::MAX_MODEL_BYTES - 4).unwrap();
    refused(&check(&dir), &dir.join("b.sec"), "larger than");
}

/// A diagnostic quotes a bounded excerpt of its line, however long the
/// line (a key file pasted into a model must not be echoed whole).
#[test]
fn a_diagnostic_quotes_a_bounded_excerpt_of_a_long_line() {
    let tmp = tempfile::tempdir().unwrap();
    let secret: String = (0..200_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    for text in [
        format!("system s\n{secret}\n"),
        format!("system s\nnamespace n \"{secret}\" oops\n"),
        format!("system s\nnamespace n\napp a in n {{ image = \"{secret}\" }}\n"),
    ] {
        let model = tmp.path().join("long.sec");
        std::fs::write(&model, text).unwrap();
        let o = check(&model);
        let err = stderr(&o);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
        assert!(err.contains("long.sec:"), "a diagnostic: {err}");
        assert!(err.len() < 4_000, "{} bytes: {}", err.len(), &err[..4_000]);
        assert!(err.lines().all(|l| l.len() < 400), "{err}");
    }
}

/// A lone CR inside a string is a line break to a Markdown renderer: the
/// review must not let one start a line of its own (a heading, a table row).
#[test]
fn a_carriage_return_in_a_string_does_not_inject_markdown() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("cr.sec");
    std::fs::write(
        &model,
        "system s \"Shop\r# Injected heading\r| x | y |\"\nnamespace n \"ns\r## also\"\n",
    )
    .unwrap();
    let o = palisade(&[Path::new("review"), &model]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(!md.contains('\r'), "{md:?}");
    for line in md.lines() {
        assert!(!line.starts_with("# Injected"), "{md}");
        assert!(!line.starts_with("| x |"), "{md}");
    }
    assert!(md.contains("Shop # Injected heading"), "{md}");
}

/// A namespace description longer than Kubernetes accepts in an object's
/// annotations (256 KiB) is cut to fit, with a warning naming it.
#[test]
fn an_oversized_description_is_cut_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("big.sec");
    let text = format!("system s\nnamespace n \"{}\"\n", "d".repeat(1 << 20));
    std::fs::write(&model, text).unwrap();
    let out = tmp.path().join("out");
    let o = palisade(&[Path::new("build"), &model, Path::new("-o"), &out]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: the description of namespace `n` is 1048576 bytes"),
        "{err}"
    );
    assert!(err.contains(&format!("{}:2:1", model.display())), "{err}");
    let ns = std::fs::read(out.join("cluster/namespace-n.yaml")).unwrap();
    assert!(ns.len() < 256 * 1024 + 4096, "{}", ns.len());
    assert!(String::from_utf8(ns)
        .unwrap()
        .contains("[truncated by palisade]"));
}
