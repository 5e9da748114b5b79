import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** Pod Security Admission labels enforcing the "restricted" level. */
export const RESTRICTED_POD_SECURITY_LABELS: Record<string, string> = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
};

/** Labels postgres-access puts on everything it manages. */
export function managedLabels(extra: Record<string, string> = {}): Record<string, string> {
    return { "app.kubernetes.io/managed-by": "postgres-access", ...extra };
}

/**
 * The label naming the environment an organization's namespace belongs to: the in-cluster server of a platform
 * stack admits namespaces by it (their organizations are in other stacks). Only those allowed to label
 * namespaces (cluster-scoped `update` on namespaces) can set it.
 */
export const ENVIRONMENT_LABEL = "postgres-access/environment";

export interface OrganizationNamespaceArgs {
    /** Namespace name (the organization's name). */
    name: string;
    /** The environment, set as the namespace's `ENVIRONMENT_LABEL`. @default no label */
    environment?: string;
    /** ResourceQuota of the namespace. */
    quota: { cpu: string; memory: string; pods: number };
    /** One ServiceAccount per app, with annotations (e.g. the IRSA role ARN). */
    serviceAccounts: {
        name: string;
        annotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
        /**
         * Mount the API token into pods by default. Only apps that log in to Vault with it need that;
         * IRSA uses its own projected token, so the default is false.
         */
        automountToken?: boolean;
    }[];
    /** Database port, for the egress rule. */
    databasePort: pulumi.Input<number>;
    /**
     * Where the database is: the server's namespace (in-cluster StatefulSet) or CIDR blocks (RDS subnets).
     * Egress to it on `databasePort` is the only non-DNS egress the namespace allows.
     */
    databaseEgress: { namespace?: string; cidrBlocks?: pulumi.Input<pulumi.Input<string>[]> };
    /** Extra egress (e.g. to Vault for vault-agent apps): a namespace and/or CIDR blocks, and a port; optional. */
    extraEgress?: { namespace?: string; cidrBlocks?: string[]; port: number }[];
    /** Adopt the namespace kept when the organization was removed (Pulumi `import` by name). Default false. */
    adoptExisting?: boolean;
}

/**
 * An organization's namespace bundle: the namespace (Pod Security "restricted" enforced), a ResourceQuota,
 * a LimitRange giving containers defaults, a default-deny NetworkPolicy plus egress to DNS and to the
 * database only, and one ServiceAccount per app.
 *
 * The namespace is retained on delete: removing or renaming the organization never deletes the tenant's
 * workloads, Secrets and PVCs (the bundle's other objects are deleted); `adoptExisting` imports it back.
 */
export class OrganizationNamespace extends pulumi.ComponentResource {
    /** The namespace's name (resolves once it exists). */
    public readonly namespaceName: pulumi.Output<string>;
    /** ServiceAccounts by name. */
    public readonly serviceAccounts: Record<string, k8s.core.v1.ServiceAccount>;

    constructor(name: string, args: OrganizationNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:OrganizationNamespace", name, {}, opts);
        const labels = managedLabels({ "postgres-access/organization": args.name });
        const namespace = new k8s.core.v1.Namespace(`${name}`, {
            metadata: { name: args.name, labels: { ...labels, ...RESTRICTED_POD_SECURITY_LABELS, ...(args.environment ? { [ENVIRONMENT_LABEL]: args.environment } : {}) } },
        }, { parent: this, retainOnDelete: true, ...(args.adoptExisting ? { import: args.name } : {}) });
        const ns = namespace.metadata.name;
        const child = { parent: this, dependsOn: [namespace] };

        new k8s.core.v1.ResourceQuota(`${name}-quota`, {
            metadata: { name: "organization-quota", namespace: ns, labels },
            spec: {
                hard: {
                    "requests.cpu": args.quota.cpu,
                    "limits.cpu": args.quota.cpu,
                    "requests.memory": args.quota.memory,
                    "limits.memory": args.quota.memory,
                    pods: String(args.quota.pods),
                },
            },
        }, child);

        new k8s.core.v1.LimitRange(`${name}-limits`, {
            metadata: { name: "container-defaults", namespace: ns, labels },
            spec: {
                limits: [{
                    type: "Container",
                    default: { cpu: "500m", memory: "512Mi" },
                    defaultRequest: { cpu: "100m", memory: "128Mi" },
                }],
            },
        }, child);

        new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, {
            metadata: { name: "default-deny", namespace: ns, labels },
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }, child);

        if (!args.databaseEgress.namespace && !args.databaseEgress.cidrBlocks) {
            throw new Error(`OrganizationNamespace ${name}: databaseEgress needs a namespace or cidrBlocks`);
        }
        const databaseTo = pulumi.output(args.databaseEgress.cidrBlocks ?? []).apply((cidrs): k8s.types.input.networking.v1.NetworkPolicyPeer[] => [
            ...(args.databaseEgress.namespace ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.databaseEgress.namespace } } }] : []),
            ...cidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ]);
        new k8s.networking.v1.NetworkPolicy(`${name}-egress`, {
            metadata: { name: "allow-dns-and-database", namespace: ns, labels },
            spec: {
                podSelector: {},
                policyTypes: ["Egress"],
                egress: [
                    {
                        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
                    },
                    { to: databaseTo, ports: [{ protocol: "TCP", port: args.databasePort }] },
                    ...(args.extraEgress ?? []).map((e) => ({
                        to: [
                            ...(e.namespace ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": e.namespace } } }] : []),
                            ...(e.cidrBlocks ?? []).map((cidr) => ({ ipBlock: { cidr } })),
                        ],
                        ports: [{ protocol: "TCP", port: e.port }],
                    })),
                ],
            },
        }, child);

        this.serviceAccounts = {};
        for (const sa of args.serviceAccounts) {
            this.serviceAccounts[sa.name] = new k8s.core.v1.ServiceAccount(`${name}-${sa.name}`, {
                metadata: { name: sa.name, namespace: ns, labels, annotations: sa.annotations },
                automountServiceAccountToken: sa.automountToken ?? false,
            }, child);
        }

        this.namespaceName = ns;
        this.registerOutputs({ namespaceName: ns });
    }
}
