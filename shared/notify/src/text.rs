//! Text helpers shared by the renderings: length limits, one-line values, escaping.

/// The ellipsis that marks a cut.
pub const ELLIPSIS: char = '…';

/// Length in UTF-16 code units. Slack does not say how it counts characters; UTF-16 units
/// are never fewer than code points, so a text within the limit by this count is within it
/// by either.
pub fn len16(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s` cut to at most `max` UTF-16 units, ending in an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if len16(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let budget = max - ELLIPSIS.len_utf16();
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    let mut out = s[..end].trim_end().to_owned();
    out.push(ELLIPSIS);
    out
}

/// Like [`truncate`], for text already escaped with [`escape_mrkdwn`] or [`escape_html`]:
/// a cut never splits an entity (`&amp;`), which would show as garbage.
pub fn truncate_escaped(s: &str, max: usize) -> String {
    let mut out = truncate(s, max);
    if out.ends_with(ELLIPSIS) {
        let body = &out[..out.len() - ELLIPSIS.len_utf8()];
        // Escaped text has `&` only at the start of entities, which end in `;`.
        if let Some(amp) = body.rfind('&') {
            if !body[amp..].contains(';') {
                let mut cut = body[..amp].trim_end().to_owned();
                cut.push(ELLIPSIS);
                out = cut;
            }
        }
    }
    out
}

/// Control characters (line breaks, tabs, ...) become spaces and runs of whitespace one
/// space: attribute values come from webhooks and must not break a header, a subject line
/// or a layout.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Slack's control characters in mrkdwn: `&`, `<` and `>` (the rest is formatting, not
/// parsing, so user text cannot become a link or a mention).
pub fn escape_mrkdwn(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_utf16_and_marks_the_cut() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        // An emoji is two UTF-16 units: it does not fit in the one unit left.
        assert_eq!(truncate("a😀bc", 3), "a…");
        assert_eq!(len16(&truncate(&"😀".repeat(100), 150)), 149);
        assert_eq!(truncate("ab   cd", 5), "ab…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn truncate_escaped_never_splits_an_entity() {
        let s = escape_mrkdwn("a&b");
        assert_eq!(s, "a&amp;b");
        assert_eq!(truncate_escaped(&s, 5), "a…");
        assert_eq!(truncate_escaped(&s, 7), "a&amp;b");
        assert_eq!(truncate_escaped(&escape_html("x<yz"), 6), "x&lt;…");
    }

    #[test]
    fn one_line_flattens_control_characters() {
        assert_eq!(one_line("  Ana\r\nSilva\t "), "Ana Silva");
        assert_eq!(one_line("a\u{0}b"), "a b");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            escape_mrkdwn("<!channel> & <@U1>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt;"
        );
        assert_eq!(
            escape_html(r#"<a href="x">O'Neil & co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }
}
