//! File and keyring work for commands and events, off the main thread and off the async
//! workers. A synchronous Tauri command runs on the main thread, which also paints the window
//! and the tray: a slow `$HOME` (network mount, thousands of files) or a Secret Service
//! waiting for an unlock prompt would freeze both. An `async` command that does the same work
//! inline would instead stall one of the runtime's few worker threads, where renewals run.
//! So every command that reads files or the keyring is `async` and hands that work to the
//! blocking pool here (`scripts/check-layers.py` fails a synchronous command without a reason).

use crate::dto::{AppError, ErrorCode};

/// Runs `job` on the blocking pool and waits for it without holding a thread. A panic in the
/// job becomes an internal error for the window instead of taking the app down.
pub async fn run<T, F>(job: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    match tauri::async_runtime::spawn_blocking(job).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!("background job failed: {e}");
            Err(AppError::new(
                ErrorCode::Internal,
                "Lanyard hit an internal error while reading its files; try again.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_runs_on_another_thread_and_its_panic_is_an_error() {
        tauri::async_runtime::block_on(async {
            let caller = std::thread::current().id();
            let worker = run(|| Ok(std::thread::current().id())).await.unwrap();
            assert_ne!(worker, caller, "the job must not run on the calling thread");

            let err = run::<(), _>(|| panic!("a store parser blew up"))
                .await
                .unwrap_err();
            assert!(matches!(err.code, ErrorCode::Internal));
            assert!(!err.message.contains("blew up"), "{}", err.message);
        });
    }
}
