//! What a workspace's events look like: the event names seen and, for each,
//! its properties as the dot paths segment rules use (`product.price`), with
//! the value types and the most frequent values observed. The segment and
//! journey builders offer these as pickers, so a marketer picks
//! `Order Completed` → `total` (a number) instead of typing names from
//! memory. It is built from a sample of recent events and bounded in memory:
//! high-cardinality properties (order ids) stop collecting new values.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Nested objects are followed this deep (`a.b.c`).
const MAX_DEPTH: usize = 3;
/// Properties kept per event name; the rest are counted as left out.
const MAX_PROPERTIES: usize = 200;
/// Distinct values tracked per property; past it, only known values count.
const MAX_DISTINCT: usize = 500;
/// Values longer than this are not offered as picks.
const MAX_VALUE_CHARS: usize = 120;

/// The catalogue being built; [`EventCatalog::add`] each sampled event, then
/// [`EventCatalog::summary`].
#[derive(Debug, Default)]
pub struct EventCatalog {
    events: BTreeMap<String, EventEntry>,
}

#[derive(Debug, Default)]
struct EventEntry {
    sampled: u64,
    properties: BTreeMap<String, PropertyEntry>,
    properties_left_out: bool,
}

#[derive(Debug, Default)]
struct PropertyEntry {
    seen: u64,
    types: BTreeSet<&'static str>,
    /// Scalar values by their JSON text, with how often each was seen.
    values: HashMap<String, (Value, u64)>,
    /// Distinct values beyond [`MAX_DISTINCT`] were seen.
    more_values: bool,
}

/// One event name as the builders offer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogEvent {
    /// As segment rules and journey triggers name it (`Page Viewed` for page calls).
    pub name: String,
    /// Events of this name in the sample.
    pub sampled: u64,
    /// Most frequently seen first.
    pub properties: Vec<CatalogProperty>,
    /// The event had more distinct properties than are listed.
    pub properties_left_out: bool,
}

/// One property of an event, as a dot path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogProperty {
    pub path: String,
    /// Sampled events that carried it.
    pub seen: u64,
    /// `string`, `number`, `boolean` or `array`, as observed (objects are
    /// listed by their leaves).
    pub types: Vec<&'static str>,
    /// The most frequent scalar values, most frequent first.
    pub top_values: Vec<ValueCount>,
    /// More distinct values were seen than could be tracked (an id-like property).
    pub more_values: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueCount {
    pub value: Value,
    pub count: u64,
}

impl EventCatalog {
    /// Note one event's name and properties.
    pub fn add(&mut self, name: &str, properties: &Value) {
        let entry = self.events.entry(name.to_string()).or_default();
        entry.sampled += 1;
        if let Value::Object(map) = properties {
            for (k, v) in map {
                entry.note(k.clone(), v, 1);
            }
        }
    }

    /// Every event name, most sampled first (then by name), with at most
    /// `values_per_property` top values per property.
    pub fn summary(&self, values_per_property: usize) -> Vec<CatalogEvent> {
        let mut out: Vec<CatalogEvent> = self
            .events
            .iter()
            .map(|(name, e)| {
                let mut properties: Vec<CatalogProperty> = e
                    .properties
                    .iter()
                    .map(|(path, p)| {
                        let mut values: Vec<&(Value, u64)> = p.values.values().collect();
                        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.to_string().cmp(&b.0.to_string())));
                        CatalogProperty {
                            path: path.clone(),
                            seen: p.seen,
                            types: p.types.iter().copied().collect(),
                            top_values: values
                                .into_iter()
                                .take(values_per_property)
                                .map(|(v, n)| ValueCount { value: v.clone(), count: *n })
                                .collect(),
                            more_values: p.more_values,
                        }
                    })
                    .collect();
                properties.sort_by(|a, b| b.seen.cmp(&a.seen).then_with(|| a.path.cmp(&b.path)));
                CatalogEvent {
                    name: name.clone(),
                    sampled: e.sampled,
                    properties,
                    properties_left_out: e.properties_left_out,
                }
            })
            .collect();
        out.sort_by(|a, b| b.sampled.cmp(&a.sampled).then_with(|| a.name.cmp(&b.name)));
        out
    }
}

