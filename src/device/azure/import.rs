//! Importing Azure exports into the lab's `azure:` shape.
//!
//! This file owns reading one Azure resource (virtual network gateway, virtual network, local
//! network gateway or connection) from a JSON export and returning it in the lab's inline shape,
//! with a note for everything it left out. It reads three export shapes:
//!
//! * `az network vnet-gateway|vnet|local-gateway|vpn-connection show`: the CLI flattens
//!   `properties` to the top level;
//! * REST/ARM GET responses (and `az resource show`, `az rest`): fields nested under
//!   `properties`; also a REST list (`{"value": [...]}`) or a CLI `list` (a JSON array);
//! * ARM templates (`{"$schema": ..., "resources": [...]}`, as `az group export` writes them),
//!   where names and ids are often expressions such as `[parameters('x')]` or
//!   `[resourceId('Microsoft.Network/localNetworkGateways', 'lng-hq')]`.
//!
//! It only converts shapes (SKU object to its name, resource id to the resource's name,
//! `properties` flattened) and keeps every value exactly as exported: it does not check Azure's
//! enums or rules, the caller does (property names: `shared/reference/azure-vpn-gateway.md` §5).
//! The gateway's public address never comes from an export (exports only reference the public IP
//! resource); the lab supplies its own documentation-range address. Nothing here touches the
//! system except `import`, which reads the file.

// The lab loader is this module's caller and arrives with the `azure-rules` branch; until the
// merge the binary has no call site. Remove this once `model::resolve` calls `import`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The four Azure resources the lab's `azure:` section describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    VirtualNetworkGateway,
    VirtualNetwork,
    LocalNetworkGateway,
    Connection,
}

impl ResourceKind {
    /// The ARM resource type, as in an export's `type`.
    pub fn arm_type(self) -> &'static str {
        match self {
            ResourceKind::VirtualNetworkGateway => "Microsoft.Network/virtualNetworkGateways",
            ResourceKind::VirtualNetwork => "Microsoft.Network/virtualNetworks",
            ResourceKind::LocalNetworkGateway => "Microsoft.Network/localNetworkGateways",
            ResourceKind::Connection => "Microsoft.Network/connections",
        }
    }

    /// The key of the resource in the lab's `azure:` section.
    pub fn lab_key(self) -> &'static str {
        match self {
            ResourceKind::VirtualNetworkGateway => "virtualNetworkGateway",
            ResourceKind::VirtualNetwork => "virtualNetwork",
            ResourceKind::LocalNetworkGateway => "localNetworkGateway",
            ResourceKind::Connection => "connection",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            ResourceKind::VirtualNetworkGateway => "virtual network gateway",
            ResourceKind::VirtualNetwork => "virtual network",
            ResourceKind::LocalNetworkGateway => "local network gateway",
            ResourceKind::Connection => "connection",
        }
    }

    /// The properties the lab models, plus the kind's own read-only ones.
    fn fields(self) -> &'static [Field] {
        match self {
            ResourceKind::VirtualNetworkGateway => GATEWAY,
            ResourceKind::VirtualNetwork => VIRTUAL_NETWORK,
            ResourceKind::LocalNetworkGateway => LOCAL_GATEWAY,
            ResourceKind::Connection => CONNECTION,
        }
    }
}

/// One resource in the lab's inline shape (`value`, a JSON object with only the keys the lab
/// knows) and what the import left out or could not take over (`notes`, one sentence each).
#[derive(Clone, PartialEq)]
pub struct Imported {
    pub value: serde_json::Value,
    pub notes: Vec<String>,
}

/// Redacts `sharedKey`: secrets never reach logs (ARCHITECTURE.md, invariants).
impl std::fmt::Debug for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut value = self.value.clone();
        if let Some(key) = value.get_mut("sharedKey") {
            *key = Value::String("<redacted>".to_string());
        }
        f.debug_struct("Imported").field("value", &value).field("notes", &self.notes).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the Azure export {}: {source}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Azure export {} is not valid JSON: {message} (line {line}, column {column})", file.display())]
    NotJson { file: PathBuf, line: usize, column: usize, message: String },
    #[error(
        "the Azure export {} has no {} (no resource of type {}); {}",
        file.display(), kind.noun(), kind.arm_type(), holds(found)
    )]
    NoResource { file: PathBuf, kind: ResourceKind, found: Vec<String> },
    #[error(
        "the Azure export {} has {} {}s ({}), so the import needs the name of the one to use",
        file.display(), names.len(), kind.noun(), list(names)
    )]
    Ambiguous { file: PathBuf, kind: ResourceKind, names: Vec<String> },
    #[error("the Azure export {} has no {} named `{name}`, only {}", file.display(), kind.noun(), list(names))]
    NameNotFound { file: PathBuf, kind: ResourceKind, name: String, names: Vec<String> },
    #[error("in the Azure export {}, `{path}` is {found} where {expected} is expected", file.display())]
    WrongType { file: PathBuf, path: String, found: String, expected: &'static str },
}

fn holds(found: &[String]) -> String {
    if found.is_empty() {
        "it holds no typed Azure resource at all".to_string()
    } else {
        format!("it holds only {}", found.join(", "))
    }
}

fn list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// Reads `file` and imports the resource of `kind` from it.
/// `name` selects a resource when a template holds several of the kind.
///
/// Besides UTF-8 (with or without a byte-order mark) this reads UTF-16 with a byte-order mark,
/// which is what Windows PowerShell 5.1 writes for `az ... > file.json`.
pub fn import(file: &Path, kind: ResourceKind, name: Option<&str>) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(file).map_err(|source| ImportError::Read { file: file.to_path_buf(), source })?;
    import_bytes(file, &bytes, kind, name)
}

/// Same, from the file's bytes already read (the fuzz target's entry point); `file` is used in messages.
pub fn import_bytes(file: &Path, bytes: &[u8], kind: ResourceKind, name: Option<&str>) -> Result<Imported, ImportError> {
    let read_error = |source| ImportError::Read { file: file.to_path_buf(), source };
    let (text, utf16) = decode(bytes).map_err(read_error)?;
    let mut imported = import_str(file, &text, kind, name)?;
    if utf16 {
        imported.notes.insert(0, "the file is UTF-16 text (as Windows PowerShell writes `az ... > file`) and was read as such".to_string());
    }
    Ok(imported)
}

/// Same, from text already read (for tests and for callers that have the text); `file` is used in messages.
pub fn import_str(file: &Path, text: &str, kind: ResourceKind, name: Option<&str>) -> Result<Imported, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        ImportError::NotJson {
            file: file.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&position).unwrap_or(&full).to_string(),
        }
    })?;
    let selected = select(file, &doc, kind, name)?;
    let mut importer = Importer { file, template: selected.template, params: selected.params, notes: Vec::new(), read_only: Vec::new(), empty: Vec::new() };
    let entries = importer.resource_entries(selected.resource, &selected.base)?;
    let value = importer.object(kind.fields(), &entries, "", true)?;
    importer.kind_notes(kind, &entries, &value);
    Ok(Imported { value: Value::Object(value), notes: importer.finish() })
}

/// UTF-8 (optional BOM) or UTF-16 with a BOM. Returns the text and whether it was UTF-16.
fn decode(bytes: &[u8]) -> Result<(String, bool), std::io::Error> {
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, "it is neither UTF-8 nor UTF-16 text");
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| -> Result<String, std::io::Error> {
        if !rest.len().is_multiple_of(2) {
            return Err(invalid());
        }
        let units = rest.chunks_exact(2).map(|c| from([c[0], c[1]]));
        char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| invalid())
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok((utf16(rest, u16::from_le_bytes)?, true));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok((utf16(rest, u16::from_be_bytes)?, true));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| invalid())?;
    Ok((text.to_string(), false))
}

// ---------------------------------------------------------------------------------------------
// What the lab models, per resource (reference §5).

