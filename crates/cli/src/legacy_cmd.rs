//! `lanyard legacy purge` and the line `lanyard logout` adds about legacy backups: the CLI
//! side of backup retention (the core keeps, expires and deletes them).

use lanyard::legacy::{LegacyContext, RETENTION_ENV};

/// Deletes every legacy backup and their key; exit code.
pub fn purge(ctx: &LegacyContext, json: bool) -> u8 {
    match lanyard::legacy::purge_backups(ctx) {
        Ok(count) => {
            if json {
                crate::render::json_line(&serde_json::json!({ "purged": count }));
            } else {
                println!(
                    "Deleted {count} legacy backup{}. Disconnected entries can no longer be restored.",
                    if count == 1 { "" } else { "s" }
                );
            }
            0
        }
        Err(e) => {
            eprintln!("lanyard: {}", crate::render::safe(&e.to_string()));
            1
        }
    }
}

/// After logout: how many legacy backups remain and how to delete them. Never asks (logout
/// stays non-interactive); in JSON mode the line goes to stderr so stdout stays one document.
pub fn logout_hint(ctx: &LegacyContext, json: bool) {
    let count = ctx.backups().len();
    if count == 0 {
        return;
    }
    let line = format!(
        "{count} legacy backup{} of disconnected entries remain{} (encrypted; deleted after their retention, see {RETENTION_ENV}). Delete them now with: lanyard legacy purge",
        if count == 1 { "" } else { "s" },
        if count == 1 { "s" } else { "" },
    );
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}
