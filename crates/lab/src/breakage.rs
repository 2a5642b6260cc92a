//! The duties a deliberately broken connector (`--broken-connectors`) can neglect. Its own
//! module so the catalogue (which names a connector's breakage) and `broken` (which acts it
//! out) both depend on it, and not on each other.

/// The one duty a broken connector neglects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// No RFC 9728 protected-resource metadata (and the 401 names none).
    NoPrm,
    /// Reads `?access_token=` from the query string, which wins over the header.
    AcceptsQueryToken,
    /// Accepts any unexpired JWT without checking its signature or audience.
    NoAudienceCheck,
    /// Accepts a token whose last characters were changed (as if the MAC went unchecked).
    AcceptsTampered,
    /// Answers 401 without `WWW-Authenticate`.
    NoChallenge,
    /// AS metadata lists jwt-bearer but not the ID-JAG grant profile.
    NoIdJagProfile,
    /// AS metadata claims an issuer with an extra trailing slash.
    IssuerMismatch,
    /// AS metadata has no `revocation_endpoint` (and `/revoke` is gone).
    NoRevocation,
}

impl Breakage {
    pub const ALL: [Breakage; 8] = [
        Self::NoPrm,
        Self::AcceptsQueryToken,
        Self::NoAudienceCheck,
        Self::AcceptsTampered,
        Self::NoChallenge,
        Self::NoIdJagProfile,
        Self::IssuerMismatch,
        Self::NoRevocation,
    ];

    /// The connector id, `broken-…`.
    pub fn id(self) -> &'static str {
        match self {
            Self::NoPrm => "broken-no-prm",
            Self::AcceptsQueryToken => "broken-query-token",
            Self::NoAudienceCheck => "broken-audience",
            Self::AcceptsTampered => "broken-signature",
            Self::NoChallenge => "broken-challenge",
            Self::NoIdJagProfile => "broken-no-profile",
            Self::IssuerMismatch => "broken-issuer",
            Self::NoRevocation => "broken-no-revocation",
        }
    }
}
