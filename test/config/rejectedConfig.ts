/** The shared check of the config-error suites: a stack config is refused as `pulumi up` would meet it. */
import * as assert from "assert";
import { runPulumi } from "../../testing/offlineRun";
import { ConfigError } from "../../components/config";
import { createStack } from "../../stacks/program";

/** A config the program must refuse, and the problems (path, message) it must report. */
export interface RejectedConfig {
    name: string;
    config: Record<string, unknown>;
    expect: [string, RegExp][];
    /** Stack name; default dev. */
    stack?: string;
}

/**
 * Runs the stack program on the config under the mocks: it must throw a ConfigError that lists every
 * expected problem at its path (the message names the path too), with no resource registered.
 */
export async function assertRejected(c: RejectedConfig): Promise<void> {
    let error: unknown;
    const run = await runPulumi(() => {
        try {
            createStack();
        } catch (err) {
            error = err;
        }
    }, { stack: c.stack ?? "dev", config: c.config });
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${(error as Error)?.stack ?? error}`);
    assert.deepStrictEqual(run.resources, [], "no resource may be registered");
    for (const [path, message] of c.expect) {
        assert.ok(error.problems.some((p) => p.path === path && message.test(p.message)), `expected a problem at ${path} matching ${message}; got:\n${error.message}`);
        assert.ok(error.message.includes(`${path}: `), "the message lists the path");
    }
}
