/**
 * OrganizationNamespace on its own under mocks (up and preview): Pod Security labels, quota and container
 * defaults, default-deny with DNS and database egress only, one ServiceAccount per app.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { RunResult, runPulumi } from "../../testing/offlineRun";
import { OrganizationNamespace, OrganizationNamespaceArgs } from "../../components/kubernetes/organizationNamespace";
import { T, assertKubernetesValid, quantity } from "./helpers";

const ARGS: OrganizationNamespaceArgs = {
    name: "acme",
    quota: { cpu: "3", memory: "6Gi", pods: 25 },
    serviceAccounts: [
        { name: "billing" },
        { name: "batch", automountToken: true },
        { name: "web", annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/acme-dev-web-db" } },
    ],
    databasePort: 5432,
    databaseEgress: { namespace: "postgres" },
};

function runNamespace(preview: boolean, args: OrganizationNamespaceArgs = ARGS): Promise<RunResult<OrganizationNamespace>> {
    return runPulumi(() => new OrganizationNamespace("acme", args), { preview });
}

const DNS_PEER = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } };

for (const preview of [false, true]) {
    describe(`OrganizationNamespace (${preview ? "preview" : "up"})`, function () {
        this.timeout(30000);
        let run: RunResult<OrganizationNamespace>;
        before(async () => {
            run = await runNamespace(preview);
        });

        it("creates the namespace with Pod Security restricted enforced (and audited and warned)", () => {
            const [ns] = run.ofType(T.namespace);
            assert.strictEqual(ns.inputs.metadata.name, "acme");
            const labels = ns.inputs.metadata.labels;
            assert.strictEqual(labels["pod-security.kubernetes.io/enforce"], "restricted");
            assert.strictEqual(labels["pod-security.kubernetes.io/audit"], "restricted");
            assert.strictEqual(labels["pod-security.kubernetes.io/warn"], "restricted");
            assert.ok(["latest", undefined].includes(labels["pod-security.kubernetes.io/enforce-version"]));
        });

        it("puts every object in the organization's namespace", () => {
            const namespaced = run.resources.filter((r) => r.custom && r.type !== T.namespace);
            assert.strictEqual(namespaced.length, 1 + 1 + 2 + 3, "quota, limits, two policies, three ServiceAccounts");
            for (const r of namespaced) {
                const ns = r.inputs.metadata.namespace;
                assert.ok(preview ? ns !== undefined : ns === "acme", `${r.type} ${r.name} in ${JSON.stringify(ns)}`);
            }
        });

        it("caps the namespace with a ResourceQuota of the configured values", () => {
            const [quota] = run.ofType(T.resourceQuota);
            assert.deepStrictEqual(quota.inputs.spec.hard, { "requests.cpu": "3", "limits.cpu": "3", "requests.memory": "6Gi", "limits.memory": "6Gi", pods: "25" });
        });

        it("gives containers default requests and limits (a quota on limits rejects pods without them), requests ≤ limits ≤ quota", () => {
            const [limitRange] = run.ofType(T.limitRange);
            const container = limitRange.inputs.spec.limits.find((l: any) => l.type === "Container");
            assert.ok(container, "a Container limit");
            for (const r of ["cpu", "memory"]) {
                assert.ok(container.default?.[r] && container.defaultRequest?.[r], `default and defaultRequest for ${r}`);
                assert.ok(quantity(container.defaultRequest[r]) <= quantity(container.default[r]), `${r}: request ≤ limit`);
                assert.ok(quantity(container.default[r]) <= quantity(ARGS.quota[r as "cpu" | "memory"]), `${r}: one default container fits the quota`);
            }
        });

        it("denies all ingress and egress to every pod by default", () => {
            const deny = run.ofType(T.networkPolicy).find((r) => !r.inputs.spec.ingress && !r.inputs.spec.egress)!;
            assert.ok(deny, "a policy without allow rules");
            assert.deepStrictEqual(deny.inputs.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        });

        it("allows egress only to cluster DNS (53 UDP/TCP) and the database namespace on its port, and no ingress", () => {
            const policies = run.ofType(T.networkPolicy);
            assert.ok(policies.every((p) => !p.inputs.spec.ingress), "no ingress allowed into organization namespaces");
            const egress = policies.flatMap((p) => p.inputs.spec.egress ?? []);
            for (const p of policies.filter((x) => x.inputs.spec.egress)) {
                assert.deepStrictEqual(p.inputs.spec.podSelector, {}, "applies to every pod");
                assert.deepStrictEqual(p.inputs.spec.policyTypes, ["Egress"]);
            }
            assert.strictEqual(egress.length, 2);
            const dns = egress.find((r: any) => r.ports.some((p: any) => p.port === 53));
            // one peer with both selectors (AND): kube-dns pods in kube-system, not every pod of either
            assert.deepStrictEqual(dns.to, [DNS_PEER]);
            assert.deepStrictEqual(dns.ports.map((p: any) => `${p.protocol}/${p.port}`).sort(), ["TCP/53", "UDP/53"]);
            const db = egress.find((r: any) => r !== dns);
            if (!preview) assert.deepStrictEqual(db.to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "postgres" } } }]);
            assert.deepStrictEqual(db.ports, [{ protocol: "TCP", port: 5432 }]);
            for (const rule of egress) assert.ok(rule.to?.length && rule.ports?.length, "every rule names peers and ports (an empty one allows everything)");
        });

        it("creates one ServiceAccount per app, mounting the API token only where asked (vault-agent)", () => {
            const sas = Object.fromEntries(run.ofType(T.serviceAccount).map((r) => [r.inputs.metadata.name, r.inputs]));
            assert.deepStrictEqual(Object.keys(sas).sort(), ["batch", "billing", "web"]);
            assert.strictEqual(sas.billing.automountServiceAccountToken, false);
            assert.strictEqual(sas.web.automountServiceAccountToken, false);
            assert.strictEqual(sas.batch.automountServiceAccountToken, true);
            assert.deepStrictEqual(sas.web.metadata.annotations, ARGS.serviceAccounts[2].annotations, "IRSA annotation passed through");
            assert.strictEqual(sas.billing.metadata.annotations, undefined);
            assert.deepStrictEqual(Object.keys(run.result.serviceAccounts).sort(), ["batch", "billing", "web"]);
        });

        it("produces objects Kubernetes accepts", async function () {
            if (preview) this.skip();
            const kinds = await assertKubernetesValid(run.resources);
            assert.deepStrictEqual([...kinds].sort(), ["LimitRange", "Namespace", "NetworkPolicy", "ResourceQuota", "ServiceAccount"]);
        });
    });
}

describe("OrganizationNamespace: RDS and Vault egress", function () {
    this.timeout(30000);

    it("allows the RDS subnets' CIDR blocks (resolved later) and the extra Vault egress, nothing else", async () => {
        const run = await runNamespace(false, {
            ...ARGS,
            databaseEgress: { cidrBlocks: pulumi.output(["10.0.1.0/24", "10.0.2.0/24"]) },
            extraEgress: [{ cidrBlocks: ["10.96.0.0/12"], port: 8200 }],
        });
        const egress = run.ofType(T.networkPolicy).flatMap((p) => p.inputs.spec.egress ?? []);
        assert.strictEqual(egress.length, 3);
        assert.deepStrictEqual(egress[1], { to: [{ ipBlock: { cidr: "10.0.1.0/24" } }, { ipBlock: { cidr: "10.0.2.0/24" } }], ports: [{ protocol: "TCP", port: 5432 }] });
        assert.deepStrictEqual(egress[2], { to: [{ ipBlock: { cidr: "10.96.0.0/12" } }], ports: [{ protocol: "TCP", port: 8200 }] });
        await assertKubernetesValid(run.resources);
    });

    it("refuses a database egress with neither namespace nor CIDR blocks (it would allow nothing, or everything)", async () => {
        await assert.rejects(runNamespace(false, { ...ARGS, databaseEgress: {} }), /databaseEgress needs a namespace or cidrBlocks/);
    });
});
