//! A static reading of a Liquid template: every variable it refers to, where
//! (line and column), whether an output has a `default`, and whether it sits
//! inside an `if`/`unless` that tests the same variable. The Liquid engine
//! itself only discovers unknown variables when it renders, and only on the
//! branch it takes; this scan lets a template be checked on save against the
//! workspace's fields, and lets rendering refuse to send "Hi ," when a
//! contact lacks a value the template prints without a fallback.

use std::collections::HashSet;

/// A variable the template reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `contact.custom.plan` → `["contact", "custom", "plan"]`; indexes with
    /// a variable inside (`a[b]`) end the path.
    pub path: Vec<String>,
    pub line: usize,
    pub column: usize,
    /// Printed by `{{ … }}` (rather than tested or looped over in a tag).
    pub output: bool,
    /// The output passes through `default`, so an empty value is fine.
    pub has_default: bool,
    /// Inside an `if`/`unless`/`case` that tests this path (or a prefix).
    pub guarded: bool,
}

/// A markup problem found by the scan (an unclosed `{{` or `{%`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Line and column (1-based, columns in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "contains", "true", "false", "nil", "null", "empty", "blank", "in", "reversed", "limit",
    "offset", "with", "as", "for", "cols",
];

/// Every reference in `text`, or the first markup error.
pub fn scan(text: &str) -> Result<Vec<Reference>, ScanError> {
    let mut refs = Vec::new();
    let mut locals: HashSet<String> = ["forloop", "tablerowloop"].iter().map(|s| s.to_string()).collect();
    // Paths tested by the enclosing if/unless/case blocks.
    let mut guards: Vec<Vec<Vec<String>>> = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    let mut raw_until: Option<&str> = None;
    while let Some(rel) = text[i..].find('{') {
        let start = i + rel;
        let next = bytes.get(start + 1).copied();
        let (close, is_output) = match next {
            Some(b'{') => ("}}", true),
            Some(b'%') => ("%}", false),
            _ => {
                i = start + 1;
                continue;
            }
        };
        let body_start = start + 2;
        let Some(end_rel) = text[body_start..].find(close) else {
            let (line, column) = line_col(text, start);
            let what = if is_output { "{{ without a closing }}" } else { "{% without a closing %}" };
            return Err(ScanError { line, column, message: what.into() });
        };
        let body = text[body_start..body_start + end_rel].trim_matches(|c: char| c == '-' || c.is_whitespace());
        i = body_start + end_rel + 2;
        let (line, column) = line_col(text, start);
        if let Some(stop) = raw_until {
            if !is_output && first_word(body) == stop {
                raw_until = None;
            }
            continue;
        }
        if is_output {
            let parts = split_top(body, '|');
            let has_default = parts.iter().skip(1).any(|f| first_word(f.trim()) == "default");
            let mut first = true;
            for (k, part) in parts.iter().enumerate() {
                for p in paths(if k == 0 { part } else { filter_args(part) }) {
                    let guarded = guards.iter().flatten().any(|g| p.starts_with(g) || g.starts_with(&p));
                    let output = first && k == 0;
                    first = false;
                    if !locals.contains(&p[0]) {
                        refs.push(Reference { path: p, line, column, output, has_default, guarded });
                    }
                }
            }
            continue;
        }
        let word = first_word(body);
        let rest = body[word.len()..].trim();
        let push_all = |expr: &str, refs: &mut Vec<Reference>, locals: &HashSet<String>| -> Vec<Vec<String>> {
            let ps = paths(expr);
            for p in &ps {
                if !locals.contains(&p[0]) {
                    refs.push(Reference {
                        path: p.clone(),
                        line,
                        column,
                        output: false,
                        has_default: false,
                        guarded: false,
                    });
                }
            }
            ps
        };
        match word {
            "if" | "unless" | "case" => {
                let tested = push_all(rest, &mut refs, &locals);
                guards.push(tested);
            }
            "elsif" | "when" => {
                let tested = push_all(rest, &mut refs, &locals);
                if let Some(top) = guards.last_mut() {
                    top.extend(tested);
                }
            }
            "endif" | "endunless" | "endcase" => {
                guards.pop();
            }
            "for" | "tablerow" => {
                if let Some((var, coll)) = rest.split_once(" in ") {
                    push_all(coll, &mut refs, &locals);
                    locals.insert(var.trim().to_string());
                }
            }
            "assign" => {
                if let Some((var, expr)) = rest.split_once('=') {
                    let parts = split_top(expr, '|');
                    for (k, part) in parts.iter().enumerate() {
                        push_all(if k == 0 { part } else { filter_args(part) }, &mut refs, &locals);
                    }
                    locals.insert(var.trim().to_string());
                }
            }
            "capture" => {
                locals.insert(rest.trim().to_string());
            }
            "increment" | "decrement" => {
                locals.insert(rest.trim().to_string());
            }
            "comment" => raw_until = Some("endcomment"),
            "raw" => raw_until = Some("endraw"),
            "include" | "render" => {
                // `include 'name', var: value` — the arguments after the name.
                if let Some((_, args)) = rest.split_once(',') {
                    for a in split_top(args, ',') {
                        if let Some((_, v)) = a.split_once(':') {
                            push_all(v, &mut refs, &locals);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(refs)
}

fn first_word(s: &str) -> &str {
    let s = s.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The arguments of a filter (`money: "EUR"` → `"EUR"`).
fn filter_args(f: &str) -> &str {
    f.split_once(':').map(|(_, a)| a).unwrap_or("")
}

/// Split at `sep` outside quotes.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut last = 0;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == sep => {
                out.push(&s[last..i]);
                last = i + c.len_utf8();
            }
            None => {}
        }
    }
    out.push(&s[last..]);
    out
}

/// The variable paths in an expression: identifiers outside quotes that are
/// not keywords or numbers, with their `.name` and `["name"]` / `[0]` parts.
fn paths(expr: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '?';
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            // Numbers and ranges (`1.5`, `(1..3)`) are literals.
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if !(c.is_alphabetic() || c == '_') {
            i += 1;
            continue;
        }
        let mut path = Vec::new();
        let mut seg = String::new();
        while i < chars.len() && ident(chars[i]) {
            seg.push(chars[i]);
            i += 1;
        }
        if KEYWORDS.contains(&seg.as_str()) {
            continue;
        }
        path.push(seg);
        loop {
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                let mut s = String::new();
                while i < chars.len() && ident(chars[i]) {
                    s.push(chars[i]);
                    i += 1;
                }
                if s.is_empty() {
                    break;
                }
                path.push(s);
            } else if i < chars.len() && chars[i] == '[' {
                let close = chars[i..].iter().position(|&c| c == ']').map(|p| p + i);
                let Some(close) = close else { break };
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                i = close + 1;
                if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    path.push(q.to_string());
                } else if let Some(q) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                    path.push(q.to_string());
                } else if inner.chars().all(|c| c.is_ascii_digit()) {
                    path.push(inner.to_string());
                } else {
                    // A computed index: the inner expression is a reference
                    // of its own, and the path ends here.
                    out.extend(paths(inner));
                    break;
                }
            } else {
                break;
            }
        }
        out.push(path);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn finds_outputs_with_positions_and_defaults() {
        let refs = scan("Hi {{ contact.first_name | default: \"there\" }},\n{{ event.properties.plan }}").unwrap();
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].path, p("contact.first_name"));
        assert!(refs[0].has_default && refs[0].output);
        assert_eq!((refs[1].line, refs[1].column), (2, 1));
        assert!(!refs[1].has_default);
    }

    #[test]
    fn guarded_outputs_and_locals() {
        let t = "{% if contact.first_name %}Hi {{ contact.first_name }}{% endif %}\
                 {% for item in event.properties.items %}{{ item.name }}{% endfor %}\
                 {% assign n = contact.custom.plan | upcase %}{{ n }}{{ contact.last_name }}";
        let refs = scan(t).unwrap();
        let out: Vec<_> = refs.iter().filter(|r| r.output).collect();
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].guarded);
        assert_eq!(out[1].path, p("contact.last_name"));
        assert!(!out[1].guarded);
        assert!(refs.iter().any(|r| r.path == p("event.properties.items")));
        assert!(refs.iter().any(|r| r.path == p("contact.custom.plan")));
        assert!(!refs.iter().any(|r| r.path[0] == "item" || r.path[0] == "n"));
    }

    #[test]
    fn quoted_strings_keywords_and_brackets() {
        let refs = scan(
            "{% if segments contains \"vip\" and scores.fit > 10 %}{{ event.properties[\"order id\"] }}{% endif %}",
        )
        .unwrap();
        let paths: Vec<_> = refs.iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            vec![p("segments"), p("scores.fit"), vec!["event".into(), "properties".into(), "order id".into()]]
        );
    }

    #[test]
    fn unclosed_markup_is_located() {
        let e = scan("line one\n  {{ contact.email ").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
    }

    #[test]
    fn comments_and_raw_are_skipped() {
        let refs =
            scan("{% comment %}{{ nothing }}{% endcomment %}{% raw %}{{ x }}{% endraw %}{{ contact.email }}").unwrap();
        assert_eq!(refs.len(), 1);
    }
}
