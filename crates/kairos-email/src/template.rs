//! Email templates: a subject and a body in Liquid, the body either MJML
//! (compiled once, on save, to responsive HTML by mrml) or HTML, with an
//! optional plain-text part (derived from the HTML on save when absent),
//! an optional layout (a snippet holding `{{ content }}`) and snippets
//! included with `{% include 'name' %}`.
//!
//! Checking happens on save: Liquid syntax, MJML, and every variable
//! against what a message can know (contact and company fields of the
//! workspace, the triggering event, segments, scores, links, sender), each
//! problem with its part, line and column. Rendering is per contact from a
//! JSON context (see [`Context`]); an output printed without a `default`
//! and not guarded by an `if` makes the contact skipped, with the reason,
//! when its value is empty — a message never says "Hi ,".

use crate::filters::{LocalDate, Money};
use crate::scan::{self, Reference};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The body's markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    Mjml,
    Html,
}

impl BodyFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mjml" => Some(BodyFormat::Mjml),
            "html" => Some(BodyFormat::Html),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Mjml => "mjml",
            BodyFormat::Html => "html",
        }
    }
}

/// A template as the marketer wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSource {
    pub subject: String,
    pub body: String,
    pub format: BodyFormat,
    /// The plain-text alternative; derived from the HTML when `None`.
    pub text: Option<String>,
    /// A snippet wrapping the body: its `{{ content }}` is replaced by it.
    pub layout: Option<String>,
}

/// What a workspace's messages can refer to beyond the fixed fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub contact_fields: BTreeSet<String>,
    pub company_fields: BTreeSet<String>,
    /// Reusable Liquid snippets by name.
    pub snippets: BTreeMap<String, String>,
}

/// One problem with a template, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `subject`, `body`, `text`, or `snippet NAME`.
    pub part: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}, column {}: {}", self.part, self.line, self.column, self.message)
    }
}

const CONTACT_FIELDS: &[&str] = &[
    "id",
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "full_name",
    "timezone",
    "locale",
    "country",
    "created_at",
    "updated_at",
];
const COMPANY_FIELDS: &[&str] = &["id", "external_id", "name", "domain"];
const EVENT_FIELDS: &[&str] = &["name", "timestamp", "properties"];
const LINK_FIELDS: &[&str] = &["unsubscribe", "preferences"];
const SENDER_FIELDS: &[&str] = &["name", "email", "postal_address"];
const MESSAGE_FIELDS: &[&str] = &["id", "campaign", "journey"];

/// Why a variable cannot be known to any message, or `None` when it can.
fn unknown(path: &[String], schema: &Schema) -> Option<String> {
    let field = |list: &[&str], what: &str| -> Option<String> {
        match path.get(1) {
            None => None,
            Some(f) if list.contains(&f.as_str()) => None,
            Some(f) => Some(format!("{what} has no field \"{f}\"; it has {}", list.join(", "))),
        }
    };
    let custom = |known: &BTreeSet<String>, what: &str| -> Option<String> {
        match path.get(2) {
            Some(f) if !known.contains(f) => Some(format!(
                "{what} has no custom field \"{f}\"{}",
                if known.is_empty() {
                    " (none are defined)".to_string()
                } else {
                    format!("; defined: {}", known.iter().cloned().collect::<Vec<_>>().join(", "))
                }
            )),
            _ => None,
        }
    };
    match path[0].as_str() {
        "contact" if path.get(1).map(String::as_str) == Some("custom") => custom(&schema.contact_fields, "contact"),
        "contact" => field(CONTACT_FIELDS, "contact"),
        "company" if path.get(1).map(String::as_str) == Some("custom") => custom(&schema.company_fields, "company"),
        "company" => field(COMPANY_FIELDS, "company"),
        "event" => field(EVENT_FIELDS, "event"),
        "links" => field(LINK_FIELDS, "links"),
        "sender" => field(SENDER_FIELDS, "sender"),
        "message" => field(MESSAGE_FIELDS, "message"),
        "segments" => match path.get(1).map(String::as_str) {
            None | Some("size" | "first" | "last") => None,
            Some(_) => Some("segments is a list of segment names; test it with `segments contains \"Name\"`".into()),
        },
        "scores" | "content" => None,
        other => Some(format!(
            "unknown variable \"{other}\"; a template can use contact, company, event, segments, scores, links, \
             sender and message"
        )),
    }
}

