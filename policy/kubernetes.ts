/**
 * Kubernetes policies: no credentials in ConfigMaps or in plain `env` values (they belong in Secrets or
 * come from Vault/CSI), every pod template meets Pod Security "restricted" (v1.35, the checker in
 * `podSecurityRestricted.ts`), and namespaces enforce that profile themselves.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, isObject } from "./common";
import { plainCredential, credentialIn, isCredentialName } from "./credentials";
import { checkPodSecurityRestricted } from "./podSecurityRestricted";

export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
export const NAMESPACE = "kubernetes:core/v1:Namespace";

/** Where each pod-bearing kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
    Pod: ["spec"],
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    ReplicaSet: ["spec", "template", "spec"],
    ReplicationController: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
    PodTemplate: ["template", "spec"],
};

/** The kind of a pod-bearing Kubernetes resource type (`kubernetes:apps/v1:Deployment` → `Deployment`). */
export function workloadKind(type: string): string | undefined {
    const m = /^kubernetes:[^:]+:([A-Za-z]+)$/.exec(type);
    return m && POD_SPEC_PATHS[m[1]] ? m[1] : undefined;
}

export const noCredentialsInConfigMaps: ResourceValidationPolicy = {
    name: "kubernetes-no-credentials-in-configmaps",
    description: "ConfigMaps hold no credentials (keys named like password/token/secret, passwords in URLs or key=value strings, private keys): those go to Secrets.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== CONFIG_MAP) return;
        const data = isObject(args.props.data) ? args.props.data : {};
        for (const key of Object.keys(data).sort()) {
            const why = plainCredential(key, data[key]);
            if (why) reportViolation(`data.${key} looks like a credential (${why}); put it in a Secret`);
        }
        const binary = isObject(args.props.binaryData) ? args.props.binaryData : {};
        for (const key of Object.keys(binary).sort()) {
            const text = typeof binary[key] === "string" ? Buffer.from(binary[key], "base64").toString("utf8") : "";
            const why = isCredentialName(key) && text ? "its name says it is a credential" : credentialIn(text);
            if (why) reportViolation(`binaryData.${key} looks like a credential (${why}); put it in a Secret`);
        }
    },
};

/** The pod spec of a workload's props, and its path. */
function podSpecOf(kind: string, props: Record<string, any>): { spec: any; path: string } | undefined {
    let spec: any = props;
    for (const key of POD_SPEC_PATHS[kind]) spec = isObject(spec) ? spec[key] : undefined;
    return isObject(spec) ? { spec, path: POD_SPEC_PATHS[kind].join(".") } : undefined;
}

export const noCredentialsInEnv: ResourceValidationPolicy = {
    name: "kubernetes-no-credentials-in-env",
    description: "Containers take credentials from Secrets (valueFrom.secretKeyRef, envFrom, mounted files), never from plain env values.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const kind = workloadKind(args.type);
        const pod = kind && podSpecOf(kind, args.props);
        if (!pod) return;
        for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
            asList<Record<string, any>>(pod.spec[field]).forEach((container, i) => {
                asList<Record<string, any>>(container?.env).forEach((env, j) => {
                    const why = env && plainCredential(String(env.name ?? ""), env.value);
                    if (why) reportViolation(`${pod.path}.${field}[${i}] (${container.name}) env ${env.name} is a plain value that looks like a credential (${why}); use valueFrom.secretKeyRef`);
                });
            });
        }
    },
};

export const podSecurityRestricted: ResourceValidationPolicy = {
    name: "kubernetes-pod-security-restricted",
    description: "Pods and pod templates (Deployment, StatefulSet, DaemonSet, Job, CronJob, …) meet Pod Security Standards \"restricted\" (v1.35).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const kind = workloadKind(args.type);
        if (!kind) return;
        const workload = kind === "PodTemplate" ? { kind, template: args.props.template } : { kind, metadata: args.props.metadata, spec: args.props.spec };
        if (!podSpecOf(kind, workload)) return; // nothing to check yet (e.g. a template given elsewhere)
        for (const problem of checkPodSecurityRestricted(workload)) reportViolation(problem);
    },
};

const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

export const namespaceEnforcesRestricted: ResourceValidationPolicy = {
    name: "kubernetes-namespace-enforces-restricted",
    description: "Namespaces carry pod-security.kubernetes.io/enforce: restricted, so the cluster refuses pods that are not (also those created outside Pulumi).",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== NAMESPACE) return;
        const labels = isObject(args.props.metadata) && isObject(args.props.metadata.labels) ? args.props.metadata.labels : {};
        if (labels[ENFORCE_LABEL] !== "restricted") {
            reportViolation(`label ${ENFORCE_LABEL} is ${labels[ENFORCE_LABEL] === undefined ? "missing" : JSON.stringify(labels[ENFORCE_LABEL])}; set it to "restricted"`);
        }
    },
};

export const kubernetesPolicies = [noCredentialsInConfigMaps, noCredentialsInEnv, podSecurityRestricted, namespaceEnforcesRestricted];
