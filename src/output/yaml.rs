//! A block-style YAML writer for the generated objects: a `serde`
//! serializer that streams straight into a `String`.
//!
//! serde_yaml renders through libyaml's event emitter and re-parses every
//! string to decide whether it needs quotes; on a 10,000-pod-group model that
//! was about 60 µs an object, the largest single cost of `build`
//! (docs/performance.md). The output here is a small, fixed subset of YAML
//! that every YAML 1.1 and 1.2 parser (kubectl's go-yaml, PyYAML,
//! serde_yaml) reads the same way:
//!
//! - block mappings and sequences, two spaces an indent, sequences under a
//!   key at the key's column (`kubectl` style), `{}` and `[]` when empty;
//! - a string is written plain only when it cannot be read as anything but
//!   that string (letters, digits and `-._/:@`; starting with a letter, `/`
//!   or `_`, or with a digit when it also holds a letter no number, date or
//!   time uses, like `100m`; not a YAML 1.1 boolean or null), otherwise
//!   double-quoted with escapes for `"`, `\\` and every non-printable
//!   character;
//! - integers and booleans plain, `null` for a unit or `None`.
//!
//! The tests parse the output back with serde_yaml and compare it with the
//! object, for every example model and for hostile strings.

use serde::ser::{self, Serialize};
use std::fmt::{self, Write as _};

/// `value` as a YAML document (no `---`), ending in a newline.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = String::with_capacity(1024);
    append(&mut out, value);
    out
}

/// Append `value` as a YAML document to `out`.
pub fn append<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    let mut w = Writer {
        out,
        state: State::Top,
        indent: 0,
    };
    value
        .serialize(&mut w)
        .expect("serializing generated objects cannot fail");
    if w.state != State::LineStart {
        w.out.push('\n');
    }
}

/// Where the cursor is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Nothing written yet.
    Top,
    /// Just after `key:`.
    AfterKey,
    /// Just after `- `.
    AfterDash,
    /// At the start of a line.
    LineStart,
}

/// The serializer. `indent` is the column of the key or dash whose value is
/// being written.
pub struct Writer<'a> {
    out: &'a mut String,
    state: State,
    indent: usize,
}

/// Serialization errors: only a type YAML keys cannot hold (e.g. a
/// sequence as a mapping key) or an unsupported enum shape.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl Writer<'_> {
    /// A scalar where the cursor is, already formatted.
    fn raw_scalar(&mut self, s: &str) {
        if self.state == State::AfterKey {
            self.out.push(' ');
        }
        self.out.push_str(s);
        self.out.push('\n');
        self.state = State::LineStart;
    }

    fn string(&mut self, s: &str) {
        if self.state == State::AfterKey {
            self.out.push(' ');
        }
        write_str_scalar(self.out, s);
        self.out.push('\n');
        self.state = State::LineStart;
    }
}

impl<'w, 'a> Compound<'w, 'a> {
    /// Start a mapping (`seq == false`) or sequence where the cursor is.
    fn start(w: &'w mut Writer<'a>, seq: bool) -> Self {
        let parent = w.indent;
        let indent = match (w.state, seq) {
            (State::Top | State::LineStart, _) => parent,
            (State::AfterKey, false) => parent + 2,
            (State::AfterKey, true) => parent,
            (State::AfterDash, _) => parent + 2,
        };
        Compound {
            w,
            indent,
            parent,
            count: 0,
            seq,
        }
    }
}

/// A mapping or sequence being written: `indent` is the column of its keys
/// or dashes, `parent` the writer's indent to restore at the end.
pub struct Compound<'w, 'a> {
    w: &'w mut Writer<'a>,
    indent: usize,
    parent: usize,
    count: usize,
    seq: bool,
}

impl Compound<'_, '_> {
    /// Move to where the next key or dash goes.
    fn next_entry(&mut self) {
        let w = &mut *self.w;
        match w.state {
            State::AfterDash if self.count == 0 => {}
            State::AfterKey => {
                w.out.push('\n');
                indent(w.out, self.indent);
            }
            _ => indent(w.out, self.indent),
        }
        self.count += 1;
    }

    fn key_str(&mut self, key: &str) {
        self.next_entry();
        write_str_scalar(self.w.out, key);
        self.w.out.push(':');
        self.w.state = State::AfterKey;
        self.w.indent = self.indent;
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.w.indent = self.indent;
        value.serialize(&mut *self.w)
    }

    fn finish(self) {
        if self.count == 0 {
            self.w.raw_scalar(if self.seq { "[]" } else { "{}" });
        }
        self.w.indent = self.parent;
    }
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// A string scalar: plain when unambiguous, else double-quoted.
pub fn write_str_scalar(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        quote(out, s);
    }
}

fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if first.is_ascii_digit() {
        // A number, date or time in some YAML version unless it has a letter
        // no numeric form uses (`100m`, `128Mi` stay plain; `1e3`, `0x1f`,
        // `2001-12-14t21:59:43z`, `1:30` are quoted).
        if !bytes
            .iter()
            .any(|b| b.is_ascii_alphabetic() && !b"abcdefotxzABCDEFOTXZ".contains(b))
        {
            return false;
        }
    } else if !(first.is_ascii_alphabetic() || first == b'/' || first == b'_') {
        return false;
    }
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/' | b':' | b'@'))
    {
        return false;
    }
    // YAML 1.1 booleans and nulls (go-yaml v2 and PyYAML read them so).
    const RESERVED: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r))
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // YAML's printable set (x20-x7E, xA0-xD7FF, xE000-xFFFD,
            // x10000-x10FFFF) less what a YAML 1.1 reader takes for a line
            // break (x85, x2028, x2029) or a byte-order mark (xFEFF).
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' => out.push(c),
            c if (c as u32) >= 0x10000 => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
    }
    out.push('"');
}

