/**
 * The config contract: the schema of `postgres-access:*` stack config and of `PostgresAccess` args, the
 * checks across fields, and the helpers they use (certificate bundles, access requests).
 */
export * from "./stackConfig";
export * from "./certificateBundle";
export * from "./accessRequestConfig";
export * from "./accessRequestStack";
