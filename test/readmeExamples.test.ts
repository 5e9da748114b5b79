/**
 * The pod specs README.md and docs/*.md show app teams are ones their namespace admits: every YAML example with a pod
 * template (a Deployment, or a `spec.template` fragment) passes the Pod Security "restricted" checker
 * the organization namespaces enforce, and the Deployments are valid Kubernetes objects.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { checkPodSecurityRestricted } from "../policy/podSecurityRestricted";
import { kubernetesValidationError } from "./unit/helpers";
import { docFiles } from "./docText";

/** Every ```yaml block of the README and docs/*.md with its file and the line it starts on. */
function yamlBlocks(): { file: string; line: number; docs: any[] }[] {
    const blocks: { file: string; line: number; docs: any[] }[] = [];
    for (const { file, text } of docFiles()) {
        const re = /^```yaml\n([\s\S]*?)^```/gm;
        for (let m = re.exec(text); m; m = re.exec(text)) {
            blocks.push({ file, line: text.slice(0, m.index).split("\n").length, docs: yaml.loadAll(m[1]).filter(Boolean) as any[] });
        }
    }
    return blocks;
}

/** The examples that carry a pod template, as Deployments (a `spec:` fragment is wrapped into one). */
function podExamples(): { where: string; deployment: any }[] {
    return yamlBlocks().flatMap(({ file, line, docs }) => docs
        .filter((d) => d?.spec?.template?.spec)
        .map((d) => ({
            where: `${file}:${line} (${d.kind ?? "fragment"} ${d.metadata?.name ?? ""})`,
            deployment: d.kind ? d : { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "example" }, spec: { selector: { matchLabels: d.spec.template.metadata?.labels ?? { app: "example" } }, ...d.spec } },
        })));
}

describe("README pod examples", () => {
    const examples = podExamples();

    it("finds the Deployment examples of every delivery mode it documents", () => {
        assert.ok(examples.length >= 3, `found ${examples.map((e) => e.where).join(", ")}`);
    });

    it("shows only pods that Pod Security restricted admits", () => {
        for (const e of examples) assert.deepStrictEqual(checkPodSecurityRestricted(e.deployment), [], e.where);
    });

    it("shows valid Kubernetes Deployments", async () => {
        for (const e of examples) {
            const error = await kubernetesValidationError({ type: "kubernetes:apps/v1:Deployment", name: "readme", inputs: e.deployment, rawInputs: e.deployment, secretPaths: [], custom: true });
            assert.strictEqual(error, undefined, `${e.where}: ${error}`);
        }
    });

    it("mounts the CA, which only some TLS modes and engines deliver, as optional", () => {
        let mounts = 0;
        for (const e of examples) {
            for (const v of e.deployment.spec.template.spec.volumes ?? []) {
                const ca = v.configMap?.name?.endsWith("-database-ca") ? v.configMap : v.secret?.items?.some((i: any) => i.key === "ca.crt") ? v.secret : undefined;
                if (!ca) continue;
                mounts++;
                assert.strictEqual(ca.optional, true, `${e.where}: volume ${v.name}`);
            }
        }
        assert.ok(mounts >= 2, "the secret and csi examples both mount the CA");
    });
});
