/**
 * What the mock "provider" returns for computed outputs, per type token (the inputs are echoed back too).
 * Values are deterministic so tests can assert on them. Secrets the engine would mark secret through
 * `additionalSecretOutputs` are NOT marked here: the mocks do not do that, so our code must wrap them itself.
 */
import { createHash } from "crypto";

/** Deterministic fake password/random string derived from a resource name. */
export function fakeRandom(name: string, length: number): string {
    let out = "";
    let i = 0;
    while (out.length < length) out += createHash("sha256").update(`${name}:${i++}`).digest("base64").replace(/[^A-Za-z0-9]/g, "");
    return out.slice(0, length);
}

/** Deterministic fake random bytes derived from a resource name. */
export function fakeBytes(name: string, length: number): Buffer {
    const chunks: Buffer[] = [];
    for (let i = 0; Buffer.concat(chunks).length < length; i++) chunks.push(createHash("sha256").update(`${name}:bytes:${i}`).digest());
    return Buffer.concat(chunks).subarray(0, length);
}

/**
 * Logical names of random resources (`random:*`) the mocks give new values, as `pulumi up --replace
 * <urn>` would (tests of password rotation add names here and clear the set afterwards).
 */
export const replacedRandomResources = new Set<string>();

/** What the mocks derive a random resource's value from: its name, or a new seed once it is replaced. */
export function mockRandomSeed(name: string): string {
    return replacedRandomResources.has(name) ? `${name}#replaced` : name;
}

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";

/**
 * A scheduled rotation's keeper (`keepers.rotationPeriod`, components/rotation.ts): the engine replaces a
 * random resource when its keepers change, so the mocks give a new value per period.
 */
function rotationSeed(name: string, inputs: any): string {
    const period = inputs?.keepers?.rotationPeriod;
    return period === undefined ? name : `${name}@period${period}`;
}

export function mockOutputs(type: string, name: string, inputs: any, account = ACCOUNT): Record<string, unknown> {
    const ACCOUNT = account;
    if (type.startsWith("random:")) name = mockRandomSeed(rotationSeed(name, inputs));
    switch (type) {
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
            return { result: fakeRandom(name, inputs.length ?? 32), bcryptHash: "$2a$10$mock" };
        case "random:index/randomBytes:RandomBytes": {
            const bytes = fakeBytes(name, inputs.length ?? 32);
            return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        case "random:index/randomId:RandomId":
            return { hex: fakeRandom(name, 16).toLowerCase(), b64Url: fakeRandom(name, 11) };
        case "tls:index/privateKey:PrivateKey":
            return { privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${fakeRandom(name, 64)}\n-----END PRIVATE KEY-----\n`, publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${fakeRandom(name + "pub", 64)}\n-----END PUBLIC KEY-----\n`, privateKeyPemPkcs8: `-----BEGIN PRIVATE KEY-----\n${fakeRandom(name, 64)}\n-----END PRIVATE KEY-----\n` };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: `-----BEGIN CERTIFICATE-----\n${fakeRandom(name, 64)}\n-----END CERTIFICATE-----\n`, validityEndTime: "2036-01-01T00:00:00Z" };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${fakeRandom(name, 64)}\n-----END CERTIFICATE REQUEST-----\n` };
        case "aws:rds/instance:Instance":
            return { address: `${inputs.identifier ?? name}.abcdefghijkl.${REGION}.rds.amazonaws.com`, endpoint: `${inputs.identifier ?? name}.abcdefghijkl.${REGION}.rds.amazonaws.com:5432`, port: inputs.port ?? 5432, arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${inputs.identifier ?? name}`, masterUserSecrets: inputs.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-${name}-AbCdEf`, kmsKeyId: "mock", secretStatus: "active" }] : [] };
        case "aws:kms/key:Key":
            return { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}-key-id`, keyId: `${name}-key-id` };
        case "aws:kms/alias:Alias":
            return { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:${inputs.name}` };
        case "aws:secretsmanager/secret:Secret":
            return { arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${inputs.name ?? name}-AbCdEf` };
        case "aws:iam/role:Role":
            return { arn: `arn:aws:iam::${ACCOUNT}:role/${inputs.name ?? name}`, uniqueId: `AROA${fakeRandom(name, 17).toUpperCase()}` };
        case "aws:iam/policy:Policy":
            return { arn: `arn:aws:iam::${ACCOUNT}:policy/${inputs.name ?? name}` };
        case "aws:ec2/securityGroup:SecurityGroup":
            return { arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-${name}`, id: `sg-${name}` };
        case "aws:rds/subnetGroup:SubnetGroup":
        case "aws:rds/parameterGroup:ParameterGroup":
            return { arn: `arn:aws:rds:${REGION}:${ACCOUNT}:${type.includes("subnet") ? "subgrp" : "pg"}:${inputs.name ?? name}` };
        case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            return { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(inputs.url ?? "").replace(/^https:\/\//, "")}` };
        default:
            if (type.startsWith("kubernetes:") && inputs && typeof inputs === "object" && inputs.metadata) {
                return { metadata: { ...inputs.metadata, name: inputs.metadata.name ?? name, uid: `${name}-uid` } };
            }
            return {};
    }
}
