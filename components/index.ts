/** Public exports of the postgres-access component package. */
export * from "./types";
export * from "./naming";
export * from "./connectionInfo";
export * from "./database/postgresServer";
export * from "./database/serverConfig";
export * from "./database/statefulSetPostgres";
export * from "./postgres/organizationDatabase";
export * from "./postgres/appLogin";
export * from "./kubernetes/organizationNamespace";
export * from "./kubernetes/databaseSecret";
export * from "./appAccess";
export * from "./organization";
