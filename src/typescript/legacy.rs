//! `legacy.generated.ts`: what the Legacy connections view gets (src/legacy/): the scan of
//! other MCP clients' stores and one receipt per disconnected entry. Neither holds a token.

use super::{File, declare};
use crate::legacy::{ClientApp, LegacyEntry, Receipt, Revocation, ScanReport};

pub(super) fn file() -> File {
    File {
        name: "legacy.generated.ts",
        from: "src/legacy/",
        decls: vec![
            declare::<ClientApp>(),
            declare::<LegacyEntry>(),
            declare::<ScanReport>(),
            declare::<Revocation>(),
            declare::<Receipt>(),
        ],
        tail: String::new(),
    }
}
