//! JSON parsing that rejects duplicate object keys. `serde_json` keeps the last of two equal
//! keys, so `"latent_dim": 100, "latent_dim": 7` would load as 7 while every other reader
//! (Python's `json`, a person) may see 100; a manifest must mean one thing.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `text` as JSON, failing on a duplicate key at any depth and on a list longer than
/// `max_list` (so 200,000 layers are refused while parsing, before a tree of them is built;
/// serde_json's own limit of 128 nesting levels still applies).
pub fn parse(text: &str, max_list: usize) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = deserializer.deserialize_any(StrictVisitor { max_list })?;
    deserializer.end()?;
    Ok(value)
}

#[derive(Clone, Copy)]
struct StrictVisitor {
    max_list: usize,
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("a number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element_seed(self)? {
            if items.len() == self.max_list {
                return Err(de::Error::custom(format!(
                    "a list has more than {} entries (the most a manifest may hold, in `layers` too)",
                    self.max_list
                )));
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(value) = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

struct Strict(Value);

impl<'de> de::DeserializeSeed<'de> for StrictVisitor {
    type Value = Strict;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(self).map(Strict)
    }
}

#[cfg(test)]
mod tests {
    fn parse(text: &str) -> Result<serde_json::Value, serde_json::Error> {
        super::parse(text, 3)
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(parse(r#"{"a": 1, "b": [1, {"c": 2}]}"#).is_ok());
        let top = parse(r#"{"a": 1, "a": 2}"#).unwrap_err().to_string();
        assert!(top.contains("duplicate key `a`"), "{top}");
        let nested = parse(r#"{"layers": [{"op": "relu", "op": "tanh"}]}"#).unwrap_err().to_string();
        assert!(nested.contains("duplicate key `op`"), "{nested}");
        assert!(parse(r#"{"a": 1} x"#).is_err());
        assert!(parse("[1, 2, 3]").is_ok());
        let long = parse("[[1, 2, 3, 4]]").unwrap_err().to_string();
        assert!(long.contains("more than 3 entries"), "{long}");
    }
}
