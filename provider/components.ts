/**
 * The components the provider host serves to other languages, each with args and outputs Pulumi's
 * component analyzer accepts (plain data, enums, named interfaces). The args' shapes come first so the
 * analyzer reads their documentation before it meets the components.
 */
export * from "../components/postgresAccessArgs";
export * from "../components/platformConnection";
export type { OrganizationArgs } from "../components/organization";
export { PostgresAccess } from "../components/postgresAccess";
export { StatefulSetPostgres } from "../components/database/statefulSetPostgres";
export { RdsPostgres } from "../components/database/rdsPostgres";
export { Organization } from "../components/organization";
