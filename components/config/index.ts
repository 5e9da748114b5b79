/**
 * The config contract: the schema of `postgres-access:*` stack config and of `PostgresAccess` args
 * (`schema.ts`), the checks across fields and `parseStackConfig` (`rules.ts`), cron expressions (`cron.ts`),
 * how problems are reported (`problems.ts`), and the helpers they use (certificate bundles, access requests).
 */
export * from "./schema";
export * from "./rules";
export * from "./cron";
export * from "./stackSplit";
export * from "./problems";
export * from "./certificateBundle";
export * from "./accessRequestConfig";
export * from "./accessRequestStack";
