//! PAN-OS `set` command files (`set cli config-output-format set` output, or commands written
//! by hand) read into the configuration tree, each value with its 1-based line.
//!
//! What a file may hold: `set` commands in any order (the tree merges them; entries keep the
//! order they were first set in, which is a rulebase's order), several on one line (text pasted
//! from a web page), quoted names with spaces, `[ a b ]` member lists (`set` on a list appends),
//! an optional `vsys vsys1` prefix, `delete` commands, the `edit` / `up` / `top` form vendor
//! templates use, comment and blank lines, a CLI prompt before a command. Lines vpnlab does not
//! model (`set deviceconfig ...`, `commit`) are kept as skipped, with why, for the report. A
//! keyword the schema does not know stops its line; the rest is reported, never guessed.

use super::report;
use super::schema::{self, Key, Kind};
use super::tree::{quoted, Element, Parsed, Skipped};
use crate::device::DeviceError;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    quoted: bool,
}

impl Token {
    fn is(&self, word: &str) -> bool {
        !self.quoted && self.text == word
    }
}

/// One step down the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Tag(String),
    Entry(String),
    /// A member of a list (only a `delete` names one).
    Member(String),
}

/// What a command does at the end of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Create the path (an entry, a container, a flag).
    Present,
    Text {
        value: String,
        secret: bool,
    },
    Member(String),
    /// An entry without content in a list of names.
    Name(String),
    Delete,
}

#[derive(Debug)]
struct Assignment {
    steps: Vec<Step>,
    op: Op,
}

/// The result of walking one command's words through the schema.
#[derive(Debug, Default)]
struct Walk {
    assignments: Vec<Assignment>,
    /// Words each level consumed (1 for a container, 2 for an entry and its name), for `up`.
    levels: Vec<usize>,
    /// A keyword the schema does not know here: the path before it and the keyword.
    unknown: Option<(String, String)>,
}

/// A problem with one command, located by the caller.
struct WalkError {
    element: String,
    message: String,
    hint: Option<String>,
}

