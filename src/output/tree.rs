//! The make-style, transactional writer of the output tree (`palisade build -o OUT`).
//!
//! This module owns everything a build does to the file system under OUT:
//! deciding what a build would add, change or remove ([`plan`], for
//! `build --check`), making OUT hold exactly the generated files ([`sync`]),
//! the record of what palisade generated ([`MANIFEST`], kept inside OUT), and
//! the make dependency file of `--depfile` ([`write_depfile`]). Producing the
//! bytes is not its business: it receives them as a [`FileSet`].
//!
//! # Rules
//! - A file whose bytes did not change is not written (make and git see no churn).
//! - A file palisade generated before (listed in the manifest) that the build no
//!   longer produces is removed, and so is every directory this leaves empty
//!   (never OUT itself, never a directory holding anything else).
//! - A file palisade did not generate is never touched: wanting to write one is
//!   [`TreeError::Foreign`]. Symbolic links inside OUT are never followed.
//!   Every read and write is relative to a directory handle (cap-std's `Dir`)
//!   opened once per directory, one name at a time without following links:
//!   swapping a directory of OUT for a link while a build runs cannot make
//!   it read, write or remove anything outside OUT.
//! - The manifest can name only paths of the generated layout
//!   ([`is_layout_path`]: never `.git/…`, never outside OUT), and with
//!   [`SyncOptions::marker`] a listed file is replaced or removed only if it
//!   starts with palisade's header ([`TreeError::NotOurs`]).
//! - One sync or plan at a time per OUT: a sync holds an exclusive advisory
//!   lock (`flock`) on OUT itself, a plan a shared one; the other waits, at
//!   most [`SyncOptions::lock_timeout`] ([`TreeError::LockTimeout`]).
//! - Every directory handle still reaches its directory at its path in OUT
//!   when the commit begins and when it ends ([`TreeError::Moved`] otherwise,
//!   and the sync is undone): see the limitations.
//! - A sync with [`SyncOptions::scope`] (`build --env ENV`) owns only that
//!   directory of OUT: generated files elsewhere stay, and stay listed.
//! - On any error, OUT is left as it was (or the error says what could not
//!   be put back: [`TreeError::NotUndone`]).
//!
//! # The transaction
//! 1. **Survey** (reads only; this is all of [`plan`]): check the wanted paths,
//!    read the manifest, classify each wanted file as added, changed or unchanged,
//!    find the generated files to remove, and fail on anything foreign or in the
//!    way. Most errors are found here, before anything is written.
//! 2. **Stage**: create the missing directories (journaled), and write every
//!    changed file and manifest to a temp file `.palisade-*.tmp` in its target
//!    directory. Nothing visible has changed yet.
//! 3. **Commit**, in this order: a *provisional manifest* (the old entries plus
//!    every file about to be added) followed by an fsync of OUT; each added file,
//!    created in place with `O_EXCL` (there is nothing to protect, and it saves
//!    a rename per file on a first build of 100,000 files); each changed file;
//!    each removal; the final manifest. Each step but the creations is one
//!    rename (or unlink) within one directory. Before a file is replaced or removed, its
//!    current version is kept as a backup `.palisade-old-*.tmp` beside it (a hard
//!    link, or the file itself moved aside where the file system has no hard
//!    links). Every step done is journaled.
//! 4. **On error** (or panic) the journal is undone in reverse: backups renamed
//!    back, added files deleted, created directories removed; staged temp files
//!    are deleted. **On success** the touched directories are fsynced, backups
//!    deleted, and the directories emptied by removals pruned.
//!
//! # Limitations
//! - A program reading OUT while a build runs may see an added file half
//!   written (changed files are always whole: they are renamed into place).
//! - Renames are atomic one at a time, not as a group. If the process is killed
//!   (or the machine stops) during the commit, OUT holds a mix of old and new
//!   files, plus `.palisade-*.tmp` files, which are safe to delete (the
//!   `.palisade-old-*` ones hold the previous bytes of a file); the next
//!   successful build deletes them (in OUT and the directories of the files
//!   it wants or generated before) and prunes the directories this empties. Because the
//!   provisional manifest is committed first, every file that may have been
//!   added is already listed, so the next build takes them as its own and
//!   finishes the job instead of reporting them as foreign. The price: after
//!   such a kill, a file a user then creates at one of those paths would be
//!   taken as generated too.
//! - Rollback is best effort: it renames and deletes only what this sync put
//!   in place moments before, in the same directories, so it does not fail in
//!   practice. If undoing a step fails anyway, a backup file is kept (not
//!   deleted), and the error is [`TreeError::NotUndone`]: the original one
//!   and the paths not put back (so `build` does not claim OUT is unchanged).
//! - After a successful commit, fsyncing directories, deleting backups and
//!   pruning empty directories are best effort: OUT is already right.
//! - The lock is advisory: it keeps palisade builds apart, not other programs
//!   changing OUT between the survey and the commit (those cannot make a
//!   build follow a link out of OUT, see the rules, but can make it fail). A
//!   directory of OUT that another program *moves* elsewhere during a build
//!   is still the directory the build opened, and its handle reaches it
//!   there. So before the first visible step (after staging) and after the
//!   last, the sync checks that OUT is still at its path and each directory
//!   it opened is still a real directory at its name in its parent, with the
//!   handle's device and inode; if not, [`TreeError::Moved`], and the
//!   journal is undone through the same handles (in the moved directory
//!   too). A move after the last check, in the moments before the sync
//!   returns, goes unnoticed; the check is not atomic with the steps, no
//!   check on paths can be. A file
//!   system without `flock` (some network file systems) makes every build
//!   fail with ``cannot lock `OUT` ``.
//! - A path that turns from a file into a directory between builds (`a`, then
//!   `a/b`), or the reverse, is reported as blocked: delete the old one and
//!   build again.
//! - OUT itself may be a symbolic link to a directory. Replaced files keep their
//!   permission bits; new files get `0o666` less the umask (Unix).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cap_fs_ext::{DirExt as _, FollowSymlinks, OpenOptionsFollowExt as _};
use cap_std::fs::{Dir, Metadata, OpenOptions, Permissions};
use rayon::prelude::*;

/// Files a build wants in OUT: relative paths with `/` separators → bytes.
pub type FileSet = BTreeMap<String, Vec<u8>>;

/// The record of what palisade generated, kept inside OUT.
pub const MANIFEST: &str = ".palisade-generated";

/// The first line of the manifest.
const MANIFEST_HEADER: &str = "# files generated by palisade; do not edit";
/// Name prefix of staged files (the new bytes, before their commit).
const STAGED_PREFIX: &str = ".palisade-";
/// Name prefix of backups (the old bytes, until the commit is complete).
const BACKUP_PREFIX: &str = ".palisade-old-";
const TEMP_SUFFIX: &str = ".tmp";

const FILE_IN_THE_WAY: &str =
    "it is a file, but palisade needs a directory there; move or delete it";
const DIR_IN_THE_WAY: &str =
    "it is a directory, but palisade writes a file there; move or delete it";
const SYMLINK: &str = "it is a symbolic link, which palisade does not follow inside \
                       the output directory; replace it with a real file or directory";
const NOT_A_FILE: &str = "it is not a regular file; move or delete it";
const BAD_NAME: &str = "not a normalized relative path inside the output directory \
                        (a bug in palisade; please report it)";
const RESERVED: &str = "this name is reserved for palisade's record of generated files \
                        (a bug in palisade; please report it)";
const FILE_AND_DIR: &str = "palisade would write both this file and files inside it \
                            (a bug in palisade; please report it)";

/// What a sync does (or would do) to OUT. Paths are relative, as in [`FileSet`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

impl Plan {
    /// True when OUT already holds exactly the wanted files.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

#[derive(Debug)]
pub enum TreeError {
    /// A file palisade would write exists but palisade did not generate it.
    Foreign { path: PathBuf },
    /// Something in the way: a file where a directory must be, a directory where a file must be, a symlink.
    Blocked { path: PathBuf, what: String },
    /// Reading or writing failed; `op` says what palisade was doing
    /// (`read`, `write`, `create`, `replace`, `remove`, `create directory`, `sync`).
    Io {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
    /// The manifest lists a file that does not start with palisade's header
    /// ([`SyncOptions::marker`]): it is not replaced or removed.
    NotOurs { path: PathBuf },
    /// Another build held OUT's lock for longer than
    /// [`SyncOptions::lock_timeout`]; nothing was read or written.
    LockTimeout { path: PathBuf, waited: Duration },
    /// A directory of OUT was moved or replaced while the sync ran: its
    /// handle no longer reaches the directory at its path in OUT. The sync
    /// is undone (in the moved directory too, through the same handle).
    Moved { path: PathBuf },
    /// A sync failed and its rollback could not put everything back.
    NotUndone {
        error: Box<TreeError>,
        left: Vec<PathBuf>,
    },
}

impl TreeError {
    /// Whether OUT is as it was before the failed sync (or plan).
    pub fn out_unchanged(&self) -> bool {
        !matches!(self, TreeError::NotUndone { .. })
    }
}

/// How a sync or plan works, beyond OUT and the files.
#[derive(Default, Clone, Copy)]
pub struct SyncOptions<'a> {
    /// The one top-level directory of OUT this build owns (`build --env
    /// ENV`): every wanted file is inside it, and generated files elsewhere
    /// are neither removed nor dropped from the manifest.
    pub scope: Option<&'a str>,
    /// Palisade's header: a listed file is replaced or removed only if it
    /// starts with these bytes (or is a prefix of them: a file cut short by
    /// a kill). `None`: no such check.
    pub marker: Option<&'a [u8]>,
    /// Called once when another build holds OUT's lock, before waiting.
    pub waiting: Option<&'a dyn Fn()>,
    /// How long to wait for another build's lock: `None` waits as long as
    /// it takes, `Some(ZERO)` not at all. Past it: [`TreeError::LockTimeout`].
    pub lock_timeout: Option<Duration>,
    /// After a successful sync, if the manifest is older than this (the
    /// newest model file), set its mtime to now: make's target (`--depfile`)
    /// must not stay older than the model, and a no-op build of an
    /// unchanged model must not touch it.
    pub touch_if_older_than: Option<std::time::SystemTime>,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::Foreign { path } => write!(
                f,
                "refusing to overwrite `{}`: palisade did not generate it (it is not \
                 listed in `{MANIFEST}`); move or delete it, then build again",
                path.display()
            ),
            TreeError::Blocked { path, what } => {
                write!(f, "cannot use `{}`: {what}", path.display())
            }
            TreeError::Io { path, op, source } => write!(
                f,
                "cannot {op} `{}`: {}",
                path.display(),
                lowercase_first(&source.to_string())
            ),
            TreeError::LockTimeout { path, waited } => write!(
                f,
                "gave up after {} waiting for another palisade build of `{}` to finish \
                 (it holds the lock on OUT)",
                seconds(*waited),
                path.display()
            ),
            TreeError::Moved { path } => write!(
                f,
                "`{}` was moved or replaced while palisade was building into it; the build \
                 was undone (check that no other program writes to OUT, then build again)",
                path.display()
            ),
            TreeError::NotOurs { path } => write!(
                f,
                "refusing to replace or remove `{}`: `{MANIFEST}` lists it, but it does not \
                 start with palisade's header, so palisade did not write it; move it away or \
                 remove its line from `{MANIFEST}`, then build again",
                path.display()
            ),
            TreeError::NotUndone { error, left } => {
                write!(f, "{error}; undoing the build failed for")?;
                for (i, path) in left.iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    write!(f, "{sep}`{}`", path.display())?;
                }
                write!(
                    f,
                    " (`.palisade-old-*.tmp` files beside them hold their old bytes)"
                )
            }
        }
    }
}

