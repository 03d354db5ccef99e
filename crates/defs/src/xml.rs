//! Bytes of any declared encoding into a small namespace-resolved element tree with byte
//! offsets, under hard limits (size, depth) and with DTDs refused.
//!
//! The rest of the loader works on this tree: reading a whole file first lets it report every
//! problem at once and look references up in any order. Every element keeps the byte offset of
//! its `<` in the decoded text, which [`LineIndex`] turns into a line and column.

use std::borrow::Cow;

use quick_xml::encoding::detect_encoding;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Reader};

/// Files larger than this are refused before parsing.
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;
/// Elements nested deeper than this are refused, so hostile input cannot exhaust the stack of
/// the recursive passes that follow.
pub const MAX_DEPTH: usize = 256;
/// Elements plus attributes beyond this are refused: the tree is held in memory, so a file of
/// millions of tiny elements must not become gigabytes. The largest MIWG reference file has
/// about 6,500.
pub const MAX_NODES: usize = 200_000;

pub const BPMN_MODEL_NS: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
pub const BPMN_DI_NS: &str = "http://www.omg.org/spec/BPMN/20100524/DI";
pub const DC_NS: &str = "http://www.omg.org/spec/DD/20100524/DC";
pub const DI_NS: &str = "http://www.omg.org/spec/DD/20100524/DI";
/// The namespace of idflow's extension elements (`<idflow:activity>`, `<idflow:param>`).
pub const IDFLOW_NS: &str = "https://idflow.dev/schema/bpmn/1.0";

/// The namespace an element or attribute name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ns {
    /// The BPMN 2.0 model namespace.
    Bpmn,
    /// BPMNDI, DC or DI: diagram interchange.
    Diagram,
    Idflow,
    /// Any other namespace URI.
    Other(String),
    /// No namespace (an unprefixed attribute, or an element with no default namespace).
    None,
    /// A prefix with no declaration in scope.
    Undeclared(String),
}

impl Ns {
    fn from_uri(uri: &[u8]) -> Ns {
        match uri {
            u if u == BPMN_MODEL_NS.as_bytes() => Ns::Bpmn,
            u if u == BPMN_DI_NS.as_bytes() || u == DC_NS.as_bytes() || u == DI_NS.as_bytes() => {
                Ns::Diagram
            }
            u if u == IDFLOW_NS.as_bytes() => Ns::Idflow,
            u => Ns::Other(String::from_utf8_lossy(u).into_owned()),
        }
    }

    fn resolved(result: ResolveResult<'_>) -> Ns {
        match result {
            ResolveResult::Bound(ns) => Ns::from_uri(ns.into_inner()),
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Unknown(prefix) => {
                Ns::Undeclared(String::from_utf8_lossy(&prefix).into_owned())
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub ns: Ns,
    pub local: String,
    pub value: String,
}

/// One element of the tree.
#[derive(Debug, Clone)]
pub struct Element {
    pub ns: Ns,
    pub local: String,
    /// The name as written (`bpmn:task`), for messages.
    pub qname: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// The element's own text and CDATA, concatenated, entities expanded.
    pub text: String,
    /// Byte offset of the element's `<` in the decoded text.
    pub offset: usize,
}

impl Element {
    /// An unqualified attribute's value (BPMN's own attributes are unqualified).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == Ns::None && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The `id` attribute, when present and not blank.
    pub fn id(&self) -> Option<&str> {
        self.attr("id").map(str::trim).filter(|s| !s.is_empty())
    }

    pub fn is_bpmn(&self, local: &str) -> bool {
        self.ns == Ns::Bpmn && self.local == local
    }

    pub fn bpmn_children<'e>(&'e self, local: &'e str) -> impl Iterator<Item = &'e Element> + 'e {
        self.children.iter().filter(move |c| c.is_bpmn(local))
    }
}

/// A parsed document: its decoded text (for locations) and its root element.
#[derive(Debug)]
pub struct Document {
    pub lines: LineIndex,
    pub root: Element,
}

/// A problem found while decoding or parsing, located by byte offset into the decoded text
/// (or, for encoding errors, by line and column directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlProblem {
    pub code: &'static str,
    pub message: String,
    pub line: u32,
    pub column: u32,
}

/// Maps byte offsets of a text to 1-based lines and columns (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    text: String,
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: String) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, line_starts }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line and column of byte `offset` (clamped to the text).
    pub fn locate(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (saturate(line), saturate(column + 1))
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Decodes `bytes` per BOM and XML declaration, then parses them into a tree. Problems that
/// stop parsing are returned as `Err`; problems parsing can continue past (an unknown entity in
/// one attribute) come back alongside the document.
pub fn parse(bytes: &[u8]) -> Result<(Document, Vec<XmlProblem>), Vec<XmlProblem>> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(vec![XmlProblem {
            code: crate::codes::TOO_LARGE,
            message: format!(
                "the file is {} bytes; definitions are limited to {} bytes",
                bytes.len(),
                MAX_INPUT_BYTES
            ),
            line: 1,
            column: 1,
        }]);
    }
    let text = decode_document(bytes).map_err(|p| vec![p])?;
    let lines = LineIndex::new(text);
    let mut problems = Vec::new();
    match build_tree(&lines, &mut problems) {
        Some(root) => Ok((Document { lines, root }, problems)),
        None => Err(problems),
    }
}

