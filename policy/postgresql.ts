/**
 * PostgreSQL policies (resources of `@pulumi/postgresql`): no role with attributes or predefined-role
 * memberships that lift it above least privilege, CREATEROLE only for the login a Vault database connection
 * uses, nothing granted to PUBLIC, and every database created with PUBLIC's default rights revoked.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asList, isObject } from "./common";

export const ROLE = "postgresql:index/role:Role";
export const GRANT = "postgresql:index/grant:Grant";
export const GRANT_ROLE = "postgresql:index/grantRole:GrantRole";
export const DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges";
export const SCHEMA = "postgresql:index/schema:Schema";
export const DATABASE = "postgresql:index/database:Database";
const VAULT_CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection";
const VAULT_SECRETS_MOUNT = "vault:database/secretsMount:SecretsMount";

/** Role attributes no role of ours may have (as `@pulumi/postgresql` names them), with their SQL names. */
const ELEVATED_ATTRIBUTES: [prop: string, sql: string][] = [
    ["superuser", "SUPERUSER"],
    ["createDatabase", "CREATEDB"],
    ["bypassRowLevelSecurity", "BYPASSRLS"],
    ["replication", "REPLICATION"],
];

/**
 * Predefined roles whose membership reaches past one organization's database: every table, server files or
 * programs, other sessions' queries or signals, replication, other roles' passwords (RDS), or superuser
 * (RDS, Azure, Cloud SQL).
 */
export const ELEVATED_PREDEFINED_ROLES: readonly string[] = [
    "pg_read_all_data", "pg_write_all_data", "pg_read_server_files", "pg_write_server_files",
    "pg_execute_server_program", "pg_signal_backend", "pg_signal_autovacuum_worker", "pg_read_all_stats",
    "pg_monitor", "pg_create_subscription", "pg_checkpoint", "pg_use_reserved_connections",
    "rds_superuser", "rds_replication", "rds_password", "azure_pg_admin", "cloudsqlsuperuser",
];

const isPublic = (role: unknown): boolean => typeof role === "string" && role.toLowerCase() === "public";
const roleName = (props: Record<string, any>, resourceName: string): string => (typeof props.name === "string" && props.name ? props.name : resourceName);

export const roleLeastPrivilege: ResourceValidationPolicy = {
    name: "postgresql-role-least-privilege",
    description: "PostgreSQL roles get no SUPERUSER, CREATEDB, BYPASSRLS or REPLICATION and no membership in predefined roles that reach past their own database (pg_read_all_data, rds_superuser, …).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === ROLE) {
            const props = args.props;
            const name = roleName(props, args.name);
            const kind = props.login === true ? "login role" : "role";
            for (const [prop, sql] of ELEVATED_ATTRIBUTES) {
                if (props[prop] === true) reportViolation(`${kind} ${name} has ${sql} (${prop}: true); app and group roles never do`);
            }
            for (const member of asList<string>(props.roles)) {
                if (ELEVATED_PREDEFINED_ROLES.includes(String(member).toLowerCase())) {
                    reportViolation(`${kind} ${name} is a member of ${member}, which reaches past its own database`);
                }
            }
        } else if (args.type === GRANT_ROLE) {
            const granted = String(args.props.grantRole ?? "");
            if (ELEVATED_PREDEFINED_ROLES.includes(granted.toLowerCase())) {
                reportViolation(`grants ${granted} to ${args.props.role}, which reaches past its own database`);
            }
        }
    },
};

/** The logins Vault database connections (or a SecretsMount's connection blocks) log in as. */
function vaultConnectionLogins(resources: { type: string; props: Record<string, any> }[]): Set<string> {
    const logins = new Set<string>();
    for (const r of resources) {
        const blocks = r.type === VAULT_CONNECTION
            ? Object.values(r.props).filter(isObject)
            : r.type === VAULT_SECRETS_MOUNT ? Object.values(r.props).flatMap((v) => (Array.isArray(v) ? v.filter(isObject) : [])) : [];
        for (const block of blocks) {
            if (typeof block.username === "string") logins.add(block.username);
        }
    }
    return logins;
}

export const createRoleOnlyForVault: StackValidationPolicy = {
    name: "postgresql-createrole-only-vault-admin",
    description: "Only the login a Vault database connection of the same stack uses may have CREATEROLE (to create short-lived users); no other role may.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const roles = args.resources.filter((r) => r.type === ROLE && r.props.createRole === true);
        if (roles.length === 0) return;
        const vaultLogins = vaultConnectionLogins(args.resources);
        for (const role of roles) {
            const name = roleName(role.props, role.name);
            if (role.props.login === true && vaultLogins.has(name)) continue;
            reportViolation(`role ${name} has CREATEROLE but is not the login of a Vault database connection in this stack`, role.urn);
        }
    },
};

export const noPublicPrivileges: ResourceValidationPolicy = {
    name: "postgresql-no-public-privileges",
    description: "Nothing is granted to PUBLIC: grants and default privileges for PUBLIC only revoke (empty privileges), schema policies name a role.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const props = args.props;
        if ((args.type === GRANT || args.type === DEFAULT_PRIVILEGES) && isPublic(props.role)) {
            const privileges = asList<string>(props.privileges);
            if (privileges.length > 0) {
                const on = args.type === DEFAULT_PRIVILEGES ? `future ${props.objectType}s in database ${props.database}`
                    : props.objectType === "database" ? `database ${props.database}` : `${props.objectType} in database ${props.database}`;
                reportViolation(`grants ${privileges.join(", ")} on ${on} to PUBLIC (every role on the server); only revokes (privileges: []) may name PUBLIC`);
            }
        } else if (args.type === SCHEMA) {
            asList<Record<string, any>>(props.policies).forEach((policy, i) => {
                const granted = ["usage", "usageWithGrant", "create", "createWithGrant"].filter((k) => policy?.[k] === true);
                if (granted.length && (policy.role === undefined || policy.role === null || policy.role === "" || isPublic(policy.role))) {
                    reportViolation(`policies[${i}] grants ${granted.join(", ")} on schema ${props.name ?? args.name} to PUBLIC (no role given)`);
                }
            });
        }
    },
};

export const databaseRevokesPublic: StackValidationPolicy = {
    name: "postgresql-database-revokes-public",
    description: "Every database the stack creates also revokes PUBLIC's default CONNECT and TEMPORARY (a Grant on the database to PUBLIC with privileges: []).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const revoked = new Set(args.resources
            .filter((r) => r.type === GRANT && isPublic(r.props.role) && r.props.objectType === "database" && asList(r.props.privileges).length === 0)
            .map((r) => r.props.database));
        for (const db of args.resources.filter((r) => r.type === DATABASE)) {
            const name = roleName(db.props, db.name);
            if (!revoked.has(name)) {
                reportViolation(`database ${name} keeps PUBLIC's default CONNECT and TEMPORARY: add a Grant {objectType: "database", database: "${name}", role: "public", privileges: []}`, db.urn);
            }
        }
    },
};

export const postgresqlPolicies = [roleLeastPrivilege, createRoleOnlyForVault, noPublicPrivileges, databaseRevokesPublic];
