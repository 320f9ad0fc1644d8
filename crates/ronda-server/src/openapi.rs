//! The OpenAPI 3.1 document, generated from the route table: every route
//! with its method, summary, path parameters, the roles it accepts
//! (`x-roles`) and its security requirement.

use serde_json::{Map, Value, json};

use crate::route_specs;

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for spec in route_specs() {
        let params: Vec<Value> = spec
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
            })
            .collect();
        let mut responses = json!({
            "200": { "description": "Success" },
            "400": { "description": "Bad input", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        });
        let mut op = json!({
            "summary": spec.summary,
            "operationId": format!("{}{}", spec.method.as_str().to_lowercase(), spec.path.replace(['/', '{', '}', '.'], "_")),
            "parameters": params,
        });
        if spec.roles.is_empty() {
            op["security"] = json!([]);
        } else {
            op["security"] = json!([{ "bearer": [] }]);
            op["x-roles"] = json!(spec.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>());
            responses["401"] = json!({ "description": "Missing or invalid token" });
            responses["403"] = json!({ "description": "The token's role may not use this route" });
        }
        op["responses"] = responses;
        let item = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        item[spec.method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Ronda API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Native API under /api/v1, and the HMA-compatible routes (/h, /m, /c, /status) with HMA's shapes.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["message"],
                    "properties": { "message": { "type": "string" } },
                },
            },
        },
    })
}
