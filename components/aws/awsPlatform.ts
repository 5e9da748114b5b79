/**
 * Shared AWS pieces for every app of the stack (account, region, OIDC provider data, fetched once).
 * Placeholder until the AWS path is wired (issue 3).
 */
import { AppSpec, OrganizationSpec } from "../types";
import * as pulumi from "@pulumi/pulumi";

export interface AwsAppPlatform {
    /** Annotations of an app's ServiceAccount (the IRSA role ARN). */
    serviceAccountAnnotations(organization: OrganizationSpec, app: AppSpec): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined;
}