/// A checked template, ready to render many times.
pub struct Template {
    subject: liquid::Template,
    html: liquid::Template,
    text: liquid::Template,
    /// Outputs that need a value (no default, not guarded).
    required: Vec<(String, Reference)>,
    /// Event-property paths the template reads, filled with nil when a
    /// message's event lacks them (Liquid fails on absent keys).
    event_paths: Vec<Vec<String>>,
    /// The compiled HTML before rendering (for previews of the markup).
    pub html_source: String,
    pub text_source: String,
    /// Whether the body itself prints the unsubscribe link and postal
    /// address (otherwise the standard footer is added to marketing email).
    pub has_unsubscribe_link: bool,
    pub has_postal_address: bool,
    /// Derive the text from each rendered HTML instead of once: Liquid tags
    /// sit in table markup, where an HTML parser moves them.
    text_per_render: bool,
}

/// A message's content for one contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Why one contact gets no message from this template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Skip(pub String);

fn parser(schema: &Schema) -> Result<liquid::Parser, String> {
    let mut partials = liquid::partials::InMemorySource::new();
    for (name, text) in &schema.snippets {
        partials.add(name.as_str(), text.as_str());
    }
    liquid::ParserBuilder::with_stdlib()
        .filter(Money)
        .filter(LocalDate)
        .partials(liquid::partials::EagerCompiler::new(partials))
        .build()
        .map_err(|e| e.to_string())
}

/// Line and column from a Liquid error's message (pest prints ` --> L:C`).
fn liquid_position(msg: &str) -> (usize, usize) {
    if let Some(i) = msg.find("--> ") {
        let rest = &msg[i + 4..];
        let mut it = rest.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
        if let (Some(l), Some(c)) = (it.next(), it.next()) {
            return (l.parse().unwrap_or(1), c.parse().unwrap_or(1));
        }
    }
    (1, 1)
}

fn clean_liquid_message(msg: &str) -> String {
    // Keep the first line of Liquid's multi-line report plus its hint.
    let lines: Vec<&str> = msg.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut out = lines.first().map(|s| s.to_string()).unwrap_or_default();
    if let Some(hint) = lines.iter().find(|l| l.starts_with("= ")) {
        out.push_str(": ");
        out.push_str(hint.trim_start_matches("= "));
    }
    out.trim_start_matches("liquid: ").to_string()
}