/// The first character XML 1.0 forbids (controls other than tab, newline, carriage return, and
/// the non-characters U+FFFE/U+FFFF): a sign of binary input, refused before parsing.
fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
    })
}

/// Parses the decoded text into its root element. `None` when parsing had to stop; the reason is
/// in `problems`.
fn build_tree(lines: &LineIndex, problems: &mut Vec<XmlProblem>) -> Option<Element> {
    let text = lines.text();
    let problem = |code: &'static str, message: String, offset: usize| {
        let (line, column) = lines.locate(offset);
        XmlProblem {
            code,
            message,
            line,
            column,
        }
    };
    if let Some((offset, c)) = forbidden_char(text) {
        problems.push(problem(
            crate::codes::XML_SYNTAX,
            format!(
                "character U+{:04X} is not allowed in XML: is this a binary file?",
                u32::from(c)
            ),
            offset,
        ));
        return None;
    }
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                problems.push(problem(crate::codes::XML_SYNTAX, e.to_string(), at));
                return None;
            }
        };
        if let Event::Start(start) | Event::Empty(start) = &event {
            nodes = nodes.saturating_add(1 + start.attributes().count());
            if nodes > MAX_NODES {
                problems.push(problem(
                    crate::codes::TOO_LARGE,
                    format!("the file holds more than {MAX_NODES} elements and attributes"),
                    before,
                ));
                return None;
            }
        }
        match event {
            Event::Start(start) | Event::Empty(start) if stack.is_empty() && root.is_some() => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                problems.push(problem(
                    crate::codes::XML_SYNTAX,
                    format!("a second root element <{name}>: an XML document has exactly one"),
                    before,
                ));
                return None;
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    problems.push(problem(
                        crate::codes::TOO_DEEP,
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                        before,
                    ));
                    return None;
                }
                let element = element(&reader, &start, before, &problem, problems);
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = element(&reader, &start, before, &problem, problems);
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                // quick-xml checks that end names match, so the stack is never empty here.
                if let Some(element) = stack.pop() {
                    attach(&mut stack, &mut root, element);
                }
            }
            Event::Text(raw) => {
                let content = match raw.unescape() {
                    Ok(t) => t,
                    Err(e) => {
                        problems.push(problem(crate::codes::XML_SYNTAX, e.to_string(), before));
                        Cow::Owned(String::from_utf8_lossy(&raw).into_owned())
                    }
                };
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        problems.push(problem(
                            crate::codes::XML_SYNTAX,
                            "text outside the root element: this does not look like an XML document"
                                .into(),
                            before,
                        ));
                        return None;
                    }
                }
            }
            Event::CData(cdata) => {
                let content = String::from_utf8_lossy(&cdata.into_inner()).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&content);
                }
            }
            Event::DocType(_) => {
                problems.push(problem(
                    crate::codes::DTD_NOT_ALLOWED,
                    "a <!DOCTYPE> declaration is not allowed: definitions may not declare entities or DTDs"
                        .into(),
                    before,
                ));
                return None;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.first() {
        let (line, column) = lines.locate(open.offset);
        let innermost = stack
            .last()
            .map_or(open.qname.as_str(), |e| e.qname.as_str());
        problems.push(problem(
            crate::codes::XML_SYNTAX,
            format!(
                "the file ends inside <{innermost}> (the root <{}> opened at {line}:{column} is never closed)",
                open.qname
            ),
            text.len(),
        ));
        return None;
    }
    if root.is_none() {
        problems.push(problem(
            crate::codes::XML_SYNTAX,
            "no root element: the file is empty or holds no XML element".into(),
            text.len(),
        ));
    }
    root
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// One element with its name resolved and its attributes unescaped; attribute problems are
/// recorded and the raw text kept.
fn element(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    offset: usize,
    problem: &dyn Fn(&'static str, String, usize) -> XmlProblem,
    problems: &mut Vec<XmlProblem>,
) -> Element {
    let qname = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let (resolved, local) = reader.resolve_element(start.name());
    let ns = Ns::resolved(resolved);
    if let Ns::Undeclared(prefix) = &ns {
        problems.push(problem(
            crate::codes::XML_SYNTAX,
            format!("<{qname}>: namespace prefix '{prefix}' is not declared"),
            offset,
        ));
    }
    let local = String::from_utf8_lossy(local.as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = match attr {
            Ok(a) => a,
            Err(e) => {
                problems.push(problem(
                    crate::codes::XML_SYNTAX,
                    format!("<{qname}>: {e}"),
                    offset,
                ));
                continue;
            }
        };
        let (resolved, attr_local) = reader.resolve_attribute(attr.key);
        let attr_ns = Ns::resolved(resolved);
        let attr_local = String::from_utf8_lossy(attr_local.as_ref()).into_owned();
        let value = match attr.decode_and_unescape_value(reader.decoder()) {
            Ok(v) => v.into_owned(),
            Err(e) => {
                problems.push(problem(
                    crate::codes::XML_SYNTAX,
                    format!("<{qname}> attribute '{attr_local}': {e}"),
                    offset,
                ));
                String::from_utf8_lossy(&attr.value).into_owned()
            }
        };
        attrs.push(Attr {
            ns: attr_ns,
            local: attr_local,
            value,
        });
    }
    Element {
        ns,
        local,
        qname,
        attrs,
        children: Vec::new(),
        text: String::new(),
        offset,
    }
}

/// The document as UTF-8, decoded per its BOM or `encoding="..."` declaration (UTF-8 when
/// neither says otherwise). The BOM is dropped.
fn decode_document(bytes: &[u8]) -> Result<String, XmlProblem> {
    let decoder = detect_decoder(bytes)?;
    let bom_len = detect_encoding(bytes).map_or(0, |(_, n)| n);
    let body = bytes.get(bom_len..).unwrap_or_default();
    let encoding_name = decoder.encoding().name();
    match decoder.decode(body) {
        Ok(text) => Ok(text.into_owned()),
        Err(_) => {
            // Locate the first bad byte for UTF-8 (the common case); other encodings name the
            // encoding only.
            let (line, column, detail) = match std::str::from_utf8(body) {
                Err(e) if encoding_name == "UTF-8" => {
                    let valid = body.get(..e.valid_up_to()).unwrap_or_default();
                    let valid = std::str::from_utf8(valid).unwrap_or_default();
                    let line = valid.matches('\n').count() + 1;
                    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    (
                        saturate(line),
                        saturate(column),
                        format!(" (byte offset {})", bom_len + e.valid_up_to()),
                    )
                }
                _ => (1, 1, String::new()),
            };
            Err(XmlProblem {
                code: crate::codes::ENCODING,
                message: format!(
                    "the file is not valid {encoding_name}{detail}: is it a binary file, or is its encoding declaration wrong?"
                ),
                line,
                column,
            })
        }
    }
}

/// The decoder for the document's encoding: quick-xml detects a BOM (or UTF-16 without one)
/// before the first event and reads `encoding="..."` from the declaration, which can only be the
/// first event. Labels quick-xml does not know are refused rather than read as UTF-8.
fn detect_decoder(bytes: &[u8]) -> Result<quick_xml::Decoder, XmlProblem> {
    let mut reader = Reader::from_reader(bytes);
    let first = reader.read_event();
    let decoder = reader.decoder();
    let problem = |message: String| XmlProblem {
        code: crate::codes::ENCODING,
        message,
        line: 1,
        column: 1,
    };
    if let Ok(Event::Decl(decl)) = &first {
        if let Some(Ok(label)) = decl.encoding() {
            let label = String::from_utf8_lossy(&label).into_owned();
            if decl.encoder().is_none() {
                return Err(problem(format!(
                    "unsupported encoding \"{label}\" in the XML declaration (use UTF-8)"
                )));
            }
            let sniffed_utf16 =
                detect_encoding(bytes).is_some_and(|(e, _)| e.name().starts_with("UTF-16"));
            if decoder.encoding().name().starts_with("UTF-16") && !sniffed_utf16 {
                return Err(problem(format!(
                    "the declaration says encoding=\"{label}\" but the file is not UTF-16 encoded"
                )));
            }
        }
    }
    Ok(decoder)
}
