/**
 * vault-agent delivery judged against the Vault Agent Injector's documented behaviour (hashicorp/vault-k8s,
 * agent-inject/agent: annotations.go, agent.go, container_sidecar.go) and against the NetworkPolicies the
 * stack generates:
 * - the agent runs as `agent-run-as-user` (default 100) and `agent-run-as-group` (default 1000); with
 *   `agent-run-as-same-user: "true"` as the uid of `spec.containers[0].securityContext.runAsUser`, which
 *   must be set and non-zero (the injector refuses the pod otherwise); `agent-set-security-context` decides
 *   whether that uid/gid is put on the agent containers (the injector turns it on when any of those is set);
 * - the agent renders the file into the shared `/vault/secrets` emptyDir as that user, with the mode of
 *   `agent-inject-perms-<name>` (Vault Agent's template default 0644); with a pod `fsGroup` the kubelet makes
 *   the emptyDir setgid, so the file's group is the fsGroup, else the agent's gid;
 * - the app's container reads it if its uid owns it and the mode has u+r, or it is in the file's group
 *   (runAsGroup, fsGroup, supplementalGroups) and g+r, or o+r.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { vaultAgentAnnotations, vaultAgentEgress, vaultAgentTokenVolume } from "../../components/kubernetes/vaultDelivery";
import { ConnectionSettings } from "../../components/connectionInfo";
import { docText } from "../docText";
import { runPulumi, RunResult } from "../../testing/offlineRun";
import { ConfigError, parseStackConfig } from "../../components/config";
import { checkPodSecurityRestricted } from "../../policy/podSecurityRestricted";
import { kubernetesValidationError, T } from "../unit/helpers";

const INJECTOR_DEFAULT_UID = 100;
const INJECTOR_DEFAULT_GID = 1000;
const AGENT_TEMPLATE_DEFAULT_PERMS = "0644";
const A = (key: string) => `vault.hashicorp.com/${key}`;

interface AgentFile { uid: number; gid: number; mode: number }

/** What the injector does with the annotations: the agent containers' security context and the file it writes. */
function injectAgent(pod: any, fileName: string): { agentSecurityContext: any; file: AgentFile } {
    const annotations: Record<string, string> = pod.metadata?.annotations ?? {};
    if (annotations[A("agent-inject")] !== "true") throw new Error("not injected");
    const set = (k: string) => annotations[A(k)] !== undefined;
    let uid = set("agent-run-as-user") ? Number(annotations[A("agent-run-as-user")]) : INJECTOR_DEFAULT_UID;
    const gid = set("agent-run-as-group") ? Number(annotations[A("agent-run-as-group")]) : INJECTOR_DEFAULT_GID;
    if (annotations[A("agent-run-as-same-user")] === "true") {
        const first = pod.spec.containers?.[0];
        if (!first) throw new Error("injector: No containers found in Pod Spec");
        if (!first.securityContext) throw new Error("injector: No SecurityContext found for Container 0");
        if (first.securityContext.runAsUser === undefined) throw new Error("injector: RunAsUser is nil for Container 0's SecurityContext");
        if (first.securityContext.runAsUser === 0) throw new Error("injector: container not allowed to run as root");
        uid = first.securityContext.runAsUser;
    }
    const setContext = set("agent-set-security-context")
        ? annotations[A("agent-set-security-context")] === "true"
        : set("agent-run-as-user") || set("agent-run-as-group") || set("agent-run-as-same-user");
    // Without a security context the agent runs as its image's user (the vault image's "vault", uid 100).
    const effectiveUid = setContext ? uid : INJECTOR_DEFAULT_UID;
    const effectiveGid = setContext ? gid : INJECTOR_DEFAULT_GID;
    const agentSecurityContext = setContext
        ? { runAsUser: uid, runAsGroup: gid, runAsNonRoot: uid !== 0 && gid !== 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }
        : undefined;
    const perms = annotations[A(`agent-inject-perms-${fileName}`)] ?? AGENT_TEMPLATE_DEFAULT_PERMS;
    const fsGroup = pod.spec.securityContext?.fsGroup;
    return { agentSecurityContext, file: { uid: effectiveUid, gid: fsGroup ?? effectiveGid, mode: parseInt(perms, 8) } };
}

/** Whether container `index` of the pod can read the file (POSIX permission check, no capabilities). */
function canRead(pod: any, index: number, file: AgentFile): boolean {
    const podContext = pod.spec.securityContext ?? {};
    const context = pod.spec.containers[index].securityContext ?? {};
    const uid = context.runAsUser ?? podContext.runAsUser;
    if (uid === undefined) throw new Error("the example must say which uid the app runs as");
    const groups = [context.runAsGroup ?? podContext.runAsGroup ?? 0, ...(podContext.supplementalGroups ?? []), ...(podContext.fsGroup !== undefined ? [podContext.fsGroup] : [])];
    if (uid === 0) return true;
    if (uid === file.uid) return (file.mode & 0o400) !== 0;
    if (groups.includes(file.gid)) return (file.mode & 0o040) !== 0;
    return (file.mode & 0o004) !== 0;
}

