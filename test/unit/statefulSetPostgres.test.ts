/**
 * StatefulSetPostgres on its own under mocks (up and preview): a hardened single-replica server, its
 * TLS-only authentication, its Services and the NetworkPolicy in front of it.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import { RunResult, isSecret, runPulumi, valueOf } from "../../testing/offlineRun";
import { checkPodSecurityRestricted } from "../../policy/podSecurityRestricted";
import { StatefulSetPostgres, StatefulSetPostgresArgs } from "../../components/database/statefulSetPostgres";
import { MTLS_SERVER_PATHS, SERVER_PID_FILE, SOCKET_DIR, renderPgHba, serverSettings } from "../../components/database/serverConfig";
import { T, assertKubernetesValid } from "./helpers";

const ARGS: StatefulSetPostgresArgs = {
    namespace: "db",
    version: "16",
    tls: "require",
    storageSize: "5Gi",
    storageClassName: "fast-retain",
    resources: { requests: { cpu: "300m", memory: "600Mi" }, limits: { cpu: "2", memory: "2Gi" } },
    maxConnections: 150,
    clientNamespaces: ["acme", "globex"],
    extraCertificateNames: ["localhost", "127.0.0.1"],
};

interface Result { server: StatefulSetPostgres; host?: string; port?: number; adminPasswordSecret: boolean; caSecret: boolean }

function runServer(preview: boolean, args: StatefulSetPostgresArgs = ARGS): Promise<RunResult<Result>> {
    return runPulumi(async () => {
        const server = new StatefulSetPostgres("pg", args);
        return {
            server,
            host: preview ? undefined : await valueOf(server.host),
            port: preview ? undefined : await valueOf(server.port),
            adminPasswordSecret: await isSecret(server.adminPassword),
            caSecret: await isSecret(server.caCertPem),
        };
    }, { preview });
}

/** Parses pg_hba.conf into rule rows (comments and blank lines dropped). */
function hbaRules(text: string): string[][] {
    return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((l) => l.split(/\s+/));
}