/// The I/O error is part of the message, so it is not repeated as a source.
impl std::error::Error for TreeError {}

/// `5 s`, `1.5 s`, `600 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> TreeError + 'a {
    move |source| TreeError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

fn blocked(path: impl Into<PathBuf>, what: impl Into<String>) -> TreeError {
    TreeError::Blocked {
        path: path.into(),
        what: what.into(),
    }
}

/// What a sync would do, reading OUT but writing nothing (`build --check`).
pub fn plan(out: &Path, files: &FileSet) -> Result<Plan, TreeError> {
    plan_with(out, files, &SyncOptions::default())
}

/// [`plan`], with options; it waits for a sync of OUT that is under way.
pub fn plan_with(out: &Path, files: &FileSet, opts: &SyncOptions<'_>) -> Result<Plan, TreeError> {
    check_names(out, files, opts.scope)?;
    check_out(out)?;
    let locked = open_locked(out, false, false, opts)?;
    let mut tree = Tree::new(out, locked.as_ref().map(|(file, _)| file))?;
    Ok(survey(&mut tree, files, opts)?.plan)
}

/// Make OUT hold exactly `files` (plus anything palisade did not generate).
pub fn sync(out: &Path, files: &FileSet) -> Result<Plan, TreeError> {
    sync_with(out, files, &SyncOptions::default())
}

/// [`sync`], with options.
pub fn sync_with(out: &Path, files: &FileSet, opts: &SyncOptions<'_>) -> Result<Plan, TreeError> {
    check_names(out, files, opts.scope)?;
    check_out(out)?;
    let (lock, created) = open_locked(out, true, true, opts)?
        .ok_or_else(|| io_err(out, "create directory")(io::ErrorKind::NotFound.into()))?;
    let result = locked_sync(out, files, opts, &lock);
    if result.is_err() {
        // Still under the lock: no other build is using what is removed.
        remove_created(&created);
    }
    drop(lock);
    result
}

fn locked_sync(
    out: &Path,
    files: &FileSet,
    opts: &SyncOptions<'_>,
    lock: &fs::File,
) -> Result<Plan, TreeError> {
    let plan = locked_sync_files(out, files, opts, lock)?;
    if let Some(newest) = opts.touch_if_older_than {
        touch_manifest(out, lock, newest);
    }
    Ok(plan)
}

/// Sets the manifest's mtime to now if it is older than `newest` (best
/// effort), through OUT's handle and without following a link.
fn touch_manifest(out: &Path, lock: &fs::File, newest: std::time::SystemTime) {
    let Ok(tree) = Tree::new(out, Some(lock)) else {
        return;
    };
    let root = tree.root.expect("opened");
    let mut options = OpenOptions::new();
    options.write(true).follow(FollowSymlinks::No);
    let Ok(file) = root.open_with(MANIFEST, &options) else {
        return;
    };
    let file = file.into_std();
    let stale = file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|built| built < newest));
    if stale {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

fn locked_sync_files(
    out: &Path,
    files: &FileSet,
    opts: &SyncOptions<'_>,
    lock: &fs::File,
) -> Result<Plan, TreeError> {
    let mut tree = Tree::new(out, Some(lock))?;
    let survey = survey(&mut tree, files, opts)?;
    let in_scope_generated = || {
        survey
            .generated
            .iter()
            .filter(|rel| in_scope(rel, opts.scope))
    };
    let steps = survey.steps(files, opts.scope);
    if steps.is_empty() {
        sweep_temps(&mut tree, files, in_scope_generated());
        return Ok(survey.plan);
    }
    let mut txn = Txn::new(tree);
    match txn.apply(steps) {
        Ok(()) => {
            txn.finish(&survey.plan.removed);
            sweep_temps(&mut txn.tree, files, in_scope_generated());
            Ok(survey.plan)
        }
        Err(error) => {
            txn.rollback();
            if txn.not_undone.is_empty() {
                Err(error)
            } else {
                Err(TreeError::NotUndone {
                    error: Box::new(error),
                    left: std::mem::take(&mut txn.not_undone),
                })
            }
        }
    }
}

/// Write a make-format depfile: `TARGET: dep1 dep2 ...` with spaces escaped as make requires, atomically.
///
/// Like GCC's `-MP`, an empty rule follows for each dependency, so make does
/// not fail when a model file is deleted. A depfile with the same bytes is
/// left alone.
pub fn write_depfile(path: &Path, target: &str, deps: &[String]) -> Result<(), TreeError> {
    let text = depfile_text(target, deps).map_err(|what| blocked(path, what))?;
    if fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    let dir = parent(path);
    fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(STAGED_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    (builder.tempfile_in(dir))
        .and_then(|mut staged| {
            staged.write_all(text.as_bytes())?;
            staged.persist(path).map(drop).map_err(|e| e.error)
        })
        .map_err(io_err(path, "write"))
}

fn depfile_text(target: &str, deps: &[String]) -> Result<String, String> {
    let mut rule = make_escape(target)? + ":";
    let mut empty_rules = String::new();
    for dep in deps {
        let dep = make_escape(dep)?;
        rule.push(' ');
        rule.push_str(&dep);
        empty_rules.push('\n');
        empty_rules.push_str(&dep);
        empty_rules.push_str(":\n");
    }
    rule.push('\n');
    Ok(rule + &empty_rules)
}

/// Escapes a path for a make rule as GCC's `-MD` does: blanks as `\ ` (doubling
/// the backslashes before them), `#` as `\#`, `$` as `$$`.
fn make_escape(path: &str) -> Result<String, String> {
    if path.contains(['\n', '\r']) {
        return Err(format!(
            "`{}` contains a line break, which a make depfile cannot express; rename it",
            path.escape_debug()
        ));
    }
    let mut escaped = String::with_capacity(path.len());
    for (i, c) in path.char_indices() {
        match c {
            ' ' | '\t' => {
                let before = &path[..i];
                let backslashes = before.len() - before.trim_end_matches('\\').len();
                escaped.extend(std::iter::repeat_n('\\', backslashes + 1));
            }
            '#' => escaped.push('\\'),
            '$' => escaped.push('$'),
            _ => {}
        }
        escaped.push(c);
    }
    Ok(escaped)
}

// ---------------------------------------------------------------------------
// Paths

/// OUT joined with a relative `/`-separated path (for messages).
fn target(out: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        return out.to_path_buf();
    }
    rel.split('/')
        .fold(out.to_path_buf(), |path, name| path.join(name))
}

/// The directory holding `path` (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    let dir = path.parent().unwrap_or(Path::new(""));
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

/// The directory part and the name of a relative path (`""`: OUT).
fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

/// Relative, `/`-separated, no empty, `.` or `..` component, nothing absolute.
fn is_normal(rel: &str) -> bool {
    !rel.is_empty() && rel.split('/').all(is_normal_name)
}

fn is_normal_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    !name.contains(['\\', '\0'])
        && matches!((parts.next(), parts.next()),
            (Some(Component::Normal(n)), None) if n == name)
}

fn is_reserved(rel: &str) -> bool {
    rel.split('/').next() == Some(MANIFEST)
}

/// A path of the generated layout (docs/kubernetes.md):
/// `[ENV/]kustomization.yaml`, `[ENV/]cluster/<kind>-<name>.yaml`,
/// `[ENV/]<ns>/<kind>-<name>.yaml`. Normalized, one to three names, none
/// starting with `.` (so never `.git/…` nor palisade's own files) or `#`
/// (a comment in the record file), no line break (a line of its own there),
/// the last ending in `.yaml`. Only such paths are written, and only such
/// entries of the record file are taken as generated: a tampered record
/// file cannot make palisade replace or remove anything else.
fn is_layout_path(rel: &str) -> bool {
    is_normal(rel)
        && !is_reserved(rel)
        && !rel.contains(['\n', '\r'])
        && rel.split('/').count() <= 3
        && rel.split('/').all(|name| !name.starts_with(['.', '#']))
        && rel.ends_with(".yaml")
}

/// The proper ancestors of a relative path: `a`, `a/b` for `a/b/c`.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    rel.match_indices('/').map(move |(i, _)| &rel[..i])
}

/// Whether `rel` is inside the build's scope (`build --env ENV`).
fn in_scope(rel: &str, scope: Option<&str>) -> bool {
    scope.is_none_or(|env| rel.strip_prefix(env).is_some_and(|r| r.starts_with('/')))
}

