/**
 * `postgres-access/testing`: run a program built from the components in-process under Pulumi's mocks
 * (no Pulumi CLI, no cloud account) and inspect every resource and invoke it registers.
 */
export * from "./offlineRun";
export { mockOutputs } from "./mockOutputs";
