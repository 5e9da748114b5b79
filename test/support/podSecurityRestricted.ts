/**
 * A Pod Security Standards "restricted" checker (Kubernetes v1.35), following the checks of
 * kubernetes/pod-security-admission (policy/check_*.go): all "baseline" checks plus the "restricted" ones,
 * over containers, initContainers and ephemeralContainers, with the Windows exemptions (spec.os.name
 * windows skips allowPrivilegeEscalation, seccomp and capabilities). It is itself tested against the
 * upstream fixtures (test/podSecurityRestricted.test.ts): it must accept every `pass/` Pod and reject
 * every `fail/` Pod.
 */

const BASELINE_CAPABILITIES = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const SAFE_SYSCTLS = new Set([
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const RESTRICTED_VOLUME_SOURCES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "image"]);
const WORKLOAD_TEMPLATE_PATHS: Record<string, string[]> = {
    Deployment: ["spec", "template"], StatefulSet: ["spec", "template"], DaemonSet: ["spec", "template"], ReplicaSet: ["spec", "template"],
    ReplicationController: ["spec", "template"], Job: ["spec", "template"], CronJob: ["spec", "jobTemplate", "spec", "template"], PodTemplate: ["template"],
};

interface PodParts {
    metadata: any;
    spec: any;
    /** Field path prefix of the pod spec, for messages. */
    at: string;
}

/** Finds the pod (metadata + spec) in a Pod, a workload, a pod template or a bare PodSpec. */
function podOf(obj: any): PodParts {
    if (obj?.kind && WORKLOAD_TEMPLATE_PATHS[obj.kind]) {
        let t = obj;
        for (const key of WORKLOAD_TEMPLATE_PATHS[obj.kind]) t = t?.[key];
        return { metadata: t?.metadata ?? {}, spec: t?.spec ?? {}, at: `${WORKLOAD_TEMPLATE_PATHS[obj.kind].join(".")}.spec` };
    }
    if (obj?.kind === "Pod" || (obj?.spec && obj?.spec?.containers)) return { metadata: obj.metadata ?? {}, spec: obj.spec ?? {}, at: "spec" };
    return { metadata: {}, spec: obj ?? {}, at: "spec" };
}