/// Rejects paths outside the layout or the scope, and paths that are both
/// a file and a directory.
fn check_names(out: &Path, files: &FileSet, scope: Option<&str>) -> Result<(), TreeError> {
    for rel in files.keys() {
        if is_reserved(rel) {
            return Err(blocked(target(out, rel), RESERVED));
        }
        if !is_layout_path(rel) || !in_scope(rel, scope) {
            return Err(blocked(target(out, rel), BAD_NAME));
        }
        if let Some(dir) = ancestors(rel).find(|dir| files.contains_key(*dir)) {
            return Err(blocked(target(out, dir), FILE_AND_DIR));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// OUT, opened once

/// OUT must be a directory, or not exist yet.
fn check_out(out: &Path) -> Result<(), TreeError> {
    match fs::metadata(out) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(blocked(out, FILE_IN_THE_WAY)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(out, "read")(e)),
    }
}

/// Creates OUT and its missing parents; returns those it created, outermost first.
fn create_out(out: &Path) -> Result<Vec<PathBuf>, TreeError> {
    let missing: Vec<&Path> = (out.ancestors())
        .take_while(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
        .collect();
    let mut created = Vec::new();
    for dir in missing.into_iter().rev() {
        match fs::create_dir(dir) {
            Ok(()) => created.push(dir.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => {
                remove_created(&created);
                return Err(io_err(dir, "create directory")(e));
            }
        }
    }
    Ok(created)
}

/// Removes the directories [`create_out`] created, if still empty.
fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// OUT opened for reading (a real descriptor, so that it can be locked and
/// fsynced), `None` if it does not exist.
fn open_out(out: &Path) -> Result<Option<fs::File>, TreeError> {
    match fs::File::open(out) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(out, "read")(e)),
    }
}

/// The same file (device and inode) as the one at `path` now.
#[cfg(unix)]
fn still_at(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &fs::File, _path: &Path) -> bool {
    true
}

/// Opens OUT and takes its advisory lock (`flock` on OUT itself): exclusive
/// for a sync, shared for a plan. When another build holds it, calls
/// `opts.waiting` once and waits, at most `opts.lock_timeout` in all. A lock taken on a directory that is no longer
/// OUT (the build that held it removed the OUT it had created) is dropped
/// and taken again. `create`: create OUT first ([`create_out`]); the
/// directories created are returned.
fn open_locked(
    out: &Path,
    exclusive: bool,
    create: bool,
    opts: &SyncOptions<'_>,
) -> Result<Option<(fs::File, Vec<PathBuf>)>, TreeError> {
    let mut told = false;
    // A timeout too large to add to now is no timeout.
    let deadline = (opts.lock_timeout).and_then(|t| Some((Instant::now().checked_add(t)?, t)));
    loop {
        let created = if create { create_out(out)? } else { Vec::new() };
        let Some(file) = open_out(out)? else {
            return Ok(None);
        };
        let tried = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match tried {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                if !told {
                    if let Some(waiting) = opts.waiting {
                        waiting();
                    }
                    told = true;
                }
                match deadline {
                    None => {
                        let locked = if exclusive {
                            file.lock()
                        } else {
                            file.lock_shared()
                        };
                        locked.map_err(io_err(out, "lock"))?;
                    }
                    Some((deadline, timeout)) => {
                        lock_until(&file, exclusive, deadline).map_err(|e| match e {
                            fs::TryLockError::WouldBlock => TreeError::LockTimeout {
                                path: out.to_path_buf(),
                                waited: timeout,
                            },
                            fs::TryLockError::Error(e) => io_err(out, "lock")(e),
                        })?;
                    }
                }
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(out, "lock")(e)),
        }
        if still_at(&file, out) {
            return Ok(Some((file, created)));
        }
    }
}

/// Takes the lock, trying again (every 50 ms at most) until `deadline`;
/// `WouldBlock` when it passed. (`flock` has no timeout of its own, and a
/// timer signal to interrupt a blocking one is not a library's to set.)
fn lock_until(file: &fs::File, exclusive: bool, deadline: Instant) -> Result<(), fs::TryLockError> {
    loop {
        let tried = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match tried {
            Err(fs::TryLockError::WouldBlock) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(fs::TryLockError::WouldBlock);
                }
                std::thread::sleep(left.min(Duration::from_millis(50)));
            }
            done => return done,
        }
    }
}

/// A directory of OUT as a sync sees it.
#[derive(Clone)]
enum DirState {
    /// A real directory, opened (without following a symbolic link) from
    /// its parent's handle.
    Present(Arc<Dir>),
    Missing,
    /// Something else is in the way at this relative path (maybe an ancestor).
    Blocked(String, &'static str),
}

/// OUT and the handles of its directories. Every read and write is
/// relative to a directory handle opened once, one name at a time, without
/// following symbolic links: swapping a directory of OUT for a link while a
/// build runs cannot make it touch anything outside OUT.
struct Tree<'o> {
    out: &'o Path,
    /// `None`: OUT does not exist (only a plan sees that).
    root: Option<Arc<Dir>>,
    /// What each directory (relative path) is, looked at once per sync.
    dirs: HashMap<String, DirState>,
}

impl<'o> Tree<'o> {
    fn new(out: &'o Path, root: Option<&fs::File>) -> Result<Tree<'o>, TreeError> {
        let root = match root {
            Some(file) => Some(Arc::new(Dir::from_std_file(
                file.try_clone().map_err(io_err(out, "read"))?,
            ))),
            None => None,
        };
        Ok(Tree {
            out,
            root,
            dirs: HashMap::new(),
        })
    }

    fn path(&self, rel: &str) -> PathBuf {
        target(self.out, rel)
    }

    /// What the directory at `rel` (`""`: OUT) is.
    fn dir(&mut self, rel: &str) -> Result<DirState, TreeError> {
        if rel.is_empty() {
            return Ok(match &self.root {
                Some(root) => DirState::Present(root.clone()),
                None => DirState::Missing,
            });
        }
        if let Some(state) = self.dirs.get(rel) {
            return Ok(state.clone());
        }
        let (up, name) = split(rel);
        let state = match self.dir(up)? {
            DirState::Present(parent) => match parent.symlink_metadata(name) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    DirState::Blocked(rel.to_owned(), SYMLINK)
                }
                Ok(meta) if meta.is_dir() => match parent.open_dir_nofollow(name) {
                    Ok(dir) => DirState::Present(Arc::new(dir)),
                    Err(e) => return Err(io_err(&self.path(rel), "read")(e)),
                },
                Ok(_) => DirState::Blocked(rel.to_owned(), FILE_IN_THE_WAY),
                Err(e) if e.kind() == io::ErrorKind::NotFound => DirState::Missing,
                Err(e) => return Err(io_err(&self.path(rel), "read")(e)),
            },
            other => other,
        };
        self.dirs.insert(rel.to_owned(), state.clone());
        Ok(state)
    }

    /// Whether every directory this sync opened is still where it was
    /// opened: OUT at its path, and each directory of OUT a real directory
    /// at its name in its parent, with the same device and inode as its
    /// handle. A parent's handle is checked like its children's, so
    /// together: every handle still reaches the directory at its path in
    /// OUT. A directory moved out of OUT (or replaced) while the sync runs
    /// fails this with [`TreeError::Moved`].
    #[cfg(unix)]
    fn verify(&self) -> Result<(), TreeError> {
        use cap_std::fs::MetadataExt as _;
        use std::os::unix::fs::MetadataExt as _;
        let Some(root) = &self.root else {
            return Ok(());
        };
        let moved = |rel: &str| TreeError::Moved {
            path: self.path(rel),
        };
        let id = |m: &Metadata| (m.dev(), m.ino());
        let at_out = fs::metadata(self.out).map(|m| (m.dev(), m.ino()));
        match (root.dir_metadata(), at_out) {
            (Ok(handle), Ok(at_out)) if id(&handle) == at_out => {}
            _ => return Err(moved("")),
        }
        for (rel, state) in &self.dirs {
            let DirState::Present(dir) = state else {
                continue;
            };
            let (up, name) = split(rel);
            let parent = match up {
                "" => root,
                up => match self.dirs.get(up) {
                    Some(DirState::Present(parent)) => parent,
                    _ => return Err(moved(rel)),
                },
            };
            match (parent.symlink_metadata(name), dir.dir_metadata()) {
                (Ok(at_path), Ok(handle))
                    if at_path.is_dir()
                        && !at_path.file_type().is_symlink()
                        && id(&at_path) == id(&handle) => {}
                _ => return Err(moved(rel)),
            }
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn verify(&self) -> Result<(), TreeError> {
        Ok(())
    }

    /// The handle of the directory holding `rel`, if it is there.
    fn parent_of(&mut self, rel: &str) -> Result<Option<Arc<Dir>>, TreeError> {
        match self.dir(split(rel).0)? {
            DirState::Present(dir) => Ok(Some(dir)),
            DirState::Missing => Ok(None),
            DirState::Blocked(at, what) => Err(blocked(self.path(&at), what)),
        }
    }
}

// ---------------------------------------------------------------------------
// Reading OUT

/// What is at a path, without following symbolic links.
enum Entry {
    Missing,
    File(Metadata),
    Dir,
    Symlink,
    Other,
}

fn entry(dir: &Dir, name: &str, path: &Path) -> Result<Entry, TreeError> {
    match dir.symlink_metadata(name) {
        Ok(meta) if meta.file_type().is_symlink() => Ok(Entry::Symlink),
        Ok(meta) if meta.is_dir() => Ok(Entry::Dir),
        Ok(meta) if meta.is_file() => Ok(Entry::File(meta)),
        Ok(_) => Ok(Entry::Other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Entry::Missing),
        Err(e) => Err(io_err(path, "read")(e)),
    }
}

/// Why an entry cannot be replaced by a file.
fn not_a_file(entry: &Entry) -> &'static str {
    match entry {
        Entry::Dir => DIR_IN_THE_WAY,
        Entry::Symlink => SYMLINK,
        _ => NOT_A_FILE,
    }
}

