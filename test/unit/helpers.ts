/**
 * Helpers shared by the unit suites in this folder: type tokens, Kubernetes object validation with
 * `kubernetes-models`, and walking recorded inputs for values that must stay secret.
 */
import * as assert from "assert";
import { RecordedResource } from "../../testing/offlineRun";
import { quantityValue } from "../../components/config";

export const T = {
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    configMap: "kubernetes:core/v1:ConfigMap",
    service: "kubernetes:core/v1:Service",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    resourceQuota: "kubernetes:core/v1:ResourceQuota",
    limitRange: "kubernetes:core/v1:LimitRange",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    role: "postgresql:index/role:Role",
    grant: "postgresql:index/grant:Grant",
    grantRole: "postgresql:index/grantRole:GrantRole",
    defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
    database: "postgresql:index/database:Database",
    postgresProvider: "pulumi:providers:postgresql",
    randomPassword: "random:index/randomPassword:RandomPassword",
    privateKey: "tls:index/privateKey:PrivateKey",
} as const;

/** `kubernetes:apps/v1:StatefulSet` → `{ apiVersion: "apps/v1", kind: "StatefulSet", module: "apps/v1" }`. */
export function kubernetesTypeMeta(type: string): { apiVersion: string; kind: string; module: string } {
    const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
    if (!m) throw new Error(`not a Kubernetes type token: ${type}`);
    const [, group, version, kind] = m;
    const apiVersion = group === "core" ? version : `${group}/${version}`;
    return { apiVersion, kind, module: apiVersion };
}

// kubernetes-models is ESM-only; a real dynamic import (not turned into require by ts-node).
const importEsm = new Function("s", "return import(s)") as (s: string) => Promise<any>;

/**
 * Validates a recorded Kubernetes resource against the Kubernetes OpenAPI schema (kubernetes-models),
 * with apiVersion/kind added from the type token. Returns the validation error message, or undefined.
 */
export async function kubernetesValidationError(record: Pick<RecordedResource, "type" | "inputs"> & Partial<RecordedResource>): Promise<string | undefined> {
    const { apiVersion, kind, module } = kubernetesTypeMeta(record.type);
    const models = await importEsm(`kubernetes-models/${module}`);
    const Model = models[kind];
    if (!Model) throw new Error(`kubernetes-models has no ${module} ${kind}`);
    try {
        new Model({ ...record.inputs, apiVersion, kind }).validate();
        return undefined;
    } catch (err) {
        return (err as Error).message;
    }
}

/** Asserts every built-in Kubernetes resource in `records` validates; returns the kinds checked. */
export async function assertKubernetesValid(records: RecordedResource[]): Promise<Set<string>> {
    const kinds = new Set<string>();
    for (const r of records.filter((x) => x.custom && x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:apiextensions"))) {
        const error = await kubernetesValidationError(r);
        assert.strictEqual(error, undefined, `${r.type} ${r.name}: ${error}`);
        kinds.add(kubernetesTypeMeta(r.type).kind);
    }
    return kinds;
}

/** Every string leaf of `value` with its dotted path (the harness's secretPaths notation). */
export function stringLeaves(value: any, path = ""): { path: string; value: string }[] {
    if (typeof value === "string") return [{ path, value }];
    if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, `${path}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, path ? `${path}.${k}` : k));
    return [];
}

/** Whether `path` is at or below one of the secret paths. */
export function underSecret(path: string, secretPaths: string[]): boolean {
    return secretPaths.some((s) => s === "(root)" || path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
}

/**
 * Places where one of `secrets` (or a string containing it, such as a DATABASE_URL) appears in a recorded
 * input that did not arrive as a Pulumi secret.
 */
export function plaintextLeaks(records: RecordedResource[], secrets: string[]): string[] {
    const leaks: string[] = [];
    for (const r of records) {
        for (const leaf of stringLeaves(r.inputs)) {
            if (secrets.some((s) => leaf.value.includes(s)) && !underSecret(leaf.path, r.secretPaths)) {
                leaks.push(`${r.type} ${r.name} ${leaf.path}`);
            }
        }
    }
    return leaks;
}

/** Parses a Kubernetes quantity ("500m", "1Gi", "2") into a number of base units (the config's parser). */
export function quantity(q: string): number {
    const value = quantityValue(q);
    if (value === undefined) throw new Error(`not a quantity: ${q}`);
    return value;
}
