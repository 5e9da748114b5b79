import * as pulumi from "@pulumi/pulumi";

/**
 * Former URNs written out as strings, for aliases.
 *
 * An alias given as a spec (`{ parent: … }`, `{ parent: pulumi.rootStackResource }`, `pulumi.createUrn(…)`)
 * costs the SDK an Output (and its promises) per alias on every registration; a URN string costs about
 * half as much (docs/operations.md "Performance and large stacks"). The engine treats both alike: it looks
 * the resource up in the previous state under the URN, and a child inherits the URN its parent was found
 * under. A URN string is only possible where the former parent's type chain is known without waiting for
 * its registration: at the top level, or under one of our components whose ancestors are all ours.
 * Elsewhere (a component of the user's program, a remote component's parent) callers keep the spec.
 */

/** The type chain (`<ancestor types>$<type>`, the URN's middle part) of our components that are known. */
const typeChains = new WeakMap<pulumi.Resource, string>();

/**
 * Records the type chain of `component` (type `type`) under `parent` (undefined: the top level), when the
 * parent's chain is known. Call it right after `super(…)` in a component constructor.
 */
export function recordTypeChain(component: pulumi.Resource, type: string, parent: pulumi.Resource | undefined): void {
    const chain = parent === undefined ? "" : typeChains.get(parent);
    if (chain !== undefined) typeChains.set(component, chain ? `${chain}$${type}` : type);
}

/**
 * The URN of a resource named `name` whose types below `parent` are `types` (e.g. `a$b` for a `b` that is
 * the child of an `a`), as a string: `urn:pulumi:<stack>::<project>::<parent's chain>$<types>::<name>`.
 * `parent` undefined means the top level. Undefined when the parent's chain is not known.
 */
export function urnUnder(parent: pulumi.Resource | undefined, types: string, name: string): string | undefined {
    const chain = parent === undefined ? "" : typeChains.get(parent);
    if (chain === undefined) return undefined;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${chain ? `${chain}$` : ""}${types}::${name}`;
}

/** The former top-level URN of a resource of type `type` named `name` (always known). */
export function topLevelUrn(type: string, name: string): string {
    return urnUnder(undefined, type, name)!;
}
