//! Keeps a `LocalStore` inside its root directory.
//!
//! `Path::parse` already refuses `..` and absolute keys; what remains is a
//! symlink inside the root that points outside it, which `LocalFileSystem`
//! would follow. Every key is resolved against the real filesystem before use.
//! Listing resolves each link it meets with [`LocalRoot::resolve_below`], which never
//! looks anything up outside the root.

use std::ffi::OsString;
use std::fs::Metadata;
use std::io;
use std::path::{Component, Path as FsPath, PathBuf};

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

/// Where a path below a directory inside the root leads.
#[derive(Debug)]
pub enum Target {
    /// A real path (no symlink in it) inside the root, with its metadata.
    Inside(PathBuf, Metadata),
    /// Outside the root. Nothing outside was looked up to find that out.
    Outside,
    /// Nowhere: a dangling link, a missing directory, a file used as a directory, or
    /// more links in a row than a path may take (a cycle of links).
    Nowhere,
}

/// More links than this on one path is a cycle, as for Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// One step of a path being resolved.
enum Step {
    /// A root or a drive prefix: the path starts over from there.
    Root(OsString),
    Up,
    Name(OsString),
}

/// The steps of `path`, in order.
fn steps(path: &FsPath) -> Vec<Step> {
    path.components()
        .filter_map(|component| match component {
            Component::Prefix(_) | Component::RootDir => {
                Some(Step::Root(component.as_os_str().to_owned()))
            }
            Component::CurDir => None,
            Component::ParentDir => Some(Step::Up),
            Component::Normal(name) => Some(Step::Name(name.to_owned())),
        })
        .collect()
}

impl LocalRoot {
    /// Resolve `relative` below `dir`, a real directory inside the root, one component
    /// at a time as `realpath` does, except that a component is checked against the root
    /// before it is looked up: a link pointing out of the root is recognised from its
    /// text, and its target is never stat'ed, opened or read.
    ///
    /// The ancestors of the root are known to be real directories (the root is
    /// canonical), so a link may pass through them (`../root/x`, or an absolute target
    /// inside the root) without a lookup either.
    pub fn resolve_below(&self, dir: &FsPath, relative: &FsPath) -> io::Result<Target> {
        let mut resolved = dir.to_path_buf();
        // What `resolved` is, once it was looked up; `None` for directories known without a lookup.
        let mut metadata: Option<Metadata> = None;
        let mut pending = steps(relative);
        pending.reverse();
        let mut links = 0;
        while let Some(step) = pending.pop() {
            if metadata.as_ref().is_some_and(|m| !m.is_dir()) {
                return Ok(Target::Nowhere);
            }
            match step {
                // `push` of a root replaces the path: an absolute link target starts over.
                Step::Root(root) => {
                    resolved.push(root);
                    metadata = None;
                }
                // `resolved` holds no link, so its parent is what `..` means.
                Step::Up => {
                    resolved.pop();
                    metadata = None;
                }
                Step::Name(name) => {
                    let candidate = resolved.join(&name);
                    if self.dir.starts_with(&candidate) {
                        resolved = candidate;
                        metadata = None;
                        continue;
                    }
                    if !candidate.starts_with(&self.dir) {
                        return Ok(Target::Outside);
                    }
                    let found = match std::fs::symlink_metadata(&candidate) {
                        Ok(found) => found,
                        Err(err) if is_missing(&err) => return Ok(Target::Nowhere),
                        Err(err) => return Err(err),
                    };
                    if found.file_type().is_symlink() {
                        links += 1;
                        if links > MAX_LINKS {
                            return Ok(Target::Nowhere);
                        }
                        // The link's target continues from the link's own directory, `resolved`.
                        let target = std::fs::read_link(&candidate)?;
                        pending.extend(steps(&target).into_iter().rev());
                    } else {
                        resolved = candidate;
                        metadata = Some(found);
                    }
                }
            }
        }
        if !resolved.starts_with(&self.dir) {
            return Ok(Target::Outside);
        }
        let metadata = match metadata {
            Some(metadata) => metadata,
            None => match std::fs::symlink_metadata(&resolved) {
                Ok(metadata) => metadata,
                Err(err) if is_missing(&err) => return Ok(Target::Nowhere),
                Err(err) => return Err(err),
            },
        };
        Ok(Target::Inside(resolved, metadata))
    }
}

/// The path is not there: missing, or a file stands where a directory should be.
fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
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

    #[test]
    #[cfg(unix)]
    fn resolves_links_below_without_leaving_the_root() {
        use std::os::unix::fs::symlink;
        let dir = temp_dir("below");
        let outside = temp_dir("below-outside");
        std::fs::create_dir_all(dir.join("in/sub")).unwrap();
        std::fs::write(dir.join("in/file"), "x").unwrap();
        std::fs::write(outside.join("secret"), "s").unwrap();
        let root = LocalRoot::open(&dir, false).unwrap();
        let real = root.dir().to_path_buf();
        symlink(real.join("in/file"), dir.join("absolute-in")).unwrap();
        symlink("../file", dir.join("in/sub/relative-in")).unwrap();
        symlink(
            format!("../{}/in", dir.file_name().unwrap().to_str().unwrap()),
            dir.join("via-parent"),
        )
        .unwrap();
        symlink("absolute-in", dir.join("chain")).unwrap();
        symlink(".", dir.join("self")).unwrap();
        symlink("..", dir.join("up")).unwrap();
        symlink(outside.join("secret"), dir.join("out-file")).unwrap();
        symlink(outside.join("gone"), dir.join("out-dangling")).unwrap();
        symlink("../../..", dir.join("in/sub/out-relative")).unwrap();
        symlink(real.join("missing"), dir.join("in-dangling")).unwrap();
        symlink("in/file/below", dir.join("file-as-dir")).unwrap();
        symlink("knot-b", dir.join("knot-a")).unwrap();
        symlink("knot-a", dir.join("knot-b")).unwrap();

        let at = |base: &FsPath, name: &str| root.resolve_below(base, FsPath::new(name)).unwrap();
        let inside = |target: Target| match target {
            Target::Inside(path, _) => path,
            other => panic!("expected a path inside the root, got {other:?}"),
        };
        assert_eq!(inside(at(&real, "absolute-in")), real.join("in/file"));
        assert_eq!(
            inside(at(&real.join("in/sub"), "relative-in")),
            real.join("in/file")
        );
        assert_eq!(inside(at(&real, "via-parent")), real.join("in"));
        assert_eq!(inside(at(&real, "chain")), real.join("in/file"));
        assert_eq!(inside(at(&real, "self")), real);
        assert_eq!(inside(at(&real, "self/in/sub")), real.join("in/sub"));
        assert!(matches!(at(&real, "up"), Target::Outside));
        assert!(matches!(at(&real, "out-file"), Target::Outside));
        assert!(matches!(
            at(&real.join("in/sub"), "out-relative"),
            Target::Outside
        ));
        // Judged from the link's text: a lookup would have found the target missing.
        assert!(matches!(at(&real, "out-dangling"), Target::Outside));
        assert!(matches!(at(&real, "in-dangling"), Target::Nowhere));
        assert!(matches!(at(&real, "file-as-dir"), Target::Nowhere));
        assert!(matches!(at(&real, "knot-a"), Target::Nowhere));
        assert!(matches!(at(&real, "not-there"), Target::Nowhere));
    }
}
