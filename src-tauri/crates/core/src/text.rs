//! Text from outside, made safe to show: quoted, cut, and with invisible and control
//! characters written out. Every message that repeats a name, a URL or a provider's words goes
//! through here, so that a bidi override or a terminal escape shows as what it is.

/// A value quoted for an error message, with invisible and control characters made visible.
pub fn shown(s: &str) -> String {
    format!("\"{}\"", cut(s, 60))
}

/// At most `max` characters of `s`, made visible, with "…" when some were cut.
fn cut(s: &str, max: usize) -> String {
    let kept: String = s.chars().take(max).collect();
    let more = if kept.len() < s.len() { "…" } else { "" };
    format!("{}{more}", visible(&kept))
}

/// A character named for a message: itself when printable ASCII, else its code point.
pub fn describe(c: char) -> String {
    if c.is_control() || is_invisible(c) || !c.is_ascii() {
        format!("the character {}", c.escape_unicode())
    } else {
        format!("'{c}'")
    }
}

/// Bidi overrides and zero-width characters change how a name reads without being seen.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space, joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{061C}' | '\u{FEFF}' | '\u{00AD}')
}

/// The text with every invisible or control character written out as `<U+XXXX>`, so that a
/// name such as "pay\u{202E}lapyap" shows what it really holds.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_invisible(c) || c.is_control() {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text from a provider (an error description), made inert: at most 300 characters, control
/// and invisible characters written out. Markup stays text; every face shows it as text.
pub fn inert(s: &str) -> String {
    cut(s, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_written_out() {
        assert_eq!(visible("pay\u{202E}lap"), "pay<U+202E>lap");
        assert_eq!(visible("a\u{200B}b"), "a<U+200B>b");
        assert_eq!(visible("<b>x</b>"), "<b>x</b>");
    }
}
