#!/usr/bin/env node
/**
 * `npm test` after the type check: the mocha suite in two processes at once, one per core. The suites that
 * start real PostgreSQL servers (test/integration, test/tls) run in one, everything else in the other; each
 * file still runs in one process, so `setMocks` (process-wide) never crosses files of different groups.
 * Output is streamed line by line with the group's tag, then each group's summary and failures again; the exit code is non-zero if either
 * group failed. `npx mocha` (the .mocharc.json spec) still runs everything in one process.
 */
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");

/** Every *.test.ts under `dir` (relative to the project), sorted. */
function testFiles(dir) {
    const out = [];
    const walk = (d) => {
        for (const entry of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
            const rel = path.posix.join(d, entry.name);
            if (entry.isDirectory()) walk(rel);
            else if (entry.name.endsWith(".test.ts")) out.push(rel);
        }
    };
    walk(dir);
    return out.sort();
}

const all = testFiles("test");
const realServers = all.filter((f) => f.startsWith("test/integration/") || f.startsWith("test/tls/"));
const groups = [
    { name: "real PostgreSQL", tag: "db", files: realServers },
    { name: "everything else", tag: "rest", files: all.filter((f) => !realServers.includes(f)) },
];

function run(group) {
    return new Promise((resolve) => {
        const started = Date.now();
        const args = [require.resolve("mocha/bin/mocha.js"), "--no-config", "-r", "ts-node/register/transpile-only", "--extension", "ts", "--timeout", "60000", "--reporter", "spec", ...group.files];
        const child = spawn(process.execPath, args, { cwd: root, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
        // each line streamed as it comes, prefixed with its group; the whole report kept for the end
        const chunks = [];
        let partial = "";
        const onData = (c) => {
            chunks.push(c);
            const lines = (partial + c.toString()).split("\n");
            partial = lines.pop();
            for (const line of lines) process.stdout.write(`[${group.tag}] ${line}\n`);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.on("close", (code, signal) => {
            if (partial) process.stdout.write(`[${group.tag}] ${partial}\n`);
            resolve({ group, code: code ?? 1, signal, output: Buffer.concat(chunks).toString(), seconds: Math.round((Date.now() - started) / 1000) });
        });
    });
}

(async () => {
    console.log(`mocha in ${groups.length} processes: ${groups.map((g) => `${g.name} (${g.files.length} files)`).join(", ")}`);
    const results = await Promise.all(groups.map(run));
    // each group's summary (passing/failing and every failure) once more, unprefixed
    for (const r of results) {
        console.log(`\n===== ${r.group.name}: exit ${r.code}${r.signal ? ` (${r.signal})` : ""} after ${r.seconds} s =====`);
        const summary = r.output.search(/^\s+\d+ passing/m);
        process.stdout.write(summary >= 0 ? r.output.slice(summary) : r.output);
    }
    const failed = results.filter((r) => r.code !== 0);
    console.log(`\n${failed.length ? `FAILED: ${failed.map((r) => r.group.name).join(", ")}` : "all groups passed"} (${results.map((r) => `${r.group.name} ${r.seconds} s`).join(", ")})`);
    process.exit(failed.length ? 1 : 0);
})();
