import * as k8s from "@pulumi/kubernetes";

/**
 * Pod and container security settings meeting Pod Security "restricted", for a process running as `uid`
 * (and group `uid`): the one definition the server's pod and the spiffe-helper sidecars use.
 */
export function restrictedSecurityContexts(uid: number): { pod: k8s.types.input.core.v1.PodSecurityContext; container: k8s.types.input.core.v1.SecurityContext } {
    return {
        pod: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            fsGroup: uid,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        },
        container: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}
