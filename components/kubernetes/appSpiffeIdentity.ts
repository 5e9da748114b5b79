import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    AppConnectionTarget, ClusterSpiffeId, MtlsAppPod, SpiffeSettings, appCertificateCommonName, databaseClientLabels, mtlsAppPod,
    spiffeHelperConfig, spiffeId,
} from "./spiffe";
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
    /** Where the app connects (for the PG* variables of the pod pieces). */
    connection?: pulumi.Input<AppConnectionTarget>;
}

/**
 * mtls, app side: a ClusterSPIFFEID giving the app's labelled pods running as its ServiceAccount the SPIFFE ID
 * `spiffe://<td>/ns/<ns>/sa/<sa>` and the DNS name (= certificate CN) the server maps to the app's login, and
 * a ConfigMap `<sa>-spiffe-helper` with helper.conf for the app pod's spiffe-helper sidecar. `pod` holds
 * the pod pieces (`mtlsAppPod`) an app team adds to its Deployment.
 */
export class AppSpiffeIdentity extends pulumi.ComponentResource {
    /** CN (and DNS SAN) of the app's certificate. */
    public readonly commonName: string;
    /** The app's SPIFFE ID (URI SAN). */
    public readonly spiffeId: string;
    /** Labels the app's pod template must carry. */
    public readonly podLabels: Record<string, string>;
    /** Name of the helper ConfigMap in the app's namespace. */
    public readonly helperConfigMap: pulumi.Output<string>;
    /** The pod pieces for the app's Deployment (sidecar, volumes, mounts, PG* env), for the default uid. */
    public readonly pod: pulumi.Output<MtlsAppPod>;

    constructor(name: string, args: AppSpiffeIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:AppSpiffeIdentity", name, {}, opts);
        this.commonName = appCertificateCommonName(args.settings.trustDomain, args.namespace, args.serviceAccount);
        this.spiffeId = spiffeId(args.settings.trustDomain, args.namespace, args.serviceAccount);
        this.podLabels = databaseClientLabels(args.serviceAccount);
        new ClusterSpiffeId(dnsLabel(args.namespace, args.serviceAccount, "postgres"), {
            settings: args.settings,
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            podLabels: this.podLabels,
            dnsNames: [this.commonName],
        }, { parent: this });
        const configMap = new k8s.core.v1.ConfigMap(`${name}-helper`, {
            metadata: { name: dnsLabel(args.serviceAccount, "spiffe-helper"), namespace: args.namespaceOutput, labels: managedLabels({ "app.kubernetes.io/name": args.serviceAccount }) },
            data: { "helper.conf": spiffeHelperConfig({ agentSocketPath: args.settings.agentSocketPath }) },
        }, { parent: this });
        this.helperConfigMap = configMap.metadata.name;
        this.pod = pulumi.all([this.helperConfigMap, args.connection]).apply(([helperConfigMap, connection]) => mtlsAppPod({
            settings: args.settings,
            serviceAccount: args.serviceAccount,
            helperConfigMap,
            connection: connection as AppConnectionTarget | undefined,
        }));
        this.registerOutputs({ helperConfigMap: this.helperConfigMap, commonName: this.commonName, spiffeId: this.spiffeId });
    }
}
