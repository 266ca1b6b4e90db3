//! Keeps a `LocalStore` inside its root directory.
//!
//! `Path::parse` already refuses `..` and absolute keys; what remains is a
//! symlink inside the root that points outside it, which `LocalFileSystem`
//! would follow. Every key is resolved against the real filesystem before use.

use std::path::{Path as FsPath, PathBuf};

use object_store::path::Path;

use crate::error::{StorageFailure, StorageResult};

/// A canonical root directory.
#[derive(Debug, Clone)]
pub struct LocalRoot {
    dir: PathBuf,
}

impl LocalRoot {
    /// Canonicalize `dir`, creating it first when `mkdir` is set.
    pub fn open(dir: &FsPath, mkdir: bool) -> StorageResult<Self> {
        if mkdir {
            std::fs::create_dir_all(dir).map_err(|err| {
                StorageFailure::invalid_config(format!(
                    "cannot create LocalStore root {}: {err}",
                    dir.display()
                ))
            })?;
        }
        let dir = std::fs::canonicalize(dir).map_err(|err| {
            StorageFailure::invalid_config(format!(
                "LocalStore root {} is not usable: {err}",
                dir.display()
            ))
        })?;
        if !dir.is_dir() {
            return Err(StorageFailure::invalid_config(format!(
                "LocalStore root {} is not a directory",
                dir.display()
            )));
        }
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &FsPath {
        &self.dir
    }

    /// Refuse `path` if any existing part of it resolves outside the root.
    pub fn confine(&self, path: &Path) -> StorageResult<()> {
        let mut candidate = self.dir.clone();
        for part in path.parts() {
            candidate.push(part.as_ref());
        }
        // The deepest existing ancestor decides: everything below it is created
        // by us, inside it.
        let mut probe = candidate.as_path();
        loop {
            match resolve(probe) {
                Resolved::Real(real) if real.starts_with(&self.dir) => return Ok(()),
                Resolved::Real(_) => {
                    return Err(StorageFailure::invalid_path(format!(
                        "key {:?} leads outside the LocalStore root",
                        path.as_ref()
                    )))
                }
                Resolved::Dangling => {
                    // Refuse rather than let a write create the link's target.
                    return Err(StorageFailure::invalid_path(format!(
                        "key {:?} goes through a dangling symlink",
                        path.as_ref()
                    )));
                }
                Resolved::Missing => match probe.parent() {
                    Some(parent) if parent.starts_with(&self.dir) => probe = parent,
                    _ => return Ok(()),
                },
            }
        }
    }
}

enum Resolved {
    Real(PathBuf),
    Dangling,
    Missing,
}

/// Resolve `path`, telling a dangling symlink from a path that does not exist.
/// A directory that another operation creates meanwhile resolves on the retry.
fn resolve(path: &FsPath) -> Resolved {
    for _ in 0..3 {
        if let Ok(real) = std::fs::canonicalize(path) {
            return Resolved::Real(real);
        }
        match path.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => return Resolved::Dangling,
            Ok(_) => continue,
            Err(_) => return Resolved::Missing,
        }
    }
    Resolved::Missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("stowage-confine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn allows_new_and_existing_keys_inside() {
        let dir = temp_dir("inside");
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let root = LocalRoot::open(&dir, false).unwrap();
        root.confine(&Path::parse("a/b/c").unwrap()).unwrap();
        root.confine(&Path::parse("new/deep/key").unwrap()).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn refuses_symlinks_that_escape() {
        let dir = temp_dir("escape");
        let outside = temp_dir("outside");
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling")).unwrap();
        let root = LocalRoot::open(&dir, false).unwrap();
        assert!(root.confine(&Path::parse("link/secret").unwrap()).is_err());
        assert!(root.confine(&Path::parse("link").unwrap()).is_err());
        assert!(root.confine(&Path::parse("dangling").unwrap()).is_err());
    }
}