/// Opens a file of `dir` for reading, never through a symbolic link and
/// never waiting (a FIFO put there since the survey).
fn open_read(dir: &Dir, name: &str) -> io::Result<cap_std::fs::File> {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = dir.open_with(name, &options)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// Up to `limit` bytes from the start of a file of `dir`.
fn read_at_most(dir: &Dir, name: &str, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    open_read(dir, name)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What a wanted file is to the survey.
enum Class {
    Added,
    Unchanged,
    /// With the permissions of the file it replaces.
    Changed(Permissions),
}

/// The manifest's text and permissions, if there is one.
fn read_manifest(tree: &mut Tree<'_>) -> Result<Option<(String, Permissions)>, TreeError> {
    let path = tree.path(MANIFEST);
    let Some(root) = tree.root.clone() else {
        return Ok(None);
    };
    let meta = match entry(&root, MANIFEST, &path)? {
        Entry::Missing => return Ok(None),
        Entry::File(meta) => meta,
        other => return Err(blocked(path, not_a_file(&other))),
    };
    let bytes =
        read_at_most(&root, MANIFEST, MAX_MANIFEST_BYTES + 1).map_err(io_err(&path, "read"))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(blocked(
            path,
            "it is larger than any record palisade writes; delete it",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        blocked(
            path.clone(),
            "it is not UTF-8, so palisade did not write it; delete it",
        )
    })?;
    Ok(Some((text, meta.permissions())))
}

/// The record file of a build of 1,000,000 files is well under this.
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

fn parse_manifest(text: &str) -> Result<BTreeSet<String>, String> {
    let mut listed = BTreeSet::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if !is_layout_path(line) {
            return Err(format!(
                "it lists `{}`, which is not a path palisade generates \
                 (`[ENV/]NAMESPACE/KIND-NAME.yaml`); fix or remove that line",
                line.escape_debug()
            ));
        }
        listed.insert(line.to_owned());
    }
    Ok(listed)
}

fn render_manifest<'a>(paths: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = format!("{MANIFEST_HEADER}\n");
    for path in paths {
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// Whether bytes read from the start of a file (all of it, or at least
/// `marker.len()` bytes) can be palisade's: they start with the marker, or
/// are cut short within it (a file being added when a build was killed).
fn is_ours(start: &[u8], marker: Option<&[u8]>) -> bool {
    marker.is_none_or(|m| start.starts_with(m) || m.starts_with(start))
}

/// What OUT holds, compared with what a build wants.
#[derive(Default)]
struct Survey {
    plan: Plan,
    /// The paths the manifest lists.
    generated: BTreeSet<String>,
    /// The manifest as it is on disk, if there is one.
    manifest: Option<String>,
    /// Permissions of the files about to be replaced (manifest included).
    modes: BTreeMap<String, Permissions>,
}

fn survey(
    tree: &mut Tree<'_>,
    files: &FileSet,
    opts: &SyncOptions<'_>,
) -> Result<Survey, TreeError> {
    let mut survey = Survey::default();
    if let Some((text, mode)) = read_manifest(tree)? {
        survey.generated =
            parse_manifest(&text).map_err(|what| blocked(tree.path(MANIFEST), what))?;
        survey.manifest = Some(text);
        survey.modes.insert(MANIFEST.to_owned(), mode);
    }
    survey.classify_all(tree, files, opts.marker)?;
    survey.find_removals(tree, files, opts)?;
    Ok(survey)
}

impl Survey {
    /// Classifies every wanted file as added, changed or unchanged, or fails
    /// if one may not be written. The directories are looked at first, once
    /// each; then the files, whose bytes a rebuild must compare, on every core.
    fn classify_all(
        &mut self,
        tree: &mut Tree<'_>,
        files: &FileSet,
        marker: Option<&[u8]>,
    ) -> Result<(), TreeError> {
        let mut wanted = Vec::with_capacity(files.len());
        for (rel, bytes) in files {
            wanted.push((rel, bytes, tree.parent_of(rel)?));
        }
        let generated = &self.generated;
        let out = tree.out;
        let classes: Vec<Result<Class, TreeError>> = wanted
            .into_par_iter()
            .map(|(rel, bytes, dir)| {
                let Some(dir) = dir else {
                    return Ok(Class::Added);
                };
                let name = split(rel).1;
                let path = || target(out, rel);
                Ok(match entry(&dir, name, &path())? {
                    Entry::Missing => Class::Added,
                    Entry::File(_) if !generated.contains(rel.as_str()) => {
                        return Err(TreeError::Foreign { path: path() })
                    }
                    Entry::File(meta) => {
                        let len = bytes.len() as u64;
                        let limit = if meta.len() == len {
                            len
                        } else {
                            marker.map_or(0, |m| m.len() as u64)
                        };
                        let now =
                            read_at_most(&dir, name, limit).map_err(io_err(&path(), "read"))?;
                        if meta.len() == len && now == **bytes {
                            Class::Unchanged
                        } else if !is_ours(&now, marker) {
                            return Err(TreeError::NotOurs { path: path() });
                        } else {
                            Class::Changed(meta.permissions())
                        }
                    }
                    other => return Err(blocked(path(), not_a_file(&other))),
                })
            })
            .collect();
        for ((rel, _), class) in files.iter().zip(classes) {
            match class? {
                Class::Added => self.plan.added.push(rel.to_owned()),
                Class::Unchanged => self.plan.unchanged += 1,
                Class::Changed(mode) => {
                    self.plan.changed.push(rel.to_owned());
                    self.modes.insert(rel.to_owned(), mode);
                }
            }
        }
        Ok(())
    }

    /// Generated files (in the build's scope) that the build no longer wants.
    fn find_removals(
        &mut self,
        tree: &mut Tree<'_>,
        files: &FileSet,
        opts: &SyncOptions<'_>,
    ) -> Result<(), TreeError> {
        for rel in self
            .generated
            .iter()
            .filter(|rel| !files.contains_key(*rel) && in_scope(rel, opts.scope))
        {
            let dir = match tree.dir(split(rel).0)? {
                DirState::Present(dir) => dir,
                _ => continue,
            };
            let path = tree.path(rel);
            let name = split(rel).1;
            if let Entry::File(_) = entry(&dir, name, &path)? {
                if let Some(marker) = opts.marker {
                    let start = read_at_most(&dir, name, marker.len() as u64)
                        .map_err(io_err(&path, "read"))?;
                    if !is_ours(&start, Some(marker)) {
                        return Err(TreeError::NotOurs { path });
                    }
                }
                self.plan.removed.push(rel.clone());
            }
        }
        Ok(())
    }

    /// The commit steps, in order (module documentation, "The transaction").
    fn steps<'a>(&self, files: &'a FileSet, scope: Option<&str>) -> Vec<Step<'a>> {
        let mut steps = Vec::new();
        let mut on_disk = self.manifest.clone();
        if !self.plan.added.is_empty()
            && self.push_manifest(&mut steps, &mut on_disk, self.provisional())
        {
            steps.push(Step::SyncOut);
        }
        for rel in &self.plan.added {
            steps.push(self.write_step(rel, &files[rel], false));
        }
        for rel in &self.plan.changed {
            steps.push(self.write_step(rel, &files[rel], true));
        }
        steps.extend(self.plan.removed.iter().cloned().map(Step::Remove));
        // Generated files outside the scope stay listed.
        let kept = (self.generated.iter()).filter(|rel| !in_scope(rel, scope));
        let last: BTreeSet<&str> = (files.keys().chain(kept)).map(String::as_str).collect();
        self.push_manifest(&mut steps, &mut on_disk, render_manifest(last));
        steps
    }

    /// The manifest listing both what was generated and what is about to be added.
    fn provisional(&self) -> String {
        let both: BTreeSet<&String> = self.generated.iter().chain(&self.plan.added).collect();
        render_manifest(both.into_iter().map(String::as_str))
    }

    fn write_step<'a>(&self, rel: &str, bytes: &'a [u8], existed: bool) -> Step<'a> {
        Step::Write(WriteStep {
            rel: rel.to_owned(),
            bytes: Cow::Borrowed(bytes),
            mode: self.modes.get(rel).cloned(),
            existed,
            in_place: !existed,
            staged: None,
        })
    }

    /// Adds a step writing the manifest, unless it already reads `text`.
    fn push_manifest(
        &self,
        steps: &mut Vec<Step<'_>>,
        on_disk: &mut Option<String>,
        text: String,
    ) -> bool {
        if on_disk.as_deref() == Some(text.as_str()) {
            return false;
        }
        steps.push(Step::Write(WriteStep {
            rel: MANIFEST.to_owned(),
            bytes: Cow::Owned(text.clone().into_bytes()),
            mode: self.modes.get(MANIFEST).cloned(),
            existed: on_disk.is_some(),
            in_place: false,
            staged: None,
        }));
        *on_disk = Some(text);
        true
    }
}

// ---------------------------------------------------------------------------
// Writing OUT

enum Step<'a> {
    Write(WriteStep<'a>),
    Remove(String),
    /// Make the renames done so far in OUT durable.
    SyncOut,
}

struct WriteStep<'a> {
    rel: String,
    bytes: Cow<'a, [u8]>,
    /// The permissions of the file it replaces.
    mode: Option<Permissions>,
    /// Whether a file is there to replace.
    existed: bool,
    /// An added file (not a manifest) is created in place during the commit,
    /// not staged and renamed: nothing is there to protect, the provisional
    /// manifest already lists it, and a rollback deletes it.
    in_place: bool,
    staged: Option<Temp>,
}

/// A temp file `.palisade-*.tmp` (staged bytes or a backup) in a directory
/// of OUT, deleted on drop unless [`Temp::persist`]ed or kept.
struct Temp {
    dir: Arc<Dir>,
    name: String,
    armed: bool,
}

impl Temp {
    /// Renames it to `name` in its directory.
    fn persist(mut self, name: &str) -> io::Result<()> {
        self.dir.rename(&self.name, &self.dir, name)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.dir.remove_file(&self.name);
        }
    }
}

/// How to undo one step done.
enum Undo {
    RemoveDir { parent: Arc<Dir>, rel: String },
    RemoveFile { dir: Arc<Dir>, rel: String },
    Restore { rel: String, backup: Temp },
}

/// The journal of a sync; rolls back on drop unless finished.
struct Txn<'o> {
    tree: Tree<'o>,
    journal: Vec<Undo>,
    /// Directories (relative) whose entries changed, to fsync at the end.
    touched: BTreeSet<String>,
    finished: bool,
    /// What a rollback could not put back.
    not_undone: Vec<PathBuf>,
}

