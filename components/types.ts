/** Enumerations shared by the components and the stack config. */
import type { RotationSpec } from "./rotation";
import type { AccessRequestSpec } from "./accessRequests";

/*
 * Each enumeration is an `as const` object (what other languages see as an enum in the package schema,
 * with a member per value) and the union type of its values, under one name: Pulumi's component analyzer
 * reads the object's members, TypeScript callers may write either `AccessLevel.ReadWrite` or "readwrite".
 * The tuples (`ACCESS_LEVELS`, ...) list the same values for the config schema.
 */

/** What an app may do in its organization's database. */
export const AccessLevel = {
    /** Owns the organization's schema: creates, alters and drops objects (DDL) and reads and writes data. */
    Owner: "owner",
    /** Reads and writes the data (SELECT, INSERT, UPDATE, DELETE, sequences); no DDL. */
    ReadWrite: "readwrite",
    /** Reads the data (SELECT) only. */
    ReadOnly: "readonly",
} as const;
export type AccessLevel = (typeof AccessLevel)[keyof typeof AccessLevel];

/** Where an app's credentials come from. */
export const CredentialSource = {
    /** A generated password in a Kubernetes Secret of the app's namespace. */
    Kubernetes: "kubernetes",
    /** A generated password in AWS Secrets Manager, read through the app's IRSA role. */
    SecretsManager: "secretsmanager",
    /** A login whose password Vault rotates (database secrets engine static role). */
    VaultStatic: "vault-static",
    /** A short-lived user Vault creates per lease (dynamic role). */
    VaultDynamic: "vault-dynamic",
} as const;
export type CredentialSource = (typeof CredentialSource)[keyof typeof CredentialSource];

/** How credentials reach the app's pods. */
export const DeliveryMode = {
    /** A Kubernetes Secret `<app>-database` (credentials "kubernetes"). */
    Secret: "secret",
    /** The Secrets Store CSI driver mounts them (AWS or Vault provider), optionally synced to a Secret. */
    Csi: "csi",
    /** The Vault Secrets Operator syncs them into a Secret. */
    VaultSecretsOperator: "vault-secrets-operator",
    /** A Vault agent sidecar renders them into a file of the pod. */
    VaultAgent: "vault-agent",
} as const;
export type DeliveryMode = (typeof DeliveryMode)[keyof typeof DeliveryMode];

/** The values of an enumeration (an `as const` object), in its order, as a non-empty tuple (`z.enum` takes it). */
export function valuesOf<E extends Record<string, string>>(enumeration: E): [E[keyof E], ...E[keyof E][]] {
    return Object.values(enumeration) as [E[keyof E], ...E[keyof E][]];
}

/** What an app may do in its organization's database. */
export const ACCESS_LEVELS = valuesOf(AccessLevel);
/** Where an app's credentials come from. */
export const CREDENTIAL_SOURCES = valuesOf(CredentialSource);
/** How credentials reach the app's pods. */
export const DELIVERY_MODES = valuesOf(DeliveryMode);

/** One app of an organization, as the components receive it (validated and defaulted). */
export interface AppSpec {
    /** App name (DNS-1123 label); also its ServiceAccount name. */
    name: string;
    access: AccessLevel;
    credentials: CredentialSource;
    delivery: DeliveryMode;
    /** CONNECTION LIMIT of the app's login role. */
    connectionLimit: number;
    /** True when the organization listed no apps and this one is named after it. */
    isDefaultApp: boolean;
    /** vault-static: seconds between rotations (or rotationSchedule + rotationWindow). */
    rotationPeriod?: number;
    rotationSchedule?: string;
    rotationWindow?: number;
    /** vault-dynamic: lease TTLs in seconds. */
    defaultTtl?: number;
    maxTtl?: number;
    /**
     * delivery csi: also sync the mounted credentials into a Kubernetes Secret `<app>-database` for env
     * vars (default true); false keeps them in the pod's CSI volume only.
     */
    syncSecret?: boolean;
    /** delivery vault-agent: uid of the app's container; the agent runs as it and owns the 0400 file (absent: agent-run-as-same-user). */
    runAsUser?: number;
    /** delivery vault-agent: gid the agent runs as (default runAsUser). */
    runAsGroup?: number;
    /**
     * kubernetes / secretsmanager: scheduled rotation over two alternating logins (docs/delivery.md "Scheduled
     * rotation"); absent = one login whose password changes only on `pulumi up --replace`.
     */
    rotation?: RotationSpec;
}

/** One organization (tenant), as the components receive it. */
export interface OrganizationSpec {
    /** Organization name: its namespace, its database. */
    name: string;
    /** CONNECTION LIMIT of its database. */
    connectionLimit: number;
    /** ResourceQuota of its namespace. */
    quota: { cpu: string; memory: string; pods: number };
    apps: AppSpec[];
    /**
     * Adopt the database, its owner role and the namespace kept when the organization was removed
     * (re-adding it), instead of creating them. Default false.
     */
    adoptExisting?: boolean;
    /** Time-bound access requests of the organization's ServiceAccounts (components/accessRequests.ts). */
    accessRequests?: AccessRequestSpec[];
}
