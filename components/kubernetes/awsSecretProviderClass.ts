import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as yaml from "js-yaml";
import { managedLabels } from "./organizationNamespace";

/** The keys of the Secrets Manager JSON an app's pod receives, each as a file and in the synced Secret. */
export const SECRET_JSON_KEYS = ["engine", "host", "port", "database", "dbname", "username", "password", "sslmode", "DATABASE_URL"] as const;

/** The `objects` parameter (a YAML string): the secret by name, one jmesPath entry per JSON key. */
export function awsSecretObjects(secretName: string): string {
    return yaml.dump([{
        objectName: secretName,
        objectType: "secretsmanager",
        jmesPath: SECRET_JSON_KEYS.map((key) => ({ path: key, objectAlias: key })),
    }]);
}

export interface AwsSecretProviderClassArgs {
    namespace: pulumi.Input<string>;
    name: string;
    app: string;
    secretName: string;
    region: string;
    /** Also sync a Kubernetes Secret (same name) for env vars, e.g. `envFrom`. */
    syncSecret?: boolean;
}

/** Delivery `csi`, provider aws: a SecretProviderClass (secrets-store.csi.x-k8s.io/v1) in the app's namespace. */
export function awsSecretProviderClass(name: string, args: AwsSecretProviderClassArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(name, {
        apiVersion: "secrets-store.csi.x-k8s.io/v1",
        kind: "SecretProviderClass",
        metadata: { name: args.name, namespace: args.namespace, labels: managedLabels({ "app.kubernetes.io/name": args.app }) },
        spec: {
            provider: "aws",
            parameters: {
                region: args.region,
                usePodIdentity: "false",
                objects: awsSecretObjects(args.secretName),
            },
            secretObjects: args.syncSecret === false ? undefined : [{
                secretName: args.name,
                type: "Opaque",
                data: SECRET_JSON_KEYS.map((key) => ({ objectName: key, key })),
            }],
        },
    }, opts);
}
