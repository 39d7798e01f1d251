//! JDBC-style `?` placeholders → PostgreSQL `$n` parameters.
//!
//! Upstream hands each config `query` to JDBC (`PreparedStatement`), where pgjdbc turns every
//! `?` into a positional parameter **except** inside:
//!
//! * single-quoted string literals (`'it''s ?'`, and `E'…\'…'` with backslash escapes),
//! * double-quoted identifiers (`"what?"`),
//! * dollar-quoted strings (`$$…$$`, `$tag$…$tag$`),
//! * comments (`-- …` to end of line, `/* … */`, nested as in PostgreSQL).
//!
//! `??` is pgjdbc's escape for a literal `?` (the jsonb operator `?` written in a JDBC query),
//! so it becomes a single `?` in the converted SQL and is not a placeholder. Every other `?` —
//! including the first character of the jsonb operators `?|` and `?&` — **is** a placeholder,
//! exactly as pgjdbc treats it: a config that means the operator must write `??|` / `??&`.
//! That is the conservative choice (the placeholder count, which must equal the number of
//! `jsonMaps`, is then the same one upstream binds against).
//!
//! A query that already contains PostgreSQL `$n` parameters outside literals is reported
//! by [`ParsedQuery::native_params`]: mixing them with `?` cannot be bound consistently.

/// A config query scanned for placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The query with every placeholder `?` replaced by `$1`, `$2`, … in order and `??`
    /// replaced by `?`; everything else byte-for-byte as written (including a trailing `;`).
    pub numbered: String,
    /// How many placeholders the query has.
    pub placeholders: usize,
    /// True when the query contains a PostgreSQL positional parameter (`$1`) outside literals
    /// and comments.
    pub native_params: bool,
}

/// Scans `sql` with the literal-aware rules of the module documentation.
pub fn parse_query(sql: &str) -> ParsedQuery {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut placeholders = 0usize;
    let mut native_params = false;
    let mut i = 0usize;

    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        match c {
            '\'' => {
                let escapes =
                    matches!(prev, Some('e' | 'E')) && !(i >= 2 && is_ident_char(chars[i - 2]));
                let end = skip_single_quoted(&chars, i, escapes);
                out.extend(&chars[i..end]);
                i = end;
            }
            '"' => {
                let end = skip_double_quoted(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                let end = chars[i..]
                    .iter()
                    .position(|&ch| ch == '\n' || ch == '\r')
                    .map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = skip_block_comment(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
            }
            '$' => {
                if prev.is_some_and(is_ident_char) {
                    // `a$b` is part of an identifier, not a quote or a parameter.
                    out.push(c);
                    i += 1;
                } else if chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                    native_params = true;
                    out.push(c);
                    i += 1;
                } else if let Some(tag_end) = dollar_tag_end(&chars, i) {
                    let tag: Vec<char> = chars[i..=tag_end].to_vec();
                    let end = find_closing_tag(&chars, tag_end + 1, &tag);
                    out.extend(&chars[i..end]);
                    i = end;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            '?' => {
                if chars.get(i + 1) == Some(&'?') {
                    out.push('?');
                    i += 2;
                } else {
                    placeholders += 1;
                    out.push('$');
                    out.push_str(&placeholders.to_string());
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }

    ParsedQuery {
        numbered: out,
        placeholders,
        native_params,
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// End (exclusive) of a `'…'` literal starting at `start`; an unterminated literal runs to
/// the end of the text.
fn skip_single_quoted(chars: &[char], start: usize, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if backslash_escapes => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// End (exclusive) of a `"…"` identifier starting at `start`.
fn skip_double_quoted(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' if chars.get(i + 1) == Some(&'"') => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// End (exclusive) of a `/* … */` comment starting at `start`; nests like PostgreSQL.
fn skip_block_comment(chars: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    chars.len()
}

/// If a dollar-quote tag (`$$` or `$tag$`) starts at `start`, the index of its closing `$`.
fn dollar_tag_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if chars.get(i) == Some(&'$') {
        return Some(i);
    }
    let first = *chars.get(i)?;
    if !(first.is_alphabetic() || first == '_') {
        return None;
    }
    i += 1;
    while let Some(&c) = chars.get(i) {
        if c == '$' {
            return Some(i);
        }
        if !(c.is_alphanumeric() || c == '_') {
            return None;
        }
        i += 1;
    }
    None
}

/// End (exclusive) of the dollar-quoted body whose closing `tag` is searched from `from`.
fn find_closing_tag(chars: &[char], from: usize, tag: &[char]) -> usize {
    let mut i = from;
    while i + tag.len() <= chars.len() {
        if chars[i..i + tag.len()] == *tag {
            return i + tag.len();
        }
        i += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(sql: &str) -> (String, usize) {
        let p = parse_query(sql);
        (p.numbered, p.placeholders)
    }

    #[test]
    fn numbers_plain_placeholders_in_order() {
        assert_eq!(
            n("INSERT INTO t(a, b, c) VALUES (?, ?,?);"),
            ("INSERT INTO t(a, b, c) VALUES ($1, $2,$3);".to_string(), 3)
        );
        assert_eq!(
            n("UPDATE t SET a=? WHERE id=?"),
            ("UPDATE t SET a=$1 WHERE id=$2".to_string(), 2)
        );
        assert_eq!(n("DELETE FROM t"), ("DELETE FROM t".to_string(), 0));
    }

    #[test]
    fn ignores_question_marks_in_literals_identifiers_and_comments() {
        let sql = "INSERT INTO \"we?rd\"(a, b) VALUES ('it''s ?', ?) -- why?\n /* a ? /* nested ? */ still ? */ ;";
        let p = parse_query(sql);
        assert_eq!(p.placeholders, 1);
        assert_eq!(
            p.numbered,
            "INSERT INTO \"we?rd\"(a, b) VALUES ('it''s ?', $1) -- why?\n /* a ? /* nested ? */ still ? */ ;"
        );
    }

    #[test]
    fn escape_strings_and_dollar_quotes() {
        let p = parse_query(r"SELECT E'a\'?', $$ ? $$, $tag$ ? $ ? $tag$, ?");
        assert_eq!(p.placeholders, 1);
        assert!(p.numbered.ends_with("$1"));
        assert!(!p.native_params);
        // Without the E prefix a backslash is an ordinary character.
        let p = parse_query(r"SELECT 'a\', ?");
        assert_eq!(p.placeholders, 1);
    }

    #[test]
    fn double_question_mark_is_a_literal_operator() {
        let p = parse_query("SELECT * FROM t WHERE data ?? 'k' AND id = ?");
        assert_eq!(p.placeholders, 1);
        assert_eq!(p.numbered, "SELECT * FROM t WHERE data ? 'k' AND id = $1");
        // `?|` is a placeholder followed by `|`, as in pgjdbc.
        assert_eq!(parse_query("a ?| b").placeholders, 1);
    }

    #[test]
    fn detects_native_parameters() {
        assert!(parse_query("UPDATE t SET a = $1").native_params);
        assert!(!parse_query("UPDATE t SET a$1 = ?").native_params);
        assert!(!parse_query("SELECT '$1'").native_params);
    }
}
