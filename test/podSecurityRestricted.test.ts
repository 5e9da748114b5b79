/**
 * The Pod Security "restricted" (v1.35) checker against the upstream fixtures of
 * kubernetes/pod-security-admission (test/testdata/restricted/v1.35): every `pass/` document is admitted,
 * every `fail/` document is rejected, and rejected for the reason its file is named after (upstream's
 * fixture generator asserts an error substring per check in the same way).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { checkPodSecurityRestricted } from "../policy/podSecurityRestricted";

const FIXTURES = path.resolve(__dirname, "../../shared/fixtures/pod-security-restricted-v1.35");

/** Fixture file-name prefix (the upstream check ID, lower-cased) → a violation the checker must report. */
const REASON: [RegExp, RegExp][] = [
    [/^allowprivilegeescalation/, /\.allowPrivilegeEscalation must be false$/],
    [/^apparmorprofile/, /container\.apparmor\.security\.beta\.kubernetes\.io\/|\.appArmorProfile\.type /],
    [/^capabilities_baseline/, /\.capabilities\.add\[\d+\] /],
    [/^capabilities_restricted/, /\.capabilities\.(drop|add\[\d+\]) /],
    [/^hostnamespaces/, /^spec\.host(Network|PID|IPC) must not be true$/],
    [/^hostpathvolumes/, /^spec\.volumes\[\d+\]\.hostPath /],
    [/^hostports/, /\.ports\[\d+\]\.hostPort /],
    [/^hostprobesandhostlifecycle/, /\.(livenessProbe|readinessProbe|startupProbe|lifecycle\.(postStart|preStop))\.(httpGet|tcpSocket)\.host /],
    [/^privileged/, /\.securityContext\.privileged must not be true$/],
    [/^procmount/, /\.securityContext\.procMount /],
    [/^restrictedvolumes/, /^spec\.volumes\[\d+\]\.\w+ \(volume /],
    [/^runasnonroot/, /\.runAsNonRoot /],
    [/^runasuser/, /\.runAsUser must not be 0$/],
    [/^seccompprofile/, /\.seccompProfile\.type /],
    [/^selinuxoptions/, /\.seLinuxOptions\.(type|user|role) /],
    [/^sysctls/, /^spec\.securityContext\.sysctls\[\d+\]\.name /],
    [/^windowshostprocess/, /\.windowsOptions\.hostProcess must not be true$/],
];

function fixtures(dir: "pass" | "fail"): { file: string; docs: any[] }[] {
    return fs
        .readdirSync(path.join(FIXTURES, dir))
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((file) => ({
            file,
            docs: yaml.loadAll(fs.readFileSync(path.join(FIXTURES, dir, file), "utf8")).filter((d) => d !== null && d !== undefined),
        }));
}

/** A minimal Pod that restricted admits, for the hand-written cases below. */
function goodPod(): any {
    const sc = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: {
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            initContainers: [{ name: "init", image: "i", securityContext: structuredClone(sc) }],
            containers: [{ name: "app", image: "i", securityContext: structuredClone(sc) }],
        },
    };
}

