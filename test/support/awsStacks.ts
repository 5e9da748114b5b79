/**
 * The AWS stacks (Pulumi.staging.yaml, Pulumi.prod.yaml) run once per mode under mocks and shared by the
 * test/aws suites (each run takes a few seconds; the records are plain data, so later `setMocks` calls of
 * other suites do not disturb them), plus readers that pull each app's AWS side out of the records.
 */
import { runPulumi, RunResult, RecordedResource } from "../../testing/offlineRun";
import { readStackFile } from "../../tools/plan/stackFile";

/** The account each stack's credentials report (the account of its EKS OIDC provider). */
export const ACCOUNTS: Record<string, string> = { staging: "123456789012", prod: "210987654321" };
export const AWS_ENVS = ["staging", "prod"] as const;
export const REGION = "eu-west-1";

/** Runs the whole program of a stack file (or a variant of its config) and returns the stack exports too. */
export function runAwsStack(env: string, options: { preview?: boolean; config?: Record<string, unknown>; calls?: Record<string, (inputs: any) => any> } = {}): Promise<RunResult<Record<string, any>>> {
    const account = ACCOUNTS[env] ?? "123456789012";
    return runPulumi(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require("../../stacks/program") as typeof import("../../stacks/program");
        return program.stackExports(program.createStack()) as Record<string, any>;
    }, {
        stack: env,
        preview: options.preview,
        config: options.config ?? readStackFile(env),
        calls: {
            "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: account, arn: `arn:aws:sts::${account}:assumed-role/platform-deployer/ci`, userId: "AROAEXAMPLE:ci" }),
            ...options.calls,
        },
    });
}

const cache = new Map<string, Promise<RunResult<Record<string, any>>>>();

/** The stack file's run, computed once per process and mode. */
export function awsStackRun(env: string, preview = false): Promise<RunResult<Record<string, any>>> {
    const key = `${env}:${preview}`;
    if (!cache.has(key)) cache.set(key, runAwsStack(env, { preview }));
    return cache.get(key)!;
}

/** One secretsmanager app's AWS side, as registered. */
export interface AppAws {
    /** `<namespace>/<serviceAccount>`. */
    key: string;
    namespace: string;
    serviceAccount: string;
    roleName: string;
    roleArn: string;
    trust: any;
    identityPolicy: any;
    /** The recorded Secret. */
    secret: RecordedResource;
    /** ARN as Secrets Manager would report it (name + `-` + 6 characters). */
    secretArn: string;
    secretPolicy: any;
    /** The secret's JSON as written by the SecretVersion. */
    secretJson: Record<string, string>;
    keyArn: string;
    /** The organization key's key policy. */
    keyPolicy: any;
}

/** Every ServiceAccount the run registers, as `<namespace>/<name>`. */
export function serviceAccountsOf(run: RunResult<unknown>): string[] {
    return run.ofType("kubernetes:core/v1:ServiceAccount").map((s) => `${s.inputs.metadata.namespace}/${s.inputs.metadata.name}`);
}

/** The stack's EKS OIDC provider and issuer (condition-key form), from its config file. */
export function oidcOf(env: string): { oidcProviderArn: string; issuer: string } {
    const aws = readStackFile(env).aws as { eksOidcProviderArn: string; eksOidcIssuerUrl: string };
    return { oidcProviderArn: aws.eksOidcProviderArn, issuer: aws.eksOidcIssuerUrl.replace(/^https:\/\//, "").replace(/\/$/, "") };
}

/** Per secretsmanager app: its role, policies, secret and organization key, read from the records. */
export function appsOf(run: RunResult<unknown>, env: string): AppAws[] {
    const account = ACCOUNTS[env];
    const serviceAccounts = run.ofType("kubernetes:core/v1:ServiceAccount");
    return run.ofType("aws:iam/role:Role").map((role) => {
        const base = role.name.replace(/-role$/, "");
        const trust = JSON.parse(role.inputs.assumeRolePolicy);
        const roleArn = `arn:aws:iam::${account}:role/${role.inputs.name}`;
        // Whose role it is comes from the ServiceAccount annotated with it (what EKS reads), never from the
        // trust policy under test.
        const annotated = serviceAccounts.filter((s) => s.inputs.metadata.annotations?.["eks.amazonaws.com/role-arn"] === roleArn);
        if (annotated.length !== 1) throw new Error(`${roleArn}: annotated on ${annotated.length} ServiceAccounts, expected 1`);
        const namespace: string = annotated[0].inputs.metadata.namespace;
        const serviceAccount: string = annotated[0].inputs.metadata.name;
        const rolePolicy = run.byName("aws:iam/rolePolicy:RolePolicy", `${base}-read-secret`);
        const secret = run.byName("aws:secretsmanager/secret:Secret", `${base}-secret`);
        const secretPolicy = run.byName("aws:secretsmanager/secretPolicy:SecretPolicy", `${base}-secret-policy`);
        const version = run.byName("aws:secretsmanager/secretVersion:SecretVersion", `${base}-secret-value`);
        const key = run.ofType("aws:kms/key:Key").find((k) => secret.inputs.kmsKeyId === `arn:aws:kms:${REGION}:${account}:key/${k.name}-key-id`);
        if (!key) throw new Error(`${secret.name}: no registered key ${secret.inputs.kmsKeyId}`);
        return {
            key: `${namespace}/${serviceAccount}`,
            namespace,
            serviceAccount,
            roleName: role.inputs.name,
            roleArn,
            trust,
            identityPolicy: JSON.parse(rolePolicy.inputs.policy),
            secret,
            secretArn: `arn:aws:secretsmanager:${REGION}:${account}:secret:${secret.inputs.name}-AbCdEf`,
            secretPolicy: JSON.parse(secretPolicy.inputs.policy),
            secretJson: JSON.parse(version.inputs.secretString),
            keyArn: secret.inputs.kmsKeyId,
            keyPolicy: JSON.parse(key.inputs.policy),
        };
    });
}
