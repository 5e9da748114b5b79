/**
 * The pod specs README.md shows app teams are ones their namespace admits: every YAML example with a pod
 * template (a Deployment, or a `spec.template` fragment) passes the Pod Security "restricted" checker
 * the organization namespaces enforce, and the Deployments are valid Kubernetes objects.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { checkPodSecurityRestricted } from "../policy/podSecurityRestricted";
import { kubernetesValidationError } from "./unit/helpers";

const README = fs.readFileSync(path.resolve(__dirname, "../README.md"), "utf8");

/** Every ```yaml block of the README with the line it starts on. */
function yamlBlocks(): { line: number; docs: any[] }[] {
    const blocks: { line: number; docs: any[] }[] = [];
    const re = /^```yaml\n([\s\S]*?)^```/gm;
    for (let m = re.exec(README); m; m = re.exec(README)) {
        blocks.push({ line: README.slice(0, m.index).split("\n").length, docs: yaml.loadAll(m[1]).filter(Boolean) as any[] });
    }
    return blocks;
}

/** The examples that carry a pod template, as Deployments (a `spec:` fragment is wrapped into one). */
function podExamples(): { where: string; deployment: any }[] {
    return yamlBlocks().flatMap(({ line, docs }) => docs
        .filter((d) => d?.spec?.template?.spec)
        .map((d) => ({
            where: `README.md:${line} (${d.kind ?? "fragment"} ${d.metadata?.name ?? ""})`,
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
