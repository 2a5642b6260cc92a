//! Why one MCP client's store file could not be read. Its text is the line the legacy scan
//! shows in its problems list (the file first, so support knows which one to look at).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: cannot read ({source})", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not UTF-8 text", path.display())]
    NotText { path: PathBuf },
    #[error("{}: not valid JSON ({source})", path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// Valid JSON, but not the shape this client writes (another version, or another file).
    #[error("{}: expected {expected}", path.display())]
    NotTheShape {
        path: PathBuf,
        expected: &'static str,
    },
}
