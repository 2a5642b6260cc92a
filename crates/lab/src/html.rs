//! The small HTML pages a person sees: the sign-in chooser and the "cannot redirect" error.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A GET form back to `action` that repeats `params` and adds `login_hint` from the button.
pub fn sign_in_page<'a>(
    title: &str,
    action: &str,
    params: impl Iterator<Item = (&'a str, &'a str)>,
    users: impl Iterator<Item = &'a str>,
) -> Response {
    let hidden: String = params
        .filter(|(k, _)| *k != "login_hint")
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(k),
                escape(v)
            )
        })
        .collect();
    let buttons: String = users
        .map(|u| {
            format!(
                r#"<p><button type="submit" name="login_hint" value="{0}">{0}</button></p>"#,
                escape(u)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>Choose who you are:</p>\
         <form method=\"get\" action=\"{a}\">{hidden}{buttons}</form></body></html>",
        t = escape(title),
        a = escape(action),
    ))
    .into_response()
}

/// Shown instead of redirecting when the client or redirect URI cannot be trusted.
pub fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>\
             <body><h1>Sign-in error</h1><p>{}</p></body></html>",
            escape(message)
        )),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
