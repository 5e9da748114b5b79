import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { managedLabels } from "./organizationNamespace";

export interface DatabaseCaConfigMapArgs {
    namespace: pulumi.Input<string>;
    /** ConfigMap name (`<app>-database-ca`). */
    name: string;
    app: string;
    /** PEM bundle the server certificate chains to. */
    caCertPem: pulumi.Input<string>;
}

/**
 * The server CA for `sslmode=verify-full` as a ConfigMap with key `ca.crt` (a CA is public, and the RDS
 * bundles are too large for a Secrets Manager value), for every app whose credentials do not carry it
 * themselves (Secrets Manager and every Vault delivery mode). Pods mount it where `sslrootcert` points.
 */
export function databaseCaConfigMap(name: string, args: DatabaseCaConfigMapArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.ConfigMap {
    return new k8s.core.v1.ConfigMap(name, {
        metadata: { name: args.name, namespace: args.namespace, labels: managedLabels({ "app.kubernetes.io/name": args.app }) },
        data: { "ca.crt": args.caCertPem },
    }, opts);
}