#[derive(Clone, Copy)]
enum Shape {
    Str,
    Int,
    Bool,
    StrList,
    /// `{name, tier, capacity}` in exports, the name in the lab.
    Sku,
    /// `{id: ".../<type>/<name>"}` in exports, the name in the lab.
    Ref(ResourceKind),
    Obj(&'static [Field]),
    ObjList(&'static [Field]),
    /// Read-only state or deployment plumbing: summarised in one note.
    ReadOnly,
    /// `Vpn` is read-only noise; anything else is worth saying.
    GatewayType,
}

struct Field {
    key: &'static str,
    shape: Shape,
}

const fn field(key: &'static str, shape: Shape) -> Field {
    Field { key, shape }
}

const BGP: &[Field] = &[field("asn", Shape::Int), field("bgpPeeringAddress", Shape::Str), field("peerWeight", Shape::Int)];

const GATEWAY_BGP: &[Field] = &[
    field("asn", Shape::Int),
    field("bgpPeeringAddress", Shape::Str),
    field("peerWeight", Shape::Int),
    // Per instance: default (read-only), custom APIPA and tunnel (public, read-only) addresses;
    // `kind_notes` says what matters in it.
    field("bgpPeeringAddresses", Shape::ReadOnly),
];

const ADDRESS_SPACE: &[Field] = &[field("addressPrefixes", Shape::StrList)];

const IPSEC_POLICY: &[Field] = &[
    field("saLifeTimeSeconds", Shape::Int),
    field("saDataSizeKilobytes", Shape::Int),
    field("ipsecEncryption", Shape::Str),
    field("ipsecIntegrity", Shape::Str),
    field("ikeEncryption", Shape::Str),
    field("ikeIntegrity", Shape::Str),
    field("dhGroup", Shape::Str),
    field("pfsGroup", Shape::Str),
];

const TRAFFIC_SELECTOR: &[Field] = &[field("localAddressRanges", Shape::StrList), field("remoteAddressRanges", Shape::StrList)];

const GATEWAY: &[Field] = &[
    field("name", Shape::Str),
    field("vpnType", Shape::Str),
    field("sku", Shape::Sku),
    field("activeActive", Shape::Bool),
    field("enableBgp", Shape::Bool),
    field("vpnGatewayGeneration", Shape::Str),
    field("bgpSettings", Shape::Obj(GATEWAY_BGP)),
    field("gatewayType", Shape::GatewayType),
    // Subnet and public IP references; `kind_notes` notes the public IP.
    field("ipConfigurations", Shape::ReadOnly),
    field("inboundDnsForwardingEndpoint", Shape::ReadOnly),
    field("packetCaptureDiagnosticState", Shape::ReadOnly),
];

const VIRTUAL_NETWORK: &[Field] = &[field("name", Shape::Str), field("addressSpace", Shape::Obj(ADDRESS_SPACE))];

const LOCAL_GATEWAY: &[Field] = &[
    field("name", Shape::Str),
    field("gatewayIpAddress", Shape::Str),
    field("fqdn", Shape::Str),
    field("localNetworkAddressSpace", Shape::Obj(ADDRESS_SPACE)),
    field("bgpSettings", Shape::Obj(BGP)),
];

const CONNECTION: &[Field] = &[
    field("name", Shape::Str),
    field("connectionType", Shape::Str),
    field("connectionProtocol", Shape::Str),
    field("connectionMode", Shape::Str),
    field("sharedKey", Shape::Str),
    field("dpdTimeoutSeconds", Shape::Int),
    field("enableBgp", Shape::Bool),
    field("usePolicyBasedTrafficSelectors", Shape::Bool),
    field("ipsecPolicies", Shape::ObjList(IPSEC_POLICY)),
    field("trafficSelectorPolicies", Shape::ObjList(TRAFFIC_SELECTOR)),
    field("virtualNetworkGateway1", Shape::Ref(ResourceKind::VirtualNetworkGateway)),
    field("localNetworkGateway2", Shape::Ref(ResourceKind::LocalNetworkGateway)),
    field("connectionStatus", Shape::ReadOnly),
    field("ingressBytesTransferred", Shape::ReadOnly),
    field("egressBytesTransferred", Shape::ReadOnly),
    field("tunnelConnectionStatus", Shape::ReadOnly),
];

/// Top-level keys every resource may carry: ARM's envelope, CLI additions, template plumbing.
const ENVELOPE: &[Field] = &[
    field("id", Shape::ReadOnly),
    field("etag", Shape::ReadOnly),
    field("type", Shape::ReadOnly),
    field("location", Shape::ReadOnly),
    field("resourceGroup", Shape::ReadOnly),
    field("tags", Shape::ReadOnly),
    field("provisioningState", Shape::ReadOnly),
    field("resourceGuid", Shape::ReadOnly),
    field("systemData", Shape::ReadOnly),
    field("apiVersion", Shape::ReadOnly),
    field("dependsOn", Shape::ReadOnly),
    field("comments", Shape::ReadOnly),
    field("condition", Shape::ReadOnly),
    field("copy", Shape::ReadOnly),
    field("scope", Shape::ReadOnly),
    field("metadata", Shape::ReadOnly),
];

/// Why a property with content is ignored, for the properties an engineer may miss.
fn reason(key: &str) -> &'static str {
    const REASONS: &[(&str, &str)] = &[
        ("natRules", "not modelled: the simulated gateway does no NAT"),
        ("ingressNatRules", "not modelled: the simulated gateway does no NAT"),
        ("egressNatRules", "not modelled: the simulated gateway does no NAT"),
        ("virtualNetworkGateway2", "not modelled: a lab connection goes to a local network gateway, not VNet-to-VNet"),
        ("authenticationType", "not modelled: the simulated gateway authenticates with the pre-shared key only"),
        ("certificateAuthentication", "not modelled: the simulated gateway authenticates with the pre-shared key only"),
        ("gatewayCustomBgpIpAddresses", "not modelled: custom APIPA BGP addresses"),
        ("vpnClientConfiguration", "not modelled: point-to-site"),
        ("subnets", "not modelled: the lab's nodes carry the addresses"),
    ];
    REASONS.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map_or("not modelled", |(_, r)| r)
}

/// Null, false, 0, "", [] or an object of such: nothing worth a note of its own.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.values().all(is_empty),
    }
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Case-insensitive lookup: ARM property names are case-insensitive, and the CLI and REST
/// spell some differently (`publicIpAddress` / `publicIPAddress`).
fn get<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn describe(v: &Value, secret: bool) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) if !secret => format!("`{b}`"),
        Value::Bool(_) => "a boolean".to_string(),
        Value::Number(n) if !secret => format!("the number {n}"),
        Value::Number(_) => "a number".to_string(),
        Value::String(s) if !secret => {
            let quoted = Value::String(s.clone()).to_string();
            if quoted.chars().count() > 60 {
                format!("the string {}…\"", quoted.chars().take(56).collect::<String>())
            } else {
                format!("the string {quoted}")
            }
        }
        Value::String(_) => "a string".to_string(),
        Value::Array(a) if a.is_empty() => "an empty list".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn expected(shape: Shape) -> &'static str {
    match shape {
        Shape::Str | Shape::ReadOnly | Shape::GatewayType => "a string",
        Shape::Int => "a whole number",
        Shape::Bool => "true or false",
        Shape::StrList => "a list of strings",
        Shape::Sku => "an object with a `name` (or the SKU name as a string)",
        Shape::Ref(_) => "an object with an `id`",
        Shape::Obj(_) => "an object",
        Shape::ObjList(_) => "a list of objects",
    }
}

// ---------------------------------------------------------------------------------------------
// Finding the resource in the file.

struct Selected<'v> {
    resource: &'v Map<String, Value>,
    /// Where the resource sits in the file, for error paths: "", "resources[2]", "[0]", ...
    base: String,
    template: bool,
    params: Option<&'v Map<String, Value>>,
}

