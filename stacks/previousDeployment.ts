/**
 * What the stack's last update deployed, read back through a StackReference to the stack itself (its
 * `deployment` export), and the guards that compare it with the config before anything is changed:
 * - a major version change of the in-cluster server without `database.statefulset.upgradeFrom`;
 * - `database.phase: server` on a stack whose last update created organizations (the run would delete them).
 * A fresh stack has no outputs: nothing to compare, every guard passes.
 */
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../components/config";

/** The `deployment` stack export: plain facts about what the update deployed (no secrets). */
export interface DeploymentRecord {
    /** `server` (first phase: the server only) or `full`. */
    phase: string;
    /** `statefulset` or `rds`. */
    engine: string;
    /** The server's PostgreSQL major version. */
    serverMajorVersion: string;
    /** Names of the organizations the update created. */
    organizations: string[];
}

/** The record this run exports (known at plan time: it comes from the config). */
export function deploymentRecord(config: StackConfig): DeploymentRecord {
    return {
        phase: config.database.phase,
        engine: config.database.engine,
        serverMajorVersion: config.database.version,
        organizations: config.database.phase === "full" ? config.organizations.map((o) => o.name) : [],
    };
}

/** Why this config must not be applied over the previous deployment (empty = fine). Pure; exported for tests. */
export function deploymentChangeProblems(previous: Partial<DeploymentRecord> | undefined, config: StackConfig): string[] {
    if (!previous || typeof previous !== "object") return [];
    const problems: string[] = [];
    const db = config.database;
    const before = previous.serverMajorVersion;
    if (db.engine === "statefulset" && previous.engine === "statefulset" && typeof before === "string" && before !== db.version) {
        const upgradeFrom = db.statefulset?.upgradeFrom;
        if (Number(db.version) < Number(before)) {
            problems.push(`database.version: "${db.version}" is older than the running server's "${before}"; PostgreSQL cannot start on a newer major's data (restore a dump into a new stack instead)`);
        } else if (upgradeFrom !== before) {
            problems.push(`database.version: the in-cluster server runs PostgreSQL ${before}; "${db.version}" cannot start on its data directory. Follow docs/operations.md "Major version upgrades of the in-cluster server" (dump, then set database.statefulset.upgradeFrom: "${before}"), or keep version "${before}"`);
        }
    }
    const organizations = Array.isArray(previous.organizations) ? previous.organizations : [];
    if (db.phase === "server" && organizations.length > 0) {
        problems.push(`database.phase: "server" creates the server only, and this stack's last update created the organizations ${organizations.join(", ")}: the run would delete their roles, logins and credentials. "server" is for a stack's first run; remove it (phase "full")`);
    }
    return problems;
}

/**
 * Reads the previous `deployment` export and fails the run (as `pulumi up` and `pulumi preview` do on a
 * failed apply: nothing is deleted, and resources that take the result as an input are not changed) when
 * `deploymentChangeProblems` finds a problem. Resolves to the config's major version.
 */
export function checkedAgainstPreviousDeployment(config: StackConfig): pulumi.Output<string> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`, {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    return self.outputs.apply((outputs) => {
        const previous = (outputs ?? {}).deployment as Partial<DeploymentRecord> | undefined;
        const problems = deploymentChangeProblems(previous, config);
        if (problems.length) throw new Error(`refused by the previous deployment of stack ${config.env}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
        return config.database.version;
    });
}
