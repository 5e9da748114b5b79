/**
 * The postgres-access policy pack: DESIGN.md's security rules checked on the resources of any stack, also
 * stacks that use the components wrongly or write raw resources. Run it with
 * `pulumi preview --policy-pack policy` (from the project root), or offline with
 * `npm run plan -- <stack> --policy`.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { policies });