fn select<'v>(file: &Path, doc: &'v Value, kind: ResourceKind, name: Option<&str>) -> Result<Selected<'v>, ImportError> {
    let no_resource = |found: Vec<String>| ImportError::NoResource { file: file.to_path_buf(), kind, found };
    let type_of = |m: &'v Map<String, Value>| get(m, "type").and_then(Value::as_str);
    let name_of = |m: &'v Map<String, Value>| get(m, "name").and_then(Value::as_str);
    let shown = |m: &'v Map<String, Value>| name_of(m).unwrap_or("(unnamed)").to_string();

    // A template, a list (CLI `list`, REST `{"value": [...]}`) or one resource.
    let mut params = None;
    let (items, template): (Vec<(String, &'v Value)>, bool) = match doc {
        Value::Object(m) => match (get(m, "resources"), get(m, "value")) {
            (Some(Value::Array(resources)), _) => {
                params = get(m, "parameters").and_then(Value::as_object);
                (resources.iter().enumerate().map(|(i, r)| (format!("resources[{i}]"), r)).collect(), true)
            }
            // Template language version 2.0: resources keyed by symbolic name.
            (Some(Value::Object(resources)), _) => {
                params = get(m, "parameters").and_then(Value::as_object);
                (resources.iter().map(|(k, r)| (format!("resources.{k}"), r)).collect(), true)
            }
            (_, Some(Value::Array(list))) if type_of(m).is_none() && name_of(m).is_none() => {
                (list.iter().enumerate().map(|(i, r)| (format!("value[{i}]"), r)).collect(), false)
            }
            _ => {
                if let Some(t) = type_of(m) {
                    if !t.eq_ignore_ascii_case(kind.arm_type()) {
                        return Err(no_resource(vec![t.to_string()]));
                    }
                }
                if let Some(want) = name {
                    if !name_of(m).is_some_and(|n| n.eq_ignore_ascii_case(want)) {
                        return Err(ImportError::NameNotFound { file: file.to_path_buf(), kind, name: want.to_string(), names: vec![shown(m)] });
                    }
                }
                return Ok(Selected { resource: m, base: String::new(), template: false, params: None });
            }
        },
        Value::Array(list) => (list.iter().enumerate().map(|(i, r)| (format!("[{i}]"), r)).collect(), false),
        _ => return Err(no_resource(Vec::new())),
    };

    let mut found: Vec<String> = Vec::new();
    let mut candidates: Vec<(String, &'v Map<String, Value>)> = Vec::new();
    for (base, item) in items {
        let Some(m) = item.as_object() else { continue };
        let Some(t) = type_of(m) else { continue };
        if !found.iter().any(|f| f.eq_ignore_ascii_case(t)) {
            found.push(t.to_string());
        }
        // `existing: true` (template 2.0) refers to a resource deployed elsewhere.
        let existing = get(m, "existing").and_then(Value::as_bool) == Some(true);
        if t.eq_ignore_ascii_case(kind.arm_type()) && !existing {
            candidates.push((base, m));
        }
    }
    if candidates.is_empty() {
        return Err(no_resource(found));
    }
    let chosen = match name {
        None if candidates.len() == 1 => candidates.swap_remove(0),
        None => {
            let names = candidates.iter().map(|(_, m)| shown(m)).collect();
            return Err(ImportError::Ambiguous { file: file.to_path_buf(), kind, names });
        }
        Some(want) => {
            // A literal name first; in a template also a `[parameters('x')]` name whose default is `want`.
            let literal: Vec<_> = candidates.iter().filter(|(_, m)| name_of(m).is_some_and(|n| n.eq_ignore_ascii_case(want))).collect();
            let by_default: Vec<_> = candidates
                .iter()
                .filter(|(_, m)| {
                    let default = name_of(m).and_then(plain_parameter).and_then(|p| parameter_default(params, &p));
                    default.is_some_and(|d| d.eq_ignore_ascii_case(want))
                })
                .collect();
            let matches = if literal.is_empty() { by_default } else { literal };
            match matches.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    let names = candidates.iter().map(|(_, m)| shown(m)).collect();
                    return Err(ImportError::NameNotFound { file: file.to_path_buf(), kind, name: want.to_string(), names });
                }
                several => {
                    let names = several.iter().map(|(_, m)| shown(m)).collect();
                    return Err(ImportError::Ambiguous { file: file.to_path_buf(), kind, names });
                }
            }
        }
    };
    Ok(Selected { resource: chosen.1, base: chosen.0, template, params })
}

// ---------------------------------------------------------------------------------------------
// Template expressions.

/// The parameter names an expression reads with `parameters('x')`.
fn parameter_refs(expr: &str) -> Vec<String> {
    let lower = expr.to_ascii_lowercase();
    let mut refs: Vec<String> = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("parameters('") {
        let start = from + at + "parameters('".len();
        let Some(len) = expr[start..].find('\'') else { break };
        let name = expr[start..start + len].to_string();
        if !refs.contains(&name) {
            refs.push(name);
        }
        from = start + len;
    }
    refs
}

/// The plain string default of a template parameter. Secure parameters are never shown.
fn parameter_default<'v>(params: Option<&'v Map<String, Value>>, name: &str) -> Option<&'v str> {
    let param = get(params?, name)?.as_object()?;
    let secure = get(param, "type").and_then(Value::as_str).is_some_and(|t| t.to_ascii_lowercase().starts_with("secure"));
    let default = get(param, "defaultValue")?.as_str()?;
    (!secure && !default.starts_with('[')).then_some(default)
}

/// `x` when the expression is exactly `[parameters('x')]`.
fn plain_parameter(expr: &str) -> Option<String> {
    let call = expr.strip_prefix('[')?.strip_suffix(']')?.trim();
    if !call.to_ascii_lowercase().starts_with("parameters(") {
        return None;
    }
    let (args, end) = call_args(call, "parameters".len())?;
    match args.as_slice() {
        [name] if call[end..].trim().is_empty() => string_literal(name),
        _ => None,
    }
}

