/**
 * The benchmark's stack config: `organizations` organizations of 3 apps each (owner, readwrite, readonly),
 * cycling through every credential source and delivery mode, with Vault and AWS configured so each one
 * applies. In-cluster server (`statefulset`); the apps' delivery is what differs per organization.
 */

/** Every (credentials, delivery) pair the config accepts (components/config/rules.ts DELIVERY_FOR_CREDENTIALS). */
export const DELIVERIES: ReadonlyArray<{ credentials: string; delivery: string }> = [
    { credentials: "kubernetes", delivery: "secret" },
    { credentials: "secretsmanager", delivery: "csi" },
    { credentials: "vault-static", delivery: "vault-secrets-operator" },
    { credentials: "vault-static", delivery: "csi" },
    { credentials: "vault-static", delivery: "vault-agent" },
    { credentials: "vault-dynamic", delivery: "vault-secrets-operator" },
    { credentials: "vault-dynamic", delivery: "csi" },
    { credentials: "vault-dynamic", delivery: "vault-agent" },
];

const APPS = [
    { name: "api", access: "owner" },
    { name: "web", access: "readwrite" },
    { name: "reports", access: "readonly" },
] as const;

/** The app of organization `org`, slot `slot`: deliveries rotate so 3 organizations already cover all 8. */
function app(org: number, slot: number): Record<string, unknown> {
    const { name, access } = APPS[slot];
    let { credentials, delivery } = DELIVERIES[(org * APPS.length + slot) % DELIVERIES.length];
    // the config refuses owner apps on dynamic users (their objects would outlive the lease)
    if (access === "owner" && credentials === "vault-dynamic") credentials = "vault-static";
    return { name, access, credentials, delivery, ...(delivery === "vault-agent" ? { runAsUser: 10001 } : {}) };
}

/** Stack config (`postgres-access:*` keys without the prefix) for `organizations` organizations. */
export function fleetConfig(organizations: number): Record<string, unknown> {
    return {
        database: { engine: "statefulset", version: "18", tls: "require" },
        vault: { address: "https://vault.bench.example.internal:8200", kubernetesNamespace: "vault" },
        aws: {
            region: "eu-west-1",
            eksOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BENCH",
            eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/BENCH",
            platformAdminRoleArns: ["arn:aws:iam::123456789012:role/platform-deployer"],
        },
        organizations: Array.from({ length: organizations }, (_, i) => ({
            name: `org-${String(i).padStart(4, "0")}`,
            apps: APPS.map((_, slot) => app(i, slot)),
        })),
    };
}

/** The StackReference name of the bench's platform stack (the mocks' organization and project). */
export const BENCH_PLATFORM_STACK = "organization/postgres-access/bench-platform";

/**
 * A split of the fleet's environment (`bench`): the platform stack (no organizations), or an organizations
 * stack holding the first `stackOrganizations` of the `total` organizations.
 */
export function splitFleetConfig(part: "platform" | "organizations", total: number, stackOrganizations: number): Record<string, unknown> {
    const whole = fleetConfig(total);
    if (part === "platform") {
        const { organizations, ...platform } = whole;
        void organizations;
        return { ...platform, split: { part, environment: "bench" } };
    }
    return {
        ...whole,
        organizations: (whole.organizations as unknown[]).slice(0, stackOrganizations),
        split: { part, environment: "bench", platformStack: BENCH_PLATFORM_STACK },
    };
}

/** What the bench's platform stack exports (`platform`, as components/platformStack.ts writes it). */
export function benchPlatformOutputs(): Record<string, unknown> {
    return {
        platform: {
            environment: "bench",
            database: {
                engine: "statefulset", majorVersion: "18", tls: "require", host: "postgres.postgres.svc.cluster.local", port: 5432,
                adminUsername: "postgres", adminPassword: "bench-only", caCertPem: "-----BEGIN CERTIFICATE-----\nbench\n-----END CERTIFICATE-----\n",
            },
            vaultMount: "database-bench",
        },
    };
}