for (const preview of [false, true]) {
    describe(`StatefulSetPostgres (${preview ? "preview" : "up"})`, function () {
        this.timeout(30000);
        let run: RunResult<Result>;
        let sts: any;
        let pod: any;
        let container: any;
        before(async () => {
            run = await runServer(preview);
            sts = run.ofType(T.statefulSet)[0].inputs;
            pod = sts.spec.template.spec;
            container = pod.containers.find((c: any) => c.name === "postgres");
        });

        it("registers one server: a namespace, one StatefulSet with one replica, two Services, and no PodDisruptionBudget", () => {
            assert.strictEqual(run.ofType(T.statefulSet).length, 1);
            assert.strictEqual(sts.spec.replicas, 1);
            assert.deepStrictEqual(run.ofType(T.namespace).map((r) => r.inputs.metadata.name), ["db"]);
            assert.strictEqual(run.ofType(T.service).length, 2);
            assert.strictEqual(run.ofType(T.pdb).length, 0, "with one replica a PDB that protects the pod blocks every node drain");
            for (const r of run.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:") && x.type !== T.namespace)) {
                assert.strictEqual(r.inputs.metadata.namespace, "db", `${r.type} ${r.name} in the server's namespace`);
            }
        });

        it("enforces Pod Security restricted on its namespace and its pod passes the restricted checker", () => {
            assert.strictEqual(run.ofType(T.namespace)[0].inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
            assert.deepStrictEqual(checkPodSecurityRestricted({ kind: "StatefulSet", ...sts }), []);
        });

        it("runs as the non-root postgres uid with seccomp RuntimeDefault, no privilege escalation, all capabilities dropped", () => {
            const sc = pod.securityContext;
            assert.strictEqual(sc.runAsNonRoot, true);
            assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0, "non-zero uid");
            assert.strictEqual(sc.fsGroup, sc.runAsUser, "the data volume is group-writable by postgres");
            assert.deepStrictEqual(sc.seccompProfile, { type: "RuntimeDefault" });
            const csc = container.securityContext;
            assert.strictEqual(csc.allowPrivilegeEscalation, false);
            assert.strictEqual(csc.privileged, false);
            assert.deepStrictEqual(csc.capabilities, { drop: ["ALL"] }, "nothing added back");
            assert.strictEqual(csc.readOnlyRootFilesystem, true);
            assert.strictEqual(pod.automountServiceAccountToken, false, "PostgreSQL never talks to the API server");
            assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC);
        });

        it("keeps every directory PostgreSQL writes on a volume (the root filesystem is read-only)", () => {
            const mounts: string[] = container.volumeMounts.filter((m: any) => !m.readOnly).map((m: any) => m.mountPath);
            for (const dir of ["/var/run/postgresql", "/tmp"]) assert.ok(mounts.includes(dir), `${dir} writable`);
            const volumeNames = new Set([...pod.volumes.map((v: any) => v.name), ...sts.spec.volumeClaimTemplates.map((t: any) => t.metadata.name)]);
            for (const m of container.volumeMounts) assert.ok(volumeNames.has(m.name), `mount ${m.name} has a volume`);
        });

        it("puts PGDATA one level below the mount of the PVC template (initdb never meets lost+found)", () => {
            const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
            const data = container.volumeMounts.find((m: any) => m.name === sts.spec.volumeClaimTemplates[0].metadata.name);
            assert.ok(data, "the PVC template is mounted");
            const pgdata: string = env.PGDATA.value;
            assert.ok(pgdata.startsWith(`${data.mountPath}/`) && pgdata.length > data.mountPath.length + 1, `${pgdata} below ${data.mountPath}`);
            assert.ok(!pgdata.slice(data.mountPath.length + 1).includes("/"), "one level, not deeper");
        });

        it("hands the admin password from its Secret only to the initdb init container, as a file (POSTGRES_PASSWORD_FILE), and scram-sha-256 from initdb on", () => {
            const adminSecret = run.byName(T.secret, "pg-admin");
            if (!preview) assert.strictEqual(adminSecret.inputs.stringData.POSTGRES_PASSWORD.length, 32);
            assert.ok(adminSecret.secretPaths.some((p) => p === "stringData" || p === "stringData.POSTGRES_PASSWORD"), "admin password secret in the Secret");
            const initdb = pod.initContainers.find((c: any) => c.name === "initdb");
            assert.ok(initdb, "an initdb init container");
            assert.deepStrictEqual(initdb.command, ["docker-ensure-initdb.sh"], "the image's initializer, a no-op once PGDATA exists");
            assert.deepStrictEqual(initdb.args, container.args, "its temporary server runs with the server's settings");
            assert.strictEqual(initdb.image, container.image);
            const env = Object.fromEntries(initdb.env.map((e: any) => [e.name, e]));
            assert.strictEqual(env.POSTGRES_PASSWORD, undefined, "not in the environment");
            const file: string = env.POSTGRES_PASSWORD_FILE.value;
            const mount = initdb.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
            assert.strictEqual(mount.readOnly, true);
            const volume = pod.volumes.find((v: any) => v.name === mount.name);
            assert.strictEqual(volume.secret.secretName, adminSecret.inputs.metadata.name);
            assert.deepStrictEqual(volume.secret.items, [{ key: "POSTGRES_PASSWORD", path: file.slice(mount.mountPath.length + 1) }], "the file holds the password");
            assert.strictEqual(volume.secret.defaultMode & 0o007, 0, "not world-readable");
            assert.strictEqual(env.PGDATA.value, Object.fromEntries(container.env.map((e: any) => [e.name, e.value])).PGDATA);
            for (const m of container.volumeMounts) assert.ok(initdb.volumeMounts.some((i: any) => i.name === m.name && i.mountPath === m.mountPath), `initdb mounts ${m.mountPath} like the server`);
            assert.match(env.POSTGRES_INITDB_ARGS.value, /--auth-host=scram-sha-256/);
            assert.doesNotMatch(env.POSTGRES_INITDB_ARGS.value, /trust|md5/);
        });

        it("runs the server container without the admin password: no env var (the image's entrypoint would export it to postgres), no Secret mount", () => {
            assert.deepStrictEqual(container.command, ["postgres"], "postgres itself, not the entrypoint that exports POSTGRES_PASSWORD");
            assert.deepStrictEqual(container.env.map((e: any) => e.name), ["PGDATA"]);
            for (const c of [...pod.initContainers, ...pod.containers]) {
                assert.ok(!c.env.some((e: any) => /^POSTGRES_PASSWORD$|^PGPASSWORD$/.test(e.name) || e.valueFrom), `${c.name}: no password or Secret reference in the environment`);
            }
            const secretVolumes = pod.volumes.filter((v: any) => v.secret && v.secret.secretName === run.byName(T.secret, "pg-admin").inputs.metadata.name).map((v: any) => v.name);
            assert.ok(!container.volumeMounts.some((m: any) => secretVolumes.includes(m.name)), "the server does not mount the admin Secret");
        });

        it("retains the data volume when the StatefulSet is deleted or scaled down", () => {
            assert.deepStrictEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
            const claim = sts.spec.volumeClaimTemplates[0].spec;
            assert.deepStrictEqual(claim.resources.requests, { storage: "5Gi" });
            assert.strictEqual(claim.storageClassName, "fast-retain");
            assert.deepStrictEqual(claim.accessModes, ["ReadWriteOnce"]);
        });

        it("has readiness, liveness and startup probes against the server's own port", () => {
            for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
                const p = container[probe];
                assert.ok(p, probe);
                const command: string[] = p.exec.command;
                assert.strictEqual(command[0], "pg_isready", probe);
                assert.ok(command.includes(`--port=${container.ports[0].containerPort}`), `${probe} checks the container port`);
                assert.ok(p.periodSeconds > 0 && p.failureThreshold > 0 && p.timeoutSeconds > 0, probe);
            }
            assert.ok(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= 120, "recovery after a crash gets minutes before liveness may kill it");
        });

        it("sets the configured requests and limits", () => {
            assert.deepStrictEqual(container.resources, ARGS.resources);
        });

        it("starts PostgreSQL with ssl on, scram-sha-256, TLS ≥ 1.2, its pg_hba and key files from the mounted volumes", () => {
            const args: string[] = container.args;
            const settings = Object.fromEntries(args.filter((_, i) => args[i - 1] === "-c").map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
            assert.strictEqual(settings.ssl, "on");
            assert.strictEqual(settings.password_encryption, "scram-sha-256");
            assert.strictEqual(settings.ssl_min_protocol_version, "TLSv1.2");
            assert.strictEqual(settings.max_connections, "150");
            const mountOf = (file: string) => container.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
            const hbaMount = mountOf(settings.hba_file);
            const hbaVolume = pod.volumes.find((v: any) => v.name === hbaMount.name);
            const hbaConfigMap = run.ofType(T.configMap).find((r) => r.inputs.metadata.name === hbaVolume.configMap.name)!;
            assert.ok(hbaConfigMap, "hba_file comes from the generated ConfigMap");
            assert.strictEqual(hbaConfigMap.inputs.data[settings.hba_file.slice(hbaMount.mountPath.length + 1)], renderPgHba({ tls: "require", adminUser: "postgres", maxConnections: 150 }));
            const tlsSecret = run.ofType(T.secret).find((r) => r.inputs.type === "kubernetes.io/tls")!;
            for (const [setting, key] of [["ssl_cert_file", "tls.crt"], ["ssl_key_file", "tls.key"]]) {
                const m = mountOf(settings[setting]);
                const volume = pod.volumes.find((v: any) => v.name === m.name);
                assert.strictEqual(volume.secret.secretName, tlsSecret.inputs.metadata.name, setting);
                assert.strictEqual(settings[setting], `${m.mountPath}/${key}`, setting);
                assert.strictEqual(volume.secret.defaultMode & 0o007, 0, "the key is not world-readable (PostgreSQL refuses it)");
            }
        });

        it("serves a TLS Secret whose private key is a Pulumi secret, from a certificate naming every client host", () => {
            const tlsSecret = run.ofType(T.secret).find((r) => r.inputs.type === "kubernetes.io/tls")!;
            if (!preview) assert.deepStrictEqual(Object.keys(tlsSecret.inputs.stringData).sort(), ["ca.crt", "tls.crt", "tls.key"]);
            assert.ok(tlsSecret.secretPaths.some((p) => p === "stringData" || p === "stringData.tls.key"), "tls.key is secret");
            const csr = run.ofType("tls:index/certRequest:CertRequest")[0].inputs;
            for (const name of ["postgres", "postgres.db", "postgres.db.svc", "postgres.db.svc.cluster.local", "localhost"]) {
                assert.ok(csr.dnsNames.includes(name), `server certificate names ${name}`);
            }
            assert.deepStrictEqual(csr.ipAddresses, ["127.0.0.1"], "IP addresses go to IP SANs, not DNS SANs");
            const cert = run.ofType("tls:index/locallySignedCert:LocallySignedCert")[0];
            assert.ok(cert.inputs.allowedUses.includes("server_auth"));
            assert.ok(cert.secretPaths.includes("caPrivateKeyPem"), "the CA key is secret where it is used");
            assert.ok(cert.inputs.earlyRenewalHours > 0, "renewed before it expires");
            assert.strictEqual(run.ofType("tls:index/selfSignedCert:SelfSignedCert")[0].inputs.isCaCertificate, true);
        });

        it("has a headless Service for the StatefulSet and a ClusterIP client Service, both selecting the pod on the named port", () => {
            const [headless] = run.ofType(T.service).filter((r) => r.inputs.spec.clusterIP === "None");
            const [client] = run.ofType(T.service).filter((r) => r.inputs.spec.clusterIP !== "None");
            assert.ok(headless && client);
            assert.strictEqual(sts.spec.serviceName, headless.inputs.metadata.name, "the StatefulSet's governing Service is the headless one");
            assert.strictEqual(client.inputs.spec.type, "ClusterIP", "never exposed outside the cluster");
            const podLabels = sts.spec.template.metadata.labels;
            for (const svc of [headless, client]) {
                for (const [k, v] of Object.entries(svc.inputs.spec.selector)) assert.strictEqual(podLabels[k], v, `${svc.name} selects the pod`);
                assert.deepStrictEqual(svc.inputs.spec.ports.map((p: any) => [p.port, p.targetPort]), [[5432, "postgresql"]]);
            }
            assert.ok(container.ports.some((p: any) => p.name === "postgresql" && p.containerPort === 5432));
            for (const [k, v] of Object.entries(sts.spec.selector.matchLabels)) assert.strictEqual(podLabels[k], v, "the selector matches the template");
        });

        it("admits TCP 5432 only from the organizations' namespaces", () => {
            const policies = run.ofType(T.networkPolicy);
            assert.strictEqual(policies.length, 1);
            const spec = policies[0].inputs.spec;
            for (const [k, v] of Object.entries(spec.podSelector.matchLabels)) assert.strictEqual(sts.spec.template.metadata.labels[k], v, "applies to the server pod");
            assert.deepStrictEqual(spec.policyTypes, ["Ingress"]);
            assert.strictEqual(spec.ingress.length, 1);
            assert.deepStrictEqual(spec.ingress[0].ports, [{ protocol: "TCP", port: 5432 }]);
            assert.deepStrictEqual(spec.ingress[0].from, [{ namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["acme", "globex"] }] } }]);
        });

        it("exposes the admin password and only it as a secret output", async () => {
            assert.strictEqual(run.result.adminPasswordSecret, true);
            assert.strictEqual(run.result.caSecret, false, "the CA certificate is public");
            if (!preview) {
                assert.strictEqual(run.result.host, "postgres.db.svc.cluster.local");
                assert.strictEqual(run.result.port, 5432);
            }
        });

        it("produces objects Kubernetes accepts", async function () {
            if (preview) this.skip(); // unknown values are not valid objects
            const kinds = await assertKubernetesValid(run.resources);
            assert.deepStrictEqual([...kinds].sort(), ["ConfigMap", "Namespace", "NetworkPolicy", "Secret", "Service", "StatefulSet"]);
        });
    });
}

