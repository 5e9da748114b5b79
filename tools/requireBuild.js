/**
 * Preloaded by `pulumi up` / `pulumi preview` (Pulumi.yaml `nodeargs: --require`): the stack program runs
 * compiled from dist/, so refuse to run a build older than the TypeScript it came from; a stale dist/
 * would deploy code that is no longer in the sources. Plain JavaScript: it runs before anything else.
 */
"use strict";
const fs = require("fs");
const path = require("path");

/** Folders whose TypeScript `npm run build` compiles. */
const SOURCE_DIRS = ["components", "stacks"];

/** Sources under `root` that are newer than the build's entry `dist/stacks/index.js` (all of them when there is no build). */
function staleSources(root) {
    const entry = path.join(root, "dist", "stacks", "index.js");
    const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : -Infinity;
    const stale = [];
    for (const dir of SOURCE_DIRS) {
        const base = path.join(root, dir);
        if (!fs.existsSync(base)) continue;
        for (const file of fs.readdirSync(base, { recursive: true, encoding: "utf8" })) {
            if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
            if (fs.statSync(path.join(base, file)).mtimeMs > built) stale.push(path.join(dir, file));
        }
    }
    return stale;
}

module.exports = { staleSources };

// Only when preloaded (`node --require`): there is no main module yet. Required by a test, it only exports.
if (require.main === undefined) {
    const root = path.resolve(__dirname, "..");
    const stale = staleSources(root);
    if (stale.length > 0) {
        const what = fs.existsSync(path.join(root, "dist")) ? `dist/ is older than ${stale.slice(0, 3).join(", ")}${stale.length > 3 ? ` and ${stale.length - 3} more` : ""}` : "there is no dist/";
        console.error(`postgres-access: ${what}; run \`npm run build\` before \`pulumi up\` or \`pulumi preview\`.`);
        process.exit(1);
    }
}
