/**
 * The OpenAPI v3 schema of `secrets-store.csi.x-k8s.io/v1` SecretProviderClass, as in the upstream CRD
 * (kubernetes-sigs/secrets-store-csi-driver, config/crd/bases/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml),
 * with `additionalProperties: false` where the API server would silently prune unknown fields — a field we
 * misspell would be dropped without an error, so the test treats it as one.
 */
const stringMap = { type: "object", additionalProperties: { type: "string" } };

export const secretProviderClassSchema = {
    type: "object",
    required: ["apiVersion", "kind", "metadata", "spec"],
    additionalProperties: false,
    properties: {
        apiVersion: { const: "secrets-store.csi.x-k8s.io/v1" },
        kind: { const: "SecretProviderClass" },
        metadata: {
            type: "object",
            required: ["name", "namespace"],
            properties: { name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 }, namespace: { type: "string" }, labels: stringMap, annotations: stringMap },
        },
        spec: {
            type: "object",
            additionalProperties: false,
            properties: {
                provider: { type: "string" },
                parameters: stringMap,
                secretObjects: {
                    type: "array",
                    items: {
                        type: "object",
                        additionalProperties: false,
                        properties: {
                            secretName: { type: "string" },
                            type: { type: "string" },
                            labels: stringMap,
                            annotations: stringMap,
                            data: {
                                type: "array",
                                items: { type: "object", additionalProperties: false, properties: { objectName: { type: "string" }, key: { type: "string" } } },
                            },
                        },
                    },
                },
            },
        },
    },
};
