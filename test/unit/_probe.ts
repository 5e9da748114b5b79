import { runPulumi } from "../support/harness";
import { readStackFile } from "../../stacks/stackFile";
(async () => {
  const t0 = Date.now();
  const run = await runPulumi(() => { const p = require("../../stacks/program"); const o = p.createStack(); return p.stackExports(o); }, { stack: "dev", config: readStackFile("dev") });
  console.log(Date.now() - t0, "ms");
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  console.log(counts);
  for (const r of run.resources.filter(r => r.type.startsWith("vault:") || r.type.startsWith("kubernetes:") && !["Namespace"].some(k => r.type.endsWith(k)))) console.log(r.type, r.name, JSON.stringify(r.secretPaths), r.provider ?? "");
})();