describe("StatefulSetPostgres: edge cases", function () {
    this.timeout(30000);

    it("keeps its namespace (and so the data volume in it) when the server is destroyed or moved", async () => {
        const retained = new Map<string, boolean | undefined>();
        await runPulumi(() => new StatefulSetPostgres("pg", ARGS, {
            transformations: [(a) => {
                retained.set(a.type, a.opts.retainOnDelete);
                return undefined;
            }],
        }));
        assert.strictEqual(retained.get(T.namespace), true, "deleting a namespace deletes its PVCs, whatever the StatefulSet's retention policy");
        assert.strictEqual(retained.get(T.statefulSet), false, "the StatefulSet itself goes; its PVC retention policy keeps the volume");
    });

    it("with no client namespaces the NetworkPolicy admits nobody (an empty `from` would admit everyone)", async () => {
        const run = await runServer(false, { ...ARGS, clientNamespaces: [] });
        const ingress = run.ofType(T.networkPolicy)[0].inputs.spec.ingress;
        for (const rule of ingress) {
            assert.ok(Array.isArray(rule.from) && rule.from.length > 0, "every rule names its peers");
            for (const peer of rule.from) {
                const values = peer.namespaceSelector?.matchExpressions?.[0]?.values ?? [];
                assert.ok(values.length > 0 && values.every((v: string) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)), `matches no real namespace: ${JSON.stringify(peer)}`);
            }
        }
    });

    it("refuses tls mtls without SPIFFE settings", async () => {
        await assert.rejects(runServer(false, { ...ARGS, tls: "mtls" }), /mtls.*spiffe/);
    });

    it("rolls the pod when pg_hba.conf or the server certificate changes (annotations hash the content)", async () => {
        const run = await runServer(false);
        const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);
        const annotations = run.ofType(T.statefulSet)[0].inputs.spec.template.metadata.annotations;
        assert.strictEqual(annotations["postgres-access/pg-hba-sha"], sha(run.ofType(T.configMap)[0].inputs.data["pg_hba.conf"]));
        const tlsSecret = run.ofType(T.secret).find((r) => r.inputs.type === "kubernetes.io/tls")!;
        assert.strictEqual(annotations["postgres-access/server-cert-sha"], sha(tlsSecret.inputs.stringData["tls.crt"]));
    });
});