macro_rules! plain_number {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.raw_scalar(&v.to_string());
            Ok(())
        }
    )*};
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.raw_scalar(if v { "true" } else { "false" });
        Ok(())
    }

    plain_number!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64
    );

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        let s = if v.is_nan() {
            ".nan".to_string()
        } else if v.is_infinite() {
            if v > 0.0 { ".inf" } else { "-.inf" }.to_string()
        } else {
            format!("{v:?}")
        };
        self.raw_scalar(&s);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(Error("YAML output has no bytes type".into()))
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.raw_scalar("null");
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.serialize_str(v)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        let mut map = Compound::start(self, false);
        map.key_str(variant);
        map.value(v)?;
        map.finish();
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        Ok(Compound::start(self, true))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'w, 'a>, Error> {
        Ok(Compound::start(self, true))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'w, 'a>, Error> {
        Ok(Compound::start(self, true))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error(format!("{name}: tuple variants are not written")))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        Ok(Compound::start(self, false))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'w, 'a>, Error> {
        Ok(Compound::start(self, false))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error(format!("{name}: struct variants are not written")))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.next_entry();
        self.w.out.push_str("- ");
        self.w.state = State::AfterDash;
        self.value(v)
    }

    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }

    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }

    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let key = key.serialize(KeySerializer)?;
        self.key_str(&key);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.value(v)
    }

    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.key_str(key);
        self.value(v)
    }

    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

/// Mapping keys: strings, numbers, booleans and chars, as their text.
struct KeySerializer;

macro_rules! key_to_string {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<String, Error> {
            Ok(v.to_string())
        }
    )*};
}

macro_rules! key_unsupported {
    ($($method:ident($($arg:ty),*) -> $ret:ty),*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<$ret, Error> {
            Err(Error("a mapping key must be a string or a number".into()))
        }
    )*};
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    key_to_string!(
        serialize_bool: bool, serialize_char: char, serialize_str: &str,
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64
    );

    key_unsupported!(
        serialize_f32(f32) -> String,
        serialize_f64(f64) -> String,
        serialize_bytes(&[u8]) -> String,
        serialize_none() -> String,
        serialize_unit() -> String,
        serialize_unit_struct(&'static str) -> String,
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant
    );

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<String, Error> {
        v.serialize(self)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(Error("a mapping key must be a string or a number".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// serde_yaml reads back exactly the value that was written.
    fn round_trip(v: &Value) -> String {
        let yaml = to_string(v);
        let back: Value = serde_yaml::from_str(&yaml)
            .unwrap_or_else(|e| panic!("unparsable output ({e}):\n{yaml}"));
        assert_eq!(&back, v, "round trip of:\n{yaml}");
        yaml
    }

    #[test]
    fn block_layout_is_kubectl_style() {
        let v = json!({
            "a": 1,
            "b": { "c": "x", "d": [1, 2] },
            "e": [{ "f": "g", "h": { "i": true } }, [1, [2]], {}, []],
            "j": {},
            "k": [],
        });
        let yaml = round_trip(&v);
        assert_eq!(
            yaml,
            "a: 1\nb:\n  c: x\n  d:\n  - 1\n  - 2\ne:\n- f: g\n  h:\n    i: true\n- - 1\n  - - 2\n- {}\n- []\nj: {}\nk: []\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "true",
            "null",
            "~",
            "1",
            "0755",
            "1e3",
            "0x1f",
            ".5",
            "-1",
            "+1",
            "1:30",
            "100m",
            "128Mi",
            "a b",
            " a",
            "a ",
            "#c",
            "a #c",
            "- a",
            "a: b",
            "[x]",
            "{x}",
            "*a",
            "&a",
            "!t",
            "|",
            ">",
            "%",
            "@a",
            "`a",
            "'a'",
            "\"a\"",
            "a\nb",
            "tab\there",
            "\u{7f}",
            "\u{85}x",
            "\u{9f}",
            "\u{feff}",
            "\u{fffe}",
            "é",
            "\u{1F600}",
            "\\",
            "a\\b",
            "2001-12-14t21:59:43.10z",
            "2001-12-14",
            "1_000",
            "0b101",
            "0o17",
            "1.5e-3",
            "100m",
            "128Mi",
            "\u{2028}",
            "a\u{2029}b",
            ".inf",
            "NaN",
            "=",
            "<<",
            "?",
            "?a",
            ",",
            "a,b",
        ] {
            round_trip(&json!({ "k": s, s: [s] }));
        }
    }

    #[test]
    fn plain_where_unambiguous() {
        let yaml = to_string(
            &json!({ "image": "registry.example/app@sha256:ab12", "path": "/healthz", "cpu": "250m" }),
        );
        assert_eq!(
            yaml,
            "cpu: 250m\nimage: registry.example/app@sha256:ab12\npath: /healthz\n"
        );
    }

    #[test]
    fn top_level_scalars_and_sequences() {
        round_trip(&json!("x"));
        round_trip(&json!([1, { "a": [] }]));
        round_trip(&json!({}));
        round_trip(&json!(null));
    }
}