/// Derive a plain-text alternative from HTML (links kept as footnotes).
pub fn text_from_html(html: &str) -> String {
    // Raw mode reads layout tables (MJML is made of them) as plain
    // paragraphs; a width this large never wraps inside a Liquid tag.
    let text = html2text::config::plain()
        .raw_mode(true)
        .no_table_borders()
        .string_from_read(html.as_bytes(), 10_000)
        .unwrap_or_default();
    // Trailing spaces are padding, and runs of blank lines are layout.
    let mut out = String::new();
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

/// Whether a Liquid tag sits directly in table structure (between `<tr>`s
/// rather than inside a cell), where HTML parsing "foster-parents" text out
/// of the table and so would reorder the tags in a derived plain text.
fn tags_in_table_markup(html: &str) -> bool {
    const TABLE_TAGS: &[&str] = &["table", "tbody", "thead", "tfoot", "tr", "/td", "/th", "/tr", "/tbody", "/thead"];
    let mut from = 0;
    while let Some(i) = html[from..].find("{%") {
        let at = from + i;
        from = at + 2;
        let before = html[..at].trim_end();
        if let Some(lt) = before.rfind('<') {
            if before.ends_with('>') {
                let name: String = before[lt + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if TABLE_TAGS.contains(&name.as_str()) {
                    return true;
                }
            }
        }
    }
    false
}

/// Check a template against a workspace's schema and compile it.
pub fn compile(src: &TemplateSource, schema: &Schema) -> Result<Template, Vec<Problem>> {
    let mut problems = Vec::new();
    let problem = |part: &str, line: usize, column: usize, message: String| Problem {
        part: part.to_string(),
        line,
        column,
        message,
    };
    if src.subject.trim().is_empty() {
        problems.push(problem("subject", 1, 1, "the subject is empty".into()));
    }
    if src.subject.contains(['\r', '\n']) {
        problems.push(problem("subject", 1, 1, "the subject must be one line (no line breaks)".into()));
    }
    if src.body.trim().is_empty() {
        problems.push(problem("body", 1, 1, "the body is empty".into()));
    }
    let mut body = src.body.clone();
    if let Some(layout) = &src.layout {
        match schema.snippets.get(layout) {
            None => problems.push(problem("layout", 1, 1, format!("no snippet named \"{layout}\" exists"))),
            Some(l) if !l.contains("{{ content }}") => problems.push(problem(
                &format!("snippet {layout}"),
                1,
                1,
                "a layout must contain {{ content }} where the body goes".into(),
            )),
            Some(l) => body = l.replacen("{{ content }}", &src.body, 1),
        }
    }
    let html_source = match src.format {
        BodyFormat::Html => body.clone(),
        BodyFormat::Mjml => match mrml::parse(&body) {
            Ok(parsed) => match parsed.element.render(&mrml::prelude::render::RenderOptions::default()) {
                Ok(html) => html,
                Err(e) => {
                    problems.push(problem("body", 1, 1, format!("MJML cannot be rendered: {e}")));
                    String::new()
                }
            },
            Err(e) => {
                let msg = e.to_string();
                let (line, column) = msg
                    .split("position ")
                    .nth(1)
                    .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .map(|off| scan::line_col(&body, off))
                    .unwrap_or((1, 1));
                problems.push(problem("body", line, column, format!("invalid MJML: {msg}")));
                String::new()
            }
        },
    };
    // MJML keeps text only inside its text-bearing components; a Liquid
    // tag between components would vanish and its block always show.
    if src.format == BodyFormat::Mjml && !html_source.is_empty() {
        let mut from = 0;
        while let Some(i) = body[from..].find("{%") {
            let start = from + i;
            let Some(len) = body[start..].find("%}") else { break };
            let tag = &body[start..start + len + 2];
            from = start + len + 2;
            if !html_source.contains(tag) {
                let (line, column) = scan::line_col(&body, start);
                problems.push(problem(
                    "body",
                    line,
                    column,
                    format!(
                        "MJML drops {tag} here (between components); put it inside <mj-text> or wrap it in <mj-raw>"
                    ),
                ));
                break;
            }
        }
    }
    let text_per_render = src.text.is_none() && tags_in_table_markup(&html_source);
    let text_source = match &src.text {
        Some(t) => t.clone(),
        None => text_from_html(&html_source),
    };

    let parser = match parser(schema) {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push(problem("snippets", 1, 1, e));
            None
        }
    };
    let mut required = Vec::new();
    let mut event_paths = Vec::new();
    let mut refs_all = Vec::new();
    // The body is checked as written (line numbers match the editor); the
    // compiled HTML and derived text only for Liquid syntax.
    let mut parts: Vec<(String, &str)> =
        vec![("subject".into(), src.subject.as_str()), ("body".into(), src.body.as_str())];
    if let Some(t) = &src.text {
        parts.push(("text".into(), t.as_str()));
    }
    for (name, text) in &schema.snippets {
        let used = [&src.subject, &src.body, src.text.as_ref().unwrap_or(&String::new())]
            .iter()
            .any(|t| t.contains(&format!("'{name}'")) || t.contains(&format!("\"{name}\"")))
            || src.layout.as_deref() == Some(name.as_str());
        if used {
            parts.push((format!("snippet {name}"), text.as_str()));
        }
    }
    for (part, text) in &parts {
        match scan::scan(text) {
            Err(e) => problems.push(problem(part, e.line, e.column, e.message)),
            Ok(refs) => {
                for r in refs {
                    if let Some(why) = unknown(&r.path, schema) {
                        problems.push(problem(part, r.line, r.column, why));
                        continue;
                    }
                    if r.path[0] == "event" && r.path.len() > 2 {
                        event_paths.push(r.path.clone());
                    }
                    refs_all.push(r.path.clone());
                    if r.output && !r.has_default && !r.guarded && r.path[0] != "content" {
                        required.push((part.clone(), r));
                    }
                }
            }
        }
        if let Some(p) = &parser {
            if let Err(e) = p.parse(text) {
                let msg = e.to_string();
                let (line, column) = liquid_position(&msg);
                problems.push(problem(part, line, column, clean_liquid_message(&msg)));
            }
        }
        // Includes of snippets that do not exist.
        for w in text.split("{%").skip(1) {
            let w = w.trim_start_matches('-').trim_start();
            if let Some(rest) = w.strip_prefix("include").or_else(|| w.strip_prefix("render")) {
                let name: String = rest
                    .trim_start()
                    .trim_start_matches(['\'', '"'])
                    .chars()
                    .take_while(|c| *c != '\'' && *c != '"')
                    .collect();
                if !name.is_empty() && !schema.snippets.contains_key(&name) {
                    let off = text.find(&format!("include '{name}'")).unwrap_or(0);
                    let (line, column) = scan::line_col(text, off);
                    problems.push(problem(part, line, column, format!("no snippet named \"{name}\" exists")));
                }
            }
        }
    }
    if !problems.is_empty() {
        problems.dedup();
        return Err(problems);
    }
    let Some(parser) = parser else { return Err(problems) };
    let parse = |part: &str, text: &str| {
        parser.parse(text).map_err(|e| {
            let msg = e.to_string();
            let (line, column) = liquid_position(&msg);
            vec![problem(part, line, column, clean_liquid_message(&msg))]
        })
    };
    let has = |root: &str, field: &str| refs_all.iter().any(|p| p.len() >= 2 && p[0] == root && p[1] == field);
    Ok(Template {
        subject: parse("subject", &src.subject)?,
        html: parse("body", &html_source)?,
        text: parse("text", &text_source)?,
        required,
        event_paths,
        has_unsubscribe_link: has("links", "unsubscribe"),
        has_postal_address: has("sender", "postal_address"),
        text_per_render,
        html_source,
        text_source,
    })
}

/// What a message knows when it is rendered: `contact`, `company`, `event`,
/// `segments`, `scores`, `links`, `sender`, `message`, as a JSON object.
pub type Context = Map<String, Value>;

fn lookup<'a>(ctx: &'a Context, path: &[String]) -> Option<&'a Value> {
    let mut v = ctx.get(&path[0])?;
    for seg in &path[1..] {
        v = match v {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => match seg.as_str() {
                "first" => a.first()?,
                "last" => a.last()?,
                "size" => return Some(v),
                n => a.get(n.parse::<usize>().ok()?)?,
            },
            _ => return None,
        };
    }
    Some(v)
}

