//! Listing a `LocalStore` without leaving its root.
//!
//! `LocalFileSystem` lists with walkdir following every symlink, so a link in the root to a
//! directory elsewhere listed (and stat'ed) that directory's files. This walk resolves each
//! link it meets with [`LocalRoot::resolve_below`] and follows it only when it stays inside
//! the root. Everything else copies `LocalFileSystem` (object_store 0.14 `local.rs`): keys
//! come from file names the same way, unfinished uploads are hidden the same way, and
//! metadata and ETags are computed the same way, so a listing agrees with `head`.
//!
//! Two differences are deliberate: a link whose target contains the directory being walked
//! (a loop) is skipped, where walkdir failed the whole listing, and a link that leaves the
//! root is skipped, where walkdir followed it.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{FileType, Metadata, ReadDir};
use std::io;
use std::path::{Path as FsPath, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ListResult, ObjectMeta};
use url::Url;

use crate::backends::local::confine::{LocalRoot, Target};

/// The name `LocalFileSystem` gives itself in errors.
const STORE: &str = "LocalFileSystem";

/// Directories a walk keeps open at once; deeper ones are read into memory first, as
/// walkdir does, so a deep tree cannot exhaust file descriptors.
const MAX_OPEN_DIRS: usize = 10;

/// How keys and files map onto each other below one root.
#[derive(Debug)]
pub struct LocalKeys {
    root: LocalRoot,
    /// The root as `LocalFileSystem` holds it; keys are URL paths relative to it.
    root_url: Url,
}

impl LocalKeys {
    /// The key mapping of `root`, whose path must make a file URL (an absolute path does).
    pub fn new(root: LocalRoot) -> object_store::Result<Self> {
        let root_url = Url::from_file_path(root.dir())
            .map_err(|()| generic(format!("{} is not a file URL", root.dir().display())))?;
        Ok(Self { root, root_url })
    }

    /// The directory a listing prefix names, as `LocalFileSystem::prefix_to_filesystem` finds it.
    fn prefix_dir(&self, prefix: Option<&Path>) -> object_store::Result<PathBuf> {
        let mut url = self.root_url.clone();
        url.path_segments_mut()
            .map_err(|()| generic("the root URL has no path"))?
            .pop_if_empty()
            .extend(prefix.into_iter().flat_map(Path::parts));
        url.to_file_path()
            .map_err(|()| generic(format!("{url} is not a file path")))
    }

    /// The key of a file below the root, as `LocalFileSystem::filesystem_to_path` makes it:
    /// the path percent-encoded as a URL, the root cut off, then decoded again.
    fn key(&self, file: &FsPath) -> object_store::Result<Path> {
        let url = Url::from_file_path(file)
            .map_err(|()| generic(format!("{} is not a file URL", file.display())))?;
        let relative = url
            .path()
            .strip_prefix(self.root_url.path())
            .ok_or_else(|| generic(format!("{} is not below the root", file.display())))?;
        Ok(Path::from_url_path(relative)?)
    }

    /// Resolve the directory a listing starts from; `None` when there is none to list.
    fn start(&self, prefix: Option<&Path>) -> object_store::Result<Option<Dir>> {
        let logical = self.prefix_dir(prefix)?;
        let relative = logical
            .strip_prefix(self.root.dir())
            .map_err(|_| generic(format!("{} is not below the root", logical.display())))?;
        match self.root.resolve_below(self.root.dir(), relative) {
            Ok(Target::Inside(real, metadata)) if metadata.is_dir() => {
                Ok(Some(Dir { logical, real }))
            }
            Ok(_) => Ok(None),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io_failure(&logical, err)),
        }
    }
}

/// A directory being listed: where the keys say it is, and where it really is.
struct Dir {
    logical: PathBuf,
    real: PathBuf,
}

/// One entry of a directory, kept without its `std::fs::DirEntry` (which holds the
/// directory open).
struct Entry {
    name: OsString,
    file_type: FileType,
}

/// What a directory entry is, links followed.
enum Found {
    Dir(PathBuf),
    File(PathBuf, Option<Metadata>),
    /// A socket, a FIFO, a device.
    Other(PathBuf, Option<Metadata>),
}

