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

/// Why a model could not be read: these are usage errors (exit code 2),
/// not model errors.
#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    Io(PathBuf, std::io::Error),
    NotUtf8 { path: PathBuf, valid_up_to: usize },
    NoSecFiles(PathBuf),
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
            LoadError::Io(..) => None,
        }
    }
}

/// Load a model: one file, or every `*.sec` file of a directory in name order.
pub fn load(path: &Path) -> Result<SourceMap, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
        _ => LoadError::Io(path.to_path_buf(), e),
    })?;
    let mut paths = Vec::new();
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "sec") && p.is_file() {
                paths.push(p);
            }
        }
        if paths.is_empty() {
            return Err(LoadError::NoSecFiles(path.to_path_buf()));
        }
        paths.sort();
    } else {
        paths.push(path.to_path_buf());
    }
    let mut map = SourceMap::new();
    for p in paths {
        let bytes = std::fs::read(&p).map_err(|e| LoadError::Io(p.clone(), e))?;
        let text = String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
            path: p.clone(),
            valid_up_to: e.utf8_error().valid_up_to(),
        })?;
        map.add(SourceFile::new(display_name(&p), p, text));
    }
    Ok(map)
}

fn display_name(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}