/** Violations of Pod Security "restricted" (empty when the pod is admitted). */
export function checkPodSecurityRestricted(obj: any): string[] {
    const { metadata, spec, at } = podOf(obj);
    const v: string[] = [];
    const podSc = spec.securityContext ?? {};
    const windows = spec.os?.name === "windows";
    const containers: [string, any][] = [];
    for (const kind of ["containers", "initContainers", "ephemeralContainers"]) {
        (spec[kind] ?? []).forEach((c: any, i: number) => containers.push([`${at}.${kind}[${i}]`, c]));
    }

    // --- baseline ---
    if (podSc.windowsOptions?.hostProcess === true) v.push(`${at}.securityContext.windowsOptions.hostProcess must not be true`);
    for (const [p, c] of containers) if (c.securityContext?.windowsOptions?.hostProcess === true) v.push(`${p}.securityContext.windowsOptions.hostProcess must not be true`);
    for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f] === true) v.push(`${at}.${f} must not be true`);
    for (const [p, c] of containers) if (c.securityContext?.privileged === true) v.push(`${p}.securityContext.privileged must not be true`);
    for (const [p, c] of containers) {
        for (const cap of c.securityContext?.capabilities?.add ?? []) if (!BASELINE_CAPABILITIES.has(cap)) v.push(`${p}.securityContext.capabilities.add must not include ${cap}`);
    }
    (spec.volumes ?? []).forEach((vol: any, i: number) => {
        if (vol.hostPath) v.push(`${at}.volumes[${i}].hostPath is not allowed`);
    });
    for (const [p, c] of containers) {
        (c.ports ?? []).forEach((port: any, i: number) => {
            if (port.hostPort) v.push(`${p}.ports[${i}].hostPort must be 0 or unset`);
        });
    }
    // host probes and lifecycle handlers (v1.34+): no `host` on httpGet / tcpSocket
    for (const [p, c] of containers) {
        const handlers: [string, any][] = [["livenessProbe", c.livenessProbe], ["readinessProbe", c.readinessProbe], ["startupProbe", c.startupProbe], ["lifecycle.postStart", c.lifecycle?.postStart], ["lifecycle.preStop", c.lifecycle?.preStop]];
        for (const [name, h] of handlers) {
            if (h?.httpGet?.host) v.push(`${p}.${name}.httpGet.host must be unset`);
            if (h?.tcpSocket?.host) v.push(`${p}.${name}.tcpSocket.host must be unset`);
        }
    }
    // AppArmor: annotations and fields
    for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
        if (key.startsWith("container.apparmor.security.beta.kubernetes.io/") && !(value === "runtime/default" || String(value).startsWith("localhost/"))) {
            v.push(`metadata.annotations["${key}"] must be runtime/default or localhost/*`);
        }
    }
    const appArmorOk = (profile: any) => !profile || profile.type === "RuntimeDefault" || profile.type === "Localhost";
    if (!appArmorOk(podSc.appArmorProfile)) v.push(`${at}.securityContext.appArmorProfile.type must be RuntimeDefault or Localhost`);
    for (const [p, c] of containers) if (!appArmorOk(c.securityContext?.appArmorProfile)) v.push(`${p}.securityContext.appArmorProfile.type must be RuntimeDefault or Localhost`);
    // SELinux
    const seLinux = (opts: any, path: string) => {
        if (!opts) return;
        if (!SELINUX_TYPES.has(opts.type ?? "")) v.push(`${path}.seLinuxOptions.type must be one of container_t, container_init_t, container_kvm_t, container_engine_t`);
        if (opts.user) v.push(`${path}.seLinuxOptions.user must be unset`);
        if (opts.role) v.push(`${path}.seLinuxOptions.role must be unset`);
    };
    seLinux(podSc.seLinuxOptions, `${at}.securityContext`);
    for (const [p, c] of containers) seLinux(c.securityContext?.seLinuxOptions, `${p}.securityContext`);
    // /proc mount: restricted allows only Default
    for (const [p, c] of containers) {
        const pm = c.securityContext?.procMount;
        if (pm !== undefined && pm !== "Default") v.push(`${p}.securityContext.procMount must be Default`);
    }
    // seccomp (baseline part): never Unconfined
    if (podSc.seccompProfile?.type === "Unconfined") v.push(`${at}.securityContext.seccompProfile.type must not be Unconfined`);
    for (const [p, c] of containers) if (c.securityContext?.seccompProfile?.type === "Unconfined") v.push(`${p}.securityContext.seccompProfile.type must not be Unconfined`);
    // sysctls
    (podSc.sysctls ?? []).forEach((s: any, i: number) => {
        if (!SAFE_SYSCTLS.has(s.name)) v.push(`${at}.securityContext.sysctls[${i}] ${s.name} is not a safe sysctl`);
    });

    // --- restricted ---
    (spec.volumes ?? []).forEach((vol: any, i: number) => {
        for (const key of Object.keys(vol)) {
            if (key !== "name" && !RESTRICTED_VOLUME_SOURCES.has(key) && vol[key] !== undefined && vol[key] !== null) v.push(`${at}.volumes[${i}].${key} is not an allowed volume type`);
        }
    });
    if (!windows) {
        for (const [p, c] of containers) if (c.securityContext?.allowPrivilegeEscalation !== false) v.push(`${p}.securityContext.allowPrivilegeEscalation must be false`);
    }
    // runAsNonRoot: explicitly true at pod level (and not false on a container), or true on every container
    const podNonRoot = podSc.runAsNonRoot === true;
    for (const [p, c] of containers) {
        const value = c.securityContext?.runAsNonRoot;
        if (value === false) v.push(`${p}.securityContext.runAsNonRoot must not be false`);
        else if (value !== true && !podNonRoot) v.push(`${p}.securityContext.runAsNonRoot must be true (or set on the pod)`);
    }
    if (podSc.runAsNonRoot === false) v.push(`${at}.securityContext.runAsNonRoot must not be false`);
    // runAsUser != 0
    if (podSc.runAsUser === 0) v.push(`${at}.securityContext.runAsUser must not be 0`);
    for (const [p, c] of containers) if (c.securityContext?.runAsUser === 0) v.push(`${p}.securityContext.runAsUser must not be 0`);
    if (!windows) {
        // seccomp: RuntimeDefault or Localhost at pod level, or on every container
        const okType = (t: any) => t === "RuntimeDefault" || t === "Localhost";
        const podSeccomp = podSc.seccompProfile?.type;
        for (const [p, c] of containers) {
            const t = c.securityContext?.seccompProfile?.type;
            if (t === undefined ? !okType(podSeccomp) : !okType(t)) v.push(`${p}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost (or set on the pod)`);
        }
        // capabilities: drop ALL, add only NET_BIND_SERVICE
        for (const [p, c] of containers) {
            const caps = c.securityContext?.capabilities ?? {};
            if (!(caps.drop ?? []).includes("ALL")) v.push(`${p}.securityContext.capabilities.drop must include ALL`);
            for (const cap of caps.add ?? []) if (cap !== "NET_BIND_SERVICE") v.push(`${p}.securityContext.capabilities.add may only include NET_BIND_SERVICE, not ${cap}`);
        }
    }
    return [...new Set(v)];
}
