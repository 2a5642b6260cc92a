//! Where Lanyard's log file lives, a size-rotated writer for it, and the hosts' logging set-up.
//! Every log writer — the file and stderr — passes each write through the one redaction
//! (`crate::redact`), so a token that slips into a log line is replaced by its fingerprint
//! before it reaches the disk or a terminal.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Default size at which `lanyard.log` is rotated to `lanyard.log.1`.
pub const DEFAULT_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Rotated files kept (`.1` … `.N`).
pub const DEFAULT_KEEP: usize = 3;
/// Environment variable for the log level (`tracing` filter syntax), read by the hosts.
pub const LEVEL_ENV: &str = "LANYARD_LOG";

/// The platform's log folder for Lanyard: `$LANYARD_LOG_DIR`, else macOS
/// `~/Library/Logs/Lanyard`, Linux `$XDG_STATE_HOME/lanyard/logs` (`~/.local/state/…`),
/// Windows `%LOCALAPPDATA%\Lanyard\logs`.
pub fn log_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("LANYARD_LOG_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if cfg!(target_os = "macos") {
        if let Some(home) = dirs::home_dir() {
            return home.join("Library").join("Logs").join("Lanyard");
        }
    } else if cfg!(windows) {
        if let Some(d) = dirs::data_local_dir() {
            return d.join("Lanyard").join("logs");
        }
    } else if let Some(d) = dirs::state_dir() {
        return d.join("lanyard").join("logs");
    }
    std::env::temp_dir().join("lanyard-logs")
}

/// `log_dir()/lanyard.log`.
pub fn log_file_path() -> PathBuf {
    log_dir().join("lanyard.log")
}

/// The log level: `$LANYARD_LOG` if set, else `default`.
pub fn level_from_env(default: &str) -> String {
    std::env::var(LEVEL_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// A cloneable handle to one rotating log file.
#[derive(Debug, Clone)]
pub struct RotatingLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: File,
    size: u64,
}

impl RotatingLog {
    /// Opens (creating the folder, 0700 on Unix) `path` for appending.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                path: path.to_path_buf(),
                max_bytes: max_bytes.max(1024),
                keep,
                file,
                size,
            })),
        })
    }

    /// `log_file_path()` with the default size and count.
    pub fn open_default() -> std::io::Result<Self> {
        Self::open(&log_file_path(), DEFAULT_MAX_BYTES, DEFAULT_KEEP)
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

impl Inner {
    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(numbered(n), numbered(n + 1));
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::redact::redact(&String::from_utf8_lossy(buf));
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.size > 0 && inner.size + text.len() as u64 > inner.max_bytes {
            inner.rotate()?;
        }
        inner.file.write_all(text.as_bytes())?;
        inner.size += text.len() as u64;
        // The caller's bytes were all consumed, even if redaction changed their length.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .file
            .flush()
    }
}

/// A writer that redacts each write before passing it on (the stderr log layer's). `tracing`
/// writes one formatted event per call, so a value is never split across two writes.
#[derive(Debug)]
pub struct Redacted<W: Write>(pub W);

impl<W: Write> Write for Redacted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::redact::redact(&String::from_utf8_lossy(buf));
        self.0.write_all(text.as_bytes())?;
        // The caller's bytes were all consumed, even if redaction changed their length.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Installs the process's logging for a host (CLI or app): stderr at `LANYARD_LOG` (default
/// `stderr_default`), and this rotating file at `LANYARD_LOG` (default info), both redacted. A file
/// that can't be opened leaves stderr logging in place rather than failing the host.
pub fn init_for_host(stderr_default: &str) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let stderr_filter = tracing_subscriber::EnvFilter::try_from_env(LEVEL_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(stderr_default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(|| Redacted(std::io::stderr()))
        .with_target(false)
        .with_filter(stderr_filter);
    let file = RotatingLog::open_default().ok().map(|log| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || log.clone())
            .with_filter(tracing_subscriber::EnvFilter::new(level_from_env("info")))
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs").join("lanyard.log");
        let mut log = RotatingLog::open(&path, 1024, 2).unwrap();
        let line = format!("{}\n", "x".repeat(300));
        for _ in 0..12 {
            log.write_all(line.as_bytes()).unwrap();
        }
        log.flush().unwrap();
        assert!(path.exists());
        assert!(dir.path().join("logs/lanyard.log.1").exists());
        assert!(dir.path().join("logs/lanyard.log.2").exists());
        assert!(!dir.path().join("logs/lanyard.log.3").exists());
        assert!(std::fs::metadata(&path).unwrap().len() <= 1024);
    }

    #[test]
    fn redacts_tokens_before_they_reach_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lanyard.log");
        let mut log = RotatingLog::open(&path, 1 << 20, 1).unwrap();
        writeln!(log, "got token=Ab0123456789abcdef0123456789abcdef and eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("Ab0123456789") && !text.contains("eyJ"),
            "{text}"
        );
        assert!(text.contains("sha256:"), "{text}");
    }

    #[test]
    fn the_stderr_writer_redacts_too() {
        let held = crate::secret::Secret::new("stderr-held-secret-7");
        let mut out = Redacted(Vec::new());
        writeln!(
            out,
            "INFO body client_secret=abc&x=1 said {} and Bearer 2YotnFZFEjr1zCsicMWpAA",
            held.expose()
        )
        .unwrap();
        let text = String::from_utf8(out.0).unwrap();
        for secret in ["abc&", "stderr-held", "2YotnFZ"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.starts_with("INFO body client_secret=[sha256:"),
            "{text}"
        );
    }

    #[test]
    fn the_log_file_is_named_lanyard_log() {
        assert_eq!(log_file_path().file_name().unwrap(), "lanyard.log");
    }
}
