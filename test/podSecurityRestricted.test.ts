/** The Pod Security "restricted" checker accepts every upstream pass fixture and rejects every fail fixture. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { checkPodSecurityRestricted } from "./support/podSecurityRestricted";

const FIXTURES = path.resolve(__dirname, "../../shared/fixtures/pod-security-restricted-v1.35");

function fixtures(kind: "pass" | "fail"): [string, any[]][] {
    return fs.readdirSync(path.join(FIXTURES, kind)).filter((f) => f.endsWith(".yaml")).sort()
        .map((f) => [f, yaml.loadAll(fs.readFileSync(path.join(FIXTURES, kind, f), "utf8")).filter(Boolean)]);
}

describe("Pod Security restricted checker (v1.35 fixtures)", () => {
    const pass = fixtures("pass");
    const fail = fixtures("fail");
    it("has the upstream fixtures", () => {
        assert.ok(pass.length >= 20 && fail.length >= 70, `${pass.length} pass, ${fail.length} fail`);
    });
    for (const [file, docs] of pass) {
        it(`admits pass/${file}`, () => {
            for (const doc of docs) assert.deepStrictEqual(checkPodSecurityRestricted(doc), []);
        });
    }
    for (const [file, docs] of fail) {
        it(`rejects fail/${file}`, () => {
            for (const doc of docs) assert.ok(checkPodSecurityRestricted(doc).length > 0, "admitted a pod the restricted level rejects");
        });
    }
    it("checks the pod template of workloads", () => {
        const pod = yaml.load(fs.readFileSync(path.join(FIXTURES, "fail", "privileged0.yaml"), "utf8")) as any;
        const deployment = { kind: "Deployment", spec: { template: { metadata: pod.metadata, spec: pod.spec } } };
        assert.match(checkPodSecurityRestricted(deployment).join("\n"), /spec\.template\.spec\.(init)?[cC]ontainers\[0\]\.securityContext\.privileged/);
    });
});
