import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { NO_ELEVATED_ATTRIBUTES } from "./roleAttributes";
import * as random from "@pulumi/random";
import { AccessLevel } from "../types";
import { SCRAM_SALT_BYTES, scramSha256VerifierAsync } from "./scramVerifier";

export interface AppLoginArgs {
    /** PostgreSQL role name of the login. */
    roleName: string;
    /** Access level; the login becomes a member of exactly this group role. */
    access: AccessLevel;
    /** Name of the organization's group role for `access`. */
    groupRole: pulumi.Input<string>;
    /** CONNECTION LIMIT of the login. */
    connectionLimit: number;
    /**
     * Who manages the password after creation. `pulumi` (default): a secret RandomPassword that Pulumi
     * keeps. `vault`: Vault's static role rotates it, so Pulumi sets an initial password only once
     * (write-only `passwordWo`) and never fights the rotation. `none`: the login has no password at all
     * (tls mtls, where its client certificate is its only credential).
     */
    passwordManagedBy?: "pulumi" | "vault" | "none";
    /**
     * `keepers` of the login's RandomPassword: a new password is generated whenever they change (scheduled
     * rotation keeps the period in which the login last became active here). Absent: no keepers.
     */
    passwordKeepers?: Record<string, string>;
}

/** Options every app login gets: a LOGIN role with no elevated attribute, privileges only through its group. */
export function loginRoleSettings(args: AppLoginArgs): postgresql.RoleArgs {
    return {
        name: args.roleName,
        login: true,
        inherit: true,
        ...NO_ELEVATED_ATTRIBUTES,
        connectionLimit: args.connectionLimit,
        roles: [args.groupRole],
        // Owner apps act as the owner group role, so every object they create belongs to the group and the
        // group's default privileges give readwrite/readonly apps access to it.
        assumeRole: args.access === "owner" ? args.groupRole : undefined,
    };
}

/**
 * What a Role gets instead of `password`: the SCRAM-SHA-256 verifier of it (a secret), so no SQL statement
 * the provider sends (`CREATE ROLE … PASSWORD '…'`, `ALTER ROLE … PASSWORD '…'`) ever carries the password
 * itself; PostgreSQL stores a verifier as-is and the login authenticates with the plaintext. The salt is a
 * `RandomBytes` child `<name>-scram-salt` (random, kept in state, never derived from the password), so the
 * verifier is stable across runs and refreshes; it is generated anew whenever the password changes
 * (`keepers`), e.g. after `pulumi up --replace` of the RandomPassword. The PBKDF2 rounds run on the thread
 * pool (`scramSha256VerifierAsync`), beside the registrations on the main thread.
 */
export function scramVerifierOf(name: string, password: pulumi.Output<string>, parent: pulumi.Resource): pulumi.Output<string> {
    const salt = new random.RandomBytes(`${name}-scram-salt`, {
        length: SCRAM_SALT_BYTES,
        keepers: { password: pulumi.secret(password) },
    }, { parent, additionalSecretOutputs: ["keepers", "base64", "hex"] });
    return pulumi.secret(pulumi.all([password, salt.base64]).apply(([plain, salt64]) => scramSha256VerifierAsync(plain, Buffer.from(salt64, "base64"))));
}

/**
 * A generated login password (a secret): 32 characters with letters, digits and only characters that are
 * safe in connection strings once URL-encoded and in shells. `keepers` change it (scheduled rotation).
 */
export function generatedLoginPassword(name: string, parent: pulumi.Resource, keepers?: Record<string, string>): pulumi.Output<string> {
    const password = new random.RandomPassword(name, {
        length: 32,
        special: true,
        overrideSpecial: "-_.~!*",
        minLower: 1,
        minUpper: 1,
        minNumeric: 1,
        ...(keepers ? { keepers } : {}),
    }, { parent });
    return pulumi.secret(password.result);
}

/**
 * One app's PostgreSQL LOGIN role: a member of exactly its organization's group role for its access level,
 * never SUPERUSER/CREATEROLE/CREATEDB/BYPASSRLS/REPLICATION, with a connection limit, and a generated
 * password kept as a Pulumi secret. The Role only ever gets the password's SCRAM-SHA-256 verifier
 * (`scramVerifierOf`); the plaintext goes only to the credentials delivered to the app.
 */
export class AppLogin extends pulumi.ComponentResource {
    /** The login role name. */
    public readonly username: pulumi.Output<string>;
    /**
     * The password (secret); for Vault-managed logins only the initial one, rotated away by Vault;
     * undefined for a login without one (`passwordManagedBy: "none"`).
     */
    public readonly password?: pulumi.Output<string>;
    /** The role resource (for dependsOn). */
    public readonly role: postgresql.Role;

    constructor(name: string, args: AppLoginArgs, opts?: pulumi.ComponentResourceOptions) {
        super("postgres-access:index:AppLogin", name, {}, opts);
        const managedBy = args.passwordManagedBy ?? "pulumi";
        const settings = loginRoleSettings(args);
        if (managedBy === "none") {
            this.role = new postgresql.Role(`${name}-role`, settings, { parent: this });
            this.username = this.role.name;
            this.registerOutputs({ username: this.username });
            return;
        }
        const secretPassword = generatedLoginPassword(`${name}-password`, this, args.passwordKeepers);
        const verifier = scramVerifierOf(name, secretPassword, this);
        this.role = new postgresql.Role(`${name}-role`, {
            ...settings,
            ...(managedBy === "pulumi"
                ? { password: verifier }
                : { passwordWo: verifier, passwordWoVersion: "1" }),
        }, { parent: this, additionalSecretOutputs: ["password", "passwordWo"] });
        this.username = this.role.name;
        this.password = secretPassword;
        this.registerOutputs({ username: this.username });
    }
}