impl EventEntry {
    fn note(&mut self, path: String, v: &Value, depth: usize) {
        // Rules test the leaves of an object (`product.price`), not the
        // object itself, so only its leaves are listed.
        if let Value::Object(map) = v {
            if depth < MAX_DEPTH {
                for (k, inner) in map {
                    self.note(format!("{path}.{k}"), inner, depth + 1);
                }
            }
            return;
        }
        if !self.properties.contains_key(&path) && self.properties.len() >= MAX_PROPERTIES {
            self.properties_left_out = true;
            return;
        }
        let p = self.properties.entry(path.clone()).or_default();
        p.seen += 1;
        let ty = match v {
            Value::Null => return,
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        p.types.insert(ty);
        match v {
            Value::Object(_) | Value::Array(_) => {}
            Value::String(s) if s.chars().count() > MAX_VALUE_CHARS => {}
            scalar => {
                let key = scalar.to_string();
                if let Some((_, n)) = p.values.get_mut(&key) {
                    *n += 1;
                } else if p.values.len() < MAX_DISTINCT {
                    p.values.insert(key, (scalar.clone(), 1));
                } else {
                    p.more_values = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_paths_types_and_values_are_collected() {
        let mut c = EventCatalog::default();
        c.add("Order Completed", &json!({"total": 40, "currency": "USD", "product": {"sku": "A1", "price": 10.5}}));
        c.add("Order Completed", &json!({"total": 60, "currency": "USD", "coupon": null}));
        c.add("Order Completed", &json!({"total": "free", "currency": "EUR", "tags": ["x"]}));
        c.add("Page Viewed", &json!({"path": "/pricing"}));
        let s = c.summary(5);
        assert_eq!(
            s.iter().map(|e| (e.name.as_str(), e.sampled)).collect::<Vec<_>>(),
            [("Order Completed", 3), ("Page Viewed", 1)]
        );
        let order = &s[0];
        let prop = |p: &str| order.properties.iter().find(|x| x.path == p).unwrap_or_else(|| panic!("no {p}"));
        assert_eq!(prop("total").types, ["number", "string"]);
        assert_eq!(prop("total").seen, 3);
        assert_eq!(prop("currency").top_values[0], ValueCount { value: json!("USD"), count: 2 });
        assert_eq!(prop("currency").top_values[1], ValueCount { value: json!("EUR"), count: 1 });
        assert!(order.properties.iter().all(|p| p.path != "product"), "objects are listed by their leaves");
        assert_eq!(prop("product.price").types, ["number"]);
        assert_eq!(prop("product.price").top_values, [ValueCount { value: json!(10.5), count: 1 }]);
        assert_eq!(prop("tags").types, ["array"]);
        assert!(prop("tags").top_values.is_empty());
        // A null says nothing about the type.
        assert!(prop("coupon").types.is_empty());
        // Most often seen first.
        assert_eq!(order.properties[0].seen, 3);
    }

    #[test]
    fn id_like_properties_stop_collecting_values() {
        let mut c = EventCatalog::default();
        for i in 0..(MAX_DISTINCT + 10) {
            c.add("Signed Up", &json!({"order_id": format!("o-{i}"), "plan": "pro"}));
        }
        c.add("Signed Up", &json!({"order_id": "o-1"}));
        let s = c.summary(3);
        let id = s[0].properties.iter().find(|p| p.path == "order_id").expect("order_id");
        assert!(id.more_values);
        assert_eq!(id.top_values[0], ValueCount { value: json!("o-1"), count: 2 });
        assert_eq!(id.top_values.len(), 3);
        let plan = s[0].properties.iter().find(|p| p.path == "plan").expect("plan");
        assert!(!plan.more_values);
    }

    #[test]
    fn depth_and_property_count_are_bounded() {
        let mut c = EventCatalog::default();
        c.add("Deep", &json!({"a": {"b": {"c": 1, "d": {"e": 1}}}}));
        let wide: serde_json::Map<String, Value> =
            (0..MAX_PROPERTIES + 5).map(|i| (format!("p{i}"), json!(i))).collect();
        c.add("Wide", &Value::Object(wide));
        let s = c.summary(1);
        let deep = s.iter().find(|e| e.name == "Deep").expect("Deep");
        let paths: Vec<&str> = deep.properties.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["a.b.c"], "leaves only, three levels deep");
        let wide = s.iter().find(|e| e.name == "Wide").expect("Wide");
        assert_eq!(wide.properties.len(), MAX_PROPERTIES);
        assert!(wide.properties_left_out);
    }
}
