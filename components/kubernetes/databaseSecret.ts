import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ConnectionSettings, connectionFieldsOutput } from "../connectionInfo";
import { managedLabels } from "./organizationNamespace";

export interface DatabaseSecretArgs {
    /** Namespace of the app. */
    namespace: pulumi.Input<string>;
    /** Secret name. */
    secretName: string;
    /** Connection settings (host, port, database, username, sslmode, sslrootcert). */
    settings: pulumi.Input<ConnectionSettings>;
    /** The login password (secret); absent for a login whose client certificate is its credential (mtls). */
    password?: pulumi.Input<string>;
    /** CA bundle PEM added as `ca.crt` (for sslmode=verify-full). */
    caCertPem?: pulumi.Input<string>;
    /** Labels, e.g. the app name. */
    labels?: Record<string, string>;
    /** Annotations, e.g. for a reloader (absent: none). */
    annotations?: Record<string, string>;
}

/**
 * Delivery `secret`: an Opaque Secret in the app's namespace with engine, host, port, database, dbname,
 * username, password (none under mtls), sslmode and a correct, URL-encoded DATABASE_URL (plus `ca.crt`
 * for verify-full, and the certificate paths under mtls).
 * Pods use `envFrom: [{secretRef: {name}}]`, or mount it and point `sslrootcert` at `ca.crt`.
 */
export class DatabaseSecret extends pulumi.ComponentResource {
    /** Name of the Secret. */
    public readonly secretName: pulumi.Output<string>;
    /** The Secret's data as written (secret). */
    public readonly data: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: DatabaseSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:DatabaseSecret", name, {}, opts);
        const fields = connectionFieldsOutput(args.settings, args.password);
        const data = pulumi.secret(pulumi.all([fields, args.caCertPem]).apply(([f, ca]) => (ca ? { ...f, "ca.crt": ca } : f)));
        const secret = new k8s.core.v1.Secret(name, {
            metadata: { name: args.secretName, namespace: args.namespace, labels: managedLabels(args.labels), ...(args.annotations ? { annotations: args.annotations } : {}) },
            type: "Opaque",
            stringData: data,
        }, { parent: this, additionalSecretOutputs: ["data", "stringData"] });
        this.secretName = secret.metadata.name;
        this.data = data;
        this.registerOutputs({ secretName: this.secretName });
    }
}