describe("Pod Security restricted checker", () => {
    describe("upstream fixtures (kubernetes/pod-security-admission, restricted v1.35)", () => {
        const pass = fixtures("pass");
        const fail = fixtures("fail");

        it("finds the fixtures", () => {
            assert.ok(pass.length >= 20 && fail.length >= 70, `${pass.length} pass, ${fail.length} fail in ${FIXTURES}`);
        });

        for (const { file, docs } of pass) {
            it(`admits pass/${file}`, () => {
                assert.ok(docs.length > 0, "no YAML documents");
                docs.forEach((doc, i) => assert.deepStrictEqual(checkPodSecurityRestricted(doc), [], `document ${i}`));
            });
        }

        for (const { file, docs } of fail) {
            it(`rejects fail/${file}`, () => {
                assert.ok(docs.length > 0, "no YAML documents");
                const reason = REASON.find(([prefix]) => prefix.test(file))?.[1];
                docs.forEach((doc, i) => {
                    const violations = checkPodSecurityRestricted(doc);
                    assert.ok(violations.length > 0, `document ${i} admitted`);
                    if (reason) {
                        assert.ok(violations.some((m) => reason.test(m)), `document ${i}: no violation matching ${reason}:\n${violations.join("\n")}`);
                    }
                });
            });
        }
    });

    describe("behaviour beyond the fixtures", () => {
        it("names the field in its messages", () => {
            const pod = goodPod();
            pod.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), ["spec.containers[0].securityContext.allowPrivilegeEscalation must be false"]);
        });

        it("finds the pod template of every workload kind, a pod template and a bare PodSpec", () => {
            const bad = goodPod();
            bad.spec.containers[0].securityContext.privileged = true;
            const t = { metadata: bad.metadata, spec: bad.spec };
            const cases: [any, string][] = [
                ...["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"].map(
                    (kind): [any, string] => [{ kind, spec: { template: t } }, "spec.template.spec"],
                ),
                [{ kind: "CronJob", spec: { jobTemplate: { spec: { template: t } } } }, "spec.jobTemplate.spec.template.spec"],
                [{ kind: "PodTemplate", template: t }, "template.spec"],
                [t, "spec"],
            ];
            for (const [input, at] of cases) {
                assert.deepStrictEqual(checkPodSecurityRestricted(input), [`${at}.containers[0].securityContext.privileged must not be true`], at);
            }
            assert.deepStrictEqual(checkPodSecurityRestricted(bad.spec), ["containers[0].securityContext.privileged must not be true"]);
            assert.throws(() => checkPodSecurityRestricted({ kind: "Service", spec: {} }), /Service/);
            assert.throws(() => checkPodSecurityRestricted({ kind: "Deployment", spec: {} }), /template/);
        });

        it("checks ephemeral containers", () => {
            const pod = goodPod();
            pod.spec.ephemeralContainers = [{ name: "debug", image: "i", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }];
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), []);
            pod.spec.ephemeralContainers[0].securityContext = { runAsUser: 0 };
            const v = checkPodSecurityRestricted(pod);
            assert.ok(v.includes("spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation must be false"), v.join("\n"));
            assert.ok(v.includes('spec.ephemeralContainers[0].securityContext.capabilities.drop must include "ALL"'), v.join("\n"));
            assert.ok(v.includes("spec.ephemeralContainers[0].securityContext.runAsUser must not be 0"), v.join("\n"));
        });

        it("exempts Windows pods from allowPrivilegeEscalation, capabilities and seccomp, as upstream does (and nothing else)", () => {
            const pod = goodPod();
            pod.spec.os = { name: "windows" };
            pod.spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } };
            pod.spec.containers[0].securityContext = { capabilities: { add: ["SYS_ADMIN"] } };
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), []);
            pod.spec.securityContext.windowsOptions = { hostProcess: true };
            delete pod.spec.securityContext.runAsNonRoot;
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), [
                "spec.securityContext.windowsOptions.hostProcess must not be true",
                "spec.initContainers[0].securityContext.runAsNonRoot must be true (or set spec.securityContext.runAsNonRoot=true)",
                "spec.containers[0].securityContext.runAsNonRoot must be true (or set spec.securityContext.runAsNonRoot=true)",
            ]);
        });

        it("relaxes runAsNonRoot and runAsUser, but not procMount, for hostUsers: false (v1.35)", () => {
            const pod = goodPod();
            pod.spec.hostUsers = false;
            pod.spec.securityContext = { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } };
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), []);
            pod.spec.containers[0].securityContext.procMount = "Unmasked";
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), ['spec.containers[0].securityContext.procMount must be unset or "Default" (got "Unmasked")']);
        });

        it("allows a volume with no source (API-defaulted emptyDir) and rejects unknown sources", () => {
            const pod = goodPod();
            pod.spec.volumes = [{ name: "implicit" }, { name: "img", image: { reference: "r" } }, { name: "x", somethingNew: {} }];
            const v = checkPodSecurityRestricted(pod);
            assert.strictEqual(v.length, 1, v.join("\n"));
            assert.match(v[0], /^spec\.volumes\[2\]\.somethingNew \(volume "x"\) uses restricted volume type unknown/);
        });

        it("uses the v1.35 sysctl safe list and SELinux types", () => {
            const pod = goodPod();
            pod.spec.securityContext.sysctls = [{ name: "net.ipv4.tcp_rmem", value: "1" }, { name: "net.ipv4.tcp_notsent_lowat", value: "1" }];
            pod.spec.containers[0].securityContext.seLinuxOptions = { type: "container_engine_t" };
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), ['spec.securityContext.sysctls[1].name "net.ipv4.tcp_notsent_lowat" is not a safe sysctl']);
        });

        it("treats a truthy non-boolean as true where true is forbidden", () => {
            const pod = goodPod();
            pod.spec.hostNetwork = "yes";
            assert.deepStrictEqual(checkPodSecurityRestricted(pod), ["spec.hostNetwork must not be true"]);
        });
    });
});