fn ensure_path(ctx: &mut Context, path: &[String]) {
    let mut cur = ctx;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let entry =
            cur.entry(seg.clone()).or_insert_with(|| if last { Value::Null } else { Value::Object(Map::new()) });
        if last {
            return;
        }
        match entry {
            Value::Object(m) => cur = m,
            _ => return,
        }
    }
}

impl Template {
    /// Render for one contact, or say why this contact is skipped.
    pub fn render(&self, ctx: &Context) -> Result<Rendered, Skip> {
        for (part, r) in &self.required {
            let empty = match lookup(ctx, &r.path) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                Some(_) => false,
            };
            if empty {
                return Err(Skip(format!(
                    "{} has no value for this contact and the template prints it without a default ({part} line {}, \
                     column {}); add `| default: \"…\"` or an `if`",
                    r.path.join("."),
                    r.line,
                    r.column
                )));
            }
        }
        let mut filled;
        let ctx = if self.event_paths.is_empty() {
            ctx
        } else {
            filled = ctx.clone();
            for p in &self.event_paths {
                ensure_path(&mut filled, p);
            }
            &filled
        };
        let globals = liquid::to_object(ctx).map_err(|e| Skip(format!("the message context is not usable: {e}")))?;
        let run = |t: &liquid::Template, part: &str| {
            t.render(&globals)
                .map_err(|e| Skip(format!("rendering the {part} failed: {}", clean_liquid_message(&e.to_string()))))
        };
        let subject = run(&self.subject, "subject")?;
        let subject = subject.split(['\r', '\n']).map(str::trim).collect::<Vec<_>>().join(" ");
        let html = run(&self.html, "body")?;
        let text = if self.text_per_render { text_from_html(&html) } else { run(&self.text, "text")? };
        Ok(Rendered { subject, html, text })
    }
}