const settings: ConnectionSettings = { host: "postgres.postgres.svc.cluster.local", port: 5432, database: "initech", sslmode: "require" } as ConnectionSettings;
const base = { vaultRole: "initech_dev_batch", secretPath: "database-dev/static-creds/initech_dev_batch", settings, authPath: "kubernetes" };

/** A pod of the app as docs/delivery.md tells to write it, with the published deployment patch applied. */
function appPod(annotations: Record<string, string>, podContext: any, containerContext: any): any {
    return {
        metadata: { annotations },
        spec: {
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, ...podContext },
            containers: [{ name: "app", image: "app:1", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, ...containerContext } }],
            volumes: [vaultAgentTokenVolume()],
        },
    };
}

describe("vault-agent: the app can read the file the injected agent writes", () => {
    it("apps[].runAsUser: the agent runs as the app's uid/gid and the app owns its 0400 file", () => {
        const annotations = vaultAgentAnnotations({ ...base, runAsUser: 10001 });
        const pod = appPod(annotations, { runAsUser: 10001 }, {});
        const { file, agentSecurityContext } = injectAgent(pod, "database-url");
        assert.deepStrictEqual(file, { uid: 10001, gid: 10001, mode: 0o400 });
        assert.ok(canRead(pod, 0, file), "the app (uid 10001) reads its credentials");
        assert.strictEqual(agentSecurityContext.runAsNonRoot, true);
    });

    it("no runAsUser: agent-run-as-same-user takes the first container's uid", () => {
        const annotations = vaultAgentAnnotations(base);
        assert.strictEqual(annotations[A("agent-run-as-same-user")], "true");
        const pod = appPod(annotations, { runAsUser: 10001 }, { runAsUser: 10001 });
        const { file } = injectAgent(pod, "database-url");
        assert.strictEqual(file.uid, 10001);
        assert.ok(canRead(pod, 0, file));
    });

    it("no runAsUser and no container-level runAsUser: the injector refuses the pod (as docs/delivery.md says)", () => {
        const pod = appPod(vaultAgentAnnotations(base), { runAsUser: 10001 }, {});
        assert.throws(() => injectAgent(pod, "database-url"), /RunAsUser is nil for Container 0/);
    });

    it("nobody else in the pod reads the file: mode 0400, no group or world bits", () => {
        const annotations = vaultAgentAnnotations({ ...base, runAsUser: 10001 });
        const pod = appPod(annotations, { runAsUser: 10001, fsGroup: 2000 }, {});
        pod.spec.containers.push({ name: "sidecar", image: "x:1", securityContext: { runAsUser: 10002, runAsGroup: 2000 } });
        const { file } = injectAgent(pod, "database-url");
        assert.ok(canRead(pod, 0, file));
        assert.ok(!canRead(pod, 1, file), "another uid, even in the fsGroup, cannot read it");
    });

    it("the injected agent containers pass Pod Security restricted (the namespace enforces it)", () => {
        for (const identity of [{ runAsUser: 10001 }, {}]) {
            const pod = appPod(vaultAgentAnnotations({ ...base, ...identity }), { runAsUser: 10001 }, { runAsUser: 10001 });
            const { agentSecurityContext } = injectAgent(pod, "database-url");
            const injected = { ...pod, spec: { ...pod.spec, initContainers: [{ name: "vault-agent-init", image: "hashicorp/vault:1.21", securityContext: agentSecurityContext }], containers: [...pod.spec.containers, { name: "vault-agent", image: "hashicorp/vault:1.21", securityContext: agentSecurityContext }] } };
            assert.deepStrictEqual(checkPodSecurityRestricted({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: injected.spec }), []);
        }
    });

    it("the vault-agent example of docs/delivery.md, patched with the published annotations, can read its file", () => {
        const readme = docText(); // the example is in docs/delivery.md
        const section = readme.slice(readme.indexOf("#### Delivery `vault-agent`"));
        const block = /```yaml\n([\s\S]*?)```/.exec(section)![1];
        const deployment = yaml.load(block) as any;
        const appConfig = /# apps: \[\{ (.*) \}\]/.exec(block)![1];
        const runAsUser = Number(/runAsUser: (\d+)/.exec(appConfig)![1]);
        for (const identity of [{ runAsUser }, {}]) {
            const template = deployment.spec.template;
            const pod = { metadata: { annotations: vaultAgentAnnotations({ ...base, ...identity }) }, spec: { ...template.spec, volumes: [vaultAgentTokenVolume()] } };
            const { file } = injectAgent(pod, "database-url");
            assert.ok(canRead(pod, 0, file), `docs/delivery.md example with ${JSON.stringify(identity)} reads the file (owner ${file.uid}, mode ${file.mode.toString(8)})`);
        }
    });
});

/** A destination pod for the egress check. */
interface Destination { namespace: string; podIp: string; port: number }

