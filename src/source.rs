//! The model's source files, loaded from a `.sec` file or a directory of
//! them, and the line index used to turn byte offsets into `line:col`.

mod spec;
pub use spec::Spec;

use crate::span::{FileId, Span};
use std::path::{Path, PathBuf};

/// One loaded `.sec` file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative when the user gave one).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: PathBuf, text: String) -> SourceFile {
        let mut line_starts = vec![0u32];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        SourceFile {
            name: name.into(),
            path,
            text,
            line_starts,
        }
    }

    /// The 0-based line of a byte offset (clamped to the text) and the
    /// byte offset where that line starts.
    pub fn line_start(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1);
        (line, self.line_starts[line] as usize)
    }

    /// The byte offset where a 0-based line starts (`None` past the last).
    pub fn offset_of_line(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).map(|&s| s as usize)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1);
        let start = self.line_starts[line] as usize;
        let mut col_end = offset;
        while !self.text.is_char_boundary(col_end) {
            col_end -= 1;
        }
        let col = self.text[start..col_end].chars().count() + 1;
        (line + 1, col)
    }
}

/// All files of one model, in name order.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(u32::try_from(self.files.len() - 1).expect("fewer than 2^32 files"))
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.range()).unwrap_or("")
    }
}

/// The most bytes a model (all its files together) may hold. The largest
/// benchmark model (50,000 pod groups) is 36 MB; anything much larger is
/// not a model someone wrote, and reading it all would take the memory of
/// the machine (docs/performance.md: about 40 bytes per byte of input).
pub const MAX_MODEL_BYTES: u64 = 128 << 20;

/// Why a model could not be read: these are usage errors (exit code 2),
/// not model errors.
#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    Io(PathBuf, std::io::Error),
    NotUtf8 {
        path: PathBuf,
        valid_up_to: usize,
    },
    NoSecFiles(PathBuf),
    /// A FIFO, a device, a socket: palisade reads only regular files (a
    /// FIFO would block forever, `/dev/zero` never ends).
    NotAFile {
        path: PathBuf,
        what: &'static str,
    },
    /// A symbolic link in a model directory that leads outside it.
    LinkOutside {
        link: PathBuf,
        target: PathBuf,
    },
    /// The model is larger than [`MAX_MODEL_BYTES`].
    TooLarge {
        path: PathBuf,
    },
    /// A directory given to `audit` or `import` holds no manifest files.
    NoManifests(PathBuf),
    /// A manifest path that does not exist.
    ManifestNotFound(PathBuf),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "`{}` does not exist", p.display()),
            LoadError::Io(p, e) => write!(f, "cannot read `{}`: {e}", p.display()),
            LoadError::NotUtf8 { path, valid_up_to } => write!(
                f,
                "`{}` is not valid UTF-8 (first invalid byte at offset {valid_up_to})",
                path.display()
            ),
            LoadError::NoSecFiles(p) => {
                write!(f, "directory `{}` contains no `.sec` files", p.display())
            }
            LoadError::NotAFile { path, what } => write!(
                f,
                "cannot read `{}`: it is {what}, not a regular file",
                path.display()
            ),
            LoadError::LinkOutside { link, target } => write!(
                f,
                "refusing to read `{}`: it is a symbolic link to `{}`, outside the model directory",
                link.display(),
                target.display()
            ),
            LoadError::TooLarge { path } => write!(
                f,
                "cannot read `{}`: the input is larger than {} MiB",
                path.display(),
                MAX_MODEL_BYTES >> 20
            ),
            LoadError::ManifestNotFound(p) => write!(f, "`{}` does not exist", p.display()),
            LoadError::NoManifests(p) => write!(
                f,
                "directory `{}` contains no `.yaml`, `.yml` or `.json` files",
                p.display()
            ),
        }
    }
}

impl LoadError {
    /// A hint for the user, shown under the error.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            LoadError::NotFound(_) => {
                Some("give a `.sec` file or a directory of them (default: the current directory)")
            }
            LoadError::NotUtf8 { .. } => Some("save the file as UTF-8"),
            LoadError::NoSecFiles(_) => Some("model files must end in `.sec`"),
            LoadError::NotAFile { .. } => Some(
                "palisade reads only regular files; save the model to a file and give its path",
            ),
            LoadError::LinkOutside { .. } => Some(
                "a model directory is read only from the files inside it; copy the file in, \
                 or give its path on the command line",
            ),
            LoadError::TooLarge { .. } => {
                Some("is this the right file? a model of 50,000 pod groups is 36 MB")
            }
            LoadError::ManifestNotFound(_) | LoadError::NoManifests(_) => Some(
                "give the files `helm template`, `kustomize build` or `kubectl get -o yaml` wrote",
            ),
            LoadError::Io(..) => None,
        }
    }
}