/// Splits the arguments of the call whose `(` is at `open`; returns them and the index after `)`.
fn call_args(text: &str, open: usize) -> Option<(Vec<&str>, usize)> {
    let bytes = text.as_bytes();
    let (mut depth, mut quoted, mut start) = (0usize, false, open + 1);
    let mut args = Vec::new();
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if quoted && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    args.push(text[start..i].trim());
                    return Some((args, i + 1));
                }
            }
            b',' if !quoted && depth == 1 => {
                args.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `'text'` (with `''` for a quote) as a string.
fn string_literal(arg: &str) -> Option<String> {
    let inner = arg.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// The literal name in `[resourceId(..., '<arm_type>', '<name>')]`, if the whole expression is
/// that call and the name is a literal.
fn resource_id_name(expr: &str, arm_type: &str) -> Option<String> {
    let call = expr.strip_prefix('[')?.strip_suffix(']')?.trim();
    if !call.to_ascii_lowercase().starts_with("resourceid(") {
        return None;
    }
    let (args, end) = call_args(call, "resourceId".len())?;
    if !call[end..].trim().is_empty() {
        return None;
    }
    let at = args.iter().position(|a| string_literal(a).is_some_and(|t| t.eq_ignore_ascii_case(arm_type)))?;
    match &args[at + 1..] {
        [name] => string_literal(name),
        _ => None,
    }
}

/// The name in `/subscriptions/.../providers/Microsoft.Network/<type>/<name>`.
fn resource_path_name(id: &str, arm_type: &str) -> Option<String> {
    let segments: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let (namespace, type_name) = arm_type.split_once('/')?;
    match segments.as_slice() {
        [.., ns, t, name] if ns.eq_ignore_ascii_case(namespace) && t.eq_ignore_ascii_case(type_name) => Some(name.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Converting the resource.

struct Entry<'v> {
    key: &'v str,
    value: &'v Value,
    /// Path in the file, for errors (`properties.dpdTimeoutSeconds`).
    fpath: String,
}

struct Importer<'a> {
    file: &'a Path,
    template: bool,
    params: Option<&'a Map<String, Value>>,
    notes: Vec<String>,
    /// Read-only and deployment properties, summarised in one note.
    read_only: Vec<String>,
    /// Unmodelled properties that are empty or at their defaults, summarised in one note.
    empty: Vec<String>,
}

impl<'a> Importer<'a> {
    fn wrong(&self, fpath: &str, found: &Value, expected: &'static str, secret: bool) -> ImportError {
        ImportError::WrongType { file: self.file.to_path_buf(), path: fpath.to_string(), found: describe(found, secret), expected }
    }

    /// A template expression (`[...]`, but not the `[[` escape) is not a value.
    fn expression<'v>(&self, v: &'v Value) -> Option<&'v str> {
        v.as_str().filter(|s| self.is_expression(s))
    }

    fn is_expression(&self, s: &str) -> bool {
        self.template && s.starts_with('[') && !s.starts_with("[[") && s.ends_with(']')
    }

    /// A template string with its `[[` escape undone.
    fn literal(&self, s: &str) -> String {
        match s.strip_prefix('[') {
            Some(rest) if self.template && rest.starts_with('[') => rest.to_string(),
            _ => s.to_string(),
        }
    }

    /// For an expression reading one parameter with a plain default: what that default is.
    fn hint(&self, expr: &str, secret: bool) -> String {
        let [parameter] = parameter_refs(expr).try_into().unwrap_or_default();
        match parameter_default(self.params, &parameter) {
            Some(default) if !secret => format!(" (the template's default for parameter `{parameter}` is `{default}`)"),
            _ => String::new(),
        }
    }

    fn expression_note(&mut self, at: &str, expr: &str, set: &str) {
        let hint = self.hint(expr, set.eq_ignore_ascii_case("sharedKey"));
        self.notes.push(format!("`{at}` is the template expression `{expr}`{hint}, not a value: set {set} in the lab"));
    }

    /// The resource's keys, with `properties` flattened into the top level; `properties` wins.
    fn resource_entries<'v>(&mut self, resource: &'v Map<String, Value>, base: &str) -> Result<Vec<Entry<'v>>, ImportError> {
        let mut entries: Vec<Entry<'v>> =
            resource.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("properties")).map(|(k, v)| Entry { key: k, value: v, fpath: join(base, k) }).collect();
        if let Some((pkey, properties)) = resource.iter().find(|(k, _)| k.eq_ignore_ascii_case("properties")) {
            let pbase = join(base, pkey);
            match properties {
                Value::Null => {}
                Value::Object(p) => {
                    for (k, v) in p {
                        let entry = Entry { key: k, value: v, fpath: join(&pbase, k) };
                        match entries.iter().position(|e| e.key.eq_ignore_ascii_case(k)) {
                            Some(i) => {
                                if !entries[i].value.is_null() && !v.is_null() && entries[i].value != v {
                                    self.notes.push(format!(
                                        "`{k}` is given both at the top level and under `properties`, with different values; the one under `properties` is used"
                                    ));
                                }
                                entries[i] = entry;
                            }
                            None => entries.push(entry),
                        }
                    }
                }
                other => return Err(self.wrong(&pbase, other, "an object", false)),
            }
        }
        entries.sort_by_key(|e| e.key.to_ascii_lowercase());
        Ok(entries)
    }

    fn object(&mut self, fields: &[Field], entries: &[Entry], rpath: &str, top: bool) -> Result<Map<String, Value>, ImportError> {
        let mut out = Map::new();
        let envelope: &[Field] = if top { ENVELOPE } else { &[] };
        for e in entries {
            let rp = join(rpath, e.key);
            let Some(f) = fields.iter().chain(envelope).find(|f| f.key.eq_ignore_ascii_case(e.key)) else {
                self.unknown(&rp, e.key, e.value);
                continue;
            };
            match f.shape {
                Shape::ReadOnly => self.read_only.push(rp),
                Shape::GatewayType => match e.value {
                    Value::Null => {}
                    Value::String(t) if t.eq_ignore_ascii_case("Vpn") => self.read_only.push(rp),
                    Value::String(t) => {
                        self.notes.push(format!("gatewayType is `{t}`: this is not a VPN gateway, and vpnlab simulates only VPN gateways (gatewayType `Vpn`)"))
                    }
                    other => return Err(self.wrong(&e.fpath, other, "a string", false)),
                },
                shape => {
                    if e.value.is_null() {
                        continue;
                    }
                    if let Some(v) = self.value(shape, e.value, &e.fpath, &rp)? {
                        out.insert(f.key.to_string(), v);
                    }
                }
            }
        }
        Ok(out)
    }

    fn nested<'v>(m: &'v Map<String, Value>, fpath: &str) -> Vec<Entry<'v>> {
        let mut entries: Vec<Entry<'v>> = m.iter().map(|(k, v)| Entry { key: k, value: v, fpath: join(fpath, k) }).collect();
        entries.sort_by_key(|e| e.key.to_ascii_lowercase());
        entries
    }

    /// Converts one modelled property; `None` when it has to be left out (a note says why).
    fn value(&mut self, shape: Shape, v: &Value, fpath: &str, rpath: &str) -> Result<Option<Value>, ImportError> {
        if let Some(expr) = self.expression(v) {
            self.expression_note(rpath, expr, rpath);
            return Ok(None);
        }
        let secret = rpath.eq_ignore_ascii_case("sharedKey");
        let converted = match (shape, v) {
            (Shape::Str, Value::String(s)) => Value::String(self.literal(s)),
            (Shape::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => v.clone(),
            (Shape::Bool, Value::Bool(_)) => v.clone(),
            (Shape::StrList, Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(expr) = self.expression(item) {
                        self.expression_note(&format!("{rpath}[{i}]"), expr, rpath);
                        return Ok(None);
                    }
                    match item {
                        Value::String(s) => out.push(Value::String(self.literal(s))),
                        other => return Err(self.wrong(&format!("{fpath}[{i}]"), other, "a string", false)),
                    }
                }
                Value::Array(out)
            }
            (Shape::Sku, Value::String(s)) => Value::String(self.literal(s)),
            (Shape::Sku, Value::Object(m)) => return self.sku(m, fpath, rpath),
            (Shape::Ref(kind), Value::String(id)) => return Ok(self.reference(kind, id, rpath)),
            (Shape::Ref(kind), Value::Object(m)) => match get(m, "id") {
                Some(Value::String(id)) => return Ok(self.reference(kind, id, rpath)),
                None | Some(Value::Null) => {
                    self.notes.push(format!("`{rpath}` has no `id` naming the {}: set {rpath} in the lab", kind.noun()));
                    return Ok(None);
                }
                Some(other) => return Err(self.wrong(&join(fpath, "id"), other, "a resource id string", false)),
            },
            (Shape::Obj(fields), Value::Object(m)) => {
                let out = self.object(fields, &Self::nested(m, fpath), rpath, false)?;
                // Everything in it left out (notes say why): leave it out too.
                if out.is_empty() && !m.is_empty() {
                    return Ok(None);
                }
                Value::Object(out)
            }
            (Shape::ObjList(fields), Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let (ip, irp) = (format!("{fpath}[{i}]"), format!("{rpath}[{i}]"));
                    if let Some(expr) = self.expression(item) {
                        self.expression_note(&irp, expr, rpath);
                        return Ok(None);
                    }
                    match item {
                        Value::Object(m) => out.push(Value::Object(self.object(fields, &Self::nested(m, &ip), &irp, false)?)),
                        other => return Err(self.wrong(&ip, other, "an object", false)),
                    }
                }
                Value::Array(out)
            }
            (shape, other) => return Err(self.wrong(fpath, other, expected(shape), secret)),
        };
        Ok(Some(converted))
    }

    /// `{name, tier, capacity}` to the name.
    fn sku(&mut self, m: &Map<String, Value>, fpath: &str, rpath: &str) -> Result<Option<Value>, ImportError> {
        let mut name = None;
        for e in Self::nested(m, fpath) {
            let rp = join(rpath, e.key);
            if e.key.eq_ignore_ascii_case("name") {
                if !e.value.is_null() {
                    name = self.value(Shape::Str, e.value, &e.fpath, &rp)?;
                }
            } else if e.key.eq_ignore_ascii_case("capacity") {
                self.read_only.push(rp);
            } else if !e.key.eq_ignore_ascii_case("tier") {
                self.unknown(&rp, e.key, e.value);
            }
        }
        let tier = get(m, "tier").and_then(Value::as_str);
        match (&name, tier) {
            (Some(Value::String(n)), Some(t)) if !t.eq_ignore_ascii_case(n) => {
                self.notes.push(format!("{rpath}.tier `{t}` differs from {rpath}.name `{n}`; the lab's sku is the name"));
            }
            (None, _) if get(m, "name").is_none_or(Value::is_null) => {
                self.notes.push(format!("`{rpath}` has no `name`: set {rpath} in the lab"));
            }
            _ => {}
        }
        Ok(name)
    }

    /// A resource id (plain or a template `resourceId(...)`) to the resource's name.
    fn reference(&mut self, kind: ResourceKind, id: &str, rpath: &str) -> Option<Value> {
        let name = if self.is_expression(id) {
            let name = resource_id_name(id, kind.arm_type());
            if name.is_none() {
                let hint = self.hint(id, false);
                self.notes
                    .push(format!("`{rpath}.id` is the template expression `{id}`{hint}, which names no {} literally: set {rpath} in the lab", kind.noun()));
            }
            name
        } else {
            let name = resource_path_name(id, kind.arm_type());
            if name.is_none() {
                self.notes.push(format!("`{rpath}.id` (`{id}`) is not the id of a {}: set {rpath} in the lab", kind.noun()));
            }
            name
        };
        name.map(Value::String)
    }

    fn unknown(&mut self, rpath: &str, key: &str, v: &Value) {
        let psk = key.eq_ignore_ascii_case("authenticationType") && v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("PSK"));
        if is_empty(v) || psk {
            self.empty.push(rpath.to_string());
        } else {
            self.notes.push(format!("ignored property `{rpath}` ({})", reason(key)));
        }
    }

    /// What a kind's export carries that the lab takes from elsewhere or that is missing.
    fn kind_notes(&mut self, kind: ResourceKind, entries: &[Entry], value: &Map<String, Value>) {
        let entry = |key: &str| entries.iter().find(|e| e.key.eq_ignore_ascii_case(key)).map(|e| e.value).filter(|v| !v.is_null());
        if !value.contains_key("name") && entry("name").is_none() {
            self.notes.push("the export has no `name`: set name in the lab".to_string());
        }
        match kind {
            ResourceKind::Connection if entry("sharedKey").is_none() => self.notes.push(
                "the export has no sharedKey (az network vpn-connection show leaves it out; `az network vpn-connection shared-key show` prints it): set sharedKey in the lab".to_string(),
            ),
            ResourceKind::VirtualNetworkGateway => self.gateway_addresses(entry("ipConfigurations"), entry("bgpSettings")),
            _ => {}
        }
    }

    /// The public address is the lab's; custom APIPA BGP addresses are not modelled.
    fn gateway_addresses(&mut self, ip_configurations: Option<&Value>, bgp: Option<&Value>) {
        let public_ip_reference = ip_configurations.and_then(Value::as_array).is_some_and(|configs| {
            configs.iter().filter_map(Value::as_object).any(|c| {
                let properties = get(c, "properties").and_then(Value::as_object);
                let public = get(c, "publicIPAddress").or_else(|| properties.and_then(|p| get(p, "publicIPAddress")));
                public.and_then(Value::as_object).and_then(|p| get(p, "id")).is_some_and(|id| !id.is_null())
            })
        });
        let peering: Vec<&Map<String, Value>> = bgp
            .and_then(Value::as_object)
            .and_then(|b| get(b, "bgpPeeringAddresses"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        let addresses = |key: &str| -> Vec<String> {
            peering.iter().filter_map(|p| get(p, key).and_then(Value::as_array)).flatten().filter_map(|a| a.as_str().map(str::to_string)).collect()
        };
        let tunnel = !addresses("tunnelIpAddresses").is_empty();
        let custom = addresses("customBgpIpAddresses");
        let mut shown_as = Vec::new();
        if public_ip_reference {
            shown_as.push("a reference to a public IP resource (ipConfigurations[].publicIPAddress.id)");
        }
        if tunnel {
            shown_as.push("read-only tunnel addresses (bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses)");
        }
        if !shown_as.is_empty() {
            self.notes.push(format!(
                "the public address is taken from the lab (virtualNetworkGateway.publicIpAddress), not from the export, which shows it only as {}",
                shown_as.join(" and ")
            ));
        }
        if !custom.is_empty() {
            self.notes.push(format!(
                "ignored the custom APIPA BGP addresses {} (bgpSettings.bgpPeeringAddresses[].customBgpIpAddresses; not modelled)",
                custom.join(", ")
            ));
        }
    }

    fn finish(mut self) -> Vec<String> {
        fn summary(paths: &mut [String]) -> Option<(usize, &'static str, String)> {
            paths.sort_by_key(|p| p.to_ascii_lowercase());
            let noun = if paths.len() == 1 { "property" } else { "properties" };
            (!paths.is_empty()).then(|| (paths.len(), noun, paths.join(", ")))
        }
        if let Some((n, noun, list)) = summary(&mut self.read_only) {
            self.notes.push(format!("ignored {n} read-only or deployment {noun}: {list}"));
        }
        if let Some((n, noun, list)) = summary(&mut self.empty) {
            self.notes.push(format!("ignored {n} {noun} vpnlab does not model, empty or default here: {list}"));
        }
        self.notes
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GATEWAY_CLI: &str = include_str!("../../../tests/fixtures/azure/vnet-gateway.cli.json");
    const GATEWAY_BGP_REST: &str = include_str!("../../../tests/fixtures/azure/vnet-gateway-bgp.rest.json");
    const VNET_CLI: &str = include_str!("../../../tests/fixtures/azure/vnet.cli.json");
    const LNG_CLI: &str = include_str!("../../../tests/fixtures/azure/local-gateway.cli.json");
    const LNG_FQDN_CLI: &str = include_str!("../../../tests/fixtures/azure/local-gateway-fqdn.cli.json");
    const LNG_BGP_CLI: &str = include_str!("../../../tests/fixtures/azure/local-gateway-bgp.cli.json");
    const CONNECTION_CLI: &str = include_str!("../../../tests/fixtures/azure/connection.cli.json");
    const CUSTOM_CLI: &str = include_str!("../../../tests/fixtures/azure/connection-custom-policy.cli.json");
    const CUSTOM_REST: &str = include_str!("../../../tests/fixtures/azure/connection-custom-policy.rest.json");
    const TEMPLATE: &str = include_str!("../../../tests/fixtures/azure/template.json");

    const SHARED_KEY_NOTE: &str = "the export has no sharedKey (az network vpn-connection show leaves it out; `az network vpn-connection shared-key show` prints it): set sharedKey in the lab";

    fn import_ok(file: &str, text: &str, kind: ResourceKind, name: Option<&str>) -> Imported {
        import_str(Path::new(file), text, kind, name).unwrap_or_else(|e| panic!("{e}"))
    }

    fn import_err(file: &str, text: &str, kind: ResourceKind, name: Option<&str>) -> ImportError {
        match import_str(Path::new(file), text, kind, name) {
            Ok(imported) => panic!("expected an error, got {imported:?}"),
            Err(e) => e,
        }
    }

    #[track_caller]
    fn assert_note(notes: &[String], wanted: &str) {
        assert!(notes.iter().any(|n| n.contains(wanted)), "no note contains {wanted:?}; notes: {notes:#?}");
    }

    #[track_caller]
    fn assert_no_note(notes: &[String], unwanted: &str) {
        assert!(!notes.iter().any(|n| n.contains(unwanted)), "a note contains {unwanted:?}; notes: {notes:#?}");
    }

    /// The REST shape of a CLI export: everything but the ARM envelope moves under `properties`
    /// (the CLI's own `resourceGroup` has no REST counterpart).
    fn cli_to_rest(cli: &str) -> String {
        let Value::Object(cli) = serde_json::from_str::<Value>(cli).unwrap() else { panic!("not an object") };
        let mut rest = Map::new();
        let mut properties = Map::new();
        for (k, v) in cli {
            match k.as_str() {
                "name" | "id" | "etag" | "type" | "location" | "tags" => {
                    rest.insert(k, v);
                }
                "resourceGroup" => {}
                _ => {
                    properties.insert(k, v);
                }
            }
        }
        rest.insert("properties".to_string(), Value::Object(properties));
        Value::Object(rest).to_string()
    }

    #[test]
    fn kinds_name_their_arm_type_and_lab_key() {
        assert_eq!(ResourceKind::Connection.arm_type(), "Microsoft.Network/connections");
        assert_eq!(ResourceKind::VirtualNetworkGateway.arm_type(), "Microsoft.Network/virtualNetworkGateways");
        assert_eq!(ResourceKind::VirtualNetwork.lab_key(), "virtualNetwork");
        assert_eq!(ResourceKind::LocalNetworkGateway.lab_key(), "localNetworkGateway");
    }

    #[test]
    fn gateway_from_cli() {
        let imported = import_ok("vnet-gateway.cli.json", GATEWAY_CLI, ResourceKind::VirtualNetworkGateway, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "vnetgw-prod-01",
                "vpnType": "RouteBased",
                "sku": "VpnGw2AZ",
                "activeActive": false,
                "enableBgp": false,
                "vpnGatewayGeneration": "Generation2",
                "bgpSettings": {"asn": 65515, "bgpPeeringAddress": "10.20.255.30", "peerWeight": 0},
            })
        );
        assert_eq!(
            imported.notes,
            [
                "the public address is taken from the lab (virtualNetworkGateway.publicIpAddress), not from the export, which shows it only as a reference to a public IP resource (ipConfigurations[].publicIPAddress.id) and read-only tunnel addresses (bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses)",
                "ignored 12 read-only or deployment properties: bgpSettings.bgpPeeringAddresses, etag, gatewayType, id, ipConfigurations, location, provisioningState, resourceGroup, resourceGuid, sku.capacity, tags, type",
                "ignored 8 properties vpnlab does not model, empty or default here: allowRemoteVnetTraffic, allowVirtualWanTraffic, disableIPSecReplayProtection, enableBgpRouteTranslationForNat, enableDnsForwarding, enablePrivateIpAddress, natRules, virtualNetworkGatewayPolicyGroups",
            ]
        );
    }

    #[test]
    fn gateway_with_bgp_from_rest() {
        let imported = import_ok("vnet-gateway-bgp.rest.json", GATEWAY_BGP_REST, ResourceKind::VirtualNetworkGateway, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "vnetgw-hub-01",
                "vpnType": "RouteBased",
                "sku": "VpnGw1AZ",
                "activeActive": false,
                "enableBgp": true,
                "vpnGatewayGeneration": "Generation1",
                "bgpSettings": {"asn": 65515, "bgpPeeringAddress": "10.30.255.30", "peerWeight": 0},
            })
        );
        let notes = &imported.notes;
        assert_note(notes, "the public address is taken from the lab (virtualNetworkGateway.publicIpAddress)");
        assert_note(notes, "ignored the custom APIPA BGP addresses 169.254.21.1");
        assert_note(notes, "ignored property `natRules` (not modelled: the simulated gateway does no NAT)");
        assert_note(notes, "ignored 11 read-only or deployment properties: bgpSettings.bgpPeeringAddresses, etag, gatewayType, id, ipConfigurations, location, packetCaptureDiagnosticState, provisioningState, resourceGuid, sku.capacity, type");
        // The real tunnel address never reaches the notes or the value.
        assert_no_note(notes, "198.51.100.40");
        assert!(!imported.value.to_string().contains("198.51.100.40"));
    }

    #[test]
    fn gateway_type_other_than_vpn_is_said() {
        let text = GATEWAY_CLI.replace(r#""gatewayType": "Vpn""#, r#""gatewayType": "ExpressRoute""#);
        let imported = import_ok("ergw.json", &text, ResourceKind::VirtualNetworkGateway, None);
        assert_note(&imported.notes, "gatewayType is `ExpressRoute`: this is not a VPN gateway");
        assert_eq!(imported.value["vpnType"], "RouteBased");
    }

    #[test]
    fn virtual_network_from_cli() {
        let imported = import_ok("vnet.cli.json", VNET_CLI, ResourceKind::VirtualNetwork, None);
        assert_eq!(imported.value, json!({"name": "vnet-prod", "addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}}));
        assert_eq!(
            imported.notes,
            [
                "ignored property `privateEndpointVNetPolicies` (not modelled)",
                "ignored property `subnets` (not modelled: the lab's nodes carry the addresses)",
                "ignored 8 read-only or deployment properties: etag, id, location, provisioningState, resourceGroup, resourceGuid, tags, type",
                "ignored 10 properties vpnlab does not model, empty or default here: bgpCommunities, ddosProtectionPlan, dhcpOptions, enableDdosProtection, enableVmProtection, encryption, extendedLocation, flowTimeoutInMinutes, ipAllocations, virtualNetworkPeerings",
            ]
        );
    }

    #[test]
    fn local_gateways_from_cli() {
        let imported = import_ok("local-gateway.cli.json", LNG_CLI, ResourceKind::LocalNetworkGateway, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "lng-paloalto-hq",
                "gatewayIpAddress": "203.0.113.10",
                "localNetworkAddressSpace": {"addressPrefixes": ["10.10.0.0/16", "10.11.0.0/16"]},
            })
        );
        assert_eq!(
            imported.notes,
            ["ignored 8 read-only or deployment properties: etag, id, location, provisioningState, resourceGroup, resourceGuid, tags, type"]
        );

        let imported = import_ok("local-gateway-fqdn.cli.json", LNG_FQDN_CLI, ResourceKind::LocalNetworkGateway, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "lng-branch-fqdn",
                "fqdn": "vpn-branch.example.com",
                "localNetworkAddressSpace": {"addressPrefixes": ["192.168.50.0/24"]},
            })
        );

        let imported = import_ok("local-gateway-bgp.cli.json", LNG_BGP_CLI, ResourceKind::LocalNetworkGateway, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "lng-dc-bgp",
                "gatewayIpAddress": "203.0.113.20",
                "localNetworkAddressSpace": {"addressPrefixes": ["10.10.255.1/32"]},
                "bgpSettings": {"asn": 65010, "bgpPeeringAddress": "10.10.255.1", "peerWeight": 0},
            })
        );
        assert_note(&imported.notes, "ignored 1 property vpnlab does not model, empty or default here: bgpSettings.bgpPeeringAddresses");
    }

    #[test]
    fn default_policy_connection_from_cli() {
        let imported = import_ok("connection.cli.json", CONNECTION_CLI, ResourceKind::Connection, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "VNet-to-PaloAlto",
                "connectionType": "IPsec",
                "connectionProtocol": "IKEv2",
                "connectionMode": "Default",
                "dpdTimeoutSeconds": 45,
                "enableBgp": false,
                "usePolicyBasedTrafficSelectors": false,
                "ipsecPolicies": [],
                "trafficSelectorPolicies": [],
                "virtualNetworkGateway1": "vnetgw-prod-01",
                "localNetworkGateway2": "lng-paloalto-hq",
            })
        );
        assert_eq!(
            imported.notes,
            [
                SHARED_KEY_NOTE,
                "ignored 12 read-only or deployment properties: connectionStatus, egressBytesTransferred, etag, id, ingressBytesTransferred, location, provisioningState, resourceGroup, resourceGuid, tags, tunnelConnectionStatus, type",
                "ignored 7 properties vpnlab does not model, empty or default here: egressNatRules, enablePrivateLinkFastPath, expressRouteGatewayBypass, gatewayCustomBgpIpAddresses, ingressNatRules, routingWeight, useLocalAzureIpAddress",
            ]
        );
    }

    #[test]
    fn custom_policy_connection_from_cli() {
        let imported = import_ok("connection-custom-policy.cli.json", CUSTOM_CLI, ResourceKind::Connection, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "cn-paloalto-custom",
                "connectionType": "IPsec",
                "connectionProtocol": "IKEv2",
                "connectionMode": "ResponderOnly",
                "sharedKey": "Lab0nly!Psk#2026",
                "dpdTimeoutSeconds": 30,
                "enableBgp": false,
                "usePolicyBasedTrafficSelectors": true,
                "ipsecPolicies": [{
                    "saLifeTimeSeconds": 27000,
                    "saDataSizeKilobytes": 102400000,
                    "ipsecEncryption": "AES256",
                    "ipsecIntegrity": "SHA256",
                    "ikeEncryption": "AES256",
                    "ikeIntegrity": "SHA256",
                    "dhGroup": "DHGroup14",
                    "pfsGroup": "None",
                }],
                "trafficSelectorPolicies": [{"localAddressRanges": ["10.20.0.0/16"], "remoteAddressRanges": ["10.10.0.0/16"]}],
                "virtualNetworkGateway1": "vnetgw-prod-01",
                "localNetworkGateway2": "lng-paloalto-hq",
            })
        );
        assert_no_note(&imported.notes, "sharedKey");
        // Secrets never reach Debug output.
        let debug = format!("{imported:?}");
        assert!(!debug.contains("Lab0nly") && debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn cli_and_rest_shapes_give_the_same_value() {
        let cli = import_ok("connection-custom-policy.cli.json", CUSTOM_CLI, ResourceKind::Connection, None);
        let rest = import_ok("connection-custom-policy.rest.json", CUSTOM_REST, ResourceKind::Connection, None);
        assert_eq!(cli.value, rest.value);
        // Every CLI fixture, rewritten into the REST shape.
        let fixtures = [
            (GATEWAY_CLI, ResourceKind::VirtualNetworkGateway),
            (VNET_CLI, ResourceKind::VirtualNetwork),
            (LNG_CLI, ResourceKind::LocalNetworkGateway),
            (LNG_FQDN_CLI, ResourceKind::LocalNetworkGateway),
            (LNG_BGP_CLI, ResourceKind::LocalNetworkGateway),
            (CONNECTION_CLI, ResourceKind::Connection),
            (CUSTOM_CLI, ResourceKind::Connection),
        ];
        for (cli_text, kind) in fixtures {
            let cli = import_ok("cli.json", cli_text, kind, None);
            let rest = import_ok("rest.json", &cli_to_rest(cli_text), kind, None);
            assert_eq!(cli.value, rest.value, "{kind:?}");
            assert_eq!(cli.notes.iter().filter(|n| n.contains("public address")).count(), rest.notes.iter().filter(|n| n.contains("public address")).count());
        }
    }

    #[test]
    fn properties_win_over_the_top_level() {
        let text = r#"{"name": "cn", "type": "Microsoft.Network/connections", "dpdTimeoutSeconds": 45,
                       "properties": {"dpdTimeoutSeconds": 30, "sharedKey": "Abc123"}}"#;
        let imported = import_ok("mixed.json", text, ResourceKind::Connection, None);
        assert_eq!(imported.value, json!({"name": "cn", "dpdTimeoutSeconds": 30, "sharedKey": "Abc123"}));
        assert_note(
            &imported.notes,
            "`dpdTimeoutSeconds` is given both at the top level and under `properties`, with different values; the one under `properties` is used",
        );
    }

    #[test]
    fn template_connection_by_name() {
        let imported = import_ok("template.json", TEMPLATE, ResourceKind::Connection, Some("cn-hq"));
        assert_eq!(
            imported.value,
            json!({
                "name": "cn-hq",
                "connectionType": "IPsec",
                "connectionProtocol": "IKEv2",
                "connectionMode": "Default",
                "dpdTimeoutSeconds": 45,
                "enableBgp": false,
                "usePolicyBasedTrafficSelectors": false,
                "ipsecPolicies": [{
                    "saLifeTimeSeconds": 27000,
                    "saDataSizeKilobytes": 102400000,
                    "ipsecEncryption": "GCMAES256",
                    "ipsecIntegrity": "GCMAES256",
                    "ikeEncryption": "GCMAES256",
                    "ikeIntegrity": "SHA384",
                    "dhGroup": "ECP384",
                    "pfsGroup": "ECP384",
                }],
                "virtualNetworkGateway1": "vgw-hub",
                "localNetworkGateway2": "lng-hq",
            })
        );
        assert_eq!(
            imported.notes,
            [
                "`sharedKey` is the template expression `[parameters('sharedKeyHq')]`, not a value: set sharedKey in the lab",
                "ignored 4 read-only or deployment properties: apiVersion, dependsOn, location, type",
            ]
        );
    }

    #[test]
    fn template_expressions_for_names_are_left_out_with_a_note() {
        // Selected by the expression itself, or by the parameter's default.
        for name in ["[parameters('branchConnectionName')]", "cn-branch", "CN-Branch"] {
            let imported = import_ok("template.json", TEMPLATE, ResourceKind::Connection, Some(name));
            assert_eq!(
                imported.value,
                json!({
                    "connectionType": "IPsec",
                    "connectionProtocol": "IKEv1",
                    "sharedKey": "Branch0ffice!Psk#2026",
                    "dpdTimeoutSeconds": 45,
                    "enableBgp": false,
                    "virtualNetworkGateway1": "vgw-hub",
                }),
                "{name}"
            );
            assert_note(&imported.notes, "`name` is the template expression `[parameters('branchConnectionName')]` (the template's default for parameter `branchConnectionName` is `cn-branch`), not a value: set name in the lab");
            assert_note(&imported.notes, "`localNetworkGateway2.id` is the template expression `[resourceId('Microsoft.Network/localNetworkGateways', parameters('branchLocalGatewayName'))]` (the template's default for parameter `branchLocalGatewayName` is `lng-branch`), which names no local network gateway literally: set localNetworkGateway2 in the lab");
            assert_no_note(&imported.notes, "the export has no `name`");
        }
    }

    #[test]
    fn only_a_plain_parameter_name_is_selected_by_its_default() {
        let text = TEMPLATE.replace("[parameters('branchConnectionName')]", "[concat(parameters('branchConnectionName'), '-2')]");
        let e = import_err("template.json", &text, ResourceKind::Connection, Some("cn-branch"));
        assert!(matches!(e, ImportError::NameNotFound { .. }), "{e:?}");
        assert_eq!(plain_parameter("[parameters('x')]").as_deref(), Some("x"));
        assert_eq!(plain_parameter("[parameters('x')[0]]"), None);
    }

    #[test]
    fn template_gateway_and_local_gateway() {
        let imported = import_ok("template.json", TEMPLATE, ResourceKind::VirtualNetworkGateway, None);
        assert_eq!(
            imported.value,
            json!({
                "name": "vgw-hub",
                "vpnType": "RouteBased",
                "sku": "VpnGw2AZ",
                "activeActive": false,
                "enableBgp": false,
                "vpnGatewayGeneration": "Generation2",
            })
        );
        assert_eq!(
            imported.notes,
            [
                "the public address is taken from the lab (virtualNetworkGateway.publicIpAddress), not from the export, which shows it only as a reference to a public IP resource (ipConfigurations[].publicIPAddress.id)",
                "ignored 6 read-only or deployment properties: apiVersion, dependsOn, gatewayType, ipConfigurations, location, type",
            ]
        );
        let imported = import_ok("template.json", TEMPLATE, ResourceKind::LocalNetworkGateway, Some("lng-hq"));
        assert_eq!(
            imported.value,
            json!({"name": "lng-hq", "gatewayIpAddress": "203.0.113.10", "localNetworkAddressSpace": {"addressPrefixes": ["10.10.0.0/16"]}})
        );
    }

    #[test]
    fn template_with_two_connections_needs_a_name() {
        let e = import_err("template.json", TEMPLATE, ResourceKind::Connection, None);
        assert!(matches!(&e, ImportError::Ambiguous { names, .. } if names == &["cn-hq", "[parameters('branchConnectionName')]"]), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the Azure export template.json has 2 connections (`cn-hq`, `[parameters('branchConnectionName')]`), so the import needs the name of the one to use"
        );
        let e = import_err("template.json", TEMPLATE, ResourceKind::Connection, Some("cn-dr"));
        assert_eq!(e.to_string(), "the Azure export template.json has no connection named `cn-dr`, only `cn-hq`, `[parameters('branchConnectionName')]`");
    }

    #[test]
    fn missing_kind_lists_what_the_file_holds() {
        let e = import_err("template.json", TEMPLATE, ResourceKind::VirtualNetwork, None);
        assert_eq!(
            e.to_string(),
            "the Azure export template.json has no virtual network (no resource of type Microsoft.Network/virtualNetworks); it holds only Microsoft.Network/virtualNetworkGateways, Microsoft.Network/localNetworkGateways, Microsoft.Network/connections"
        );
        let e = import_err("vnet.cli.json", VNET_CLI, ResourceKind::Connection, None);
        assert!(matches!(&e, ImportError::NoResource { found, .. } if found == &["Microsoft.Network/virtualNetworks"]), "{e:?}");
        let e = import_err("vnet.cli.json", VNET_CLI, ResourceKind::VirtualNetwork, Some("vnet-hub"));
        assert_eq!(e.to_string(), "the Azure export vnet.cli.json has no virtual network named `vnet-hub`, only `vnet-prod`");
        let e = import_err("odd.json", "\"RouteBased\"", ResourceKind::VirtualNetworkGateway, None);
        assert!(e.to_string().ends_with("it holds no typed Azure resource at all"), "{e}");
    }

    #[test]
    fn wrong_json_type_names_the_property() {
        let text = CUSTOM_REST.replace(r#""dpdTimeoutSeconds": 30"#, r#""dpdTimeoutSeconds": "30""#);
        let e = import_err("connection.rest.json", &text, ResourceKind::Connection, None);
        assert_eq!(
            e.to_string(),
            r#"in the Azure export connection.rest.json, `properties.dpdTimeoutSeconds` is the string "30" where a whole number is expected"#
        );
        let text = CUSTOM_CLI.replace(r#""saLifeTimeSeconds": 27000"#, r#""saLifeTimeSeconds": 27000.5"#);
        let e = import_err("c.json", &text, ResourceKind::Connection, None);
        assert!(matches!(&e, ImportError::WrongType { path, expected: "a whole number", .. } if path == "ipsecPolicies[0].saLifeTimeSeconds"), "{e:?}");
        let text = LNG_CLI.replace(r#""10.11.0.0/16""#, "42");
        let e = import_err("l.json", &text, ResourceKind::LocalNetworkGateway, None);
        assert_eq!(e.to_string(), "in the Azure export l.json, `localNetworkAddressSpace.addressPrefixes[1]` is the number 42 where a string is expected");
        let text = GATEWAY_CLI.replace(r#""enableBgp": false"#, r#""enableBgp": "false""#);
        let e = import_err("g.json", &text, ResourceKind::VirtualNetworkGateway, None);
        assert_eq!(e.to_string(), r#"in the Azure export g.json, `enableBgp` is the string "false" where true or false is expected"#);
        // A shared key of the wrong type is described without its value.
        let text = CUSTOM_REST.replace(r#""Lab0nly!Psk#2026""#, r#"["Lab0nly!Psk#2026"]"#);
        let e = import_err("c.json", &text, ResourceKind::Connection, None);
        assert!(!e.to_string().contains("Lab0nly"), "{e}");
        assert!(e.to_string().contains("`properties.sharedKey` is a list where a string is expected"), "{e}");
    }

    #[test]
    fn wrong_json_type_in_a_template() {
        let text = TEMPLATE.replacen(r#""dpdTimeoutSeconds": 45"#, r#""dpdTimeoutSeconds": true"#, 1);
        let e = import_err("template.json", &text, ResourceKind::Connection, Some("cn-hq"));
        assert_eq!(e.to_string(), "in the Azure export template.json, `resources[2].properties.dpdTimeoutSeconds` is `true` where a whole number is expected");
    }

    #[test]
    fn not_json_gives_line_and_column() {
        let text = &CONNECTION_CLI[..200];
        let e = import_err("connection.cli.json", text, ResourceKind::Connection, None);
        let ImportError::NotJson { line, column, ref message, .. } = e else { panic!("{e:?}") };
        assert_eq!((line, column), (8, 6));
        assert_eq!(message, "EOF while parsing a string");
        assert_eq!(e.to_string(), "the Azure export connection.cli.json is not valid JSON: EOF while parsing a string (line 8, column 6)");
        let e = import_err("x.yaml", "connection:\n  name: cn\n", ResourceKind::Connection, None);
        assert_eq!(e.to_string(), "the Azure export x.yaml is not valid JSON: expected value (line 1, column 1)");
    }

    #[test]
    fn lists_and_bom_are_read() {
        let list = format!("\u{feff}[{LNG_CLI}, {LNG_BGP_CLI}]");
        let imported = import_ok("list.json", &list, ResourceKind::LocalNetworkGateway, Some("lng-dc-bgp"));
        assert_eq!(imported.value["name"], "lng-dc-bgp");
        let rest_list = format!(r#"{{"value": [{}]}}"#, cli_to_rest(LNG_CLI));
        let imported = import_ok("list.json", &rest_list, ResourceKind::LocalNetworkGateway, None);
        assert_eq!(imported.value["gatewayIpAddress"], "203.0.113.10");
    }

    #[test]
    fn template_id_and_escape_helpers() {
        let arm = "Microsoft.Network/localNetworkGateways";
        assert_eq!(resource_id_name("[resourceId('Microsoft.Network/localNetworkGateways', 'lng-hq')]", arm).as_deref(), Some("lng-hq"));
        assert_eq!(resource_id_name("[resourceId('rg-other', 'Microsoft.Network/localNetworkGateways', 'lng-o''brien')]", arm).as_deref(), Some("lng-o'brien"));
        assert_eq!(resource_id_name("[resourceId('Microsoft.Network/localNetworkGateways', parameters('x'))]", arm), None);
        assert_eq!(resource_id_name("[concat(resourceId('Microsoft.Network/localNetworkGateways', 'a'), '/x')]", arm), None);
        assert_eq!(resource_id_name("[resourceId('Microsoft.Network/virtualNetworkGateways', 'a')]", arm), None);
        assert_eq!(
            resource_path_name(
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/localNetworkGateways/lng-1",
                arm
            )
            .as_deref(),
            Some("lng-1")
        );
        assert_eq!(resource_path_name("/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/gw", arm), None);
        // `[[` escapes a literal bracket in a template.
        let text = r#"{"$schema": "x", "resources": [{"type": "Microsoft.Network/virtualNetworks", "name": "[[lab]vnet",
                       "properties": {"addressSpace": {"addressPrefixes": ["[parameters('prefix')]"]}}}]}"#;
        let imported = import_ok("t.json", text, ResourceKind::VirtualNetwork, None);
        assert_eq!(imported.value, json!({"name": "[lab]vnet"}));
        assert_note(
            &imported.notes,
            "`addressSpace.addressPrefixes[0]` is the template expression `[parameters('prefix')]`, not a value: set addressSpace.addressPrefixes in the lab",
        );
    }

    #[test]
    fn import_reads_files_and_says_when_it_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lng.json");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(LNG_CLI.encode_utf16().flat_map(u16::to_le_bytes));
        std::fs::write(&path, utf16).unwrap();
        let imported = import(&path, ResourceKind::LocalNetworkGateway, None).unwrap();
        assert_eq!(imported.value["name"], "lng-paloalto-hq");
        assert_note(&imported.notes, "UTF-16");

        let missing = dir.path().join("missing.json");
        let e = import(&missing, ResourceKind::Connection, None).unwrap_err();
        assert!(matches!(e, ImportError::Read { .. }));
        assert!(e.to_string().starts_with(&format!("cannot read the Azure export {}: ", missing.display())), "{e}");
    }
}
