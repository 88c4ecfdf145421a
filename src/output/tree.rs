//! PLACEHOLDER until the transactional writer lands (not transactional).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
pub type FileSet = BTreeMap<String, Vec<u8>>;
pub const MANIFEST: &str = ".palisade-generated";
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}
impl Plan {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}
#[derive(Debug)]
pub enum TreeError {
    Foreign {
        path: PathBuf,
    },
    Blocked {
        path: PathBuf,
        what: String,
    },
    Io {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
}
impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
impl std::error::Error for TreeError {}
pub fn plan(out: &Path, files: &FileSet) -> Result<Plan, TreeError> {
    let mut p = Plan::default();
    for (k, v) in files {
        match std::fs::read(out.join(k)) {
            Ok(b) if &b == v => p.unchanged += 1,
            Ok(_) => p.changed.push(k.clone()),
            Err(_) => p.added.push(k.clone()),
        }
    }
    Ok(p)
}
pub fn sync(out: &Path, files: &FileSet) -> Result<Plan, TreeError> {
    let p = plan(out, files)?;
    for k in p.added.iter().chain(&p.changed) {
        let path = out.join(k);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &files[k]).unwrap();
    }
    Ok(p)
}
pub fn write_depfile(path: &Path, target: &str, deps: &[String]) -> Result<(), TreeError> {
    std::fs::write(path, format!("{target}: {}\n", deps.join(" "))).map_err(|e| TreeError::Io {
        path: path.into(),
        op: "write",
        source: e,
    })
}
