/**
 * Extra lines per organization and per app in the offline plan (JSON `extras` and the text plan), for
 * reports that are not access itself: access requests, rotation status, ... A module adds an extension to
 * `planExtensions`; each returns plain lines (deterministic: no clock reads beyond `components/clock.ts`).
 */
import type { RecordedResource } from "../../testing/offlineRun";
import type { StackOutputs } from "../../stacks/program";
import type { AppSpec, OrganizationSpec } from "../../components/types";

/** What an extension sees. `app` is absent for organization lines. */
export interface PlanExtraContext {
    env: string;
    preview: boolean;
    outputs: StackOutputs;
    /** Every resource the program registered. */
    resources: RecordedResource[];
    organization: OrganizationSpec;
    /** The custom resources below the organization's (or, with `app`, the app's) component. */
    own: RecordedResource[];
    app?: AppSpec;
}

export interface PlanExtension {
    /** Short name, prefixed to each line (`rotation: next in 3 days`). */
    name: string;
    organization?(context: PlanExtraContext): string[];
    app?(context: PlanExtraContext & { app: AppSpec }): string[];
}

/** The extensions the plan runs, in order. */
export const planExtensions: PlanExtension[] = [];

/** The lines of every extension for one organization or app, each `<name>: <line>`. */
export function extraLines(context: PlanExtraContext, extensions: PlanExtension[] = planExtensions): string[] {
    const lines: string[] = [];
    for (const extension of extensions) {
        const got = context.app ? extension.app?.(context as PlanExtraContext & { app: AppSpec }) : extension.organization?.(context);
        for (const line of got ?? []) lines.push(`${extension.name}: ${line}`);
    }
    return lines;
}
