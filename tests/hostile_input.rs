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
    let err = refused(&check(&big), &big, "the model is larger than 128 MiB");
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
