/**
 * Runs the program (or a component) in-process under `pulumi.runtime.setMocks` and records every resource
 * and invoke it registers: the engine of the offline plan (`npm run plan`), the benchmark and the tests.
 * `setMocks` is process-wide, so every suite goes through `runPulumi`, which sets the mocks (up or
 * preview), the config and the stack name, runs the code, and waits for all registrations.
 */
import * as pulumi from "@pulumi/pulumi";
import { mockOutputs, fakeRandom } from "./mockOutputs";
export { fakeRandom };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void>; getMonitor(): MockMonitor };

/** The parts of the SDK's MockMonitor (and of the RegisterResourceRequest it receives) the runner reads. */
interface MockMonitor {
    newUrn(parent: string, type: string, name: string): string;
    registerResource(req: RegisterResourceRequest, callback: unknown): unknown;
    readResource(req: ReadResourceRequest, callback: unknown): unknown;
}
interface ReadResourceRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getAdditionalsecretoutputsList(): string[];
}
interface RegisterResourceRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
    hasProtect(): boolean;
    getProtect(): boolean;
    hasRetainondelete(): boolean;
    getRetainondelete(): boolean;
    getDeletedwith(): string;
    getIgnorechangesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getAliasesList(): AliasMessage[];
    getImportid(): string;
}
interface AliasMessage {
    hasSpec(): boolean;
    getUrn(): string;
    getSpec(): { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}

/** An alias as the engine receives it: an old URN, or a spec (fields left out default to the resource's own). */
export type RecordedAlias = string | { name?: string; type?: string; parentUrn?: string; noParent?: boolean };

/** The key of the marker the SDK wraps special values (secrets, resource references) in on the wire. */
export const SECRET_SIG = pulumi.runtime.specialSigKey;
const SECRET_VALUE = pulumi.runtime.specialSecretSig;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RecordedResource {
    /** Type token, e.g. `kubernetes:core/v1:Secret`. */
    type: string;
    /** Logical (Pulumi) name. */
    name: string;
    /** Inputs with secrets unwrapped; unknown values (preview) are `UNKNOWN_VALUE`. */
    inputs: any;
    /** Inputs exactly as the mock monitor received them (secrets wrapped). */
    rawInputs: any;
    /** Dotted paths of inputs that arrived as secrets. */
    secretPaths: string[];
    /** Provider reference (`urn::id`) if an explicit provider was given. */
    provider?: string;
    /** false for component resources. */
    custom: boolean;
    id?: string;
    // What the engine receives with the registration (the SDK's RegisterResourceRequest), so tests can see
    // the order the engine may create (and delete) resources in; see test/support/engineOrder.ts.
    /** The resource's URN, as the engine forms it (`urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`). */
    urn: string;
    /** URN of the parent resource; undefined at the top level. */
    parent?: string;
    /**
     * URNs of the custom resources the registration waits for: explicit `dependsOn` and the resources behind
     * every Output input, components expanded to their custom (and remote) descendants, as the SDK sends them.
     */
    dependencies: string[];
    /** Per input property: the URNs its value came from (the same expansion). */
    propertyDependencies: Record<string, string[]>;
    /** The `protect` option (undefined when not set: the engine then inherits the parent's). */
    protect?: boolean;
    /** The `retainOnDelete` option (undefined when not set: inherited from the parent). */
    retainOnDelete?: boolean;
    /** URN of the `deletedWith` resource, if any. */
    deletedWith?: string;
    /** The `ignoreChanges` option's property paths. */
    ignoreChanges: string[];
    /** The `additionalSecretOutputs` option. */
    additionalSecretOutputs: string[];
    /** The `aliases` option (the engine adds the ones inherited from the parent's aliases); absent on reads. */
    aliases?: RecordedAlias[];
    /** The `import` option: the ID of an existing resource the engine adopts (reads) instead of creating it. */
    importId?: string;
}

export interface RecordedCall {
    token: string;
    inputs: any;
}

export const UNKNOWN_VALUE = "<unknown>";

/** Recursively unwraps secret markers and records where they were. */
export function unwrapSecrets(value: any, path = "", secrets: string[] = []): any {
    if (value === UNKNOWN) return UNKNOWN_VALUE;
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secrets));
    if (value && typeof value === "object") {
        if (value[SECRET_SIG] === SECRET_VALUE) {
            secrets.push(path || "(root)");
            return unwrapSecrets(value.value, path, []);
        }
        const out: any = {};
        for (const [k, v] of Object.entries(value)) out[k] = unwrapSecrets(v, path ? `${path}.${k}` : k, secrets);
        return out;
    }
    return value;
}