impl LocalKeys {
    /// What `entry` of `dir` is, or `None` when it must not be listed: a link that leaves the
    /// root or leads nowhere (walkdir skipped a dangling link too), or an entry gone meanwhile.
    fn follow(&self, dir: &Dir, entry: &Entry) -> Option<Found> {
        let path = dir.real.join(&entry.name);
        if !entry.file_type.is_symlink() {
            return Some(if entry.file_type.is_dir() {
                Found::Dir(path)
            } else if entry.file_type.is_file() {
                Found::File(path, None)
            } else {
                Found::Other(path, None)
            });
        }
        match self.root.resolve_below(&dir.real, FsPath::new(&entry.name)) {
            Ok(Target::Inside(real, metadata)) if metadata.is_dir() => Some(Found::Dir(real)),
            Ok(Target::Inside(real, metadata)) if metadata.is_file() => {
                Some(Found::File(real, Some(metadata)))
            }
            Ok(Target::Inside(real, metadata)) => Some(Found::Other(real, Some(metadata))),
            // walkdir skipped a link it could not stat, whatever the reason.
            Ok(Target::Outside | Target::Nowhere) | Err(_) => None,
        }
    }
}

/// The entries of an open directory, or of one read into memory.
enum Entries {
    Open(ReadDir),
    Read(std::vec::IntoIter<io::Result<Entry>>),
}

impl Iterator for Entries {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Open(read_dir) => read_dir.next().map(|entry| {
                let entry = entry?;
                Ok(Entry {
                    name: entry.file_name(),
                    file_type: entry.file_type()?,
                })
            }),
            Entries::Read(entries) => entries.next(),
        }
    }
}

/// A directory on the walk's path, with what is left of it.
struct Frame {
    dir: Dir,
    entries: Entries,
}

/// Every file below a prefix, depth first in directory order, as `LocalFileSystem::list`.
pub struct Walk {
    keys: std::sync::Arc<LocalKeys>,
    prefix: Option<Path>,
    offset: Option<Path>,
    started: bool,
    stack: Vec<Frame>,
}

impl Walk {
    /// A walk of `prefix` yielding only keys after `offset`; nothing is read until the first `next`.
    pub fn new(
        keys: std::sync::Arc<LocalKeys>,
        prefix: Option<&Path>,
        offset: Option<&Path>,
    ) -> Self {
        Self {
            keys,
            prefix: prefix.cloned(),
            offset: offset.cloned(),
            started: false,
            stack: Vec::new(),
        }
    }

    /// Open `dir` and walk into it next; a directory gone meanwhile is skipped.
    fn enter(&mut self, dir: Dir) -> object_store::Result<()> {
        let read_dir = match std::fs::read_dir(&dir.real) {
            Ok(read_dir) => read_dir,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(io_failure(&dir.logical, err)),
        };
        self.stack.push(Frame {
            dir,
            entries: Entries::Open(read_dir),
        });
        let open = self
            .stack
            .iter()
            .filter(|frame| matches!(frame.entries, Entries::Open(_)))
            .count();
        if open > MAX_OPEN_DIRS {
            if let Some(oldest) = self
                .stack
                .iter_mut()
                .find(|frame| matches!(frame.entries, Entries::Open(_)))
            {
                let rest: Vec<_> = oldest.entries.by_ref().collect();
                oldest.entries = Entries::Read(rest.into_iter());
            }
        }
        Ok(())
    }

    /// A link to a directory that holds (or is) one on the walk's path would go round
    /// forever, or repeat what is being walked.
    fn is_loop(&self, real: &FsPath) -> bool {
        self.stack
            .iter()
            .any(|frame| frame.dir.real.starts_with(real))
    }
}

