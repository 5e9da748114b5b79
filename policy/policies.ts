/**
 * Every policy of the pack, in one list: what `index.ts` serves to `pulumi preview --policy-pack policy`
 * and what the offline runner (`tools/policy/`) evaluates. Importing this module starts nothing.
 */
import { Policies } from "@pulumi/policy";
import { postgresqlPolicies } from "./postgresql";
import { rdsPolicies } from "./rds";
import { awsPolicies } from "./aws";
import { vaultPolicies } from "./vault";
import { kubernetesPolicies } from "./kubernetes";

/** The pack's name, as PulumiPolicy.yaml's folder is served under. */
export const POLICY_PACK_NAME = "postgres-access";

export const policies: Policies = [
    ...postgresqlPolicies,
    ...rdsPolicies,
    ...awsPolicies,
    ...vaultPolicies,
    ...kubernetesPolicies,
];
