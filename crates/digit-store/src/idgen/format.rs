//! Parsing of the id format mini-language (spec §5.3) into a template of literal text and
//! classified tokens. Nothing here touches the database; values are filled in by
//! [`super::IdGenerator`].

use std::collections::HashMap;
use std::sync::LazyLock;

use rand::Rng;
use regex::Regex;

use super::datefmt::JavaDateFormat;
use super::error::IdgenError;

/// Longest random-digits token accepted (`[d{100}]`); upstream has no bound.
pub const MAX_RANDOM_LENGTH: usize = 100;

/// Compiles one of the constant patterns below (they are valid; the tests exercise each).
#[allow(clippy::expect_used)]
fn constant_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant regex compiles")
}

/// Identifier whitelist for sequence names: the only place SQL names come from input.
static SEQUENCE_NAME: LazyLock<Regex> =
    LazyLock::new(|| constant_regex("^[A-Za-z_][A-Za-z0-9_]{0,62}$"));
/// Upstream's token pattern: `[`, the shortest run without a line break, `]`.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| constant_regex(r"\[(.*?)\]"));
/// The random-length part of a token: the first `{…}`.
static BRACES: LazyLock<Regex> = LazyLock::new(|| constant_regex(r"\{(.*?)\}"));

const FY_ERROR: &str =
    "Error while generating financial year in provided format. Given format invalid.";
const CY_ERROR: &str =
    "Error while generating current year in provided format. Given format invalid.";

/// A classified `[…]` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `[seq…]`: a Postgres sequence, name validated and lower-cased.
    Seq(String),
    /// `[fy:<p1>-<p2>]`: financial-year parts.
    FinancialYear(Vec<JavaDateFormat>),
    /// `[cy:<pattern>]`: the current date/time.
    CurrentDate(JavaDateFormat),
    /// `[city…]`: the tenant's city code from MDMS.
    City,
    /// Anything else: this many random digits.
    Random(usize),
}

/// One piece of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text copied as is.
    Literal(String),
    /// Index into [`Template::tokens`]. Repeated tokens share one index (and one value per
    /// id), as upstream's replace-all does.
    Token(usize),
}

/// A parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Literal text and token references in order.
    pub segments: Vec<Segment>,
    /// Distinct tokens in order of first appearance.
    pub tokens: Vec<Token>,
}

/// Applies the literal tenant substitutions (`[tenantid]`, `[tenant_id]`, `[TENANT_ID]`), in
/// upstream's order and only for a non-empty tenant id.
pub fn substitute_tenant(format: &str, tenant_id: &str) -> String {
    if tenant_id.is_empty() {
        return format.to_owned();
    }
    let underscored = tenant_id.replace('.', "_");
    format
        .replace("[tenantid]", tenant_id)
        .replace("[tenant_id]", &underscored)
        .replace("[TENANT_ID]", &underscored.to_uppercase())
}

