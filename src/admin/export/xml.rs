//! A small element tree over quick-xml, enough to read back the ADMX/ADML templates Lanyard
//! writes (and to prove they are well-formed: mismatched tags and bad entities are errors).

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (namespace prefix dropped).
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text, entities resolved.
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every descendant named `name`, depth first.
    pub fn descendants<'a>(&'a self, name: &'a str) -> Box<dyn Iterator<Item = &'a Element> + 'a> {
        Box::new(self.children.iter().flat_map(move |c| {
            let me = (c.name == name).then_some(c);
            me.into_iter().chain(c.descendants(name))
        }))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not well-formed XML: {0}")]
pub struct XmlError(pub String);

fn err(e: impl std::fmt::Display) -> XmlError {
    XmlError(e.to_string())
}

/// The document's root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().map_err(err)? {
            Event::Start(e) => stack.push(start(&e)?),
            Event::Empty(e) => {
                let el = start(&e)?;
                push_child(&mut stack, el)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| err("unbalanced end tag"))?;
                push_child(&mut stack, el)?;
            }
            Event::Text(t) => top(&mut stack)?
                .text
                .push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => {
                let text: &str = t.as_ref();
                top(&mut stack)?.text.push_str(text);
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(err)?.map(String::from)
                } else {
                    let name = r.xml_content(XmlVersion::Implicit1_0);
                    resolve_xml_entity(&name).map(String::from)
                };
                let text = resolved.ok_or_else(|| err("unknown entity"))?;
                top(&mut stack)?.text.push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack
        .pop()
        .filter(|_| stack.is_empty())
        .ok_or_else(|| err("unclosed element"))?;
    match document.children.len() {
        1 => Ok(document.children.remove(0)),
        n => Err(XmlError(format!("expected one root element, found {n}"))),
    }
}

fn top(stack: &mut [Element]) -> Result<&mut Element, XmlError> {
    stack
        .last_mut()
        .ok_or_else(|| err("text outside the document"))
}

fn push_child(stack: &mut [Element], el: Element) -> Result<(), XmlError> {
    top(stack)?.children.push(el);
    Ok(())
}

fn start(e: &BytesStart<'_>) -> Result<Element, XmlError> {
    let local = e.local_name();
    let name: &str = local.as_ref();
    let name = name.to_string();
    let mut attributes = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(err)?;
        let local = a.key.local_name();
        let key: &str = local.as_ref();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(err)?
            .into_owned();
        attributes.push((key.to_string(), value));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

/// Text safe inside an element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_attributes_and_entities() {
        let root = parse(
            r#"<?xml version="1.0"?><a xmlns="urn:x" k="1 &amp; 2"><b>x &lt; y &#65;</b><c/></a>"#,
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("k"), Some("1 & 2"));
        assert_eq!(root.child("b").unwrap().text, "x < y A");
        assert_eq!(root.descendants("c").count(), 1);
        assert_eq!(escape("<\"&'>"), "&lt;&quot;&amp;&apos;&gt;");
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for bad in ["<a><b></a>", "<a>", "<a>&nope;</a>", "<a/><b/>", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