impl Iterator for Walk {
    type Item = object_store::Result<ObjectMeta>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            match self.keys.start(self.prefix.as_ref()) {
                Ok(Some(dir)) => {
                    if let Err(err) = self.enter(dir) {
                        return Some(Err(err));
                    }
                }
                Ok(None) => {}
                Err(err) => return Some(Err(err)),
            }
        }
        loop {
            let frame = self.stack.last_mut()?;
            let entry = match frame.entries.next() {
                None => {
                    self.stack.pop();
                    continue;
                }
                Some(Err(err)) if err.kind() == io::ErrorKind::NotFound => continue,
                Some(Err(err)) => return Some(Err(io_failure(&frame.dir.logical, err))),
                Some(Ok(entry)) => entry,
            };
            let dir = &frame.dir;
            let logical = dir.logical.join(&entry.name);
            let (real, metadata) = match self.keys.follow(dir, &entry) {
                None | Some(Found::Other(..)) => continue,
                Some(Found::Dir(real)) => {
                    if entry.file_type.is_symlink() && self.is_loop(&real) {
                        continue;
                    }
                    if let Err(err) = self.enter(Dir { logical, real }) {
                        return Some(Err(err));
                    }
                    continue;
                }
                Some(Found::File(real, metadata)) => (real, metadata),
            };
            let key = match self.keys.key(&logical) {
                Ok(key) => key,
                Err(err) => return Some(Err(err)),
            };
            // Before any stat, as LocalFileSystem does (it matters on NFS).
            if self.offset.as_ref().is_some_and(|offset| key <= *offset) {
                continue;
            }
            if !is_valid_file_path(&key) {
                continue;
            }
            match metadata_of(&real, metadata, &key) {
                Ok(Some(metadata)) => return Some(Ok(object_meta(key, &metadata))),
                Ok(None) => continue,
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

/// One level below `prefix`, as `LocalFileSystem::list_with_delimiter`: its objects (any
/// entry that is not a directory), and its directories as common prefixes, sorted.
pub fn list_one_level(keys: &LocalKeys, prefix: Option<&Path>) -> object_store::Result<ListResult> {
    let prefix = prefix.cloned().unwrap_or_default();
    let mut common_prefixes = BTreeSet::new();
    let mut objects = Vec::new();
    let Some(dir) = keys.start(Some(&prefix))? else {
        return Ok(ListResult {
            common_prefixes: Vec::new(),
            objects,
            extensions: Default::default(),
        });
    };
    let entries = match std::fs::read_dir(&dir.real) {
        Ok(read_dir) => Entries::Open(read_dir),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Entries::Read(Vec::new().into_iter()),
        Err(err) => return Err(io_failure(&dir.logical, err)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(io_failure(&dir.logical, err)),
        };
        let Some(found) = keys.follow(&dir, &entry) else {
            continue;
        };
        let logical = dir.logical.join(&entry.name);
        let location = keys.key(&logical)?;
        let (real, metadata) = match found {
            Found::Dir(real) => {
                // Listed, it would hold this very directory again.
                if entry.file_type.is_symlink() && dir.real.starts_with(&real) {
                    continue;
                }
                if let Some(part) = location
                    .prefix_match(&prefix)
                    .and_then(|mut parts| parts.next())
                {
                    common_prefixes.insert(prefix.clone().join(part));
                }
                continue;
            }
            Found::File(real, metadata) | Found::Other(real, metadata) => (real, metadata),
        };
        if !is_valid_file_path(&location) || location.prefix_match(&prefix).is_none() {
            continue;
        }
        if let Some(metadata) = metadata_of(&real, metadata, &location)? {
            objects.push(object_meta(location, &metadata));
        }
    }
    Ok(ListResult {
        common_prefixes: common_prefixes.into_iter().collect(),
        objects,
        extensions: Default::default(),
    })
}

/// `LocalFileSystem`'s `is_valid_file_path`: a file named `name#123` is an upload still being
/// staged (object_store's own temporary file) and is not an object yet.
fn is_valid_file_path(location: &Path) -> bool {
    match location.filename() {
        Some(name) => match name.split_once('#') {
            Some((_, suffix)) if !suffix.is_empty() => {
                !suffix.bytes().all(|byte| byte.is_ascii_digit())
            }
            _ => true,
        },
        None => false,
    }
}

/// The metadata of a file, stat'ed now unless resolving its link already did; `None` when it
/// is gone meanwhile (LocalFileSystem skips those too).
fn metadata_of(
    real: &FsPath,
    known: Option<Metadata>,
    location: &Path,
) -> object_store::Result<Option<Metadata>> {
    if let Some(metadata) = known {
        return Ok(Some(metadata));
    }
    match std::fs::symlink_metadata(real) {
        Ok(metadata) => Ok(Some(metadata)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(object_store::Error::Generic {
            store: STORE,
            source: Box::new(io::Error::new(
                err.kind(),
                format!("cannot read the metadata of {location}: {err}"),
            )),
        }),
    }
}

/// An object's metadata, with `LocalFileSystem`'s ETag.
fn object_meta(location: Path, metadata: &Metadata) -> ObjectMeta {
    ObjectMeta {
        location,
        // Every platform Node runs on keeps modification times; the epoch is only a fallback.
        last_modified: metadata
            .modified()
            .map(DateTime::<Utc>::from)
            .unwrap_or_default(),
        size: metadata.len(),
        e_tag: Some(e_tag(metadata)),
        version: None,
    }
}

/// `LocalFileSystem`'s `get_etag`: inode, modification time in microseconds and size, in hex.
fn e_tag(metadata: &Metadata) -> String {
    let inode = inode(metadata);
    let size = metadata.len();
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|mtime| mtime.duration_since(SystemTime::UNIX_EPOCH).ok())
        .unwrap_or_default()
        .as_micros();
    format!("\"{inode:x}-{mtime:x}-{size:x}\"")
}

#[cfg(unix)]
fn inode(metadata: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode(_metadata: &Metadata) -> u64 {
    0
}

fn generic(message: impl Into<String>) -> object_store::Error {
    object_store::Error::Generic {
        store: STORE,
        source: message.into().into(),
    }
}

/// An I/O failure while listing `dir`; its kind is kept, so a refused directory is still
/// `PERMISSION_DENIED` in JavaScript.
fn io_failure(dir: &FsPath, err: io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: STORE,
        source: Box::new(io::Error::new(
            err.kind(),
            format!("cannot list {}: {err}", dir.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::TryStreamExt;
    use object_store::local::LocalFileSystem;
    use object_store::ObjectStore;
    use std::sync::Arc;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("stowage-walk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(dir: &FsPath, relative: &str, content: &str) {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn keys_of(dir: &FsPath) -> Arc<LocalKeys> {
        Arc::new(LocalKeys::new(LocalRoot::open(dir, false).unwrap()).unwrap())
    }

    fn walk(keys: &Arc<LocalKeys>, prefix: Option<&str>, offset: Option<&str>) -> Vec<ObjectMeta> {
        let prefix = prefix.map(|p| Path::parse(p).unwrap());
        let offset = offset.map(|o| Path::parse(o).unwrap());
        let mut listed: Vec<_> = Walk::new(keys.clone(), prefix.as_ref(), offset.as_ref())
            .collect::<object_store::Result<_>>()
            .unwrap();
        listed.sort_by(|a: &ObjectMeta, b| a.location.cmp(&b.location));
        listed
    }

    fn paths(listed: &[ObjectMeta]) -> Vec<String> {
        listed.iter().map(|m| m.location.to_string()).collect()
    }

    fn level(keys: &LocalKeys, prefix: Option<&str>) -> (Vec<String>, Vec<String>) {
        let prefix = prefix.map(|p| Path::parse(p).unwrap());
        let result = list_one_level(keys, prefix.as_ref()).unwrap();
        let mut objects = paths(&result.objects);
        objects.sort();
        let prefixes = result
            .common_prefixes
            .iter()
            .map(|p| p.to_string())
            .collect();
        (objects, prefixes)
    }

    /// Without links, the walk is `LocalFileSystem`'s listing: same keys, sizes, times, ETags.
    #[test]
    fn lists_what_local_file_system_lists() {
        let dir = temp_dir("same");
        write(&dir, "top.txt", "top");
        write(&dir, "with space/a b.txt", "spaced");
        write(&dir, "percent/100%25.txt", "percent");
        write(&dir, "docs/a.txt", "a");
        write(&dir, "docs/b/c.txt", "cc");
        write(&dir, "docs-x/d.txt", "ddd");
        write(&dir, "docs/staged.txt#12", "not yet an object");
        write(&dir, "docs/hash#tag", "an object");
        std::fs::create_dir_all(dir.join("empty/dir")).unwrap();
        let keys = keys_of(&dir);
        let files = LocalFileSystem::new_with_prefix(&dir).unwrap();
        let theirs = |prefix: Option<&str>, offset: Option<&str>| {
            let prefix = prefix.map(|p| Path::parse(p).unwrap());
            let stream = match offset {
                Some(offset) => {
                    files.list_with_offset(prefix.as_ref(), &Path::parse(offset).unwrap())
                }
                None => files.list(prefix.as_ref()),
            };
            let mut listed: Vec<ObjectMeta> = block_on(stream.try_collect()).unwrap();
            listed.sort_by(|a, b| a.location.cmp(&b.location));
            listed
        };
        for (prefix, offset) in [
            (None, None),
            (Some("docs"), None),
            (Some("with space"), None),
            (Some("missing"), None),
            (Some("top.txt"), None),
            (None, Some("docs/a.txt")),
            (Some("docs"), Some("docs/b")),
        ] {
            assert_eq!(
                walk(&keys, prefix, offset),
                theirs(prefix, offset),
                "{prefix:?} after {offset:?}"
            );
        }
        assert!(paths(&walk(&keys, None, None)).contains(&"docs/hash#tag".to_string()));
        assert!(!paths(&walk(&keys, None, None)).contains(&"docs/staged.txt#12".to_string()));

        for prefix in [
            None,
            Some("docs"),
            Some("docs/b"),
            Some("empty"),
            Some("missing"),
            Some("top.txt"),
        ] {
            let path = prefix.map(|p| Path::parse(p).unwrap());
            let mut expected = block_on(files.list_with_delimiter(path.as_ref())).unwrap();
            expected.objects.sort_by(|a, b| a.location.cmp(&b.location));
            let mut ours = list_one_level(&keys, path.as_ref()).unwrap();
            ours.objects.sort_by(|a, b| a.location.cmp(&b.location));
            assert_eq!(ours.objects, expected.objects, "{prefix:?}");
            assert_eq!(ours.common_prefixes, expected.common_prefixes, "{prefix:?}");
        }
    }

    #[test]
    #[cfg(unix)]
    fn never_follows_a_link_out_of_the_root() {
        use std::os::unix::fs::symlink;
        let dir = temp_dir("escape");
        let outside = temp_dir("escape-outside");
        write(&outside, "secret.txt", "secret");
        write(&outside, "deep/secret2.txt", "secret");
        write(&dir, "in/a.txt", "a");
        symlink(&outside, dir.join("dir-link")).unwrap();
        symlink(outside.join("secret.txt"), dir.join("file-link")).unwrap();
        symlink(outside.join("gone"), dir.join("dangling-out")).unwrap();
        symlink(dir.join("gone"), dir.join("dangling-in")).unwrap();
        symlink(dir.join("in"), dir.join("in-link")).unwrap();
        symlink("a.txt", dir.join("in/file-in-link")).unwrap();
        let keys = keys_of(&dir);
        let expected = [
            "in-link/a.txt",
            "in-link/file-in-link",
            "in/a.txt",
            "in/file-in-link",
        ];
        assert_eq!(paths(&walk(&keys, None, None)), expected);
        assert_eq!(
            paths(&walk(&keys, None, Some("in-link/a.txt"))),
            expected[1..]
        );
        assert!(walk(&keys, Some("dir-link"), None).is_empty());
        assert!(walk(&keys, Some("dir-link/deep"), None).is_empty());
        assert!(walk(&keys, Some("file-link"), None).is_empty());
        assert_eq!(
            level(&keys, None),
            (vec![], vec!["in".to_string(), "in-link".to_string()])
        );
        assert_eq!(level(&keys, Some("dir-link")), (vec![], vec![]));
        assert_eq!(
            level(&keys, Some("in-link")),
            (
                vec![
                    "in-link/a.txt".to_string(),
                    "in-link/file-in-link".to_string()
                ],
                vec![]
            )
        );
        // A file reached through a link has its target's metadata, as `head` reports it.
        let through = walk(&keys, Some("in"), None);
        assert_eq!(through[0].e_tag, through[1].e_tag);
        assert_eq!(through[1].size, 1);
    }

    #[test]
    #[cfg(unix)]
    fn goes_round_no_loop() {
        use std::os::unix::fs::symlink;
        let dir = temp_dir("loops");
        write(&dir, "a/fa.txt", "a");
        write(&dir, "b/fb.txt", "b");
        symlink(".", dir.join("self")).unwrap();
        symlink("..", dir.join("a/up")).unwrap();
        symlink("../b", dir.join("a/to-b")).unwrap();
        symlink("../a", dir.join("b/to-a")).unwrap();
        symlink("knot-2", dir.join("knot-1")).unwrap();
        symlink("knot-1", dir.join("knot-2")).unwrap();
        let keys = keys_of(&dir);
        assert_eq!(
            paths(&walk(&keys, None, None)),
            ["a/fa.txt", "a/to-b/fb.txt", "b/fb.txt", "b/to-a/fa.txt"]
        );
        // Started inside a loop, the walk still stops where it would come round again.
        assert_eq!(
            paths(&walk(&keys, Some("self/a/up"), None)),
            [
                "self/a/up/a/fa.txt",
                "self/a/up/a/to-b/fb.txt",
                "self/a/up/b/fb.txt",
                "self/a/up/b/to-a/fa.txt"
            ]
        );
        assert_eq!(
            level(&keys, None),
            (vec![], vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            level(&keys, Some("a")),
            (vec!["a/fa.txt".to_string()], vec!["a/to-b".to_string()])
        );
    }

    /// Deeper than the open-directory limit, directories are read into memory and the walk
    /// still finds everything.
    #[test]
    fn walks_deeper_than_the_open_directory_limit() {
        let dir = temp_dir("deep");
        let mut relative = PathBuf::new();
        let mut expected = Vec::new();
        for depth in 0..(MAX_OPEN_DIRS * 2) {
            relative.push(format!("d{depth}"));
            for name in ["x", "y"] {
                let file = relative.join(name);
                write(&dir, file.to_str().unwrap(), "");
                expected.push(file.to_str().unwrap().to_string());
            }
        }
        expected.sort();
        assert_eq!(paths(&walk(&keys_of(&dir), None, None)), expected);
    }
}