/// What a file-system entry is, for [`LoadError::NotAFile`].
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Load a model: one file, read as given (a symbolic link named on the
/// command line is followed), or every `*.sec` file of a directory in name
/// order. In a directory, a `*.sec` entry must be a regular file, or a
/// symbolic link to one inside the directory: a link that leads out is
/// [`LoadError::LinkOutside`] and is not read (a model checked out from
/// somewhere else must not make palisade quote `/proc/self/environ` in its
/// diagnostics). Only regular files are read, [`MAX_MODEL_BYTES`] at most.
pub fn load(path: &Path) -> Result<SourceMap, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
        _ => LoadError::Io(path.to_path_buf(), e),
    })?;
    // (path shown to the user, path to open)
    let mut paths: Vec<(PathBuf, PathBuf)> = Vec::new();
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
        let mut root = None;
        for entry in entries {
            let entry = entry.map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
            let p = entry.path();
            if p.extension().is_none_or(|x| x != "sec") {
                continue;
            }
            let kind = entry.file_type().map_err(|e| LoadError::Io(p.clone(), e))?;
            if kind.is_dir() {
                continue;
            }
            if kind.is_symlink() {
                let root = match &root {
                    Some(root) => root,
                    None => root.insert(
                        std::fs::canonicalize(path)
                            .map_err(|e| LoadError::Io(path.to_path_buf(), e))?,
                    ),
                };
                if let Some(target) = link_inside(&p, root)? {
                    paths.push((p, target));
                }
            } else {
                paths.push((p.clone(), p));
            }
        }
        if paths.is_empty() {
            return Err(LoadError::NoSecFiles(path.to_path_buf()));
        }
        paths.sort();
    } else {
        paths.push((path.to_path_buf(), path.to_path_buf()));
    }
    let mut map = SourceMap::new();
    read_all(paths, &mut map)?;
    Ok(map)
}

/// Where a symbolic link in a directory whose real path is `root` leads:
/// a file inside it (`Some`), a directory inside it (`None`: skipped), or
/// an error for a link that dangles or leaves the directory.
fn link_inside(link: &Path, root: &Path) -> Result<Option<PathBuf>, LoadError> {
    let target = match std::fs::canonicalize(link) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::NotFound(link.to_path_buf()))
        }
        Err(e) => return Err(LoadError::Io(link.to_path_buf(), e)),
    };
    if !target.starts_with(root) {
        return Err(LoadError::LinkOutside {
            link: link.to_path_buf(),
            target,
        });
    }
    if std::fs::metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Ok(None);
    }
    Ok(Some(target))
}

/// Reads `(shown, open)` paths into `map`: regular files of UTF-8 text,
/// [`MAX_MODEL_BYTES`] at most together.
fn read_all(paths: Vec<(PathBuf, PathBuf)>, map: &mut SourceMap) -> Result<(), LoadError> {
    let mut left = MAX_MODEL_BYTES;
    for (shown, open) in paths {
        let bytes = read_regular(&shown, &open, left)?;
        left -= bytes.len() as u64;
        let text = String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
            path: shown.clone(),
            valid_up_to: e.utf8_error().valid_up_to(),
        })?;
        map.add(SourceFile::new(display_name(&shown), shown, text));
    }
    Ok(())
}

/// The extensions of manifest files in a directory given to `audit` or
/// `import`.
pub const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Loads Kubernetes manifests into `map` (after the files already there, so
/// that diagnostics can point into a model and its manifests alike): each
/// path is a file, read as given, or a directory, read recursively in name
/// order for `*.yaml`, `*.yml` and `*.json` files. As for a model
/// directory, only regular files are read, a symbolic link that leads out
/// of the directory is [`LoadError::LinkOutside`], and the input as a whole
/// holds at most [`MAX_MODEL_BYTES`]. Hidden entries (`.git`) and symbolic
/// links to directories are skipped (a link loop would never end).
pub fn load_manifests(paths: &[PathBuf], map: &mut SourceMap) -> Result<(), LoadError> {
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::ManifestNotFound(path.clone()),
            _ => LoadError::Io(path.clone(), e),
        })?;
        if !meta.is_dir() {
            files.push((path.clone(), path.clone()));
            continue;
        }
        let root = std::fs::canonicalize(path).map_err(|e| LoadError::Io(path.clone(), e))?;
        let before = files.len();
        let mut dirs = vec![path.clone()];
        while let Some(dir) = dirs.pop() {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&dir).map_err(|e| LoadError::Io(dir.clone(), e))? {
                let entry = entry.map_err(|e| LoadError::Io(dir.clone(), e))?;
                entries.push(entry);
            }
            entries.sort_by_key(|e| e.file_name());
            let mut subdirs = Vec::new();
            for entry in entries {
                if entry.file_name().as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                let p = entry.path();
                let kind = entry.file_type().map_err(|e| LoadError::Io(p.clone(), e))?;
                if kind.is_dir() {
                    subdirs.push(p);
                    continue;
                }
                let manifest = p
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| MANIFEST_EXTENSIONS.contains(&x));
                if !manifest {
                    continue;
                }
                if kind.is_symlink() {
                    if let Some(target) = link_inside(&p, &root)? {
                        files.push((p, target));
                    }
                } else {
                    files.push((p.clone(), p));
                }
            }
            // Depth first, in name order.
            dirs.extend(subdirs.into_iter().rev());
        }
        if files.len() == before {
            return Err(LoadError::NoManifests(path.clone()));
        }
    }
    read_all(files, map)
}

/// Reads a regular file, at most `limit` bytes. It is opened without
/// blocking (a FIFO would wait for a writer) and checked on the open handle,
/// so what is read is what was checked.
fn read_regular(shown: &Path, open: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let io = |e| LoadError::Io(shown.to_path_buf(), e);
    let mut options = std::fs::File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(open).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: shown.to_path_buf(),
            what: kind_of(&meta),
        });
    }
    if meta.len() > limit {
        return Err(LoadError::TooLarge {
            path: shown.to_path_buf(),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge {
            path: shown.to_path_buf(),
        });
    }
    Ok(bytes)
}

fn display_name(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}
