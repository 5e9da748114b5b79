/** Enumerations shared by the components and the stack config. */
import type { RotationSpec } from "./rotation";
import type { AccessRequestSpec } from "./accessRequests";

/** What an app may do in its organization's database. */
export const ACCESS_LEVELS = ["owner", "readwrite", "readonly"] as const;
/** Where an app's credentials come from. */
export const CREDENTIAL_SOURCES = ["kubernetes", "secretsmanager", "vault-static", "vault-dynamic"] as const;
/** How credentials reach the app's pods. */
export const DELIVERY_MODES = ["secret", "csi", "vault-secrets-operator", "vault-agent"] as const;

export type AccessLevel = (typeof ACCESS_LEVELS)[number];
export type CredentialSource = (typeof CREDENTIAL_SOURCES)[number];
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

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
     * kubernetes / secretsmanager: scheduled rotation over two alternating logins (README "Scheduled
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
