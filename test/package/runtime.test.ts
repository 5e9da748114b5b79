/**
 * The suite runs on a supported Node.js LTS: the `node` devDependency (Node 22) is first on the PATH of
 * npm scripts, so `npm test` uses it whatever Node the machine has.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "package.json"), "utf8"));

describe("runtime", () => {
    it("is Node.js 22 or later, as engines.node and @pulumi/pulumi require", () => {
        assert.strictEqual(pkg.engines.node, ">=22");
        const major = Number(process.versions.node.split(".")[0]);
        assert.ok(major >= 22, `running on ${process.version}; run the tests through npm (npm test) to use the node devDependency`);
    });

    it("is the node devDependency when run through an npm script", function () {
        if (!process.env.npm_lifecycle_event?.startsWith("test")) this.skip(); // e.g. a single file through npx
        assert.strictEqual(process.version, `v${pkg.devDependencies.node}`);
    });
});