impl<'o> Txn<'o> {
    fn new(tree: Tree<'o>) -> Txn<'o> {
        Txn {
            tree,
            journal: Vec::new(),
            touched: BTreeSet::new(),
            finished: false,
            not_undone: Vec::new(),
        }
    }

    /// Stages every write, then commits every step. Staged files not yet
    /// committed are deleted when `steps` is dropped, on return. Before the
    /// first visible step and after the last, every directory handle must
    /// still reach its directory in OUT ([`Tree::verify`]): a directory
    /// moved away during the sync fails it, before anything changed or
    /// (moved during the commit) to be undone.
    fn apply(&mut self, mut steps: Vec<Step<'_>>) -> Result<(), TreeError> {
        for step in &mut steps {
            match step {
                Step::Write(write) if !write.in_place => self.stage(write)?,
                _ => {}
            }
        }
        self.tree.verify()?;
        let mut steps = steps.into_iter().peekable();
        while let Some(step) = steps.next() {
            match step {
                Step::Write(write) if write.in_place => {
                    let mut batch = vec![write];
                    while let Some(Step::Write(next)) = steps.peek() {
                        if !next.in_place {
                            break;
                        }
                        let Some(Step::Write(next)) = steps.next() else {
                            unreachable!("peeked")
                        };
                        batch.push(next);
                    }
                    self.create_batch(batch)?;
                }
                Step::Write(write) => self.commit_write(write)?,
                Step::Remove(rel) => self.commit_remove(&rel)?,
                Step::SyncOut => {
                    let root = self.tree.root.clone().expect("a sync opens OUT");
                    fail_point()
                        .and_then(|()| sync_dir(&root))
                        .map_err(io_err(self.tree.out, "sync"))?
                }
            }
        }
        self.tree.verify()
    }

    /// Creates the directory `rel` and its missing parents, journaling each;
    /// returns its handle.
    fn create_dirs(&mut self, rel: &str) -> Result<Arc<Dir>, TreeError> {
        match self.tree.dir(rel)? {
            DirState::Present(dir) => return Ok(dir),
            DirState::Blocked(at, what) => return Err(blocked(self.tree.path(&at), what)),
            DirState::Missing => {}
        }
        let (up, name) = split(rel);
        let parent = self.create_dirs(up)?;
        let path = self.tree.path(rel);
        match parent.create_dir(name) {
            Ok(()) => {
                self.touched.insert(up.to_owned());
                self.journal.push(Undo::RemoveDir {
                    parent: parent.clone(),
                    rel: rel.to_owned(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(&path, "create directory")(e)),
        }
        let dir =
            Arc::new((parent.open_dir_nofollow(name)).map_err(io_err(&path, "create directory"))?);
        self.tree
            .dirs
            .insert(rel.to_owned(), DirState::Present(dir.clone()));
        Ok(dir)
    }

    fn stage(&mut self, write: &mut WriteStep<'_>) -> Result<(), TreeError> {
        let dir = self.create_dirs(split(&write.rel).0)?;
        let staged = fail_point()
            .and_then(|()| write_temp(&dir, &write.bytes, write.mode.as_ref()))
            .map_err(io_err(&self.tree.path(&write.rel), "write"))?;
        write.staged = Some(staged);
        Ok(())
    }

    fn commit_write(&mut self, write: WriteStep<'_>) -> Result<(), TreeError> {
        if write.in_place {
            return self.create_in_place(write);
        }
        let op = if write.existed { "replace" } else { "create" };
        let staged = write
            .staged
            .expect("every write is staged before the commit");
        let dir = staged.dir.clone();
        let (up, name) = split(&write.rel);
        if write.existed {
            self.back_up(&dir, &write.rel, op)?;
        }
        fail_point()
            .and_then(|()| staged.persist(name))
            .map_err(io_err(&self.tree.path(&write.rel), op))?;
        self.touched.insert(up.to_owned());
        if !write.existed {
            self.journal.push(Undo::RemoveFile {
                dir,
                rel: write.rel,
            });
        }
        Ok(())
    }

    /// Added files: their directories first, then the files, on every core
    /// when there are many (file creation is most of a first build's time;
    /// the kernel creates files in different directories in parallel).
    fn create_batch(&mut self, batch: Vec<WriteStep<'_>>) -> Result<(), TreeError> {
        if batch.len() < PARALLEL_CREATE_MIN {
            return batch.into_iter().try_for_each(|w| self.create_in_place(w));
        }
        let mut dirs = Vec::with_capacity(batch.len());
        for write in &batch {
            dirs.push(self.create_dirs(split(&write.rel).0)?);
        }
        // Injected failures (tests) are decided here, in order, per file.
        let injected: Vec<bool> = batch.iter().map(|_| fail_point().is_err()).collect();
        let out = self.tree.out;
        let results: Vec<Created> = batch
            .into_par_iter()
            .zip(dirs)
            .zip(injected)
            .map(|((write, dir), injected)| {
                let path = || target(out, &write.rel);
                let created = if injected {
                    Err(io::Error::other("injected failure"))
                } else {
                    create_new(&dir, split(&write.rel).1)
                };
                match created {
                    Err(e) => (
                        dir,
                        write.rel.clone(),
                        false,
                        Err(io_err(&path(), "create")(e)),
                    ),
                    Ok(mut file) => {
                        let written = file
                            .write_all(&write.bytes)
                            .map_err(io_err(&path(), "write"));
                        (dir, write.rel, true, written)
                    }
                }
            })
            .collect();
        let mut first_error = None;
        for (dir, rel, created, result) in results {
            if created {
                self.touched.insert(split(&rel).0.to_owned());
                self.journal.push(Undo::RemoveFile { dir, rel });
            }
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// A new file, created where it belongs (`O_EXCL`: it never replaces or
    /// follows anything that appeared since the survey).
    fn create_in_place(&mut self, write: WriteStep<'_>) -> Result<(), TreeError> {
        let (up, name) = split(&write.rel);
        let dir = self.create_dirs(up)?;
        let path = self.tree.path(&write.rel);
        let mut file = fail_point()
            .and_then(|()| create_new(&dir, name))
            .map_err(io_err(&path, "create"))?;
        self.touched.insert(up.to_owned());
        self.journal.push(Undo::RemoveFile {
            dir,
            rel: write.rel.clone(),
        });
        fail_point()
            .and_then(|()| file.write_all(&write.bytes))
            .map_err(io_err(&path, "write"))
    }

    fn commit_remove(&mut self, rel: &str) -> Result<(), TreeError> {
        let path = self.tree.path(rel);
        let Some(dir) = self.tree.parent_of(rel)? else {
            return Ok(());
        };
        self.back_up(&dir, rel, "remove")?;
        fail_point()
            .and_then(|()| remove_if_present(&dir, split(rel).1))
            .map_err(io_err(&path, "remove"))?;
        self.touched.insert(split(rel).0.to_owned());
        Ok(())
    }

    fn back_up(&mut self, dir: &Arc<Dir>, rel: &str, op: &'static str) -> Result<(), TreeError> {
        let backup = back_up(dir, split(rel).1).map_err(io_err(&self.tree.path(rel), op))?;
        self.journal.push(Undo::Restore {
            rel: rel.to_owned(),
            backup,
        });
        Ok(())
    }

    /// Undoes every step done, newest first; best effort (see the module
    /// doc): what it could not undo is in `not_undone`.
    fn rollback(&mut self) {
        while let Some(undo) = self.journal.pop() {
            let (rel, done) = match undo {
                Undo::Restore { rel, backup } => {
                    let done = restore(split(&rel).1, backup);
                    (rel, done)
                }
                Undo::RemoveFile { dir, rel } => {
                    let done = remove_if_present(&dir, split(&rel).1);
                    (rel, done)
                }
                Undo::RemoveDir { parent, rel } => {
                    let done = match parent.remove_dir(split(&rel).1) {
                        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                        done => done,
                    };
                    (rel, done)
                }
            };
            if done.is_err() {
                self.not_undone.push(self.tree.path(&rel));
            }
        }
    }

    /// After a complete commit: make it durable, delete the backups, prune
    /// the directories that removals emptied. Best effort: OUT is right.
    fn finish(&mut self, removed: &[String]) {
        self.finished = true;
        for rel in &self.touched {
            if let Ok(DirState::Present(dir)) = self.tree.dir(rel) {
                let _ = sync_dir(&dir);
            }
        }
        self.journal.clear();
        for rel in removed {
            prune(&mut self.tree, rel);
        }
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.rollback();
        }
    }
}

/// After a successful sync: deletes the staged files and backups
/// (`.palisade-*.tmp`) that a build killed during its commit left in OUT or
/// in a directory of the tree, wanted or generated before (best effort; OUT
/// is already right), then prunes the directories of generated files that
/// this leaves empty. A running sync's own are gone by then, and OUT's lock
/// keeps other builds out.
fn sweep_temps<'a>(
    tree: &mut Tree<'_>,
    files: &FileSet,
    generated: impl Iterator<Item = &'a String>,
) {
    let generated: Vec<&String> = generated.collect();
    let mut dirs: BTreeSet<&str> = BTreeSet::from([""]);
    dirs.extend(files.keys().flat_map(|rel| ancestors(rel)));
    dirs.extend(generated.iter().flat_map(|rel| ancestors(rel)));
    for rel in dirs {
        let Ok(DirState::Present(dir)) = tree.dir(rel) else {
            continue;
        };
        let Ok(entries) = dir.entries() else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with(STAGED_PREFIX) && name.ends_with(TEMP_SUFFIX);
            if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = dir.remove_file(&*name);
            }
        }
    }
    for rel in generated {
        if !files.contains_key(rel) {
            prune(tree, rel);
        }
    }
}

/// Removes the now-empty directories between a removed file and OUT.
fn prune(tree: &mut Tree<'_>, rel: &str) {
    for dir in ancestors(rel).collect::<Vec<_>>().into_iter().rev() {
        let (up, name) = split(dir);
        let Ok(DirState::Present(parent)) = tree.dir(up) else {
            return;
        };
        if parent.remove_dir(name).is_err() {
            return;
        }
        tree.dirs.insert(dir.to_owned(), DirState::Missing);
    }
}

/// A file of a parallel batch: its directory, path, whether it was created,
/// and how writing it went.
type Created = (Arc<Dir>, String, bool, Result<(), TreeError>);

/// From how many added files on, `create_batch` works in parallel.
const PARALLEL_CREATE_MIN: usize = 256;

/// A new file named `name` in `dir` (`O_EXCL`, so never through a link).
fn create_new(dir: &Dir, name: &str) -> io::Result<cap_std::fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.mode(0o666);
    }
    dir.open_with(name, &options)
}

/// A fresh name `PREFIX<random>.tmp`.
fn temp_name(prefix: &str) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{prefix}{:016x}{TEMP_SUFFIX}", hasher.finish())
}