describe("pg_hba.conf and server settings (pure)", () => {
    for (const tls of ["require", "verify-full", "mtls"] as const) {
        it(`${tls}: TCP only over TLS, plaintext rejected first-match safe, no weak methods`, () => {
            const rules = hbaRules(renderPgHba({ tls, adminUser: "postgres", maxConnections: 100 }));
            const tcp = rules.filter((r) => r[0].startsWith("host"));
            assert.ok(tcp.every((r) => r[0] === "hostssl" || r[0] === "hostnossl"), "no plain `host` rules (they match TLS and plaintext alike)");
            assert.ok(tcp.filter((r) => r[0] === "hostnossl").every((r) => r.at(-1) === "reject"));
            assert.deepStrictEqual(tcp.filter((r) => r[0] === "hostnossl").map((r) => r[3]).sort(), ["0.0.0.0/0", "::/0"], "every IPv4 and IPv6 plaintext connection");
            for (const r of rules) assert.ok(!["trust", "password", "md5", "ident"].includes(r[4]), `weak method in ${r.join(" ")}`);
            const local = rules.filter((r) => r[0] === "local");
            assert.deepStrictEqual(local, [["local", "all", "postgres", "peer"], ["local", "all", "all", "reject"]], "the socket only for the postgres OS user");
            const admitting = tcp.filter((r) => r[0] === "hostssl" && r.at(-1) !== "reject");
            if (tls === "mtls") {
                for (const r of admitting.filter((x) => x[2] === "all")) assert.deepStrictEqual(r.slice(4), ["cert", "map=spiffe", "clientname=CN"], "apps by certificate, mapped to their one login");
                for (const r of admitting.filter((x) => x[2] === "postgres")) assert.ok(["127.0.0.1/32", "::1/128"].includes(r[3]), "the admin only from loopback");
            } else {
                assert.ok(admitting.length > 0 && admitting.every((r) => r[4] === "scram-sha-256" && r.length === 5));
            }
        });
    }

    it("ssl is on in every mode; mtls adds the client CA and ident map", () => {
        for (const tls of ["require", "verify-full"] as const) {
            const s = serverSettings({ tls, adminUser: "postgres", maxConnections: 10 });
            assert.strictEqual(s.ssl, "on");
            assert.strictEqual(s.ssl_ca_file, undefined);
        }
        assert.throws(() => serverSettings({ tls: "mtls", adminUser: "postgres", maxConnections: 10 }), /clientCaFile/);
    });

    it("mtls: the PID file spiffe-helper signals is outside the socket directory (the helper must not reach the socket)", () => {
        const s = serverSettings({ tls: "mtls", adminUser: "postgres", maxConnections: 10 }, MTLS_SERVER_PATHS);
        assert.strictEqual(s.external_pid_file, SERVER_PID_FILE);
        assert.strictEqual(s.unix_socket_directories, undefined, "the image's default socket directory");
        assert.ok(!s.external_pid_file.startsWith(`${SOCKET_DIR}/`), s.external_pid_file);
    });
});

