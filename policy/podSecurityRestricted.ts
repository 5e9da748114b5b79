/**
 * Pod Security Standards "restricted" checker, as enforced by Kubernetes Pod Security Admission (PSA) at
 * level `restricted`, version `v1.35`.
 *
 * Written from (not copied from) kubernetes/pod-security-admission `policy/check_*.go` and
 * `policy/registry.go`. At restricted/v1.35 the registry runs these checks:
 *
 *   baseline (not overridden): appArmorProfile, hostNamespaces, hostPorts, hostProbesAndHostLifecycle (≥1.34),
 *                              privileged, seLinuxOptions (1.31 type list), sysctls (1.32 safe list),
 *                              windowsHostProcess
 *   restricted:                allowPrivilegeEscalation, capabilities_restricted, procMount_restricted (1.35),
 *                              restrictedVolumes, runAsNonRoot (1.35), runAsUser (1.35), seccompProfile_restricted
 *
 * and these baseline checks are *overridden* by a restricted one (so they do not run on their own):
 * capabilities_baseline → capabilities_restricted, hostPathVolumes → restrictedVolumes,
 * procMount → procMount_restricted, seccompProfile_baseline → seccompProfile_restricted.
 * Consequences that mirror upstream exactly:
 *  - Windows pods (`spec.os.name: windows`) skip allowPrivilegeEscalation, capabilities_restricted and
 *    seccompProfile_restricted entirely (and, because those override the baseline variants, the baseline
 *    capability list and seccomp "Unconfined" checks do not apply to them either).
 *  - Pods with `spec.hostUsers: false` skip runAsNonRoot and runAsUser (v1.35), but NOT procMount (the
 *    restricted procMount check, new in v1.35, has no user-namespace relaxation).
 *
 * Input handling follows what the API server hands PSA: a field that is absent or `null` is Go's nil/zero
 * value; a volume with no source at all is the API-defaulted implicit `emptyDir`. Deliberately a little
 * stricter than Go where Go would see a value the API server rejects anyway: a boolean that must not be
 * true is a violation unless it is absent/null/`false` (so `"true"` or a YAML-1.1 `yes` is caught), and a
 * volume is allowed only if every source it names is on the allow-list (unknown source keys count as
 * restricted, like upstream's "unknown" type).
 *
 * `checkPodSecurityRestricted` returns one message per offending field (empty array = admitted), each
 * naming the field path, e.g. `spec.containers[0].securityContext.allowPrivilegeEscalation must be false`.
 */

/** Kinds whose pod template PSA evaluates (besides Pod itself), and where the template lives. */
const TEMPLATE_PATHS: Record<string, string[]> = {
    Deployment: ["spec", "template"],
    StatefulSet: ["spec", "template"],
    DaemonSet: ["spec", "template"],
    ReplicaSet: ["spec", "template"],
    Job: ["spec", "template"],
    ReplicationController: ["spec", "template"],
    CronJob: ["spec", "jobTemplate", "spec", "template"],
    PodTemplate: ["template"],
};

/** Baseline capabilities list (capabilities_baseline); only relevant to document the override. */
export const BASELINE_ALLOWED_CAPABILITIES: readonly string[] = [
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
];

/** sysctls safe list at v1.32–v1.36 (v1.37 adds tcp_slow_start_after_idle and tcp_notsent_lowat). */
export const SAFE_SYSCTLS_V1_35: readonly string[] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/** seLinuxOptions.type values allowed since v1.31 ("" = unset). */
const SELINUX_TYPES_V1_31 = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

/** Volume sources the restricted profile allows. */
const ALLOWED_VOLUME_SOURCES = [
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected",
    "secret",
];

/** Every VolumeSource member of core/v1 Volume at v1.35 (anything else on a volume besides `name` is unknown). */
const KNOWN_VOLUME_SOURCES = [
    ...ALLOWED_VOLUME_SOURCES,
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
    "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
];

const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

interface PodUnderTest {
    /** Pod (or template) metadata; may be undefined. */
    metadata: any;
    spec: any;
    /** Path prefix of the pod metadata, e.g. `metadata` or `spec.template.metadata`. */
    metaPath: string;
    /** Path prefix of the pod spec, e.g. `spec`, `spec.template.spec`, or "" for a bare PodSpec. */
    specPath: string;
}