/// A new, empty temp file in `dir` (`f` makes it: `Ok(false)` when the
/// name was taken, then another name is tried).
fn new_temp(
    dir: &Arc<Dir>,
    prefix: &str,
    mut f: impl FnMut(&str) -> io::Result<()>,
) -> io::Result<Temp> {
    for _ in 0..64 {
        let name = temp_name(prefix);
        match f(&name) {
            Ok(()) => {
                return Ok(Temp {
                    dir: dir.clone(),
                    name,
                    armed: true,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temp file name",
    ))
}

/// Writes `bytes` to a new temp file in `dir`, with `mode` if given. No
/// fsync per file: a deploy tree is reproducible from its model, and one
/// fsync per file made a 12,000-file build take 13 s instead of well under
/// one; renames keep every file whole, directories are synced at the end.
fn write_temp(dir: &Arc<Dir>, bytes: &[u8], mode: Option<&Permissions>) -> io::Result<Temp> {
    let mut file = None;
    let temp = new_temp(dir, STAGED_PREFIX, |name| {
        file = Some(create_new(dir, name)?);
        Ok(())
    })?;
    let mut file = file.expect("created");
    file.write_all(bytes)?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        file.set_permissions(mode.clone())?;
    }
    #[cfg(not(unix))]
    let _ = mode; // only the read-only flag: copying it would block the next replace
    Ok(temp)
}

/// Keeps the current version of `name` under a temp name beside it: a hard
/// link, or where the file system has none, the file itself moved aside.
fn back_up(dir: &Arc<Dir>, name: &str) -> io::Result<Temp> {
    if hard_links() {
        if let Ok(link) = new_temp(dir, BACKUP_PREFIX, |backup| {
            dir.hard_link(name, dir, backup)
        }) {
            return Ok(link);
        }
    }
    let backup = new_temp(dir, BACKUP_PREFIX, |backup| {
        create_new(dir, backup).map(drop)
    })?;
    dir.rename(name, dir, &backup.name)?;
    Ok(backup)
}

/// Puts a backup back in place of `name`. If the step it guarded never
/// happened, `name` and a hard-link backup are the same file, and renaming
/// one onto the other does nothing (POSIX): the backup must then be deleted.
/// On failure the backup is kept (the old bytes stay somewhere).
fn restore(name: &str, mut backup: Temp) -> io::Result<()> {
    let dir = backup.dir.clone();
    match dir.rename(&backup.name, &dir, name) {
        Ok(()) => {
            backup.armed = dir.symlink_metadata(&backup.name).is_ok();
            Ok(())
        }
        Err(e) => {
            backup.armed = false;
            Err(e)
        }
    }
}

/// Deletes `name`; already gone is fine (the backup moved it aside).
fn remove_if_present(dir: &Dir, name: &str) -> io::Result<()> {
    match dir.remove_file(name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        result => result,
    }
}

/// fsync of a directory: through a readable descriptor of it (the handles
/// of subdirectories may be `O_PATH`, which cannot be synced).
#[cfg(unix)]
fn sync_dir(dir: &Dir) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.read(true);
    dir.open_with(".", &options)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Dir) -> io::Result<()> {
    Ok(())
}
#[cfg(test)]
thread_local! {
    /// Test hook: `Some(n)` makes the n-th file-system step of this thread's
    /// next sync fail (staging a file, each commit step), then resets itself.
    static FAIL_AT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

#[cfg(test)]
thread_local! {
    /// Test hook: `false` makes backups take the path of file systems without
    /// hard links.
    static HARD_LINKS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

#[cfg(test)]
fn hard_links() -> bool {
    HARD_LINKS.with(|links| links.get())
}

#[cfg(not(test))]
#[inline(always)]
fn hard_links() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    /// Test hook: `Some((n, f))` runs `f` just before the n-th file-system
    /// step of this thread's next sync (as [`FAIL_AT`] counts them).
    #[allow(clippy::type_complexity)]
    static ON_STEP: std::cell::RefCell<Option<(usize, Box<dyn FnOnce()>)>> =
        const { std::cell::RefCell::new(None) };
}

#[cfg(test)]
fn fail_point() -> io::Result<()> {
    let hook = ON_STEP.with(|on| {
        let mut on = on.borrow_mut();
        match on.as_mut() {
            Some((1, _)) => on.take().map(|(_, f)| f),
            Some((n, _)) => {
                *n -= 1;
                None
            }
            None => None,
        }
    });
    if let Some(hook) = hook {
        hook();
    }
    FAIL_AT.with(|at| match at.get() {
        Some(1) => {
            at.set(None);
            Err(io::Error::other("injected failure"))
        }
        Some(n) => {
            at.set(Some(n - 1));
            Ok(())
        }
        None => Ok(()),
    })
}

#[cfg(not(test))]
#[inline(always)]
fn fail_point() -> io::Result<()> {
    env_fault()
}

/// The environment variable of the failure-injection hook of tests that run
/// the `palisade` binary (tests/failures.rs, docs/testing.md):
/// `N[:ERROR]` makes the N-th file-system step of the process's first sync
/// (staging a file, each commit step; as the unit tests count them) fail
/// with `ERROR`: `enospc` (the default: the disk is full), `eacces`,
/// `erofs` or `eio`.
pub const FAULT_ENV: &str = "PALISADE_TEST_FAIL_AT";

/// The hook of [`FAULT_ENV`]: read once; then one atomic load per step.
#[cfg(not(test))]
fn env_fault() -> io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static FAULT: std::sync::OnceLock<Option<(AtomicUsize, i32)>> = std::sync::OnceLock::new();
    let fault = FAULT.get_or_init(|| {
        let spec = std::env::var(FAULT_ENV).ok()?;
        let (n, error) = spec.split_once(':').unwrap_or((&spec, "enospc"));
        let errno = match error {
            "enospc" => 28,
            "eacces" => 13,
            "erofs" => 30,
            "eio" => 5,
            _ => return None,
        };
        Some((AtomicUsize::new(n.parse().ok()?), errno))
    });
    let Some((left, errno)) = fault else {
        return Ok(());
    };
    match left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
        Ok(1) => Err(io::Error::from_raw_os_error(*errno)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn set(entries: &[(&str, &str)]) -> FileSet {
        (entries.iter())
            .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
            .collect()
    }

    fn strings(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[derive(Debug, PartialEq, Eq)]
    enum Node {
        Dir,
        File(Vec<u8>, SystemTime),
        Link(PathBuf),
    }

    /// Everything under `root`: relative path → what is there (file bytes and mtime).
    fn snapshot(root: &Path) -> BTreeMap<String, Node> {
        let mut nodes = BTreeMap::new();
        if root.exists() {
            walk(root, "", &mut nodes);
        }
        nodes
    }

    fn walk(dir: &Path, prefix: &str, nodes: &mut BTreeMap<String, Node>) {
        for item in fs::read_dir(dir).unwrap() {
            let item = item.unwrap();
            let rel = format!("{prefix}{}", item.file_name().to_str().unwrap());
            let meta = fs::symlink_metadata(item.path()).unwrap();
            let node = if meta.file_type().is_symlink() {
                Node::Link(fs::read_link(item.path()).unwrap())
            } else if meta.is_dir() {
                walk(&item.path(), &format!("{rel}/"), nodes);
                Node::Dir
            } else {
                Node::File(fs::read(item.path()).unwrap(), meta.modified().unwrap())
            };
            nodes.insert(rel, node);
        }
    }

    /// Sets every file's mtime to long ago, so that a rewrite shows.
    fn age(root: &Path) {
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        for (rel, node) in snapshot(root) {
            if let Node::File(..) = node {
                let file = fs::File::options().write(true).open(root.join(rel));
                file.unwrap().set_modified(past).unwrap();
            }
        }
    }

    fn mtimes(root: &Path) -> BTreeMap<String, SystemTime> {
        (snapshot(root).into_iter())
            .filter_map(|(rel, node)| match node {
                Node::File(_, time) => Some((rel, time)),
                _ => None,
            })
            .collect()
    }

    fn read(root: &Path, rel: &str) -> String {
        fs::read_to_string(root.join(rel)).unwrap()
    }

    fn base() -> FileSet {
        set(&[
            ("kustomization.yaml", "k1"),
            ("cluster/namespace-shop.yaml", "ns"),
            ("shop/deployment-web.yaml", "web1"),
            ("shop/service-web.yaml", "svc"),
        ])
    }

    /// A temp dir with OUT (`deploy/out`) synced to `files`.
    fn synced(files: &FileSet) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy/out");
        sync(&out, files).unwrap();
        (tmp, out)
    }

    /// Fails the `n`-th file-system step of the next sync on this thread.
    fn fail_at(n: Option<usize>) {
        FAIL_AT.with(|at| at.set(n));
    }

    /// Above `PARALLEL_CREATE_MIN` added files, creation runs in parallel;
    /// a failure anywhere in the batch still leaves OUT as it was.
    #[test]
    fn a_parallel_first_build_is_complete_and_rolls_back_whole() {
        let many: FileSet = (0..PARALLEL_CREATE_MIN + 50)
            .map(|i| {
                (
                    format!("ns{}/f{i}.yaml", i % 7),
                    format!("{i}").into_bytes(),
                )
            })
            .collect();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("mine.txt"), "mine").unwrap();
        let before = snapshot(&out);
        // Step 1 stages the provisional manifest, 2 commits it, 3 syncs OUT;
        // the creations follow.
        for n in [4, 5, 100, 4 + PARALLEL_CREATE_MIN + 49] {
            fail_at(Some(n));
            let result = sync(&out, &many);
            fail_at(None);
            assert!(matches!(result, Err(TreeError::Io { .. })), "step {n}");
            assert_eq!(snapshot(&out), before, "failing step {n}");
        }
        sync(&out, &many).unwrap();
        for (rel, bytes) in &many {
            assert_eq!(&fs::read(out.join(rel)).unwrap(), bytes);
        }
        assert!(sync(&out, &many).unwrap().is_empty());
    }

    #[test]
    fn first_sync_creates_out_and_writes_every_file_and_the_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy/out");
        let plan = sync(&out, &base()).unwrap();
        assert_eq!(
            plan,
            Plan {
                added: base().into_keys().collect(),
                ..Plan::default()
            }
        );
        for (rel, bytes) in base() {
            assert_eq!(fs::read(out.join(&rel)).unwrap(), bytes, "{rel}");
        }
        assert_eq!(
            read(&out, MANIFEST),
            "# files generated by palisade; do not edit\n\
             cluster/namespace-shop.yaml\n\
             kustomization.yaml\n\
             shop/deployment-web.yaml\n\
             shop/service-web.yaml\n"
        );
        let names: Vec<String> = snapshot(&out).into_keys().collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    }

    #[test]
    fn identical_sync_writes_nothing() {
        let (_tmp, out) = synced(&base());
        age(&out);
        let before = snapshot(&out);
        let plan = sync(&out, &base()).unwrap();
        assert_eq!(
            plan,
            Plan {
                unchanged: 4,
                ..Plan::default()
            }
        );
        assert!(plan.is_empty());
        assert_eq!(
            snapshot(&out),
            before,
            "bytes and mtimes, manifest included"
        );
    }

    #[test]
    fn changing_one_file_rewrites_only_it() {
        let (_tmp, out) = synced(&base());
        age(&out);
        let before = mtimes(&out);
        let mut files = base();
        files.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        let plan = sync(&out, &files).unwrap();
        assert_eq!(plan.changed, strings(&["shop/deployment-web.yaml"]));
        assert_eq!(
            (plan.added.len(), plan.removed.len(), plan.unchanged),
            (0, 0, 3)
        );
        assert_eq!(read(&out, "shop/deployment-web.yaml"), "web2");
        let after = mtimes(&out);
        for (rel, time) in &before {
            let rewritten = rel == "shop/deployment-web.yaml";
            assert_eq!(after[rel] != *time, rewritten, "{rel}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_changed_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, out) = synced(&base());
        let path = out.join("shop/deployment-web.yaml");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let mut files = base();
        files.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        sync(&out, &files).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_file_no_longer_built_is_removed_with_the_directories_it_empties() {
        let mut files = base();
        files.insert("prod/deep/x.yaml".into(), b"x".to_vec());
        let (_tmp, out) = synced(&files);
        files.remove("prod/deep/x.yaml");
        files.remove("shop/service-web.yaml");
        let plan = sync(&out, &files).unwrap();
        assert_eq!(
            plan.removed,
            strings(&["prod/deep/x.yaml", "shop/service-web.yaml"])
        );
        assert!(!out.join("prod").exists(), "emptied directories are pruned");
        assert!(!out.join("shop/service-web.yaml").exists());
        assert!(out.join("shop/deployment-web.yaml").exists());
        assert!(!read(&out, MANIFEST).contains("service-web"));

        sync(&out, &FileSet::new()).unwrap();
        let left: Vec<String> = snapshot(&out).into_keys().collect();
        assert_eq!(left, strings(&[MANIFEST]), "OUT itself stays");
    }

    #[test]
    fn a_users_own_files_survive_every_sync() {
        let (_tmp, out) = synced(&base());
        fs::write(out.join("README.md"), "mine").unwrap();
        fs::write(out.join("shop/notes.txt"), "mine too").unwrap();
        let mut files = base();
        files.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        files.insert("shop/role-web.yaml".into(), b"role".to_vec());
        sync(&out, &files).unwrap();
        files.retain(|rel, _| !rel.starts_with("shop/"));
        let plan = sync(&out, &files).unwrap();
        assert_eq!(plan.removed.len(), 3);
        assert_eq!(read(&out, "README.md"), "mine");
        assert_eq!(read(&out, "shop/notes.txt"), "mine too");
        assert!(out.join("shop").is_dir(), "not empty, so not pruned");
        assert!(!read(&out, MANIFEST).contains("notes"));
    }

    #[test]
    fn a_foreign_file_at_a_wanted_path_is_refused_and_out_unchanged() {
        let (_tmp, out) = synced(&base());
        fs::write(out.join("shop/role-web.yaml"), "mine").unwrap();
        let before = snapshot(&out);
        let mut files = base();
        files.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        files.insert("shop/role-web.yaml".into(), b"role".to_vec());
        let err = sync(&out, &files).unwrap_err();
        assert!(
            matches!(&err, TreeError::Foreign { path } if path == &out.join("shop/role-web.yaml")),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("refusing to overwrite `"),
            "{err}"
        );
        assert_eq!(snapshot(&out), before);
        assert!(matches!(plan(&out, &files), Err(TreeError::Foreign { .. })));
    }

    #[test]
    fn something_in_the_way_is_blocked_and_out_unchanged() {
        let (_tmp, out) = synced(&base());
        fs::write(out.join("prod"), "a file where a directory must be").unwrap();
        fs::create_dir(out.join("web.yaml")).unwrap();
        let before = snapshot(&out);

        let mut files = base();
        files.insert("prod/web.yaml".into(), b"web".to_vec());
        let err = sync(&out, &files).unwrap_err();
        assert!(
            matches!(&err, TreeError::Blocked { path, .. } if path == &out.join("prod")),
            "{err:?}"
        );
        assert!(err.to_string().contains("needs a directory"), "{err}");
        assert_eq!(snapshot(&out), before);

        let mut files = base();
        files.insert("web.yaml".into(), b"web".to_vec());
        let err = sync(&out, &files).unwrap_err();
        assert!(
            matches!(&err, TreeError::Blocked { path, .. } if path == &out.join("web.yaml")),
            "{err:?}"
        );
        assert_eq!(snapshot(&out), before);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_never_followed() {
        let (tmp, out) = synced(&base());
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::remove_dir_all(out.join("shop")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("shop")).unwrap();
        let before = snapshot(&out);
        let err = sync(&out, &base()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(snapshot(&out), before);
        assert_eq!(snapshot(&elsewhere), BTreeMap::new());

        // a generated file reached through a symlink is not removed
        let plan = sync(&out, &FileSet::new()).unwrap();
        assert_eq!(
            plan.removed,
            strings(&["cluster/namespace-shop.yaml", "kustomization.yaml"])
        );
        assert!(out.join("shop").is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_directory_is_an_io_error_and_out_unchanged() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, out) = synced(&base());
        let shop = out.join("shop");
        fs::set_permissions(&shop, fs::Permissions::from_mode(0o555)).unwrap();
        if fs::write(shop.join("probe"), "").is_ok() {
            eprintln!("skipped: chmod does not stop this user (root?)");
            fs::remove_file(shop.join("probe")).unwrap();
            return;
        }
        let before = snapshot(&out);

        let mut files = base();
        files.insert("kustomization.yaml".into(), b"k2".to_vec());
        files.insert("new/x.yaml".into(), b"x".to_vec());
        files.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        let err = sync(&out, &files).unwrap_err();
        assert!(
            matches!(&err, TreeError::Io { op: "write", path, .. }
                if path == &shop.join("deployment-web.yaml")),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(": permission denied (os error 13)"),
            "{err}"
        );
        assert_eq!(snapshot(&out), before);

        let mut files = base();
        files.insert("kustomization.yaml".into(), b"k2".to_vec());
        files.remove("shop/service-web.yaml");
        let err = sync(&out, &files).unwrap_err();
        assert!(
            matches!(&err, TreeError::Io { op: "remove", .. }),
            "{err:?}"
        );
        assert_eq!(snapshot(&out), before);
        fs::set_permissions(&shop, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// The next build's files: one changed, one added in new directories,
    /// one removed (emptying its directory), the rest unchanged.
    fn next(files: &FileSet) -> FileSet {
        let mut files = files.clone();
        files.insert("kustomization.yaml".into(), b"k2".to_vec());
        files.insert("prod/shop/role-web.yaml".into(), b"role".to_vec());
        files.remove("cluster/namespace-shop.yaml");
        files
    }

    #[test]
    fn a_failure_half_way_through_the_commit_leaves_out_byte_for_byte() {
        let (_tmp, out) = synced(&base());
        fs::write(out.join("shop/notes.txt"), "mine").unwrap();
        let before = snapshot(&out);
        // steps 1-4 stage the provisional manifest, the added and the changed
        // file, the final manifest; 5-10 commit them, with an fsync of OUT
        // after the provisional manifest and the removal before the last one
        fail_at(Some(9));
        let err = sync(&out, &next(&base())).unwrap_err();
        fail_at(None);
        assert!(
            matches!(&err, TreeError::Io { op: "remove", .. }),
            "{err:?}"
        );
        assert!(err.to_string().ends_with(": injected failure"), "{err}");
        assert_eq!(snapshot(&out), before);
    }

    #[test]
    fn every_injected_failure_leaves_out_byte_for_byte() {
        every_injected_failure_leaves_out_as_it_was(true);
    }

    #[test]
    fn every_injected_failure_leaves_out_byte_for_byte_without_hard_links() {
        every_injected_failure_leaves_out_as_it_was(false);
    }

    fn every_injected_failure_leaves_out_as_it_was(hard_links: bool) {
        HARD_LINKS.with(|links| links.set(hard_links));
        let (_tmp, out) = synced(&base());
        fs::write(out.join("shop/notes.txt"), "mine").unwrap();
        age(&out);
        let before = snapshot(&out);
        let mut failures = Vec::new();
        for n in 1.. {
            fail_at(Some(n));
            let result = sync(&out, &next(&base()));
            fail_at(None);
            match result {
                Err(TreeError::Io { op, .. }) => failures.push(op),
                Err(e) => panic!("{e}"),
                Ok(_) => break,
            }
            assert_eq!(snapshot(&out), before, "failing step {n} ({failures:?})");
        }
        let expected = [
            "write", "write", "write", // stage: manifests, the changed file
            "replace", "sync", // provisional manifest
            "create", "write", // the added file, in place
            "replace", "remove", "replace", // changed, removed, final manifest
        ];
        assert_eq!(failures, expected);
        assert_eq!(read(&out, "kustomization.yaml"), "k2");
        assert!(!out.join("cluster").exists());
        let names: Vec<String> = snapshot(&out).into_keys().collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
        HARD_LINKS.with(|links| links.set(true));
    }

    /// A build killed during its commit leaves staged files and backups;
    /// the next successful build, with or without work to do, deletes them
    /// and nothing else.
    #[test]
    fn the_next_build_sweeps_what_a_killed_build_left() {
        for rebuild in [base(), next(&base())] {
            let (_tmp, out) = synced(&base());
            let left = [
                ".palisade-a1b2c3.tmp",
                "shop/.palisade-old-d4e5f6.tmp",
                "shop/.palisade-g7h8.tmp",
            ];
            for rel in left {
                fs::write(out.join(rel), "left behind").unwrap();
            }
            fs::write(out.join("shop/.palisade-notes.txt"), "mine").unwrap();
            sync(&out, &rebuild).unwrap();
            for rel in left {
                assert!(!out.join(rel).exists(), "{rel}");
            }
            assert_eq!(read(&out, "shop/.palisade-notes.txt"), "mine");
        }
    }

    #[test]
    fn a_failed_first_build_leaves_no_out_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy/out");
        for n in 1.. {
            fail_at(Some(n));
            let result = sync(&out, &base());
            fail_at(None);
            if result.is_ok() {
                assert_eq!(n, 12, "5 files staged, 6 commit steps");
                break;
            }
            assert_eq!(snapshot(tmp.path()), BTreeMap::new(), "step {n}");
        }
    }

    #[test]
    fn after_a_kill_during_the_commit_the_next_build_completes() {
        let (_tmp, out) = synced(&base());
        let files = next(&base());
        let lock = fs::File::open(&out).unwrap();
        let mut tree = Tree::new(&out, Some(&lock)).unwrap();
        let survey = survey(&mut tree, &files, &SyncOptions::default()).unwrap();
        let mut txn = Txn::new(tree);
        fail_at(Some(8)); // dies after the added file, before the changed one
        assert!(txn.apply(survey.steps(&files, None)).is_err());
        fail_at(None);
        std::mem::forget(txn); // killed: no rollback, backups left behind
        assert_eq!(read(&out, "prod/shop/role-web.yaml"), "role");
        assert!(read(&out, MANIFEST).contains("prod/shop/role-web.yaml"));

        let plan = sync(&out, &files).unwrap();
        assert_eq!(plan.added, Vec::<String>::new(), "taken as generated");
        assert_eq!(plan.changed, strings(&["kustomization.yaml"]));
        assert_eq!(plan.removed, strings(&["cluster/namespace-shop.yaml"]));
        assert_eq!(plan.unchanged, 3);
        let mut left = snapshot(&out);
        for (rel, bytes) in &files {
            match left.remove(rel) {
                Some(Node::File(now, _)) => assert_eq!(&now, bytes, "{rel}"),
                other => panic!("{rel}: {other:?}"),
            }
        }
        left.retain(|_, node| *node != Node::Dir);
        left.remove(MANIFEST);
        assert!(
            left.keys().all(|rel| rel.starts_with(".palisade-old-")),
            "only the dead build's backup is left: {left:?}"
        );
    }

    /// The directory handles are opened by the survey: a directory swapped
    /// for a link to somewhere else afterwards is not followed by the commit
    /// (its writes, renames and removals go to the directory it opened), and
    /// as that directory is no longer at its path, the sync fails and is
    /// undone there.
    #[cfg(unix)]
    #[test]
    fn a_directory_swapped_for_a_link_after_the_survey_is_not_followed() {
        let (tmp, out) = synced(&base());
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        for name in ["service-web.yaml", "deployment-web.yaml"] {
            fs::write(elsewhere.join(name), "theirs").unwrap();
        }
        let before = snapshot(&elsewhere);
        let mut files = base();
        files.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        files.insert("shop/role-web.yaml".into(), b"role".to_vec());
        files.remove("shop/service-web.yaml");
        let lock = fs::File::open(&out).unwrap();
        let mut tree = Tree::new(&out, Some(&lock)).unwrap();
        let survey = survey(&mut tree, &files, &SyncOptions::default()).unwrap();
        fs::rename(out.join("shop"), out.join("shop-aside")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("shop")).unwrap();
        let mut txn = Txn::new(tree);
        let err = txn.apply(survey.steps(&files, None)).unwrap_err();
        assert!(matches!(err, TreeError::Moved { .. }), "{err:?}");
        drop(txn);
        assert_eq!(snapshot(&elsewhere), before, "written through the link");
        assert_eq!(read(&out, "shop-aside/deployment-web.yaml"), "web1");
        assert!(!out.join("shop-aside/role-web.yaml").exists());
        assert!(out.join("shop-aside/service-web.yaml").exists());
        let left: Vec<String> = snapshot(&out.join("shop-aside")).into_keys().collect();
        assert_eq!(left, strings(&["deployment-web.yaml", "service-web.yaml"]));
    }

    #[test]
    fn plan_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        assert_eq!(plan(&out, &base()).unwrap().added.len(), 4);
        assert!(!out.exists());

        sync(&out, &base()).unwrap();
        age(&out);
        let before = snapshot(&out);
        let plan = plan(&out, &next(&base())).unwrap();
        assert_eq!(
            plan,
            Plan {
                added: strings(&["prod/shop/role-web.yaml"]),
                changed: strings(&["kustomization.yaml"]),
                removed: strings(&["cluster/namespace-shop.yaml"]),
                unchanged: 2,
            }
        );
        assert_eq!(snapshot(&out), before);
    }

    #[test]
    fn paths_must_be_normalized_and_relative() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let bad = [
            "",
            "/etc/x",
            "../x",
            "a/../x",
            "a/./x",
            "./x",
            "a//x",
            "a/",
            "a\\x",
            MANIFEST,
            "#G/b.yaml",
            "a/#b.yaml",
            "a\nb.yaml",
            "a\rb.yaml",
            ".git/x.yaml",
            "a/b/c/d.yaml",
            "a.yml",
        ];
        for rel in bad {
            let err = sync(&out, &set(&[("ok.yaml", "ok"), (rel, "x")])).unwrap_err();
            assert!(matches!(err, TreeError::Blocked { .. }), "{rel}: {err:?}");
        }
        let err = sync(&out, &set(&[("a.yaml", "file"), ("a.yaml/b.yaml", "x")])).unwrap_err();
        assert!(err.to_string().contains("both this file"), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn a_manifest_entry_that_escapes_out_is_refused() {
        let (_tmp, out) = synced(&base());
        fs::write(out.join(MANIFEST), "# x\n../../outside\n").unwrap();
        let err = sync(&out, &FileSet::new()).unwrap_err();
        assert!(err.to_string().contains("lists `../../outside`"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn io_errors_name_the_path_and_the_failure() {
        let err = TreeError::Io {
            path: PathBuf::from("out/prod/web/deployment-web.yaml"),
            op: "write",
            source: io::Error::from_raw_os_error(13),
        };
        assert_eq!(
            err.to_string(),
            "cannot write `out/prod/web/deployment-web.yaml`: permission denied (os error 13)"
        );
    }

    #[test]
    fn depfile_escapes_paths_for_make() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("build/palisade.d");
        let deps = strings(&["model/my shop.sec", "a$b#c.sec", "x\\ y.sec"]);
        write_depfile(&path, "out/.palisade-generated", &deps).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "out/.palisade-generated: model/my\\ shop.sec a$$b\\#c.sec x\\\\\\ y.sec\n\
             \nmodel/my\\ shop.sec:\n\
             \na$$b\\#c.sec:\n\
             \nx\\\\\\ y.sec:\n"
        );
        let err = write_depfile(&path, "t", &strings(&["a\nb"])).unwrap_err();
        assert!(matches!(err, TreeError::Blocked { .. }), "{err:?}");
        write_depfile(&path, "t", &[]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "t:\n");
        let left: Vec<String> = snapshot(tmp.path()).into_keys().collect();
        assert_eq!(left, strings(&["build", "build/palisade.d"]));
    }

    /// A build that must wait for OUT's lock waits at most `lock_timeout`,
    /// then fails, having read and written nothing; a plan too.
    #[test]
    fn a_sync_gives_up_waiting_for_the_lock_after_the_timeout() {
        let (_tmp, out) = synced(&base());
        let before = snapshot(&out);
        let held = fs::File::open(&out).unwrap();
        held.lock().unwrap();
        let mut changed = base();
        changed.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        let told = std::cell::Cell::new(0);
        let waiting = || told.set(told.get() + 1);
        for timeout in [Duration::ZERO, Duration::from_millis(300)] {
            let opts = SyncOptions {
                lock_timeout: Some(timeout),
                waiting: Some(&waiting),
                ..SyncOptions::default()
            };
            let start = std::time::Instant::now();
            let err = sync_with(&out, &changed, &opts).unwrap_err();
            let took = start.elapsed();
            assert!(matches!(err, TreeError::LockTimeout { .. }), "{err:?}");
            assert!(err.out_unchanged());
            assert!(took >= timeout && took < timeout + Duration::from_secs(5));
            assert!(err.to_string().contains("gave up after"), "{err}");
            assert_eq!(snapshot(&out), before);
            let err = plan_with(&out, &changed, &opts).unwrap_err();
            assert!(matches!(err, TreeError::LockTimeout { .. }), "{err:?}");
        }
        assert_eq!(told.get(), 4, "told once per sync and plan");
        // Released within the timeout: the sync waits and succeeds.
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            held.unlock().unwrap();
        });
        let opts = SyncOptions {
            lock_timeout: Some(Duration::from_secs(30)),
            ..SyncOptions::default()
        };
        let plan = sync_with(&out, &changed, &opts).unwrap();
        assert_eq!(plan.changed, strings(&["shop/deployment-web.yaml"]));
        release.join().unwrap();
    }

    /// A directory of OUT moved out of it at any step of a sync: the sync
    /// fails with `Moved` and is undone, in OUT and in the moved directory
    /// (which it reached through its handle); nothing is left written there.
    #[cfg(unix)]
    #[test]
    fn a_directory_moved_out_of_out_during_a_sync_is_undone() {
        let mut changed = base();
        changed.insert("kustomization.yaml".into(), b"k2".to_vec());
        changed.insert("shop/deployment-web.yaml".into(), b"web2".to_vec());
        changed.insert("shop/new.yaml".into(), b"new".to_vec());
        changed.insert("shop/sub/deep.yaml".into(), b"deep".to_vec());
        changed.remove("shop/service-web.yaml");
        let mut steps_seen = 0;
        for n in 1.. {
            let (tmp, out) = synced(&base());
            age(&out);
            let before = snapshot(&out);
            let moved = tmp.path().join("moved");
            let (from, to) = (out.join("shop"), moved.clone());
            ON_STEP.with(|on| {
                *on.borrow_mut() = Some((n, Box::new(move || fs::rename(&from, &to).unwrap())))
            });
            let result = sync(&out, &changed);
            let fired = ON_STEP.with(|on| on.borrow_mut().take()).is_none();
            if !fired {
                // Past the last step: the sync ran undisturbed.
                result.unwrap();
                break;
            }
            steps_seen = n;
            let err = result.unwrap_err();
            assert!(
                matches!(&err, TreeError::Moved { path } if path == &out.join("shop")),
                "step {n}: {err:?}"
            );
            assert!(err.out_unchanged(), "step {n}");
            let shop: BTreeMap<String, Node> = (before.iter())
                .filter_map(|(rel, node)| {
                    let rest = rel.strip_prefix("shop/")?;
                    let node = match node {
                        Node::Dir => Node::Dir,
                        Node::File(b, t) => Node::File(b.clone(), *t),
                        Node::Link(l) => Node::Link(l.clone()),
                    };
                    Some((rest.to_owned(), node))
                })
                .collect();
            assert_eq!(snapshot(&moved), shop, "step {n}: the moved directory");
            let rest: BTreeMap<String, Node> = (before.into_iter())
                .filter(|(rel, _)| rel != "shop" && !rel.starts_with("shop/"))
                .collect();
            assert_eq!(snapshot(&out), rest, "step {n}: OUT");
        }
        assert!(steps_seen >= 8, "{steps_seen} steps");
    }
}
