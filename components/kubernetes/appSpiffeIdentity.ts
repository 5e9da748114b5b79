import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ClusterSpiffeId, SpiffeSettings, appCertificateCommonName, spiffeHelperConfig } from "./spiffe";
import { dnsLabel } from "../naming";
import { managedLabels } from "./organizationNamespace";

export interface AppSpiffeIdentityArgs {
    settings: SpiffeSettings;
    /** The app's namespace name (known from config). */
    namespace: string;
    /** The namespace as created (for ordering). */
    namespaceOutput: pulumi.Input<string>;
    /** The app's ServiceAccount. */
    serviceAccount: string;
}

/**
 * mtls, app side: a ClusterSPIFFEID giving the app's ServiceAccount its SPIFFE ID and the DNS name whose CN the
 * server maps to the app's login, and a ConfigMap `<sa>-spiffe-helper` with helper.conf for the app pod's
 * spiffe-helper sidecar (see README "Mutual TLS" for the pod pieces, also exported as `spiffePodPieces`).
 */
export class AppSpiffeIdentity extends pulumi.ComponentResource {
    /** CN of the app's certificate. */
    public readonly commonName: string;
    /** Name of the helper ConfigMap in the app's namespace. */
    public readonly helperConfigMap: pulumi.Output<string>;

    constructor(name: string, args: AppSpiffeIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:AppSpiffeIdentity", name, {}, opts);
        this.commonName = appCertificateCommonName(args.settings.trustDomain, args.namespace, args.serviceAccount);
        new ClusterSpiffeId(dnsLabel(args.namespace, args.serviceAccount, "postgres"), {
            settings: args.settings,
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            dnsNames: [this.commonName],
        }, { parent: this });
        const configMap = new k8s.core.v1.ConfigMap(`${name}-helper`, {
            metadata: { name: dnsLabel(args.serviceAccount, "spiffe-helper"), namespace: args.namespaceOutput, labels: managedLabels({ "app.kubernetes.io/name": args.serviceAccount }) },
            data: { "helper.conf": spiffeHelperConfig({ agentSocketPath: args.settings.agentSocketPath }) },
        }, { parent: this });
        this.helperConfigMap = configMap.metadata.name;
        this.registerOutputs({ helperConfigMap: this.helperConfigMap });
    }
}