/// Reads a `set` file. Every problem is reported, each with its line.
pub fn parse(text: &str) -> Result<Parsed, Vec<DeviceError>> {
    let mut root = Element::new("", None);
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    // The `edit` context: words prefixed to every command, by level.
    let mut context: Vec<Vec<Token>> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let tokens = match tokenize(trimmed) {
            Ok(t) => t,
            Err(message) => {
                // The line is not shown: it may hold a key.
                errors.push(DeviceError {
                    line: Some(line),
                    element: String::new(),
                    message,
                    hint: Some("close the quote; a name with spaces is written \"like this\"".into()),
                });
                continue;
            }
        };
        for command in commands(strip_prompt(tokens)) {
            if let Err(e) = command_into(&command, line, &mut root, &mut context, &mut skipped) {
                errors.push(DeviceError { line: Some(line), element: e.element, message: e.message, hint: e.hint });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    root.assign_paths("");
    Ok(Parsed { root, skipped, sources: vec![("a `set` command file".into(), None)] })
}

/// Words, quoted strings (double or single quotes, `\"` inside double quotes) and the brackets
/// of a member list. The error never quotes the line: it may hold a key.
fn tokenize(line: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '[' || c == ']' {
            chars.next();
            tokens.push(Token { text: c.to_string(), quoted: false });
            continue;
        }
        if c == '"' || c == '\'' {
            chars.next();
            let mut text = String::new();
            let mut closed = false;
            while let Some(ch) = chars.next() {
                match ch {
                    '\\' if c == '"' => {
                        if let Some(escaped) = chars.next() {
                            text.push(escaped);
                        }
                    }
                    ch if ch == c => {
                        closed = true;
                        break;
                    }
                    ch => text.push(ch),
                }
            }
            if !closed {
                return Err(format!("a {} quote is not closed on this line", if c == '"' { "double" } else { "single" }));
            }
            tokens.push(Token { text, quoted: true });
            continue;
        }
        let mut text = String::new();
        while let Some(&ch) = chars.peek() {
            if ch.is_whitespace() || ch == '[' || ch == ']' {
                break;
            }
            text.push(ch);
            chars.next();
        }
        tokens.push(Token { text, quoted: false });
    }
    Ok(tokens)
}

/// A CLI prompt pasted with the command (`admin@PA-VM# set ...`, `[edit]` lines are skipped by
/// the caller as unknown verbs).
fn strip_prompt(tokens: Vec<Token>) -> Vec<Token> {
    match tokens.first() {
        Some(t) if !t.quoted && t.text.len() > 1 && (t.text.ends_with('#') || t.text.ends_with('>')) && t.text.contains('@') => tokens[1..].to_vec(),
        _ => tokens,
    }
}

/// The commands of a line: a `set` in the middle of a line starts another command (configs
/// copied from web pages arrive joined on one line).
fn commands(tokens: Vec<Token>) -> Vec<Vec<Token>> {
    let mut out: Vec<Vec<Token>> = Vec::new();
    for (i, t) in tokens.into_iter().enumerate() {
        if i == 0 || t.is("set") {
            out.push(vec![t]);
        } else if let Some(last) = out.last_mut() {
            last.push(t);
        }
    }
    out
}

/// Carries out one command.
fn command_into(command: &[Token], line: usize, root: &mut Element, context: &mut Vec<Vec<Token>>, skipped: &mut Vec<Skipped>) -> Result<(), WalkError> {
    let Some((verb, rest)) = command.split_first() else { return Ok(()) };
    let verb_word = if verb.quoted { "" } else { verb.text.as_str() };
    match verb_word {
        "set" | "delete" | "edit" => {}
        "top" => {
            context.clear();
            return Ok(());
        }
        "up" => {
            context.pop();
            return Ok(());
        }
        "configure" | "commit" | "exit" | "quit" | "save" | "validate" | "show" | "run" | "request" | "load" | "revert" => {
            skipped.push(Skipped { element: verb.text.clone(), line: Some(line), why: "an operational command, not configuration".into() });
            return Ok(());
        }
        _ => {
            // Not shown: an unknown line may be anything, a key included.
            skipped.push(Skipped { element: "(not a command)".into(), line: Some(line), why: "not a `set`, `delete` or `edit` command".into() });
            return Ok(());
        }
    }
    let mut words: Vec<Token> = context.iter().flatten().cloned().collect();
    words.extend(rest.iter().cloned());
    // A multi-vsys configuration's prefix; vpnlab reads vsys1 (a single-vsys firewall's only one).
    if words.first().is_some_and(|w| w.is("vsys")) {
        match words.get(1) {
            Some(v) if v.text == "vsys1" => {
                words.drain(..2);
            }
            Some(v) => {
                skipped.push(Skipped {
                    element: format!("vsys {}", quoted(&v.text)),
                    line: Some(line),
                    why: "only vsys1 is read (the lab runs one virtual system)".into(),
                });
                return Ok(());
            }
            None => {
                return Err(WalkError {
                    element: "vsys".into(),
                    message: "`vsys` needs a name".into(),
                    hint: Some("e.g. `set vsys vsys1 zone trust ...`".into()),
                })
            }
        }
    }
    let Some(first) = words.first() else { return Ok(()) };
    if schema::find(schema::ROOT, &first.text).is_none() || first.quoted {
        skipped.push(Skipped { element: first.text.clone(), line: Some(line), why: report::why_not_read(&first.text).to_string() });
        return Ok(());
    }
    let deleting = verb_word == "delete";
    let walk = walk(&words, deleting)?;
    if verb_word == "edit" {
        // The context is kept by level, so that `up` leaves one level.
        let mut levels = Vec::new();
        let mut at = 0;
        for n in &walk.levels {
            levels.push(words[at..at + n].to_vec());
            at += n;
        }
        *context = levels;
        return Ok(());
    }
    for a in walk.assignments {
        apply(root, a, line, skipped);
    }
    if let Some((path, keyword)) = walk.unknown {
        let near = report::closest_keyword(&keyword);
        let why = match near {
            Some(n) => format!("`{keyword}` is not a keyword vpnlab reads here (did you mean `{n}`?); the rest of the line is not read"),
            None => format!("`{keyword}` is not a keyword vpnlab reads here; the rest of the line is not read"),
        };
        let element = if path.is_empty() { keyword } else { format!("{path} {keyword}") };
        skipped.push(Skipped { element, line: Some(line), why });
    }
    Ok(())
}

struct Frame {
    keys: &'static [Key],
    steps: Vec<Step>,
    words: usize,
}

fn path_of(steps: &[Step]) -> String {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Tag(t) => Some(t.clone()),
            Step::Entry(n) => Some(quoted(n)),
            Step::Member(_) => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One value, or the values of a `[ a b ]` list, starting at `words[i]`: the values and how
/// many words they took. `None` when there is no value.
fn values(words: &[Token], i: usize, keyword: &str, path: &str) -> Result<Option<(Vec<String>, usize)>, WalkError> {
    let Some(first) = words.get(i) else { return Ok(None) };
    if first.is("]") {
        return Err(WalkError {
            element: path.to_string(),
            message: format!("`]` without `[` after `{keyword}`"),
            hint: Some("a list is written `[ a b ]`".into()),
        });
    }
    if !first.is("[") {
        return Ok(Some((vec![first.text.clone()], 1)));
    }
    let mut list = Vec::new();
    for (n, w) in words[i + 1..].iter().enumerate() {
        if w.is("]") {
            return Ok(Some((list, n + 2)));
        }
        list.push(w.text.clone());
    }
    Err(WalkError {
        element: path.to_string(),
        message: format!("the list after `{keyword}` is not closed with `]`"),
        hint: Some("a list is written `[ a b ]`".into()),
    })
}

/// Walks a command's words through the schema. After a value the next keyword is looked up in
/// the current container and then in the ones around it, as the CLI does (`protocol ikev2
/// ike-crypto-profile p dpd enable yes`).
fn walk(words: &[Token], deleting: bool) -> Result<Walk, WalkError> {
    let mut out = Walk::default();
    let mut frames = vec![Frame { keys: schema::ROOT, steps: Vec::new(), words: 0 }];
    let mut i = 0;
    let mut after_secret = false;
    // What a `delete` removes: the deepest path the command named.
    let mut target: Option<Vec<Step>> = None;
    while let Some(word) = words.get(i) {
        let top_path = frames.last().map(|f| path_of(&f.steps)).unwrap_or_default();
        if word.is("[") || word.is("]") {
            return Err(WalkError {
                element: top_path,
                message: format!("a `{}` where a keyword belongs", word.text),
                hint: Some("a list `[ a b ]` follows the keyword it belongs to".into()),
            });
        }
        let found = if word.quoted { None } else { frames.iter().rposition(|f| schema::find(f.keys, &word.text).is_some()) };
        let Some(level) = found else {
            if after_secret {
                return Err(WalkError {
                    element: top_path,
                    message: "words follow the pre-shared key that are no keywords (not shown)".into(),
                    hint: Some("a key with spaces is written in quotes: `key \"...\"`".into()),
                });
            }
            out.unknown = Some((top_path, word.text.clone()));
            break;
        };
        after_secret = false;
        frames.truncate(level + 1);
        let Some(frame) = frames.last() else { break };
        let Some(kind) = schema::find(frame.keys, &word.text) else { break };
        let mut steps = frame.steps.clone();
        steps.push(Step::Tag(word.text.clone()));
        let path = path_of(&steps);
        let keyword = word.text.as_str();
        match kind {
            Kind::Container(keys) => {
                target = Some(steps.clone());
                out.assignments.push(Assignment { steps: steps.clone(), op: Op::Present });
                frames.push(Frame { keys, steps, words: 1 });
                i += 1;
            }
            Kind::Entries(keys) => match words.get(i + 1) {
                None if deleting => {
                    target = Some(steps);
                    i += 1;
                }
                None => {
                    return Err(WalkError { element: path, message: format!("`{keyword}` needs a name"), hint: Some(format!("e.g. `{keyword} NAME ...`")) })
                }
                Some(name) if name.is("[") || name.is("]") => {
                    return Err(WalkError {
                        element: path,
                        message: format!("`{keyword}` takes one name here, not a list"),
                        hint: Some(format!("one command per `{keyword}` entry")),
                    });
                }
                Some(name) => {
                    steps.push(Step::Entry(name.text.clone()));
                    target = Some(steps.clone());
                    out.assignments.push(Assignment { steps: steps.clone(), op: Op::Present });
                    frames.push(Frame { keys, steps, words: 2 });
                    i += 2;
                }
            },
            Kind::Leaf | Kind::Secret => match words.get(i + 1) {
                None if deleting => {
                    target = Some(steps);
                    i += 1;
                }
                None => return Err(WalkError { element: path, message: format!("`{keyword}` needs a value"), hint: Some(format!("`{keyword} VALUE`")) }),
                Some(v) if v.is("[") || v.is("]") => {
                    return Err(WalkError {
                        element: path,
                        message: format!("`{keyword}` takes one value, not a list"),
                        hint: Some(format!("`{keyword} VALUE`")),
                    });
                }
                Some(v) => {
                    target = Some(steps.clone());
                    out.assignments.push(Assignment { steps, op: Op::Text { value: v.text.clone(), secret: matches!(kind, Kind::Secret) } });
                    after_secret = matches!(kind, Kind::Secret);
                    i += 2;
                }
            },
            Kind::Members | Kind::Names => match values(words, i + 1, keyword, &path)? {
                None if deleting => {
                    target = Some(steps);
                    i += 1;
                }
                None => {
                    return Err(WalkError {
                        element: path,
                        message: format!("`{keyword}` needs a value or a list"),
                        hint: Some(format!("`{keyword} VALUE` or `{keyword} [ A B ]`")),
                    });
                }
                Some((list, used)) => {
                    for v in list {
                        if deleting {
                            let mut at = steps.clone();
                            at.push(if matches!(kind, Kind::Names) { Step::Entry(v) } else { Step::Member(v) });
                            out.assignments.push(Assignment { steps: at, op: Op::Delete });
                        } else {
                            let op = if matches!(kind, Kind::Names) { Op::Name(v) } else { Op::Member(v) };
                            out.assignments.push(Assignment { steps: steps.clone(), op });
                        }
                    }
                    // A list a delete named value by value is done; nothing else is removed.
                    target = None;
                    i += 1 + used;
                }
            },
            Kind::Flag => {
                target = Some(steps.clone());
                out.assignments.push(Assignment { steps, op: Op::Present });
                i += 1;
            }
        }
    }
    out.levels = frames.iter().skip(1).map(|f| f.words).collect();
    if deleting {
        // A delete creates nothing: it removes the members or names it listed, or else the
        // deepest path it named.
        out.assignments.retain(|a| a.op == Op::Delete);
        if let Some(steps) = target {
            out.assignments.push(Assignment { steps, op: Op::Delete });
        }
    }
    Ok(out)
}

/// Applies one assignment to the tree at `line`.
fn apply(root: &mut Element, a: Assignment, line: usize, skipped: &mut Vec<Skipped>) {
    let at = Some(line);
    if a.op == Op::Delete {
        remove(root, &a.steps, line, skipped);
        return;
    }
    let mut e = root;
    let mut parent_tag = String::new();
    for (depth, step) in a.steps.iter().enumerate() {
        e = match step {
            Step::Tag(t) => {
                // Alternatives of one choice replace each other (`peer-address dynamic` after
                // `peer-address ip`).
                for other in schema::alternatives(&parent_tag, t) {
                    if let Some(pos) = e.children.iter().position(|c| c.tag == other) {
                        let old = e.children.remove(pos);
                        skipped.push(Skipped {
                            element: format!("{} {other}", path_of(&a.steps[..depth])).trim().to_string(),
                            line: old.line,
                            why: format!("replaced by `{t}` on line {line}"),
                        });
                    }
                }
                parent_tag.clone_from(t);
                e.child_mut_or_insert(t, at)
            }
            Step::Entry(n) => {
                parent_tag = "entry".into();
                e.entry_mut_or_insert(n, at)
            }
            // Members are only named by deletes, which do not come here.
            Step::Member(_) => e,
        };
    }
    match a.op {
        Op::Text { value, secret } => {
            if e.text.as_ref().is_some_and(|old| *old != value) && e.line != at {
                skipped.push(Skipped {
                    element: path_of(&a.steps),
                    line: e.line,
                    // The old value is not shown: it may be a key.
                    why: format!("replaced by line {line}"),
                });
            }
            e.text = Some(value);
            e.line = at;
            e.secret = secret;
        }
        Op::Member(v) => e.add_member(&v, at),
        Op::Name(v) => {
            e.entry_mut_or_insert(&v, at);
        }
        Op::Present | Op::Delete => {}
    }
}

/// Removes what a `delete` names; what it removed is reported with the line that removed it.
fn remove(root: &mut Element, steps: &[Step], line: usize, skipped: &mut Vec<Skipped>) {
    let Some((last, parents)) = steps.split_last() else { return };
    let mut e = root;
    for step in parents {
        let Some(i) = position(e, step) else { return };
        e = &mut e.children[i];
    }
    if let Some(i) = position(e, last) {
        let old = e.children.remove(i);
        skipped.push(Skipped { element: path_of(steps), line: old.line, why: format!("deleted by line {line}") });
    }
}

/// Where the child a step names is among `e`'s children.
fn position(e: &Element, step: &Step) -> Option<usize> {
    e.children.iter().position(|c| match step {
        Step::Tag(t) => c.tag == *t,
        Step::Entry(n) => c.tag == "entry" && c.name.as_deref() == Some(n),
        Step::Member(v) => c.tag == "member" && c.text.as_deref() == Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &[Token]) -> Vec<&str> {
        t.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn tokens_keep_quoted_names_and_split_brackets() {
        let t = tokenize(r#"set rulebase security rules "allow azure" from [trust dmz] to 'azure vpn' description "say \"hi\"""#).unwrap();
        assert_eq!(
            texts(&t),
            ["set", "rulebase", "security", "rules", "allow azure", "from", "[", "trust", "dmz", "]", "to", "azure vpn", "description", "say \"hi\""]
        );
        assert!(t[4].quoted && !t[6].quoted);
        let e = tokenize(r#"set network ike gateway gw authentication pre-shared-key key "Secret1 "#).unwrap_err();
        assert!(!e.contains("Secret1"), "{e}");
    }

    #[test]
    fn one_line_may_hold_several_commands() {
        let p = parse("set network ike gateway gw protocol version ikev2 set network ike gateway gw peer-address ip 198.51.100.20 commit\n").unwrap();
        let gw = p.root.entries_at(&["network", "ike", "gateway"]);
        assert_eq!(gw.len(), 1);
        assert_eq!(gw[0].leaf_at(&["protocol", "version"]).map(|l| l.text), Some("ikev2".into()));
        assert_eq!(gw[0].leaf_at(&["peer-address", "ip"]).map(|l| l.text), Some("198.51.100.20".into()));
        // `commit` after the last value is not a keyword of peer-address: reported, not read.
        assert!(p.skipped.iter().any(|s| s.element.ends_with("commit")), "{:?}", p.skipped);
    }

    #[test]
    fn values_climb_back_to_the_container_that_knows_the_keyword() {
        let p = parse(
            "set network ike crypto-profiles ipsec-crypto-profiles p esp encryption aes-256-cbc esp authentication sha256 dh-group no-pfs lifetime hours 1\n\
             set network ike gateway gw protocol ikev2 ike-crypto-profile ike-p dpd enable yes interval 10\n",
        )
        .unwrap();
        let p_entry = p.root.entries_at(&["network", "ike", "crypto-profiles", "ipsec-crypto-profiles"]);
        let esp = p_entry[0].child("esp").unwrap();
        assert_eq!(esp.members("encryption")[0].text, "aes-256-cbc");
        assert_eq!(esp.members("authentication")[0].text, "sha256");
        assert_eq!(p_entry[0].leaf("dh-group").map(|l| l.text), Some("no-pfs".into()));
        assert_eq!(p_entry[0].leaf_at(&["lifetime", "hours"]).map(|l| l.text), Some("1".into()));
        let gw = p.root.entries_at(&["network", "ike", "gateway"]);
        assert_eq!(gw[0].leaf_at(&["protocol", "ikev2", "dpd", "interval"]).map(|l| l.text), Some("10".into()));
        assert_eq!(gw[0].leaf_at(&["protocol", "ikev2", "ike-crypto-profile"]).map(|l| (l.text, l.line)), Some(("ike-p".into(), Some(2))));
    }

    #[test]
    fn member_lists_append_and_delete_replaces() {
        let p = parse(
            "set network ike crypto-profiles ike-crypto-profiles p encryption [ aes-256-cbc aes-128-cbc ]\n\
             set network ike crypto-profiles ike-crypto-profiles p encryption 3des\n\
             delete network ike crypto-profiles ike-crypto-profiles p encryption aes-128-cbc\n",
        )
        .unwrap();
        let prof = p.root.entries_at(&["network", "ike", "crypto-profiles", "ike-crypto-profiles"]);
        let enc: Vec<String> = prof[0].members("encryption").into_iter().map(|l| l.text).collect();
        assert_eq!(enc, ["aes-256-cbc", "3des"]);
        assert!(p.skipped.iter().any(|s| s.why == "deleted by line 3" && s.line == Some(1)), "{:?}", p.skipped);
    }

    #[test]
    fn vsys_prefix_edit_form_and_choices() {
        let p = parse(
            "admin@PA-VM# set vsys vsys1 zone trust network layer3 ethernet1/2\n\
             set vsys vsys2 zone other network layer3 ethernet1/5\n\
             edit network ike gateway gw\n\
             set peer-address ip 198.51.100.20\n\
             set peer-address dynamic\n\
             up\n\
             top\n\
             set deviceconfig system hostname fw1\n",
        )
        .unwrap();
        let zones = p.root.entries_at(&["zone"]);
        assert_eq!(zones.len(), 1);
        assert_eq!(zones[0].child("network").unwrap().members("layer3")[0].text, "ethernet1/2");
        let gw = p.root.entries_at(&["network", "ike", "gateway"]);
        let peer = gw[0].child("peer-address").unwrap();
        assert!(peer.child("ip").is_none() && peer.child("dynamic").is_some());
        let why: Vec<(&str, &str)> = p.skipped.iter().map(|s| (s.element.as_str(), s.why.as_str())).collect();
        assert!(why.iter().any(|(e, w)| *e == "vsys vsys2" && w.contains("only vsys1")), "{why:?}");
        assert!(why.iter().any(|(e, w)| e.ends_with("peer-address ip") && w.contains("replaced by `dynamic` on line 5")), "{why:?}");
        assert!(why.iter().any(|(e, _)| *e == "deviceconfig"), "{why:?}");
    }

    #[test]
    fn a_value_set_again_replaces_the_first_and_the_first_is_reported() {
        let p = parse("set network ike gateway gw protocol version ikev1\nset network ike gateway gw protocol version ikev2\n").unwrap();
        let gw = p.root.entries_at(&["network", "ike", "gateway"]);
        assert_eq!(gw[0].leaf_at(&["protocol", "version"]).map(|l| (l.text, l.line)), Some(("ikev2".into(), Some(2))));
        assert_eq!(p.skipped, [Skipped { element: "network ike gateway gw protocol version".into(), line: Some(1), why: "replaced by line 2".into() }]);
    }

    #[test]
    fn an_unknown_keyword_is_reported_with_the_nearest_one() {
        let p = parse("set network ike gateway gw peer-adress ip 198.51.100.20\n").unwrap();
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].element, "network ike gateway gw peer-adress");
        assert_eq!(p.skipped[0].line, Some(1));
        assert!(p.skipped[0].why.contains("did you mean `peer-address`?"), "{}", p.skipped[0].why);
        assert!(p.root.entries_at(&["network", "ike", "gateway"])[0].child("peer-address").is_none(), "nothing after it is guessed");
    }

    #[test]
    fn errors_name_the_line_and_element_and_never_the_key() {
        let e = parse("set network ike gateway gw protocol version\n").unwrap_err();
        assert_eq!(e[0].line, Some(1));
        assert_eq!(e[0].element, "network ike gateway gw protocol version");
        assert_eq!(e[0].message, "`version` needs a value");
        let e = parse("\nset network ike gateway gw authentication pre-shared-key key my secret phrase\n").unwrap_err();
        assert_eq!(e[0].line, Some(2));
        assert!(!format!("{e:?}").contains("secret phrase") && !format!("{e:?}").contains("phrase"), "{e:?}");
        let e = parse("set network ike crypto-profiles ike-crypto-profiles p encryption [ aes-256-cbc\n").unwrap_err();
        assert!(e[0].message.contains("not closed"), "{e:?}");
    }
}
