/**
 * The provider SDK class a type token is registered through, for the benchmark's `sdk` floor: the same
 * resources as the program, each constructed with its provider package's own class (`new
 * postgresql.Role(name, inputs)`), as any program using those providers must. A class adds what the plain
 * `pulumi.CustomResource` floor leaves out: an Output for every declared output property, the aliases the
 * provider SDK sets itself (e.g. `DefaultPrivileges`' old type `DefaultPrivileg`, NetworkPolicy's
 * `extensions/v1beta1`), and its constructor's own frames on the stack the SDK captures per registration.
 *
 * Token -> module: `<pkg>:index/<mod>:<Class>` is `@pulumi/<pkg>/<mod>`, `<pkg>:<dir>/<mod>:<Class>` is
 * `@pulumi/<pkg>/<dir>/<mod>`, Kubernetes `kubernetes:<group>/<version>:<Kind>` is
 * `@pulumi/kubernetes/<group without dots>/<version>/<kind>` (CRDs, which have no class: the
 * `apiextensions.CustomResource` the program uses), `pulumi:providers:<pkg>` is that package's Provider.
 * Providers are registered as `pulumi.ProviderResource`s, the base of every Provider class: the classes
 * encode their non-string inputs as JSON text, which the recorded inputs already are.
 * Only the modules the replay needs are loaded (the packages' index modules load lazily too).
 */
import * as pulumi from "@pulumi/pulumi";

type Construct = (name: string, inputs: Record<string, unknown>) => pulumi.Resource;
type ResourceClass = new (name: string, inputs: Record<string, unknown>) => pulumi.Resource;

function load(module: string, exported: string): ResourceClass | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return (require(module) as Record<string, ResourceClass | undefined>)[exported];
    } catch (err) {
        if ((err as { code?: string }).code === "MODULE_NOT_FOUND") return undefined;
        throw err;
    }
}

/** The constructor of the provider SDK class behind `type` (throws for a token it cannot place). */
export function providerClass(type: string): Construct {
    if (type === "pulumi:pulumi:StackReference") return (name, inputs) => new pulumi.StackReference(name, inputs as pulumi.StackReferenceArgs);
    const provider = /^pulumi:providers:(.+)$/.exec(type);
    const [pkg, mod, cls] = type.split(":");
    let Class: ResourceClass | undefined;
    if (provider) {
        // abstract in the typings only, as CustomResource (bench/measure.ts)
        const Provider = pulumi.ProviderResource as unknown as new (pkg: string, name: string, inputs: Record<string, unknown>) => pulumi.ProviderResource;
        return (name, inputs) => new Provider(provider[1], name, inputs);
    } else if (pkg === "kubernetes") {
        Class = load(`@pulumi/kubernetes/${mod.replace(/\./g, "")}/${cls[0].toLowerCase()}${cls.slice(1)}`, cls)
            ?? load("@pulumi/kubernetes/apiextensions/customResource", "CustomResource");
    } else {
        Class = load(`@pulumi/${pkg}/${mod.replace(/^index\//, "")}`, cls);
    }
    if (!Class) throw new Error(`bench: no provider SDK class for ${type}`);
    const C = Class;
    return (name, inputs) => new C(name, inputs);
}