/// Parses `format` for `tenant_id`: tenant substitution, then every `[…]` token classified by
/// its case-insensitive prefix (`seq`, `fy`, `cy`, `city`, else random digits).
pub fn parse(format: &str, tenant_id: &str) -> Result<Template, IdgenError> {
    if format.trim().is_empty() {
        return Err(IdgenError::BlankFormat);
    }
    let format = substitute_tenant(format, tenant_id);
    let mut segments = Vec::new();
    let mut tokens = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut last = 0;
    for caps in TOKEN.captures_iter(&format) {
        let (Some(whole), Some(content)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        if whole.start() > last {
            segments.push(Segment::Literal(format[last..whole.start()].to_owned()));
        }
        last = whole.end();
        let index = match seen.get(content.as_str()) {
            Some(&i) => i,
            None => {
                tokens.push(classify(content.as_str())?);
                seen.insert(content.as_str(), tokens.len() - 1);
                tokens.len() - 1
            }
        };
        segments.push(Segment::Token(index));
    }
    if last < format.len() {
        segments.push(Segment::Literal(format[last..].to_owned()));
    }
    Ok(Template { segments, tokens })
}

/// `Some(true)` when `content` starts with `prefix` ignoring ASCII case, `Some(false)` when
/// not, `None` when `content` is shorter than `prefix` (upstream's `substring` throws there).
fn has_prefix(content: &str, prefix: &str) -> Option<bool> {
    let head: String = content.chars().take(prefix.chars().count()).collect();
    if head.chars().count() < prefix.chars().count() {
        return None;
    }
    Some(head.eq_ignore_ascii_case(prefix))
}

fn too_short(content: &str) -> IdgenError {
    IdgenError::InvalidFormat(format!(
        "Invalid token [{}] in the id format: too short to be recognised",
        truncate_for_message(content)
    ))
}

/// Classifies one token content, testing prefixes in upstream's order.
pub fn classify(content: &str) -> Result<Token, IdgenError> {
    if has_prefix(content, "seq").ok_or_else(|| too_short(content))? {
        return sequence_token(content);
    }
    if has_prefix(content, "fy") == Some(true) {
        return financial_year_token(content);
    }
    if has_prefix(content, "cy") == Some(true) {
        let pattern = after_colon(content.trim());
        return JavaDateFormat::parse(pattern)
            .map(Token::CurrentDate)
            .map_err(|_| IdgenError::InvalidFormat(CY_ERROR.to_owned()));
    }
    if has_prefix(content, "city").ok_or_else(|| too_short(content))? {
        return Ok(Token::City);
    }
    random_token(content)
}

/// The text after the first `:` (the whole text when there is none), trimmed.
fn after_colon(content: &str) -> &str {
    content
        .split_once(':')
        .map_or(content, |(_, rest)| rest)
        .trim()
}

fn sequence_token(content: &str) -> Result<Token, IdgenError> {
    if !SEQUENCE_NAME.is_match(content) {
        return Err(IdgenError::InvalidSequenceName(
            truncate_for_message(content).to_owned(),
        ));
    }
    // Postgres folds unquoted identifiers to lower case; upstream passes the name unquoted.
    Ok(Token::Seq(content.to_ascii_lowercase()))
}

fn financial_year_token(content: &str) -> Result<Token, IdgenError> {
    let pattern = after_colon(content);
    let mut parts: Vec<&str> = pattern.split('-').collect();
    // Java's String.split drops trailing empty strings.
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
        .into_iter()
        .map(|p| JavaDateFormat::parse(p.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map(Token::FinancialYear)
        .map_err(|_| IdgenError::InvalidFormat(FY_ERROR.to_owned()))
}

fn random_token(content: &str) -> Result<Token, IdgenError> {
    if Regex::new(content).is_err() {
        return Err(IdgenError::InvalidRegex);
    }
    let length = match BRACES.captures(content).and_then(|c| c.get(1)) {
        None => 2,
        Some(inner) => inner.as_str().trim().parse::<usize>().map_err(|_| {
            IdgenError::InvalidFormat(format!(
                "Invalid length in random token [{}]",
                truncate_for_message(content)
            ))
        })?,
    };
    if length > MAX_RANDOM_LENGTH {
        return Err(IdgenError::InvalidFormat(format!(
            "Random token length {length} exceeds the maximum of {MAX_RANDOM_LENGTH}"
        )));
    }
    Ok(Token::Random(length))
}

/// Formats the financial year for a local date-time: `<p1>-<p2>` where the first part is
/// formatted from `now` and the others too, each parsed as an integer; April–December → first
/// part is this year and the second +1, January–March → first −1 and second as is. Printed as
/// plain integers like upstream (`yyyy-yy` → `2026-27`).
pub fn financial_year<Tz: chrono::TimeZone>(
    parts: &[JavaDateFormat],
    now: &chrono::DateTime<Tz>,
) -> Result<String, IdgenError>
where
    Tz::Offset: std::fmt::Display,
{
    use chrono::Datelike;
    let after_march = now.month() > 3;
    let mut pre: i64 = 0;
    let mut post: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let value: i64 = part
            .format(now)
            .trim()
            .parse()
            .map_err(|_| IdgenError::InvalidFormat(FY_ERROR.to_owned()))?;
        if i == 0 {
            pre = if after_march { value } else { value - 1 };
        } else {
            post = if after_march { value + 1 } else { value };
        }
    }
    Ok(format!("{pre}-{post}"))
}

/// Upstream's random text: concatenated random integers in [0, 24], truncated to `length`.
pub fn random_digits(length: usize) -> String {
    let mut rng = rand::rng();
    let mut text = String::with_capacity(length * 2);
    for _ in 0..length {
        text.push_str(&rng.random_range(0..25u32).to_string());
    }
    text.truncate(length);
    text
}

/// Zero-pads a sequence value like Java's `%0<width>d` (longer numbers keep all digits).
pub fn pad_sequence(value: i64, width: usize) -> String {
    if value < 0 {
        format!(
            "-{:0width$}",
            value.unsigned_abs(),
            width = width.saturating_sub(1)
        )
    } else {
        format!("{value:0width$}")
    }
}

/// Caps echoed input in error messages.
fn truncate_for_message(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<Template, IdgenError>) -> &'static str {
        r.unwrap_err().code()
    }

    #[test]
    fn tenant_substitution_including_nested_forms() {
        assert_eq!(
            substitute_tenant("[SEQ_WS_APP_[TENANT_ID]]", "pb.amritsar"),
            "[SEQ_WS_APP_PB_AMRITSAR]"
        );
        assert_eq!(
            substitute_tenant("X-[tenantid]", "pb.amritsar"),
            "X-pb.amritsar"
        );
        assert_eq!(
            substitute_tenant("X-[tenant_id]", "pb.amritsar"),
            "X-pb_amritsar"
        );
        assert_eq!(substitute_tenant("X-[tenantid]", ""), "X-[tenantid]");
        let t = parse("[SEQ_WS_APP_[TENANT_ID]]", "pb.amritsar").unwrap();
        assert_eq!(t.tokens, vec![Token::Seq("seq_ws_app_pb_amritsar".into())]);
    }

    #[test]
    fn tokens_are_classified_by_case_insensitive_prefix() {
        let t = parse(
            "PG-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]/[fy:yyyy-yy]/[CITY.CODE]/[city]/[d{4}]/[Seq_x]",
            "pg.citya",
        )
        .unwrap();
        assert!(matches!(t.tokens[0], Token::CurrentDate(_)));
        assert_eq!(t.tokens[1], Token::Seq("seq_eg_pgr_id".into()));
        assert!(matches!(&t.tokens[2], Token::FinancialYear(p) if p.len() == 2));
        assert_eq!(t.tokens[3], Token::City);
        assert_eq!(t.tokens[4], Token::City);
        assert_eq!(t.tokens[5], Token::Random(4));
        assert_eq!(t.tokens[6], Token::Seq("seq_x".into()));
        assert_eq!(t.segments[0], Segment::Literal("PG-".into()));
        assert_eq!(t.segments.len(), 14);
    }

    #[test]
    fn repeated_tokens_share_one_slot() {
        let t = parse("[abcd]-[abcd]-[SEQ_A]-[SEQ_A]", "pg").unwrap();
        assert_eq!(t.tokens.len(), 2);
        assert_eq!(t.segments[0], t.segments[2]);
    }

    #[test]
    fn random_token_lengths() {
        assert_eq!(classify("d{4}").unwrap(), Token::Random(4));
        assert_eq!(
            classify("abcd").unwrap(),
            Token::Random(2),
            "default length is 2"
        );
        assert_eq!(classify("[0-9]{3}").unwrap(), Token::Random(3));
        assert_eq!(classify("d{0}").unwrap(), Token::Random(0));
        assert_eq!(
            classify("d{x}").unwrap_err().code(),
            "INVALID_REGEX",
            "as Java: illegal repetition"
        );
        assert_eq!(classify("d{2,3}").unwrap_err().code(), "INVALID_FORMAT");
        assert_eq!(classify("d{1000}").unwrap_err().code(), "INVALID_FORMAT");
        assert_eq!(classify("abc(").unwrap_err().code(), "INVALID_REGEX");
    }

    #[test]
    fn short_tokens_are_rejected() {
        assert_eq!(code(parse("X-[ab]", "pg")), "INVALID_FORMAT");
        assert_eq!(code(parse("X-[]", "pg")), "INVALID_FORMAT");
        assert_eq!(
            code(parse("X-[fy]", "pg")),
            "INVALID_FORMAT",
            "`fy` fails the seq test"
        );
        assert_eq!(
            code(parse("X-[abc]", "pg")),
            "INVALID_FORMAT",
            "3 chars fail the city test"
        );
        assert!(
            parse("X-[cy:]", "pg").is_ok(),
            "3 chars with a cy prefix are fine"
        );
    }

    #[test]
    fn sequence_names_are_whitelisted() {
        assert_eq!(code(parse("[SEQ-X]", "pg")), "INVALID_SEQUENCE_NAME");
        assert_eq!(
            code(parse("[seq_x'); DROP TABLE t; --]", "pg")),
            "INVALID_SEQUENCE_NAME"
        );
        assert_eq!(code(parse("[seq.public_x]", "pg")), "INVALID_SEQUENCE_NAME");
        let long = format!("[seq_{}]", "a".repeat(60));
        assert_eq!(code(parse(&long, "pg")), "INVALID_SEQUENCE_NAME");
        let max = format!("[seq_{}]", "a".repeat(59));
        assert!(parse(&max, "pg").is_ok());
        // An un-substituted nested token leaves a bracket in the name.
        assert_eq!(code(parse("[SEQ_X_[foo]]", "pg")), "INVALID_SEQUENCE_NAME");
    }

    #[test]
    fn blank_and_bad_date_formats() {
        assert_eq!(code(parse("   ", "pg")), "IDGEN_FORMAT_ERROR");
        assert_eq!(code(parse("[cy:yyyy-qq]", "pg")), "INVALID_FORMAT");
        assert_eq!(code(parse("[fy:yyyy-bb]", "pg")), "INVALID_FORMAT");
    }

    #[test]
    fn literal_only_formats() {
        let t = parse("CONST-ID", "pg").unwrap();
        assert!(t.tokens.is_empty());
        assert_eq!(t.segments, vec![Segment::Literal("CONST-ID".into())]);
    }

    #[test]
    fn padding() {
        assert_eq!(pad_sequence(7, 6), "000007");
        assert_eq!(pad_sequence(1_234_567, 6), "1234567");
        assert_eq!(pad_sequence(42, 0), "42");
        assert_eq!(pad_sequence(-5, 4), "-005");
    }

    #[test]
    fn random_digits_have_the_requested_length() {
        for len in [0, 1, 2, 4, 9, 50] {
            let d = random_digits(len);
            assert_eq!(d.len(), len);
            assert!(d.chars().all(|c| c.is_ascii_digit()));
        }
    }
}