export interface RunOptions {
    /** Stack (environment) name. */
    stack?: string;
    /** Run as `pulumi preview`: outputs the mocks do not return are unknown and applies do not run. */
    preview?: boolean;
    /** Stack config as `{ "postgres-access:database": {...} }` or plain keys (`database`), objects allowed. */
    config?: Record<string, unknown>;
    /** Per-invoke results (token → result), merged over the defaults. */
    calls?: Record<string, (inputs: any) => any>;
    /**
     * The outputs of the stack's last update, as a StackReference to the stack itself reads them (also in
     * preview: Pulumi reads them then too); absent = a fresh stack (no outputs).
     */
    previousOutputs?: Record<string, unknown>;
    /**
     * Outputs of other stacks by StackReference name (`<organization>/<project>/<stack>`), as
     * `pulumi stack output --json --show-secrets` prints them; every output read through the reference is
     * a secret, as the engine makes outputs that were secrets in their stack (a platform stack's
     * `platform` output holds the admin password). A reference to a stack not listed fails the run.
     */
    stackReferences?: Record<string, Record<string, unknown>>;
    /** Called after each registration with the number registered so far (progress of long runs). */
    onRegister?: (registered: number) => void;
}

export interface RunResult<T> {
    result: T;
    resources: RecordedResource[];
    calls: RecordedCall[];
    /** Resources of one type token. */
    ofType(type: string): RecordedResource[];
    /** The one resource of that type whose logical name is `name` (throws if absent). */
    byName(type: string, name: string): RecordedResource;
}