/// A context's `contact` object from a contact: every standard field and
/// every custom field the workspace defines is present (null when unset),
/// so Liquid never fails on a field a template may legitimately use.
pub fn contact_object(c: &kairos_core::contact::Contact, custom_fields: &BTreeSet<String>) -> Value {
    let mut custom = Map::new();
    for f in custom_fields {
        custom.insert(f.clone(), c.custom.get(f).cloned().unwrap_or(Value::Null));
    }
    let full_name = match (&c.first_name, &c.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(f), None) => Some(f.clone()),
        (None, Some(l)) => Some(l.clone()),
        (None, None) => None,
    };
    // Liquid treats "" as true; an empty field must test false.
    let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    serde_json::json!({
        "id": c.id.to_string(), "external_id": c.external_id, "email": c.email, "phone": c.phone,
        "first_name": some(&c.first_name), "last_name": some(&c.last_name), "full_name": full_name,
        "timezone": c.timezone, "locale": c.locale, "country": c.country,
        "created_at": c.created_at.to_rfc3339(), "updated_at": c.updated_at.to_rfc3339(),
        "custom": custom,
    })
}

/// A context's `company` object (all null when the contact has none).
pub fn company_object(c: Option<&kairos_core::company::Company>, custom_fields: &BTreeSet<String>) -> Value {
    let mut custom = Map::new();
    for f in custom_fields {
        custom.insert(f.clone(), c.and_then(|c| c.custom.get(f).cloned()).unwrap_or(Value::Null));
    }
    serde_json::json!({
        "id": c.map(|c| c.id.to_string()), "external_id": c.and_then(|c| c.external_id.clone()),
        "name": c.map(|c| c.name.clone()), "domain": c.and_then(|c| c.domain.clone()), "custom": custom,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema {
            contact_fields: ["plan".to_string()].into(),
            company_fields: BTreeSet::new(),
            snippets: [("footer".to_string(), "<p>{{ sender.postal_address }}</p>".to_string())].into(),
        }
    }

    fn html(body: &str) -> TemplateSource {
        TemplateSource {
            subject: "Hello".into(),
            body: body.into(),
            format: BodyFormat::Html,
            text: None,
            layout: None,
        }
    }

    fn ctx(first: Value) -> Context {
        json!({"contact": {"first_name": first, "custom": {"plan": "pro"}, "timezone": "Europe/Berlin"},
               "event": {"name": "Trial Started", "properties": {"total": 1234.5}},
               "sender": {"postal_address": "1 Main St, Springfield"}, "segments": ["VIP"],
               "links": {"unsubscribe": "https://x/u"}})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn renders_fields_filters_and_snippets() {
        let t = compile(
            &html("<p>Hi {{ contact.first_name }}, {{ event.properties.total | money: \"EUR\" }} on {{ contact.custom.plan }}.\
                   {% if segments contains \"VIP\" %}VIP{% endif %}{{ event.properties.coupon | default: \"none\" }}</p>\
                   {% include 'footer' %}"),
            &schema(),
        )
        .unwrap();
        let r = t.render(&ctx(json!("Ada"))).unwrap();
        assert!(r.html.contains("Hi Ada, €1,234.50 on pro.VIPnone"), "{}", r.html);
        assert!(r.html.contains("1 Main St"));
        assert!(r.text.contains("Hi Ada"), "{}", r.text);
        assert!(t.has_postal_address);
    }

    #[test]
    fn missing_value_without_default_skips_the_contact() {
        let t = compile(&html("<p>Hi {{ contact.first_name }},</p>"), &schema()).unwrap();
        let skip = t.render(&ctx(Value::Null)).unwrap_err();
        assert!(skip.0.contains("contact.first_name"), "{skip}");
        let t = compile(&html("<p>Hi {{ contact.first_name | default: \"there\" }},</p>"), &schema()).unwrap();
        assert!(t.render(&ctx(Value::Null)).unwrap().html.contains("Hi there,"));
        let t = compile(&html("<p>Hi{% if contact.first_name %} {{ contact.first_name }}{% endif %},</p>"), &schema())
            .unwrap();
        assert!(t.render(&ctx(Value::Null)).unwrap().html.contains("Hi,"));
    }

    #[test]
    fn problems_are_located() {
        let e = match compile(&html("<p>\n  {{ contact.frist_name }}\n</p>"), &schema()) {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert_eq!((e[0].part.as_str(), e[0].line, e[0].column), ("body", 2, 3));
        assert!(e[0].message.contains("frist_name"), "{}", e[0].message);

        let e = match compile(&html("<p>\n{% if contact.email %}x\n"), &schema()) {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert!(e.iter().any(|p| p.part == "body"), "{e:?}");

        let e = match compile(&html("{{ contact.custom.tier }}{% include 'header' %}"), &schema()) {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert!(e.iter().any(|p| p.message.contains("tier")), "{e:?}");
        assert!(e.iter().any(|p| p.message.contains("\"header\"")), "{e:?}");

        let mut src = html("<p>x</p>");
        src.subject = "Hi\r\nBcc: victim@example.com".into();
        assert!(compile(&src, &schema()).is_err());
    }

    #[test]
    fn mjml_compiles_and_keeps_liquid() {
        let src = TemplateSource {
            subject: "Welcome {{ contact.first_name | default: 'friend' }}".into(),
            body: "<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ contact.first_name }}</mj-text>\
                   <mj-button href=\"{{ links.unsubscribe }}\">Unsubscribe</mj-button></mj-column></mj-section></mj-body></mjml>"
                .into(),
            format: BodyFormat::Mjml,
            text: None,
            layout: None,
        };
        let t = compile(&src, &schema()).unwrap();
        let r = t.render(&ctx(json!("Ada"))).unwrap();
        assert!(r.html.contains("Hello Ada"));
        assert!(r.html.contains("href=\"https://x/u\""), "{}", r.html);
        assert!(r.html.contains("@media"), "responsive CSS expected");
        assert!(r.text.contains("Hello Ada"), "{}", r.text);
        assert_eq!(r.subject, "Welcome Ada");
        let bad = TemplateSource { body: "<mjml><mj-body><mj-text>".into(), ..src.clone() };
        assert!(compile(&bad, &schema()).is_err());
        // Liquid blocks between components land in table markup, where an
        // HTML parser would move them: the plain text must still follow them.
        let between = TemplateSource {
            body: "<mjml><mj-body><mj-section><mj-column>\n{% if segments contains 'VIP' %}<mj-text>Free shipping</mj-text>\
                   {% endif %}\n<mj-raw>{% if segments contains 'Nobody' %}</mj-raw><mj-text>Hidden</mj-text>\
                   <mj-raw>{% endif %}</mj-raw></mj-column></mj-section></mj-body></mjml>"
                .into(),
            ..src
        };
        let t = compile(&between, &schema()).unwrap();
        let vip = t.render(&ctx(json!("Ada"))).unwrap();
        assert!(vip.html.contains("Free shipping") && vip.text.contains("Free shipping"), "{}", vip.text);
        assert!(!vip.html.contains("Hidden") && !vip.text.contains("Hidden"), "{}", vip.text);
        let mut other = ctx(json!("Ada"));
        other.insert("segments".into(), json!([]));
        let r = t.render(&other).unwrap();
        assert!(!r.html.contains("Free shipping") && !r.text.contains("Free shipping"), "{}", r.text);
    }

    #[test]
    fn local_date_uses_the_contacts_zone() {
        let t = compile(&html("{{ \"2026-03-01T23:30:00Z\" | local_date: \"%Y-%m-%d\" }}"), &schema()).unwrap();
        assert_eq!(t.render(&ctx(json!("Ada"))).unwrap().html, "2026-03-02");
    }

    #[test]
    fn layouts_wrap_the_body() {
        let mut s = schema();
        s.snippets.insert("frame".into(), "<div class=frame>{{ content }}</div>".into());
        let src = TemplateSource { layout: Some("frame".into()), ..html("<p>x</p>") };
        let t = compile(&src, &s).unwrap();
        assert!(t.render(&ctx(json!("Ada"))).unwrap().html.starts_with("<div class=frame><p>x</p>"));
        let src = TemplateSource { layout: Some("footer".into()), ..html("<p>x</p>") };
        assert!(compile(&src, &s).is_err());
    }
}