interface VisitedContainer {
    c: any;
    /** e.g. `spec.initContainers[0]` */
    path: string;
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null;
/** A Go *bool that must not be true: anything other than nil/false is a violation. */
const notFalse = (v: unknown): boolean => isSet(v) && v !== false;
/** A Go string: nil → "". */
const str = (v: unknown): string => (isSet(v) ? String(v) : "");
const q = (v: unknown): string => JSON.stringify(v);
const join = (prefix: string, field: string): string => (prefix ? `${prefix}.${field}` : field);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): any => (v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined);

function locatePod(input: any): PodUnderTest {
    if (!obj(input)) {
        throw new TypeError("checkPodSecurityRestricted: expected a Pod, a workload, a pod template or a PodSpec");
    }
    const kind: unknown = input.kind;
    if (kind === "Pod") {
        return { metadata: input.metadata, spec: obj(input.spec) ?? {}, metaPath: "metadata", specPath: "spec" };
    }
    if (typeof kind === "string" && kind !== "") {
        const path = TEMPLATE_PATHS[kind];
        if (!path) {
            throw new TypeError(`checkPodSecurityRestricted: kind ${kind} has no pod spec`);
        }
        let template: any = input;
        for (const key of path) template = obj(template)?.[key];
        if (!obj(template) || !obj(template.spec)) {
            throw new TypeError(`checkPodSecurityRestricted: ${kind} has no ${path.join(".")}.spec`);
        }
        const base = path.join(".");
        return { metadata: template.metadata, spec: template.spec, metaPath: `${base}.metadata`, specPath: `${base}.spec` };
    }
    // No kind: a pod template ({metadata, spec}) or a bare PodSpec.
    if (obj(input.spec) && Array.isArray(input.spec.containers)) {
        return { metadata: input.metadata, spec: input.spec, metaPath: "metadata", specPath: "spec" };
    }
    if (Array.isArray(input.containers)) {
        return { metadata: undefined, spec: input, metaPath: "metadata", specPath: "" };
    }
    throw new TypeError("checkPodSecurityRestricted: cannot find a pod spec (no kind, no containers)");
}

/** Same order as upstream visitContainers: init, regular, ephemeral. */
function containersOf(spec: any, specPath: string): VisitedContainer[] {
    const out: VisitedContainer[] = [];
    for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
        arr(spec[field]).forEach((c, i) => {
            out.push({ c: obj(c) ?? {}, path: join(specPath, `${field}[${i}]`) });
        });
    }
    return out;
}

function sc(c: any): any {
    return obj(c.securityContext);
}