function ipInCidr(ip: string, cidr: string): boolean {
    const [net, bits] = cidr.split("/");
    const n = (a: string) => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    return Math.floor(n(ip) / size) === Math.floor(n(net) / size);
}

/** Whether the namespace's NetworkPolicies admit a connection from one of its pods to `to` (after Service translation). */
function egressAllowed(policies: any[], to: Destination): boolean {
    const egress = policies.filter((p) => p.spec.policyTypes.includes("Egress")).flatMap((p) => p.spec.egress ?? []);
    return egress.some((rule: any) => (rule.ports ?? []).some((p: any) => p.port === to.port && (p.protocol ?? "TCP") === "TCP")
        && rule.to.some((peer: any) => peer.ipBlock ? ipInCidr(to.podIp, peer.ipBlock.cidr)
            : peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === to.namespace && peer.podSelector === undefined));
}

describe("vault-agent: egress from the app's namespace to Vault", function () {
    this.timeout(120000);
    const statefulset = { engine: "statefulset", version: "17", tls: "require" };
    const organizations = [{ name: "initech", apps: [{ name: "batch", credentials: "vault-static", delivery: "vault-agent", runAsUser: 10001 }, { name: "api", credentials: "vault-static" }] }, { name: "globex" }];

    const aws = { region: "eu-west-1", eksOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", eksOidcIssuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC" };
    const rdsDatabase = { ...statefulset, engine: "rds", rds: { vpcId: "vpc-0abc123", subnetIds: ["subnet-0aaa111", "subnet-0bbb222"], allowedSecurityGroupIds: ["sg-0abc123"] } };

    async function policiesOf(vault: Record<string, unknown>, database: Record<string, unknown> = statefulset): Promise<RunResult<unknown>> {
        return runPulumi(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const program = require("../../stacks/program") as typeof import("../../stacks/program");
            return program.createStack();
        }, { stack: "dev", config: { database, vault, organizations, ...(database.engine === "rds" ? { aws } : {}) } });
    }

    it("in-cluster Vault: Vault's pods (namespace selector, port 8200) are reachable from vault-agent namespaces only", async () => {
        const run = await policiesOf({ address: "https://vault.vault.svc:8200", kubernetesNamespace: "vault" });
        const of = (ns: string) => run.ofType(T.networkPolicy).filter((p) => p.inputs.metadata.namespace === ns);
        const vaultPod = { namespace: "vault", podIp: "10.244.3.17", port: 8200 };
        assert.ok(egressAllowed(of("initech").map((p) => p.inputs), vaultPod), "initech's agent reaches Vault's pod");
        assert.ok(!egressAllowed(of("globex").map((p) => p.inputs), vaultPod), "globex has no vault-agent app");
        assert.ok(!egressAllowed(of("initech").map((p) => p.inputs), { ...vaultPod, namespace: "other" }), "only Vault's namespace");
        for (const p of run.ofType(T.networkPolicy)) assert.strictEqual(await kubernetesValidationError(p), undefined, p.name);
    });

    it("external Vault: egress to vault.egressCidrBlocks on the address's port", async () => {
        const run = await policiesOf({ address: "https://vault.example.com:8200", egressCidrBlocks: ["192.0.2.0/28"] }, rdsDatabase);
        const initech = run.ofType(T.networkPolicy).filter((p) => p.inputs.metadata.namespace === "initech").map((p) => p.inputs);
        assert.ok(egressAllowed(initech, { namespace: "", podIp: "192.0.2.5", port: 8200 }));
        assert.ok(!egressAllowed(initech, { namespace: "", podIp: "192.0.2.16", port: 8200 }));
        for (const p of run.ofType(T.networkPolicy)) assert.strictEqual(await kubernetesValidationError(p), undefined, p.name);
    }).timeout(120000);

    it("external Vault without egressCidrBlocks is a config error naming the field", () => {
        assert.throws(() => parseStackConfig({ database: rdsDatabase, aws, vault: { address: "https://vault.example.com" }, organizations }, "dev"),
            (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.path === "vault.egressCidrBlocks" && /required when apps use delivery "vault-agent"/.test(p.message)));
    });

    it("the port: egressPort, else the address's, else 8200 in-cluster and 443 outside", () => {
        assert.deepStrictEqual(vaultAgentEgress({ address: "https://vault.vault.svc", kubernetesNamespace: "vault", egressCidrBlocks: [] }), [{ namespace: "vault", port: 8200 }]);
        assert.deepStrictEqual(vaultAgentEgress({ address: "https://vault.example.com", egressCidrBlocks: ["192.0.2.0/28"] }), [{ cidrBlocks: ["192.0.2.0/28"], port: 443 }]);
        assert.deepStrictEqual(vaultAgentEgress({ address: "https://vault.example.com:9200", egressCidrBlocks: ["192.0.2.0/28"], egressPort: 8200 }), [{ cidrBlocks: ["192.0.2.0/28"], port: 8200 }]);
    });
});