const defaultCalls: Record<string, (inputs: any) => any> = {
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: "123456789012", arn: "arn:aws:sts::123456789012:assumed-role/platform-deployer/pulumi", userId: "AROAEXAMPLE:pulumi" }),
    // as the provider does: an assumed-role session's source role (here without a path), other ARNs as given
    "aws:iam/getSessionContext:getSessionContext": (inputs) => {
        const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(inputs.arn);
        return m ? { arn: inputs.arn, issuerArn: `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`, issuerName: m[3], sessionName: m[4] } : { arn: inputs.arn, issuerArn: inputs.arn };
    },
    "aws:index/getRegion:getRegion": () => ({ name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
};

/**
 * A private subnet of the configured VPC (`database.rds.vpcId`; `vpc-0abc123` without one), `subnet-…<n>`
 * -> 10.0.<n>.0/24 in zone a/b/c by n, deterministic per id.
 */
function subnetCall(config: Record<string, unknown>): (inputs: any) => any {
    const database = (config["postgres-access:database"] ?? config.database) as { rds?: { vpcId?: string } } | string | undefined;
    const rds = typeof database === "string" ? JSON.parse(database).rds : database?.rds;
    const vpcId = rds?.vpcId ?? "vpc-0abc123";
    return (inputs) => {
        const n = parseInt(String(inputs.id).replace(/\D/g, "").slice(-2) || "0", 10);
        return { id: inputs.id, cidrBlock: `10.0.${n % 250}.0/24`, vpcId, availabilityZone: `eu-west-1${"abc"[n % 3]}`, mapPublicIpOnLaunch: false };
    };
}

type EngineView = Pick<RecordedResource, "type" | "name" | "urn" | "parent" | "dependencies" | "propertyDependencies" | "protect" | "retainOnDelete" | "deletedWith" | "ignoreChanges" | "additionalSecretOutputs" | "aliases" | "importId">;

function recordedAlias(alias: AliasMessage): RecordedAlias {
    const spec = alias.hasSpec() ? alias.getSpec() : undefined;
    if (!spec) return alias.getUrn();
    return {
        ...(spec.getName() ? { name: spec.getName() } : {}),
        ...(spec.getType() ? { type: spec.getType() } : {}),
        ...(spec.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
        ...(spec.getNoparent() ? { noParent: true } : {}),
    };
}

/** What the engine reads from a RegisterResourceRequest besides the inputs. */
function engineView(req: RegisterResourceRequest, monitor: MockMonitor): EngineView {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    return {
        type: req.getType(),
        name: req.getName(),
        urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
        parent: req.getParent() || undefined,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        protect: req.hasProtect() ? req.getProtect() : undefined,
        retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : undefined,
        deletedWith: req.getDeletedwith() || undefined,
        ignoreChanges: req.getIgnorechangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        aliases: req.getAliasesList().map(recordedAlias),
        importId: req.getImportid() || undefined,
    };
}

/**
 * Sets the mocks and config, runs `fn` (which registers resources), waits until every registration has
 * reached the mock monitor, and returns what was registered.
 */
/** The name of the StackReference a program makes to its own stack (the mocks' organization and project). */
function selfReference(stack: string): string {
    return `organization/postgres-access/${stack}`;
}

export async function runPulumi<T>(fn: () => T | Promise<T>, options: RunOptions = {}): Promise<RunResult<Awaited<T>>> {
    const stack = options.stack ?? "dev";
    const preview = options.preview ?? false;
    const resources: RecordedResource[] = [];
    const calls: RecordedCall[] = [];
    const callTable: Record<string, (inputs: any) => any> = { ...defaultCalls, "aws:ec2/getSubnet:getSubnet": subnetCall(options.config ?? {}), ...(options.calls ?? {}) };
    // ARNs the mock "creates" live in the account getCallerIdentity reports.
    const account: string = callTable["aws:index/getCallerIdentity:getCallerIdentity"]({}).accountId;
    // What the monitor received with the registration newResource is being called for (set just before).
    let request: EngineView | undefined;
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                const secretPaths: string[] = [];
                const inputs = unwrapSecrets(args.inputs, "", secretPaths);
                const engine = request;
                request = undefined;
                if (!engine || engine.type !== args.type || engine.name !== args.name) {
                    throw new Error(`${args.type} ${args.name}: the mock monitor's request was not seen`);
                }
                const { type: _type, name: _name, ...engineFields } = engine;
                const record: RecordedResource = {
                    type: args.type,
                    name: args.name,
                    inputs,
                    rawInputs: args.inputs,
                    secretPaths,
                    provider: args.provider,
                    custom: args.custom ?? true,
                    ...engineFields,
                };
                resources.push(record);
                options.onRegister?.(resources.length);
                if (args.type === "pulumi:pulumi:StackReference") {
                    // a read of the stack's own last outputs (known in preview too, as the engine reads them)
                    record.id = args.inputs.name;
                    const other = options.stackReferences?.[args.inputs.name];
                    if (other) return { id: args.inputs.name, state: { name: args.inputs.name, outputs: other, secretOutputNames: Object.keys(other) } };
                    if (args.inputs.name !== selfReference(stack)) throw new Error(`StackReference ${args.inputs.name}: no outputs given for this stack (RunOptions.stackReferences)`);
                    return { id: args.inputs.name, state: { name: args.inputs.name, outputs: options.previousOutputs ?? {}, secretOutputNames: [] } };
                }
                const id = preview ? undefined : `${args.name}-id`;
                record.id = id;
                const outputs = preview ? {} : mockOutputs(args.type, args.name, inputs, account);
                return { id: id as string, state: { ...args.inputs, ...outputs } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                const inputs = unwrapSecrets(args.inputs);
                calls.push({ token: args.token, inputs });
                const handler = callTable[args.token];
                if (!handler) throw new Error(`no mock for invoke ${args.token}`);
                return handler(inputs);
            },
        },
        "postgres-access",
        stack,
        preview,
        // the Pulumi Cloud organization (a self-managed backend's is "organization"): the program reads its
        // own stack's previous outputs through a StackReference named <organization>/<project>/<stack>
        "organization",
    );
    const monitor = settings.getMonitor();
    // URNs as the engine forms them: the parent's whole type chain, not only its last type as the mock does
    // (the SDK computes alias URNs that way too).
    const mockUrn = monitor.newUrn.bind(monitor);
    monitor.newUrn = (parent, type, name) => mockUrn("", parent ? `${parent.split("::")[2]}$${type}` : type, name);
    const register = monitor.registerResource.bind(monitor);
    // The mock monitor calls newResource synchronously from registerResource (before its first await), so
    // the request read here is the one that newResource records.
    monitor.registerResource = (req, callback) => {
        request = engineView(req, monitor);
        try {
            return register(req, callback);
        } finally {
            request = undefined;
        }
    };
    // `Resource.get(...)` reads an existing resource: no options besides its parent and dependencies.
    const read = monitor.readResource.bind(monitor);
    monitor.readResource = (req, callback) => {
        request = {
            type: req.getType(),
            name: req.getName(),
            urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
            parent: req.getParent() || undefined,
            dependencies: req.getDependenciesList(),
            propertyDependencies: {},
            ignoreChanges: [],
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        };
        try {
            return read(req, callback);
        } finally {
            request = undefined;
        }
    };
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.config ?? {})) {
        const fullKey = key.includes(":") ? key : `postgres-access:${key}`;
        config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(config, []);
    // A failed registration (an apply that throws, an invalid input) surfaces as an unhandled rejection;
    // the Pulumi language host fails the program on the first one, so the harness fails the run too.
    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);
    let result: unknown;
    try {
        result = await fn();
        await settings.waitForRPCs();
        await new Promise((resolve) => setImmediate(resolve));
    } finally {
        process.off("unhandledRejection", onRejection);
    }
    if (failures.length) {
        const messages = [...new Set(failures.map((f) => (f instanceof Error ? f.message : String(f))))];
        // what had been registered by then travels with the error, for tests of what a failure prevents
        throw Object.assign(new Error(`the program failed (as pulumi up would): ${messages.join("\n")}`), { resources });
    }
    return {
        result: result as Awaited<T>,
        resources,
        calls,
        ofType: (type) => resources.filter((r) => r.type === type),
        byName(type, name) {
            const found = resources.find((r) => r.type === type && r.name === name);
            if (!found) throw new Error(`no ${type} named ${name}; have: ${resources.filter((r) => r.type === type).map((r) => r.name).join(", ")}`);
            return found;
        },
    };
}

/** Resolves an Output's value (undefined when unknown, as in preview). */
export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => { resolve(v as T); return v; }));
}

/** Whether an Output is a secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(output) as Promise<boolean>;
}

/** Whether an Output is known (false for computed values during preview). */
export async function isKnown(output: pulumi.Output<unknown>): Promise<boolean> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (output as any).isKnown as Promise<boolean>;
}
