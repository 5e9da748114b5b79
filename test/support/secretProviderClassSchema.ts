/**
 * The schema of `secrets-store.csi.x-k8s.io/v1` SecretProviderClass for ajv.
 *
 * `crdOpenApiV3Schema` is the `versions[name=v1].schema.openAPIV3Schema` of the upstream CRD
 * (kubernetes-sigs/secrets-store-csi-driver, config/crd/bases/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml),
 * structure only (descriptions left out). OpenAPI v3 structural schemas are JSON Schema here: objects,
 * arrays, strings, `additionalProperties: {type: string}` for the string maps.
 *
 * `secretProviderClassSchema` is that schema made strict the way the test needs it:
 * - `additionalProperties: false` on every object the CRD spells out: the API server *prunes* unknown
 *   fields of a structural schema without an error, so a misspelt field would vanish silently;
 * - the metadata the API server requires (name, namespace of a namespaced kind) and the `provider` the
 *   driver needs to pick a plugin.
 */

/** The CRD's v1 schema (structure as upstream). */
export const crdOpenApiV3Schema = {
    type: "object",
    properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object" },
        spec: {
            type: "object",
            properties: {
                parameters: { type: "object", additionalProperties: { type: "string" } },
                provider: { type: "string" },
                secretObjects: {
                    type: "array",
                    items: {
                        type: "object",
                        properties: {
                            annotations: { type: "object", additionalProperties: { type: "string" } },
                            data: {
                                type: "array",
                                items: { type: "object", properties: { key: { type: "string" }, objectName: { type: "string" } } },
                            },
                            labels: { type: "object", additionalProperties: { type: "string" } },
                            secretName: { type: "string" },
                            type: { type: "string" },
                        },
                    },
                },
            },
        },
        status: {
            type: "object",
            properties: {
                byPod: {
                    type: "array",
                    items: { type: "object", properties: { id: { type: "string" }, namespace: { type: "string" } } },
                },
            },
        },
    },
} as const;

/** Deep copy of a schema with `additionalProperties: false` on every object node that lists properties. */
export function withoutUnknownFields(schema: any): any {
    if (Array.isArray(schema)) return schema.map(withoutUnknownFields);
    if (!schema || typeof schema !== "object") return schema;
    const out: any = {};
    for (const [k, v] of Object.entries(schema)) {
        out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, withoutUnknownFields(s)])) : withoutUnknownFields(v);
    }
    if (out.type === "object" && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
}

const dnsSubdomain = { type: "string", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 };
const dnsLabel = { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 };
const stringMap = { type: "object", additionalProperties: { type: "string" } };

const strict = withoutUnknownFields(crdOpenApiV3Schema);
strict.required = ["apiVersion", "kind", "metadata", "spec"];
strict.properties.apiVersion = { const: "secrets-store.csi.x-k8s.io/v1" };
strict.properties.kind = { const: "SecretProviderClass" };
strict.properties.metadata = {
    type: "object",
    required: ["name", "namespace"],
    properties: { name: dnsSubdomain, namespace: dnsLabel, labels: stringMap, annotations: stringMap },
};
strict.properties.spec.required = ["provider", "parameters"];
strict.properties.spec.properties.secretObjects.items.required = ["secretName", "type", "data"];
strict.properties.spec.properties.secretObjects.items.properties.data.items.required = ["objectName", "key"];

/** The strict schema the tests validate every SecretProviderClass against. */
export const secretProviderClassSchema = strict;