export function checkPodSecurityRestricted(input: any): string[] {
    const pod = locatePod(input);
    const spec = pod.spec;
    const sp = pod.specPath;
    const podSC = obj(spec.securityContext);
    const podSCPath = join(sp, "securityContext");
    const containers = containersOf(spec, sp);
    const isWindows = obj(spec.os)?.name === "windows";
    const userNamespace = spec.hostUsers === false; // relaxPolicyForUserNamespacePod
    const v: string[] = [];

    // ---- baseline: appArmorProfile ----------------------------------------------------------------------
    const appArmorType = (profile: any, path: string) => {
        if (!isSet(profile)) return;
        const t = str(obj(profile)?.type);
        if (t !== "RuntimeDefault" && t !== "Localhost") {
            v.push(`${path}.appArmorProfile.type must be "RuntimeDefault" or "Localhost" (got ${q(t)})`);
        }
    };
    if (podSC) appArmorType(podSC.appArmorProfile, podSCPath);
    for (const { c, path } of containers) {
        if (sc(c)) appArmorType(sc(c).appArmorProfile, `${path}.securityContext`);
    }
    const annotations = obj(obj(pod.metadata)?.annotations) ?? {};
    for (const key of Object.keys(annotations).sort()) {
        if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
        const value = str(annotations[key]);
        if (!(value === "" || value === "runtime/default" || value.startsWith("localhost/"))) {
            v.push(
                `${pod.metaPath}.annotations[${q(key)}] must be "runtime/default", "localhost/<profile>" or empty ` +
                    `(got ${q(value)})`,
            );
        }
    }

    // ---- baseline: hostNamespaces -------------------------------------------------------------------
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (notFalse(spec[field])) v.push(`${join(sp, field)} must not be true`);
    }

    // ---- baseline: hostPorts --------------------------------------------------------------------------
    for (const { c, path } of containers) {
        arr(c.ports).forEach((p, j) => {
            const hostPort = obj(p)?.hostPort;
            if (isSet(hostPort) && Number(hostPort) !== 0) {
                v.push(`${path}.ports[${j}].hostPort must be unset or 0 (got ${q(hostPort)})`);
            }
        });
    }

    // ---- baseline: hostProbesAndHostLifecycle (v1.34+) ----------------------------------------------------
    const handlerHosts = (handler: any, path: string) => {
        if (!obj(handler)) return;
        for (const action of ["httpGet", "tcpSocket"]) {
            const host = obj(handler[action])?.host;
            if (str(host) !== "") v.push(`${path}.${action}.host must be unset (got ${q(host)})`);
        }
    };
    for (const { c, path } of containers) {
        for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
            handlerHosts(c[probe], `${path}.${probe}`);
        }
        const lifecycle = obj(c.lifecycle);
        if (lifecycle) {
            for (const hook of ["postStart", "preStop"]) handlerHosts(lifecycle[hook], `${path}.lifecycle.${hook}`);
        }
    }

    // ---- baseline: privileged -------------------------------------------------------------------------
    for (const { c, path } of containers) {
        if (sc(c) && notFalse(sc(c).privileged)) v.push(`${path}.securityContext.privileged must not be true`);
    }

    // ---- baseline: seLinuxOptions (v1.31 type list) ----------------------------------------------------
    const seLinux = (opts: any, path: string) => {
        if (!isSet(opts)) return;
        const o = obj(opts) ?? {};
        const t = str(o.type);
        if (!SELINUX_TYPES_V1_31.includes(t)) {
            v.push(
                `${path}.seLinuxOptions.type must be unset or one of ` +
                    `${SELINUX_TYPES_V1_31.filter((x) => x).join(", ")} (got ${q(t)})`,
            );
        }
        if (str(o.user) !== "") v.push(`${path}.seLinuxOptions.user must be unset`);
        if (str(o.role) !== "") v.push(`${path}.seLinuxOptions.role must be unset`);
    };
    if (podSC) seLinux(podSC.seLinuxOptions, podSCPath);
    for (const { c, path } of containers) {
        if (sc(c)) seLinux(sc(c).seLinuxOptions, `${path}.securityContext`);
    }

    // ---- baseline: sysctls (v1.32 safe list) -------------------------------------------------------------
    if (podSC) {
        arr(podSC.sysctls).forEach((s, i) => {
            const name = str(obj(s)?.name);
            if (!SAFE_SYSCTLS_V1_35.includes(name)) {
                v.push(`${podSCPath}.sysctls[${i}].name ${q(name)} is not a safe sysctl`);
            }
        });
    }

    // ---- baseline: windowsHostProcess ------------------------------------------------------------------
    if (podSC && notFalse(obj(podSC.windowsOptions)?.hostProcess)) {
        v.push(`${podSCPath}.windowsOptions.hostProcess must not be true`);
    }
    for (const { c, path } of containers) {
        if (sc(c) && notFalse(obj(sc(c).windowsOptions)?.hostProcess)) {
            v.push(`${path}.securityContext.windowsOptions.hostProcess must not be true`);
        }
    }

    // ---- restricted: allowPrivilegeEscalation (v1.25: Windows exempt) -------------------------------------
    if (!isWindows) {
        for (const { c, path } of containers) {
            if (sc(c)?.allowPrivilegeEscalation !== false) {
                v.push(`${path}.securityContext.allowPrivilegeEscalation must be false`);
            }
        }
    }

    // ---- restricted: capabilities_restricted (v1.25: Windows exempt; overrides capabilities_baseline) ----
    if (!isWindows) {
        for (const { c, path } of containers) {
            const caps = obj(sc(c)?.capabilities);
            const capsPath = `${path}.securityContext.capabilities`;
            if (!arr(caps?.drop).some((d) => d === "ALL")) {
                v.push(`${capsPath}.drop must include "ALL"`);
            }
            arr(caps?.add).forEach((a, k) => {
                if (a !== "NET_BIND_SERVICE") {
                    v.push(`${capsPath}.add[${k}] must be "NET_BIND_SERVICE" (got ${q(a)})`);
                }
            });
        }
    }

    // ---- restricted: procMount_restricted (v1.35; overrides baseline procMount, no hostUsers relaxation) --
    for (const { c, path } of containers) {
        const procMount = sc(c)?.procMount;
        if (isSet(procMount) && procMount !== "Default") {
            v.push(`${path}.securityContext.procMount must be unset or "Default" (got ${q(procMount)})`);
        }
    }

    // ---- restricted: restrictedVolumes (overrides hostPathVolumes) ---------------------------------------
    arr(spec.volumes).forEach((vol, i) => {
        const volume = obj(vol) ?? {};
        const sources = Object.keys(volume).filter((k) => k !== "name" && isSet(volume[k]));
        // No source at all = API-defaulted emptyDir.
        const bad = sources.filter((k) => !ALLOWED_VOLUME_SOURCES.includes(k));
        for (const k of bad) {
            const type = KNOWN_VOLUME_SOURCES.includes(k) ? k : `unknown (${k})`;
            v.push(
                `${join(sp, `volumes[${i}]`)}.${k} (volume ${q(str(volume.name))}) uses restricted volume type ${type}; ` +
                    `allowed: ${ALLOWED_VOLUME_SOURCES.join(", ")}`,
            );
        }
    });

    // ---- restricted: runAsNonRoot (v1.35: hostUsers=false exempt) ----------------------------------------
    if (!userNamespace) {
        let podRunAsNonRoot = false;
        if (podSC && isSet(podSC.runAsNonRoot)) {
            if (podSC.runAsNonRoot === true) podRunAsNonRoot = true;
            else v.push(`${podSCPath}.runAsNonRoot must not be false`);
        }
        for (const { c, path } of containers) {
            const value = sc(c)?.runAsNonRoot;
            if (isSet(value)) {
                if (value !== true) v.push(`${path}.securityContext.runAsNonRoot must not be false`);
            } else if (!podRunAsNonRoot) {
                v.push(`${path}.securityContext.runAsNonRoot must be true (or set ${podSCPath}.runAsNonRoot=true)`);
            }
        }
    }

    // ---- restricted: runAsUser (v1.35: hostUsers=false exempt) -------------------------------------------
    if (!userNamespace) {
        const isRoot = (u: unknown) => isSet(u) && Number(u) === 0;
        if (podSC && isRoot(podSC.runAsUser)) v.push(`${podSCPath}.runAsUser must not be 0`);
        for (const { c, path } of containers) {
            if (isRoot(sc(c)?.runAsUser)) v.push(`${path}.securityContext.runAsUser must not be 0`);
        }
    }

    // ---- restricted: seccompProfile_restricted (v1.25: Windows exempt; overrides seccompProfile_baseline) -
    if (!isWindows) {
        const validSeccomp = (t: string) => t === "RuntimeDefault" || t === "Localhost";
        let podSeccompSet = false;
        if (podSC && isSet(podSC.seccompProfile)) {
            const t = str(obj(podSC.seccompProfile)?.type);
            if (validSeccomp(t)) podSeccompSet = true;
            else v.push(`${podSCPath}.seccompProfile.type must be "RuntimeDefault" or "Localhost" (got ${q(t)})`);
        }
        for (const { c, path } of containers) {
            const profile = sc(c)?.seccompProfile;
            if (isSet(profile)) {
                const t = str(obj(profile)?.type);
                if (!validSeccomp(t)) {
                    v.push(`${path}.securityContext.seccompProfile.type must be "RuntimeDefault" or "Localhost" (got ${q(t)})`);
                }
            } else if (!podSeccompSet) {
                v.push(
                    `${path}.securityContext.seccompProfile.type must be "RuntimeDefault" or "Localhost" ` +
                        `(or set ${podSCPath}.seccompProfile)`,
                );
            }
        }
    }

    return v;
}
