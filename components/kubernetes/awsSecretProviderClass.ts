/**
 * Delivery `csi` for credentials in AWS Secrets Manager: a SecretProviderClass of the Secrets Store CSI
 * driver's AWS provider (for verify-full the server CA travels beside it, see databaseCaConfigMap.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as yaml from "js-yaml";
import { ConnectionSettings, SslMode, connectionFields } from "../connectionInfo";
import { managedLabels } from "./organizationNamespace";

/** TLS file paths a connection may carry (they become JSON keys of the secret too). */
export type TlsFilePaths = Pick<ConnectionSettings, "sslrootcert" | "sslcert" | "sslkey">;

/**
 * The keys of an app's Secrets Manager JSON, in order: exactly what `connectionFields` writes for this
 * sslmode and these TLS files (derived from it, so the SecretProviderClass can never ask for a key the
 * secret lacks: the AWS provider fails the whole mount when a jmesPath finds nothing).
 */
export function secretJsonKeys(sslmode: SslMode, tlsFiles: TlsFilePaths = {}): string[] {
    return Object.keys(connectionFields({ host: "h", port: 5432, database: "d", username: "u", sslmode, ...tlsFiles }, "p"));
}

/** A JSON key as a JMESPath expression: bare if it is an identifier, else a quoted identifier. */
export function jmesPathOf(key: string): string {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
}

/**
 * The `objects` parameter (a YAML string): the secret by name, one jmesPath entry per JSON key, each
 * mounted as a file named after the key.
 */
export function awsSecretObjects(secretName: string, keys: string[]): string {
    return yaml.dump([{
        objectName: secretName,
        objectType: "secretsmanager",
        jmesPath: keys.map((key) => ({ path: jmesPathOf(key), objectAlias: key })),
    }]);
}

export interface AwsSecretProviderClassArgs {
    /** The app's namespace. */
    namespace: pulumi.Input<string>;
    /** Name of the SecretProviderClass (and of the synced Secret). */
    name: string;
    /** App name (label). */
    app: string;
    /** Secrets Manager secret name. */
    secretName: string;
    /** The secret's JSON keys (see `secretJsonKeys`). */
    keys: string[];
    /** Region of the secret. */
    region: string;
    /** Also sync a Kubernetes Secret (same name) for env vars, e.g. `envFrom`. Default true. */
    syncSecret?: boolean;
}

/** The SecretProviderClass object's `spec` (pure; every parameter value a string, as the CRD requires). */
export function awsSecretProviderClassSpec(args: Pick<AwsSecretProviderClassArgs, "name" | "app" | "secretName" | "keys" | "region" | "syncSecret">): Record<string, unknown> {
    return {
        provider: "aws",
        parameters: {
            region: args.region,
            // IRSA: the provider uses the pod's ServiceAccount token and its role-arn annotation.
            usePodIdentity: "false",
            objects: awsSecretObjects(args.secretName, args.keys),
        },
        ...(args.syncSecret === false ? {} : {
            // The driver creates this Secret while a pod mounts the volume, and deletes it when none does.
            secretObjects: [{
                secretName: args.name,
                type: "Opaque",
                labels: managedLabels({ "app.kubernetes.io/name": args.app }),
                data: args.keys.map((key) => ({ objectName: key, key })),
            }],
        }),
    };
}

/** Delivery `csi`, provider aws: a SecretProviderClass (secrets-store.csi.x-k8s.io/v1) in the app's namespace. */
export function awsSecretProviderClass(name: string, args: AwsSecretProviderClassArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(name, {
        apiVersion: "secrets-store.csi.x-k8s.io/v1",
        kind: "SecretProviderClass",
        metadata: { name: args.name, namespace: args.namespace, labels: managedLabels({ "app.kubernetes.io/name": args.app }) },
        spec: awsSecretProviderClassSpec(args),
    }, opts);
}
